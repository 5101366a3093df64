"""Presence and group direct conversations in Chromium, with two (or three) people
in their own browser contexts against a real server process."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chat.models import Conversation
from tests.browser.test_live import group_with

pytestmark = pytest.mark.browser


def test_the_presence_dot_turns_on_and_off(live_server_process, person_factory, make_user):
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(anna_user, ben_user)
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()

    anna.goto(f"/gruppen/{group.slug}/")
    dot = anna.page.locator(f'#member-list [data-presence-user="{ben_user.pk}"]')
    expect(dot).to_be_visible()
    expect(dot).to_have_attribute("data-online", "false")
    expect(dot).to_have_text("offline")

    ben.login()  # Ben's start page opens his socket
    expect(dot).to_have_attribute("data-online", "true")
    expect(dot).to_have_text("online")
    expect(dot).to_have_class(re.compile(r"\bis-online\b"))

    ben.page.close()
    expect(dot).to_have_attribute("data-online", "false", timeout=20_000)
    expect(dot).to_have_text(re.compile(r"^zuletzt online \d{1,2}\.\d{1,2}\.\d{4}, \d\d:\d\d Uhr$"))

    # On Ben's profile too; Anna's own dot shows her online.
    anna.goto(f"/personen/{ben_user.pk}/")
    profile_dot = anna.page.locator(f'.profile-head [data-presence-user="{ben_user.pk}"]')
    expect(profile_dot).to_have_text(re.compile("^zuletzt online"))
    anna.goto(f"/gruppen/{group.slug}/")
    own = anna.page.locator(f'#member-list [data-presence-user="{anna_user.pk}"]')
    expect(own).to_have_text("online")
    assert anna.page_errors == []
    assert anna.csp_violations == []


def test_no_dot_for_someone_who_hides_presence(live_server_process, person_factory, make_user):
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz", show_presence=False)
    group = group_with(anna_user, ben_user)
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    ben.login()
    anna.login()
    anna.goto(f"/gruppen/{group.slug}/")
    expect(anna.page.locator(f'[data-presence-user="{anna_user.pk}"]')).to_have_text("online")
    expect(anna.page.locator(f'[data-presence-user="{ben_user.pk}"]')).to_be_hidden()


def test_hiding_and_showing_presence_reaches_open_pages_live(
    live_server_process, person_factory, make_user
):
    """Off: the open page's dot goes, as a page loaded now has none. On again: both
    the page open from before and the one loaded while hidden get it live."""
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(anna_user, ben_user)
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    ben.login()
    anna.login()
    anna.goto(f"/gruppen/{group.slug}/")
    dot = anna.page.locator(f'#member-list [data-presence-user="{ben_user.pk}"]')
    expect(dot).to_have_text("online")

    def switch(on: bool) -> None:
        ben.goto("/einstellungen/profil/")
        box = ben.page.get_by_label("Online-Status anzeigen")
        box.check() if on else box.uncheck()
        ben.page.get_by_role("button", name="Speichern").click()
        expect(ben.page.get_by_label("Online-Status anzeigen")).to_be_checked(checked=on)

    switch(False)
    expect(dot).to_be_hidden()
    later = anna.page.context.new_page()
    later.goto(f"{anna.base_url}/personen/{ben_user.pk}/")
    later_dot = later.locator(f'.profile-head [data-presence-user="{ben_user.pk}"]')
    expect(later_dot).to_be_hidden()

    switch(True)
    expect(dot).to_be_visible()
    expect(dot).to_have_text("online")
    expect(later_dot).to_be_visible()
    expect(later_dot).to_have_text("online")
    assert anna.page_errors == []


def test_the_setting_switches_presence_off(live_server_process, person_factory, make_user):
    ben_user = make_user("Ben Yilmaz")
    ben = person_factory(ben_user, live_server_process)
    ben.login()
    ben.goto("/einstellungen/profil/")
    box = ben.page.get_by_label("Online-Status anzeigen")
    expect(box).to_be_checked()
    box.uncheck()
    ben.page.get_by_role("button", name="Speichern").click()
    expect(ben.page.get_by_label("Online-Status anzeigen")).not_to_be_checked()
    ben_user.refresh_from_db()
    assert ben_user.show_presence is False


def test_a_group_message_of_three_from_the_directory(
    live_server_process, person_factory, make_user
):
    confirmed = {"email_confirmed_at": timezone.now()}  # only they are in the directory
    anna_user = make_user("Anna Becker", **confirmed)
    ben_user = make_user("Ben Yilmaz", **confirmed)
    carla_user = make_user("Carla Schmitz", **confirmed)
    dieter_user = make_user("Dieter Wolf", **confirmed)
    anna = person_factory(anna_user, live_server_process, viewport={"width": 375, "height": 800})
    carla = person_factory(carla_user, live_server_process)
    anna.login()
    carla.login()

    anna.goto("/personen/")
    anna.page.get_by_role("checkbox", name="Auswählen: Ben Yilmaz").check()
    anna.page.get_by_role("checkbox", name="Auswählen: Carla Schmitz").check()
    anna.page.get_by_role("button", name="Gruppennachricht").click()
    expect(anna.page).to_have_url(re.compile(r"/nachrichten/\d+/$"))
    expect(anna.page.get_by_role("heading", level=1)).to_have_text("Ben Yilmaz und Carla Schmitz")
    anna.page.locator('#chat-panel[data-state="live"]').wait_for()
    anna.send("Treffen wir uns am Donnerstag?")

    toast = carla.page.locator("#toasts .toast", has_text="Anna Becker")
    expect(toast).to_contain_text("Donnerstag")
    carla.goto("/nachrichten/")
    expect(carla.page.locator("main")).to_contain_text("Anna Becker und Ben Yilmaz")

    conversation = Conversation.objects.get(kind="direct")
    assert set(conversation.participants.values_list("user_id", flat=True)) == {
        anna_user.pk,
        ben_user.pk,
        carla_user.pk,
    }

    # "Person hinzufügen" opens the conversation of the new set of four.
    anna.page.get_by_role("link", name="Person hinzufügen").click()
    expect(anna.page.locator("#joining-note")).to_contain_text("Ben Yilmaz")
    anna.page.get_by_role("checkbox", name="Auswählen: Dieter Wolf").check()
    anna.page.get_by_role("button", name="Person hinzufügen").click()
    expect(anna.page.get_by_role("heading", level=1)).to_have_text(
        "Ben Yilmaz, Carla Schmitz und Dieter Wolf"
    )
    newest: Any = Conversation.objects.filter(kind="direct").order_by("-pk").first()
    assert newest.pk != conversation.pk
    assert set(newest.participants.values_list("user_id", flat=True)) == {
        anna_user.pk,
        ben_user.pk,
        carla_user.pk,
        dieter_user.pk,
    }
    assert anna.page_errors == []
