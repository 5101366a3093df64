"""Two people in two browser contexts against a real server process (daphne on the
test database): sign-up, live group messages, reconnect catch-up, join requests,
direct messages, XSS and the phone width."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from accounts.actions import do_block_person, do_unblock_person
from chat.actions import do_get_or_create_direct_conversation, do_send_message
from chat.models import Participant
from groups.actions import (
    do_approve_join_request,
    do_change_member_role,
    do_create_group,
    do_join_group,
    do_remove_member,
    do_update_group,
)
from groups.models import Group
from tests.browser.conftest import Person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def group_with(owner: Any, *members: Any, visibility: str = "open", **fields: Any) -> Group:
    group = do_create_group(
        actor=owner,
        name=fields.pop("name", f"Ausbildung Ruhr {uuid.uuid4().hex[:6]}"),
        description=fields.pop("description", "Austausch der Ausbildungsbetriebe."),
        visibility=visibility,
        **fields,
    )
    for member in members:
        do_join_group(actor=member, group=group)
    return group


def post(author: Any, group: Group, body: str) -> None:
    do_send_message(
        actor=author, conversation_id=group.conversation_id, body=body, client_id=str(uuid.uuid4())
    )


def read_marker(user: Any, group: Group) -> int:
    return Participant.objects.get(conversation_id=group.conversation_id, user=user).last_read_seq


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def bodies(person: Person) -> list[str]:
    return person.page.locator("#chat-panel .chat-message .chat-body").all_inner_texts()


def assert_clean(*people: Person) -> None:
    for person in people:
        assert person.dialogs == [], f"dialog fired for {person.user}: {person.dialogs}"
        assert person.page_errors == [], f"script error for {person.user}: {person.page_errors}"
        assert person.csp_violations == [], f"CSP violation: {person.csp_violations}"


def test_sign_up_and_log_in(live_server_process, person_factory, make_user) -> None:
    bettina = make_user("Bettina Krüger", company_name="Logistik Herne GmbH")
    anna = person_factory(None, live_server_process)
    anna.goto("/registrieren/")
    form = anna.page.locator("main form")
    form.get_by_label("Name").fill("Anna Becker")
    email = f"anna-{uuid.uuid4().hex[:6]}@stahlbau-witten.de"
    form.get_by_label("E-Mail-Adresse").fill(email)
    form.get_by_label("Passwort").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(anna.page.locator(".nav-user")).to_have_text("Anna Becker")

    bernd = person_factory(bettina, live_server_process)
    bernd.login_with_form()
    expect(bernd.page.locator(".nav-user")).to_have_text("Bettina Krüger")
    expect(bernd.page.get_by_role("heading", name="Guten Tag, Bettina Krüger")).to_be_visible()

    # Logging out is a POST form with the CSRF token; afterwards the login is offered.
    anna.page.get_by_role("navigation").get_by_role("button", name="Abmelden").click()
    expect(anna.page.get_by_role("link", name="Anmelden").first).to_be_visible()
    anna.goto("/nachrichten/")
    expect(anna.page).to_have_url(re.compile(r"/anmelden/"))
    assert_clean(anna, bernd)


def test_a_posts_in_a_group_and_b_sees_it_live(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Yilmaz", company_name="Logistik Herne")
    group = group_with(anna_user, ben_user)
    post(anna_user, group, "Willkommen in der Gruppe!")
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    ben.open_panel(f"/gruppen/{group.slug}/")
    expect(ben.page.locator("#chat-panel .chat-day").first).to_have_text("Heute")

    box = anna.page.locator("#chat-panel textarea")
    box.type("Wer bildet 2027 Fachkräfte für Lagerlogistik aus?")
    expect(ben.page.locator("#chat-panel .chat-typing")).to_have_text("Anna Becker schreibt…")
    box.press("Shift+Enter")
    box.type("Zweite Zeile.")
    box.press("Enter")

    text = "Wer bildet 2027 Fachkräfte für Lagerlogistik aus?\nZweite Zeile."
    message = ben.page.locator("#chat-panel .chat-message", has_text="Zweite Zeile.")
    expect(message.locator(".chat-body")).to_have_text(text)
    expect(message.locator(".chat-author")).to_have_text("Anna Becker")
    expect(message.locator(".chat-time")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    # Confirmed by the ack on the sender's side: no longer pending.
    mine = anna.page.locator("#chat-panel .chat-message", has_text="Zweite Zeile.")
    expect(mine).not_to_have_class(re.compile("is-pending"))
    expect(mine).to_have_attribute("data-seq", "2")
    expect(box).to_have_value("")
    assert bodies(ben) == ["Willkommen in der Gruppe!", text]
    # Ben has seen both: his read marker moved, the start page shows nothing unread.
    wait_until(lambda: read_marker(ben_user, group) == 2)
    ben.goto("/")
    # The group's own entry (the start page may also list a question of it to answer).
    group_entry = ben.page.locator(f'a.item[href="/gruppen/{group.slug}/"]')
    expect(group_entry).to_be_visible()
    expect(group_entry.locator(".badge")).to_have_count(0)
    assert_clean(anna, ben)


# The client's back-off cap (static/js/connection.js) and a little for the handshake.
RECONNECT_WAIT_MS = 35_000


def test_b_catches_up_after_the_server_cut_the_connection(
    live_server_process, restartable_server, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(anna_user, ben_user)
    post(anna_user, group, "Vorher")
    second = restartable_server()
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, second)
    anna.login()
    ben.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    ben.open_panel(f"/gruppen/{group.slug}/")

    # Ben's server process goes away: his socket is closed from the server side.
    second.stop()
    expect(ben.page.locator("#connection-state")).to_have_text("Verbindung wird wiederhergestellt…")
    for text in ("Eins", "Zwei", "Drei"):
        anna.send(text)
        expect(
            anna.page.locator("#chat-panel .chat-message:not(.is-pending)", has_text=text)
        ).to_have_count(1)

    # Ben writes while offline: shown at once, pending, sent after the reconnect.
    ben.send("Offline geschrieben")
    offline = ben.page.locator("#chat-panel .chat-message", has_text="Offline geschrieben")
    expect(offline).to_have_class(re.compile("is-pending"))
    expect(offline.locator(".chat-status")).to_have_text("Wartet auf Verbindung…")

    restartable_server()  # the same port: Ben's tab reconnects by itself
    # Its next try comes after the back-off the outage has grown to (doubling from
    # 0.5 s, capped at 30 s in static/js/connection.js), not at once.
    expect(ben.page.locator("#chat-panel .chat-message", has_text="Drei")).to_have_count(
        1, timeout=RECONNECT_WAIT_MS
    )
    expect(ben.page.locator("#connection-state")).to_be_hidden()
    expect(offline).to_have_attribute("data-seq", "5")
    expect(
        anna.page.locator("#chat-panel .chat-message", has_text="Offline geschrieben")
    ).to_have_count(1)
    assert bodies(ben) == ["Vorher", "Eins", "Zwei", "Drei", "Offline geschrieben"]
    seqs = ben.page.locator("#chat-panel .chat-message").evaluate_all(
        "nodes => nodes.map(n => Number(n.dataset.seq))"
    )
    assert seqs == [1, 2, 3, 4, 5]
    # Live again after the catch-up.
    anna.send("Vier")
    expect(ben.page.locator("#chat-panel .chat-message", has_text="Vier")).to_have_count(1)
    assert bodies(ben) == ["Vorher", "Eins", "Zwei", "Drei", "Offline geschrieben", "Vier"]
    assert bodies(anna) == bodies(ben)
    assert_clean(anna, ben)


def test_a_lost_live_frame_is_noticed_by_its_seq_gap_and_filled(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(anna_user, ben_user)
    post(anna_user, group, "Eins")
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    ben.open_panel(f"/gruppen/{group.slug}/")

    # Stored, but its live frame never goes out (as if the fan-out dropped it).
    with mock.patch("chat.actions.publish_on_commit"):
        post(anna_user, group, "Zwei (live verloren)")
    anna.send("Drei")

    expect(ben.page.locator("#chat-panel .chat-message")).to_have_count(3)
    assert bodies(ben) == ["Eins", "Zwei (live verloren)", "Drei"]
    assert_clean(anna, ben)


def test_join_request_appears_live_and_the_approved_requester_can_post(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Yilmaz", company_name="Logistik Herne")
    group = group_with(anna_user, visibility="closed", name="Geschäftsführung Hattingen")
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()
    expect(anna.page.locator("#notification-badge")).to_be_hidden()

    ben.goto(f"/gruppen/{group.slug}/")
    ben.page.get_by_role("button", name="Beitritt anfragen").click()
    expect(ben.page.locator("#membership-box")).to_contain_text("wartet")

    toast = anna.page.locator("#toasts .toast", has_text="Neue Beitrittsanfrage")
    expect(toast).to_contain_text(
        "Ben Yilmaz möchte der Gruppe „Geschäftsführung Hattingen“ beitreten."
    )
    expect(anna.page.locator("#notification-badge")).to_be_visible()
    expect(anna.page.locator("#notification-badge .badge-count")).to_have_text("1")
    toast.get_by_role("link", name="Anfragen ansehen").click()
    expect(anna.page).to_have_url(re.compile(rf"/gruppen/{group.slug}/anfragen/$"))
    anna.page.get_by_role("button", name="Annehmen").click()

    expect(ben.page.locator("#toasts .toast", has_text="Beitritt angenommen")).to_be_visible()
    anna.open_panel(f"/gruppen/{group.slug}/")
    ben.open_panel(f"/gruppen/{group.slug}/")
    ben.send("Danke für die Aufnahme!")
    expect(
        anna.page.locator("#chat-panel .chat-body", has_text="Danke für die Aufnahme!")
    ).to_be_visible()
    assert_clean(anna, ben)


def test_the_open_notification_centre_lists_a_new_notification_live(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Yilmaz", company_name="Logistik Herne")
    clara_user = make_user("Clara Nowak")
    group = group_with(anna_user, visibility="closed", name="Geschäftsführung Hattingen")
    do_join_group(actor=clara_user, group=group)  # an older notification on the page
    anna = person_factory(anna_user, live_server_process)
    anna.login()
    anna.goto("/benachrichtigungen/")
    anna.page.locator('body[data-unread="live"]').wait_for()
    heading = anna.page.locator(".notifications-count")
    entries = anna.page.locator("#notification-list > li")
    expect(heading).to_have_text("1 ungelesen")
    expect(entries).to_have_count(1)

    do_join_group(actor=ben_user, group=group)

    expect(entries).to_have_count(2)
    newest = entries.first
    expect(newest).to_contain_text("Neu")
    expect(newest.locator(".notification-link")).to_have_text("Neue Beitrittsanfrage")
    expect(newest).to_contain_text("Ben Yilmaz möchte der Gruppe „Geschäftsführung Hattingen“")
    expect(newest.locator("time")).to_have_text(
        re.compile(r"^\d{1,2}\. \w+ \d{4}, \d{2}:\d{2} Uhr$")
    )
    # Labelled as the page labels the older entry after a reload.
    expect(newest.locator(".notification-meta")).to_have_text(
        re.compile(r"^\d{1,2}\. \w+ \d{4}, \d{2}:\d{2} Uhr · Beitrittsanfrage$")
    )
    expect(entries.last.locator(".notification-meta")).to_have_text(
        re.compile(r"\sUhr\s+· Beitrittsanfrage\s*$")
    )
    expect(heading).to_have_text("2 ungelesen")
    newest.get_by_role("button", name="Als gelesen markieren").click()
    expect(heading).to_have_text("1 ungelesen")
    expect(entries.first.locator(".notification-new")).to_have_count(0)
    assert_clean(anna)


def test_direct_message_from_a_profile_page(live_server_process, person_factory, make_user) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Yilmaz", company_name="Logistik Herne")
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()  # Ben stays on the start page

    anna.goto(f"/personen/{ben_user.pk}/")
    anna.page.get_by_role("button", name="Nachricht senden").click()
    expect(anna.page).to_have_url(re.compile(r"/nachrichten/\d+/$"))
    expect(anna.page.get_by_role("heading", level=1)).to_have_text("Ben Yilmaz")
    anna.page.locator('#chat-panel[data-state="live"]').wait_for()
    anna.send("Hallo Herr Yilmaz, haben Sie nächste Woche Zeit für ein Gespräch?")

    toast = ben.page.locator("#toasts .toast", has_text="Neue Nachricht von Anna Becker")
    expect(toast).to_contain_text("haben Sie nächste Woche Zeit")
    toast.get_by_role("link", name="Öffnen").click()
    expect(ben.page.locator("#chat-panel .chat-unread")).to_have_text("Neu")
    expect(ben.page.locator("#chat-panel .chat-body")).to_have_text(
        "Hallo Herr Yilmaz, haben Sie nächste Woche Zeit für ein Gespräch?"
    )
    ben.page.locator('#chat-panel[data-state="live"]').wait_for()
    ben.send("Gern, Dienstag um 10 Uhr?")
    expect(
        anna.page.locator("#chat-panel .chat-body", has_text="Dienstag um 10 Uhr")
    ).to_be_visible()

    conversation_path = urlparse(anna.page.url).path

    # Anna's open panel marks the reply read (shortly after it came into view).
    def anna_read_up_to(seq: int) -> Callable[[], bool]:
        return lambda: (
            Participant.objects.get(user=anna_user, conversation__kind="direct").last_read_seq
            == seq
        )

    wait_until(anna_read_up_to(2))
    # Both see the conversation in their inbox, nothing unread: Anna saw the reply in
    # her open panel, Ben's own reply is not news to him.
    for person, other in ((anna, "Ben Yilmaz"), (ben, "Anna Becker")):
        person.goto("/nachrichten/")
        item = person.page.locator(".item-list .item", has_text=other)
        expect(item).to_be_visible()
        expect(item.locator(".badge")).to_have_count(0)
    # A reply while Anna is elsewhere is one unread reply in her inbox until she reads it.
    ben.open_panel(conversation_path)
    ben.send("Oder lieber Mittwoch?")
    anna_item = anna.page.locator(".item-list .item", has_text="Ben Yilmaz")
    expect(anna_item.locator(".badge")).to_have_text("1")
    anna.open_panel(conversation_path)
    expect(anna.page.locator("#chat-panel .chat-body", has_text="Mittwoch")).to_be_visible()
    wait_until(anna_read_up_to(3))
    anna.goto("/nachrichten/")
    expect(anna_item).to_be_visible()
    expect(anna_item.locator(".badge")).to_have_count(0)
    assert_clean(anna, ben)


XSS_NAME = '<img src=x onerror="alert(1)">'
XSS_DESCRIPTION = "<script>alert('beschreibung')</script> Treffen im Rathaus"
XSS_MESSAGE = (
    "<img src=x onerror=alert('nachricht')> siehe https://example.org/pfad?a=1&b=2. "
    "und javascript:alert(4)"
)


def test_xss_payloads_render_as_text(live_server_process, person_factory, make_user) -> None:
    mallory = make_user(XSS_NAME, company_name="<b>Firma</b>")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(
        mallory, ben_user, name="Sicherheit <i>test</i>", description=XSS_DESCRIPTION
    )
    post(mallory, group, XSS_MESSAGE)
    ben = person_factory(ben_user, live_server_process)
    mal = person_factory(mallory, live_server_process)
    ben.login()
    mal.login()
    ben.open_panel(f"/gruppen/{group.slug}/")
    mal.open_panel(f"/gruppen/{group.slug}/")
    mal.send("<svg onload=alert('live')>")

    page = ben.page
    expect(
        page.locator("#chat-panel .chat-body", has_text="<svg onload=alert('live')>")
    ).to_be_visible()
    expect(page.get_by_text(XSS_DESCRIPTION)).to_be_visible()
    expect(page.locator("#chat-panel .chat-author").first).to_have_text(XSS_NAME)
    expect(page.locator("#chat-panel .chat-company").first).to_have_text("<b>Firma</b>")
    first = page.locator("#chat-panel .chat-body").first
    expect(first).to_have_text(XSS_MESSAGE)
    assert (
        page.locator("#chat-panel img, #chat-panel svg, #chat-panel b, #chat-panel script").count()
        == 0
    )
    links = first.locator("a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.org/pfad?a=1&b=2")
    expect(links).to_have_text("https://example.org/pfad?a=1&b=2")
    # The server's sanitiser (nh3) sets rel (docs/formatting-moderation.md).
    expect(links).to_have_attribute("rel", "nofollow noopener noreferrer")
    expect(links).to_have_attribute("target", "_blank")
    assert page.evaluate("document.querySelectorAll('img[src=x], script:not([src])').length") == 0
    assert_clean(ben, mal)


def test_the_discussion_works_at_375_px(live_server_process, person_factory, make_user) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Yilmaz", company_name="Logistik Herne")
    group = group_with(anna_user, ben_user, name="Fachkräfte Bochum")
    post(anna_user, group, "Ein langer Link: https://example.org/" + "sehr-lang-" * 20)
    phone = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
    ben = person_factory(ben_user, live_server_process, **phone)
    anna = person_factory(anna_user, live_server_process)
    ben.login()
    anna.login()

    def no_horizontal_scroll() -> None:
        width = ben.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{ben.page.url} is {width}px wide"

    for path in (
        "/",
        "/nachrichten/",
        "/gruppen/",
        "/personen/",
        "/unternehmen/",
        f"/personen/{anna_user.pk}/",
        "/benachrichtigungen/",
        "/einstellungen/profil/",
    ):
        ben.goto(path)
        no_horizontal_scroll()

    # The navigation collapses into a menu button.
    nav = ben.page.locator("#hauptnavigation")
    expect(nav).to_be_hidden()
    ben.page.get_by_role("button", name="Menü").click()
    expect(nav.get_by_role("link", name="Nachrichten")).to_be_visible()

    anna.open_panel(f"/gruppen/{group.slug}/")
    panel = ben.open_panel(f"/gruppen/{group.slug}/")
    no_horizontal_scroll()
    box = panel.locator("textarea")
    box.scroll_into_view_if_needed()
    expect(box).to_be_in_viewport()
    expect(panel.get_by_role("button", name="Senden")).to_be_in_viewport()
    box.fill("Vom Telefon aus")
    panel.get_by_role("button", name="Senden").tap()
    expect(anna.page.locator("#chat-panel .chat-body", has_text="Vom Telefon aus")).to_be_visible()
    no_horizontal_scroll()
    assert_clean(ben, anna)


def test_history_edit_delete_and_mentions(live_server_process, person_factory, make_user) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    make_user("Bernd Stromberg")  # not a member: never suggested
    group = group_with(anna_user, ben_user)
    for number in range(1, 121):
        post(ben_user, group, f"Nachricht {number}")
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()  # Ben waits on the start page for the mention
    panel = anna.open_panel(f"/gruppen/{group.slug}/")

    # The newest page first; scrolling up loads the older ones, in order, once each.
    expect(panel.locator(".chat-message").last).to_have_text(re.compile("Nachricht 120"))
    assert panel.locator(".chat-message").count() < 120
    for _ in range(50):
        if panel.locator(".chat-message").count() == 120:
            break
        panel.locator(".chat-scroll").evaluate("node => { node.scrollTop = 0; }")
        anna.page.wait_for_timeout(100)
    expect(panel.locator(".chat-history-state")).to_have_text("Anfang der Unterhaltung")
    assert bodies(anna) == [f"Nachricht {n}" for n in range(1, 121)]

    # Reading far up, a new message does not pull the log down; a button offers it.
    post(ben_user, group, "Ganz neu")
    jump = panel.get_by_role("button", name="Neue Nachrichten ↓")
    expect(jump).to_be_visible()
    jump.click()
    expect(panel.locator(".chat-message", has_text="Ganz neu")).to_be_in_viewport()
    expect(jump).to_be_hidden()

    # @-mention autocomplete from the member list.
    box = panel.locator("textarea")
    box.focus()
    box.type("Frage an @be")
    options = anna.page.locator(".mention-list [role=option]")
    expect(options).to_have_text(["Ben Yilmaz"])
    box.press("Enter")
    expect(box).to_have_value("Frage an @Ben Yilmaz ")
    box.type("bitte melden.")
    box.press("Enter")
    toast = ben.page.locator("#toasts .toast", has_text="Anna Becker hat Sie erwähnt")
    expect(toast).to_contain_text("Frage an @Ben Yilmaz bitte melden.")

    # Edit and delete the own message; Ben sees both live.
    ben.open_panel(f"/gruppen/{group.slug}/")
    mine = panel.locator(".chat-message.is-mine").last
    mine.hover()
    mine.get_by_role("button", name="Nachricht bearbeiten").click()
    editor = mine.get_by_role("textbox", name="Neuer Text der Nachricht")
    editor.fill("Frage an @Ben Yilmaz: bitte bis Freitag melden.")
    editor.press("Enter")
    theirs = ben.page.locator("#chat-panel .chat-message", has_text="bis Freitag")
    expect(theirs.locator(".chat-body")).to_have_text(
        "Frage an @Ben Yilmaz: bitte bis Freitag melden.(bearbeitet)"
    )
    mine.hover()
    mine.get_by_role("button", name="Nachricht löschen").click()
    mine.get_by_role("button", name="Ja, löschen").click()
    expect(ben.page.locator("#chat-panel .chat-message.is-deleted .chat-body")).to_have_text(
        "Diese Nachricht wurde gelöscht."
    )
    # The group's owner may delete others' messages, but not edit them.
    theirs_for_anna = panel.locator(".chat-message:not(.is-mine)").last
    expect(theirs_for_anna.get_by_role("button", name="Nachricht löschen")).to_have_count(1)
    expect(theirs_for_anna.get_by_role("button", name="Nachricht bearbeiten")).to_have_count(0)
    # Others' messages offer a plain member no edit or delete.
    others = ben.page.locator("#chat-panel .chat-message:not(.is-mine)")
    expect(others.get_by_role("button", name="Nachricht löschen")).to_have_count(0)
    expect(others.get_by_role("button", name="Nachricht bearbeiten")).to_have_count(0)
    assert ben.dialogs == [] and ben.page_errors == []


def test_a_refused_send_is_marked_failed_with_a_retry_button(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    direct, _ = do_get_or_create_direct_conversation(actor=ben_user, other_user_id=anna_user.pk)
    ben = person_factory(ben_user, live_server_process)
    ben.login()
    ben.open_panel(f"/nachrichten/{direct.pk}/")
    do_block_person(actor=anna_user, person=ben_user)

    expect(ben.page.locator("#chat-panel .chat-history-state")).to_have_text(
        "Noch keine Nachrichten. Schreiben Sie die erste!"
    )
    ben.send("Sind Sie noch erreichbar?")
    failed = ben.page.locator("#chat-panel .chat-message.is-failed", has_text="erreichbar")
    expect(failed.locator(".chat-status")).to_contain_text("Nicht gesendet")
    retry = failed.get_by_role("button", name="Erneut senden")
    expect(retry).to_be_visible()
    # Unblocked, the retry (same client_id) goes through, once.
    do_unblock_person(actor=anna_user, person=ben_user)
    retry.click()
    sent = ben.page.locator("#chat-panel .chat-message", has_text="erreichbar")
    expect(sent).to_have_attribute("data-seq", "1")
    expect(sent).not_to_have_class(re.compile("is-failed|is-pending"))
    expect(sent).to_have_count(1)
    expect(ben.page.locator("#chat-panel .chat-history-state")).to_have_text(
        "Anfang der Unterhaltung"
    )
    assert_clean(ben)


def test_removed_from_a_closed_group_the_panel_stops_at_once(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    group = group_with(anna_user, visibility="closed", name="Vorstand intern")
    do_join_group(actor=ben_user, group=group)
    request = group.join_requests.get(user=ben_user)
    do_approve_join_request(actor=anna_user, group=group, request_id=request.pk)
    anna = person_factory(anna_user, live_server_process)
    # Ben in two tabs: the conversation's own page, whose panel must stop by itself,
    # and the group page, which is fetched again on the `member_removed`
    # notification and then shows what a non-member sees (grouppage.js). On the
    # group page the panel's own notice can be swapped away within milliseconds.
    ben = person_factory(ben_user, live_server_process)
    ben_on_group_page = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()
    ben_on_group_page.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    ben.open_panel(f"/nachrichten/{group.conversation_id}/")
    ben_on_group_page.open_panel(f"/gruppen/{group.slug}/")

    do_remove_member(actor=anna_user, group=group, user_id=ben_user.pk)
    expect(ben.page.locator("#chat-panel .chat-readonly")).to_have_text(
        "Kein Zugriff mehr auf diese Unterhaltung."
    )
    expect(ben.page.locator("#chat-panel textarea")).to_have_count(0)
    expect(ben_on_group_page.page.locator("#bereich-diskussion .card")).to_contain_text(
        "Die Diskussion dieser Gruppe lesen nur ihre Mitglieder."
    )
    expect(ben_on_group_page.page.locator("#chat-panel")).to_have_count(0)
    anna.send("Nur noch für Mitglieder")
    expect(anna.page.locator("#chat-panel .chat-message:not(.is-pending)")).to_have_count(1)
    expect(ben.page.locator("#chat-panel .chat-message")).to_have_count(0)
    assert_clean(anna, ben, ben_on_group_page)


def test_inbox_counts_unread_messages_live(live_server_process, person_factory, make_user) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    clara_user = make_user("Clara Nowak")
    with_anna, _ = do_get_or_create_direct_conversation(actor=anna_user, other_user_id=ben_user.pk)
    do_send_message(actor=anna_user, conversation_id=with_anna.pk, body="Alt", client_id="a-1")
    with_clara, _ = do_get_or_create_direct_conversation(
        actor=clara_user, other_user_id=ben_user.pk
    )
    do_send_message(actor=clara_user, conversation_id=with_clara.pk, body="Neuer", client_id="c-1")
    ben = person_factory(ben_user, live_server_process)
    ben.login()
    ben.goto("/nachrichten/")
    items = ben.page.locator(".item-list .item")
    expect(items).to_have_text([re.compile("Clara Nowak"), re.compile("Anna Becker")])
    expect(items.nth(1).locator(".badge")).to_have_text("1")
    expect(ben.page.locator('[data-live-unread][data-live="true"]')).to_have_count(2)
    do_send_message(actor=anna_user, conversation_id=with_anna.pk, body="Eins", client_id="a-2")
    do_send_message(actor=anna_user, conversation_id=with_anna.pk, body="Zwei", client_id="a-3")
    expect(items).to_have_text([re.compile("Anna Becker"), re.compile("Clara Nowak")])
    expect(items.first.locator(".badge")).to_have_text("3")
    assert_clean(ben)


def test_the_member_list_and_name_follow_changes_live(
    live_server_process, person_factory, make_user
) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Yilmaz", company_name="Logistik Herne", job_title="Disponent")
    group = group_with(anna_user)
    anna = person_factory(anna_user, live_server_process)
    anna.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    members = anna.page.locator("#member-list .item")
    expect(members).to_have_count(1)
    expect(members.first.get_by_role("button", name="Nachricht senden")).to_have_count(0)

    membership = do_join_group(actor=ben_user, group=group)
    ben_item = anna.page.locator(f'#member-list .item[data-user-id="{ben_user.pk}"]')
    expect(ben_item).to_contain_text("Ben Yilmaz")
    expect(ben_item).to_contain_text("Disponent, Logistik Herne")
    expect(anna.page.locator("#member-count")).to_have_text("2 Mitglieder")

    do_change_member_role(actor=anna_user, group=group, user_id=ben_user.pk, role="admin")
    expect(ben_item.locator(".pill")).to_have_text("Admin")
    do_update_group(actor=anna_user, group=group, name="Ausbildungsverbund Witten")
    expect(anna.page.locator("#group-name")).to_have_text("Ausbildungsverbund Witten")

    # "Nachricht senden" from the member list opens the direct conversation.
    ben_item.get_by_role("button", name="Nachricht senden").click()
    expect(anna.page).to_have_url(re.compile(r"/nachrichten/\d+/$"))
    expect(anna.page.get_by_role("heading", level=1)).to_have_text("Ben Yilmaz")

    anna.open_panel(f"/gruppen/{group.slug}/")
    do_remove_member(actor=anna_user, group=group, user_id=membership.user_id)
    expect(anna.page.locator("#member-list .item")).to_have_count(1)
    expect(anna.page.locator("#member-count")).to_have_text("1 Mitglied")
    assert_clean(anna)
