"""The first week of a real user (issue 15): every signal that must not be missed, in
two browser contexts with the steps of the issue, against a real server process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.actions import do_create_company
from chat.actions import do_get_or_create_direct_conversation, do_send_message
from chat.models import Participant
from groups.actions import (
    do_approve_join_request,
    do_change_member_role,
    do_invite_to_group,
    do_join_group,
)
from notifications.models import Notification
from tests.browser.conftest import Person
from tests.browser.test_live import assert_clean, group_with, post, wait_until
from tests.conftest import database_url_of_test_db

pytestmark = pytest.mark.browser


def badge(person: Person, badge_id: str) -> Any:
    return person.page.locator(f"#{badge_id}")


def read_marker(user: Any, conversation_id: int) -> int:
    return Participant.objects.get(conversation_id=conversation_id, user=user).last_read_seq


def count(person: Person, badge_id: str) -> Any:
    return person.page.locator(f"#{badge_id} .badge-count")


def wait_live(person: Person) -> None:
    """The tab's socket is greeted and its counts are the server's."""
    person.page.locator('body[data-unread="live"]').wait_for()


def dm(author: Any, conversation_id: int, body: str) -> None:
    do_send_message(
        actor=author, conversation_id=conversation_id, body=body, client_id=str(uuid.uuid4())
    )


def test_1_a_follow_up_direct_message_after_all_read_toasts_and_counts(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()
    wait_live(ben)

    # A writes to B from B's profile.
    anna.goto(f"/personen/{ben_user.pk}/")
    anna.page.get_by_role("button", name="Nachricht senden").click()
    anna.page.locator('#chat-panel[data-state="live"]').wait_for()
    conversation = anna.page.url.rstrip("/").rsplit("/", 1)[-1]
    anna.send("Hallo Ben, haben Sie Montag Zeit?")
    expect(
        ben.page.locator("#toasts .toast", has_text="Neue Nachricht von Anna Becker")
    ).to_be_visible()
    expect(count(ben, "messages-badge")).to_have_text("1")

    # B reads it, marks everything read, goes to /gruppen/.
    ben.open_panel(f"/nachrichten/{conversation}/")
    expect(ben.page.locator("#chat-panel .chat-message")).to_have_count(1)
    wait_until(lambda: read_marker(ben_user, int(conversation)) == 1)
    ben.goto("/benachrichtigungen/")
    button = ben.page.get_by_role("button", name="Alle als gelesen markieren")
    if button.count():
        button.click()
    expect(badge(ben, "notification-badge")).to_be_hidden()
    ben.goto("/gruppen/")
    wait_live(ben)
    expect(badge(ben, "messages-badge")).to_be_hidden()

    # A writes again: a toast, the notification badge and "Nachrichten" count.
    anna.send("Und noch eine Frage zum Angebot.")
    toast = ben.page.locator("#toasts .toast", has_text="Neue Nachricht von Anna Becker")
    expect(toast).to_contain_text("Und noch eine Frage zum Angebot.")
    expect(count(ben, "notification-badge")).to_have_text("1")
    expect(count(ben, "messages-badge")).to_have_text("1")
    anna.send("Dritte Nachricht")
    expect(count(ben, "messages-badge")).to_have_text("2")
    assert_clean(anna, ben)


def test_2_the_start_pages_direct_message_card_updates_live(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    ben = person_factory(ben_user, live_server_process)
    ben.login()
    card = ben.page.locator("section", has=ben.page.locator("#direktnachrichten"))
    expect(card).to_contain_text("Noch keine Direktnachrichten")
    wait_live(ben)

    conversation, _ = do_get_or_create_direct_conversation(
        actor=anna_user, other_user_id=ben_user.pk
    )
    dm(anna_user, conversation.pk, "Guten Morgen!")
    expect(ben.page.locator("#toasts .toast", has_text="Anna Becker")).to_be_visible()
    item = card.locator(f'[data-live-unread="{conversation.pk}"]')
    expect(item).to_contain_text("Anna Becker")
    expect(item.locator(".badge")).to_have_text("1")
    expect(card).not_to_contain_text("Noch keine Direktnachrichten")
    dm(anna_user, conversation.pk, "Haben Sie kurz Zeit?")
    expect(item.locator(".badge")).to_have_text("2")
    expect(card.locator("[data-live-unread-total] .badge-count")).to_have_text("2")
    item.click()
    expect(ben.page.locator("#chat-panel .chat-message")).to_have_count(2)
    assert_clean(ben)


def test_3_the_inbox_heading_counts_with_its_rows(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(anna_user, ben_user)
    post(anna_user, group, "Schon gelesen?")
    ben = person_factory(ben_user, live_server_process)
    ben.login()
    ben.goto("/nachrichten/")
    wait_live(ben)
    heading = ben.page.get_by_role("heading", level=1)
    expect(heading.locator(".badge-count")).to_have_text("1")
    expect(ben.page.locator('[data-live-unread][data-live="true"]')).to_have_count(1)
    post(anna_user, group, "Neue Frage an alle")
    row = ben.page.locator(f'[data-live-unread="{group.conversation_id}"]')
    expect(row.locator(".badge")).to_have_text("2")
    expect(heading.locator(".badge-count")).to_have_text("2")
    assert_clean(ben)


def test_4_list_counts_catch_up_after_a_lost_connection(
    live_server_process, restartable_server, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(anna_user, ben_user)
    conversation, _ = do_get_or_create_direct_conversation(
        actor=anna_user, other_user_id=ben_user.pk
    )
    second = restartable_server()
    ben = person_factory(ben_user, second)
    ben.login()
    ben.goto("/nachrichten/")
    expect(ben.page.locator('[data-live-unread][data-live="true"]')).to_have_count(2)

    second.stop()
    expect(ben.page.locator("#connection-state")).to_have_text("Verbindung wird wiederhergestellt…")
    # While Ben's socket is down: two group messages, one direct message.
    post(anna_user, group, "Eins")
    post(anna_user, group, "Zwei")
    dm(anna_user, conversation.pk, "Drei")
    restartable_server()
    # The back-off may have grown to several seconds while the server was away.
    expect(ben.page.locator("#connection-state")).to_be_hidden(timeout=40_000)
    group_row = ben.page.locator(f'[data-live-unread="{group.conversation_id}"]')
    dm_row = ben.page.locator(f'[data-live-unread="{conversation.pk}"]')
    expect(group_row.locator(".badge")).to_have_text("2")
    expect(dm_row.locator(".badge")).to_have_text("1")
    expect(ben.page.get_by_role("heading", level=1).locator(".badge-count")).to_have_text("3")
    expect(count(ben, "messages-badge")).to_have_text("1")
    # And live again afterwards, counted once.
    post(anna_user, group, "Vier")
    expect(group_row.locator(".badge")).to_have_text("3")
    assert ben.page_errors == []


def test_5_settled_requests_and_invitations_stop_being_new_and_invitations_toast(
    live_server_process, person_factory, make_user
) -> None:
    karin_user = make_user("Karin Weiß", address_form="frau")
    tobias_user = make_user("Tobias Brandt")
    rolf_user = make_user("Rolf Anfrage")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(karin_user, visibility="closed", name="Einkauf Ruhr")
    do_join_group(actor=tobias_user, group=group)
    do_approve_join_request(
        actor=karin_user, group=group, request_id=group.join_requests.get(user=tobias_user).pk
    )
    do_change_member_role(actor=karin_user, group=group, user_id=tobias_user.pk, role="admin")
    Notification.objects.filter(recipient=tobias_user).update(read_at="2026-01-01T00:00Z")
    karin = person_factory(karin_user, live_server_process)
    tobias = person_factory(tobias_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    for person in (karin, tobias, ben):
        person.login()
    wait_live(tobias)

    # Both admins learn of the request; Karin decides; Tobias's "Neu" and count go.
    do_join_group(actor=rolf_user, group=group)
    expect(tobias.page.locator("#toasts .toast", has_text="Neue Beitrittsanfrage")).to_be_visible()
    tobias.goto("/")
    notice = tobias.page.locator("[data-notification-id]", has_text="Rolf Anfrage")
    expect(notice.locator(".pill-accent")).to_have_text("Neu")
    expect(count(tobias, "notification-badge")).to_have_text("1")
    karin.goto(f"/gruppen/{group.slug}/anfragen/")
    karin.page.get_by_role("button", name="Annehmen").first.click()
    expect(notice.locator(".pill-accent")).to_have_count(0)
    expect(badge(tobias, "notification-badge")).to_be_hidden()
    tobias.goto("/")
    expect(
        tobias.page.locator("[data-notification-id]", has_text="Rolf Anfrage")
    ).not_to_contain_text("Neu")

    # An invitation toasts; accepting it ends its "Neu" and its count.
    ben.goto("/")
    wait_live(ben)
    do_invite_to_group(actor=karin_user, group=group, user_id=ben_user.pk)
    toast = ben.page.locator("#toasts .toast", has_text="Neue Einladung")
    expect(toast).to_contain_text("Karin Weiß lädt Sie in die Gruppe „Einkauf Ruhr“ ein.")
    expect(count(ben, "notification-badge")).to_have_text("1")
    toast.get_by_role("link", name="Einladung ansehen").click()
    ben.page.get_by_role("button", name="Annehmen").first.click()
    expect(badge(ben, "notification-badge")).to_be_hidden()
    ben.goto("/")
    expect(ben.page.locator("[data-notification-id]", has_text="Einkauf Ruhr")).not_to_contain_text(
        "Neu"
    )
    assert_clean(karin, tobias, ben)


def test_6_the_requesters_group_page_updates_live_after_approval(
    live_server_process, person_factory, make_user
) -> None:
    karin_user = make_user("Karin Weiß")
    rolf_user = make_user("Rolf Anfrage")
    group = group_with(karin_user, visibility="closed", name="Vorstand Ruhr")
    post(karin_user, group, "Nur für Mitglieder")
    karin = person_factory(karin_user, live_server_process)
    rolf = person_factory(rolf_user, live_server_process)
    karin.login()
    rolf.login()
    rolf.goto(f"/gruppen/{group.slug}/")
    rolf.page.get_by_role("button", name="Beitritt anfragen").click()
    wait_live(rolf)
    expect(rolf.page.locator("#request-pending")).to_contain_text("wartet auf die Entscheidung")
    expect(rolf.page.locator("#chat-panel")).to_have_count(0)

    karin.goto(f"/gruppen/{group.slug}/anfragen/")
    karin.page.get_by_role("button", name="Annehmen").first.click()
    # Without a reload or a click on the toast, Rolf's page shows the discussion.
    expect(rolf.page.locator("#request-pending")).to_have_count(0)
    expect(rolf.page.locator("#membership-box")).to_contain_text("Ihre Rolle in dieser Gruppe")
    rolf.page.locator('#chat-panel[data-state="live"]').wait_for()
    expect(rolf.page.locator("#chat-panel .chat-message")).to_have_text(
        [re.compile("Nur für Mitglieder")]
    )
    rolf.send("Danke für die Aufnahme!")
    expect(karin.page.locator("#toasts .toast")).to_have_count(0)
    assert_clean(karin, rolf)


def test_7_company_admins_are_told_when_someone_claims_to_work_there(
    live_server_process, person_factory, make_user
) -> None:
    karin_user = make_user("Karin Weiß")
    ben_user = make_user("Ben Yilmaz")
    company = do_create_company(actor=karin_user, fields={"name": "Stahlbau Witten GmbH"})
    karin = person_factory(karin_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    karin.login()
    ben.login()
    wait_live(karin)
    ben.goto(f"/unternehmen/{company.slug}/")
    ben.page.get_by_role("button", name="Ich arbeite hier").click()
    toast = karin.page.locator("#toasts .toast", has_text="Neue Ansprechperson")
    expect(toast).to_contain_text("Ben Yilmaz gibt an, bei „Stahlbau Witten GmbH“ zu arbeiten.")
    expect(count(karin, "notification-badge")).to_have_text("1")
    toast.get_by_role("link", name="Prüfen").click()
    claims = karin.page.locator("#pending-claims")
    expect(claims).to_contain_text("Ben Yilmaz")
    claims.get_by_role("button", name="Bestätigen").click()
    expect(badge(karin, "notification-badge")).to_be_hidden()
    assert_clean(karin, ben)


def test_8_links_in_emails_point_where_the_server_runs(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    conversation, _ = do_get_or_create_direct_conversation(
        actor=anna_user, other_user_id=ben_user.pk
    )
    dm(anna_user, conversation.pk, "Bitte um Rückruf")
    notification = Notification.objects.get(recipient=ben_user)
    # The e-mail as the server started with PORT (and no SITE_URL) would write it.
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "HOST"}}
    env.update(
        PORT=str(live_server_process.port),
        DATABASE_URL=database_url_of_test_db(),
        DJANGO_SETTINGS_MODULE="server.settings",
    )
    script = (
        "import django; django.setup();"
        "from notifications.models import Notification;"
        "from notifications.presentation import absolute, target_path;"
        f"print(absolute(target_path(Notification.objects.get(pk={notification.pk}))))"
    )
    link = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert link == f"{live_server_process.http_url}/nachrichten/{conversation.pk}/"
    ben = person_factory(ben_user, live_server_process)
    ben.login()
    ben.page.goto(link)
    expect(ben.page.locator("#chat-panel .chat-message")).to_have_text(
        [re.compile("Bitte um Rückruf")]
    )
    assert_clean(ben)
