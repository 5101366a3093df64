"""Formatting and reporting in the browser, two people in Chromium against a real
server process (docs/formatting-moderation.md): a bold/list message renders formatted
on the other side; a report through "Melden" and the admin's decision (hide) seen by
the reporter; hostile Markdown stays text; 375 px wide, keyboard only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from chat.actions import do_send_message
from chat.models import Message, MessageReport
from groups.actions import do_create_group, do_join_group, do_leave_group, do_remove_member
from groups.models import Group
from tests.browser.test_live import assert_clean
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.browser


def group_of(owner: Any, *members: Any) -> Group:
    group = do_create_group(
        actor=owner,
        name=f"Logistik Ruhr {uuid.uuid4().hex[:6]}",
        description="Austausch der Logistiker.",
        visibility="open",
    )
    for member in members:
        do_join_group(actor=member, group=group)
    return group


def anna_and_ben_in_a_group(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> tuple[Any, Any, Any, Any]:
    """Anna's group with Ben in it, both signed in with its panel open: (anna, ben,
    anna's panel, ben's panel)."""
    anna_user, ben_user = make_user("Anna Becker"), make_user("Ben Yilmaz")
    group = group_of(anna_user, ben_user)
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    for person in (anna, ben):
        person.login()
    return (
        anna,
        ben,
        anna.open_panel(f"/gruppen/{group.slug}/"),
        ben.open_panel(f"/gruppen/{group.slug}/"),
    )


def test_a_formatted_message_renders_on_the_other_side(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    anna, ben, anna_panel, ben_panel = anna_and_ben_in_a_group(
        live_server_process, person_factory, make_user
    )

    # Ctrl+B wraps the word typed so far; Shift+Enter starts new lines.
    box = anna_panel.locator("textarea")
    box.press("Control+b")
    box.type("Lieferung")
    box.press("End")
    box.type(" morgen:")
    for line in [
        "- Halle 3",
        "- Tor *B*",
        "[Plan](https://example.org/plan) <b>roh</b> [x](javascript:alert(1))",
    ]:
        box.press("Shift+Enter")
        if line.startswith("[Plan"):
            box.press("Shift+Enter")
        box.type(line)
    expect(anna_panel.locator(".chat-format-hint")).to_contain_text("**fett** (Strg+B)")
    box.press("Enter")

    message = ben_panel.locator(".chat-message").last
    body = message.locator(".chat-body")
    expect(body.locator("strong")).to_have_text("Lieferung")
    expect(body.locator("ul > li")).to_have_text(["Halle 3", "Tor B"])
    expect(body.locator("ul em")).to_have_text("B")
    link = body.locator("a")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "https://example.org/plan")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "nofollow noopener noreferrer")
    expect(body).to_contain_text("<b>roh</b> [x](javascript:alert(1))")
    expect(body.locator("b")).to_have_count(0)
    # The author's own copy is formatted too, once the server's frame arrived.
    expect(anna_panel.locator(".chat-message").last.locator(".chat-body strong")).to_have_text(
        "Lieferung"
    )
    assert Message.objects.get().body.startswith("**Lieferung** morgen:\n- Halle 3")
    assert_clean(anna, ben)


def test_the_line_after_a_quote_or_a_list_is_its_own(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    """No lazy continuation: the answer under a quote is not quoted, the line under a
    list is not part of its last item, on the other side and in the author's copy."""
    anna, ben, anna_panel, ben_panel = anna_and_ben_in_a_group(
        live_server_process, person_factory, make_user
    )

    anna.send("> Wer hat morgen einen Lkw frei?\nIch frage mal bei uns nach.")
    anna.send("1. erstens\n2. zweitens\nLink: https://example.org/plan")
    expect(ben_panel.locator(".chat-message")).to_have_count(2)
    for panel in (ben_panel, anna_panel):
        quote, listing = panel.locator(".chat-message .chat-body").all()
        expect(quote.locator("blockquote")).to_have_text("Wer hat morgen einen Lkw frei?")
        expect(quote.locator(":scope > p")).to_have_text("Ich frage mal bei uns nach.")
        expect(listing.locator("ol > li")).to_have_text(["erstens", "zweitens"])
        expect(listing.locator(":scope > p")).to_contain_text("Link: https://example.org/plan")
        expect(listing.locator(":scope > p a")).to_have_attribute(
            "href", "https://example.org/plan"
        )
    assert_clean(anna, ben)


def test_report_and_the_admins_decision_seen_by_the_reporter(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    owner_user, author_user, reporter_user = (
        make_user("Olga Inhaber"),
        make_user("Max Werber"),
        make_user("Rita Meldet"),
    )
    group = group_of(owner_user, author_user, reporter_user)
    from chat.actions import do_send_message

    do_send_message(
        actor=author_user,
        conversation_id=group.conversation_id,
        body="Billig Uhren kaufen!!!",
        client_id="spam-1",
    )
    rita = person_factory(reporter_user, live_server_process, **PHONE)
    olga = person_factory(owner_user, live_server_process)
    for person in (rita, olga):
        person.login()
    panel = rita.open_panel(f"/gruppen/{group.slug}/")
    message = panel.locator(".chat-message").last
    expect(message.locator(".chat-body")).to_have_text("Billig Uhren kaufen!!!")

    # On the phone (375 px, touch) the actions sit behind "⋯"; keyboard from there on.
    message.locator(".chat-more").tap()
    report = message.get_by_role("button", name="Nachricht von Max Werber melden")
    report.focus()
    rita.page.keyboard.press("Enter")
    dialog = rita.page.get_by_role("dialog", name="Nachricht melden")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["width"] <= 375
    # Without a reason the app says so in German (not the browser's own bubble, in
    # the browser's language) and puts the focus on the first reason.
    dialog.get_by_role("button", name="Melden").click()
    expect(dialog.get_by_role("alert")).to_have_text("Bitte wählen Sie einen Grund.")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("radio").first).to_be_focused()
    dialog.get_by_label("Spam oder Werbung").check()
    expect(dialog.get_by_role("alert")).to_be_hidden()
    dialog.get_by_label("Ergänzung (freiwillig)").fill("Immer wieder dieselbe Werbung")
    dialog.get_by_role("button", name="Melden").click()
    expect(dialog).to_be_hidden()
    expect(rita.page.locator(".toast")).to_contain_text("Danke, die Nachricht ist gemeldet.")
    stored = MessageReport.objects.get()
    assert (stored.reporter_id, stored.reason) == (
        reporter_user.pk,
        "Spam oder Werbung: Immer wieder dieselbe Werbung",
    )

    # The owner sees the count on the group page and decides.
    olga.goto(f"/gruppen/{group.slug}/")
    reports_link = olga.page.locator("#reports-link")
    expect(reports_link).to_contain_text("Meldungen")
    expect(reports_link.locator(".badge")).to_have_text("1")
    reports_link.click()
    item = olga.page.locator(".report-item")
    expect(item).to_contain_text("Billig Uhren kaufen!!!")
    expect(item).to_contain_text("Spam oder Werbung: Immer wieder dieselbe Werbung")
    expect(item).not_to_contain_text("Rita")
    item.get_by_role("button", name="Nachricht ausblenden").click()
    expect(olga.page.locator("main")).to_contain_text("Die Nachricht ist ausgeblendet.")
    expect(olga.page.locator("main")).to_contain_text("Keine offenen Meldungen.")

    # Live on the reporter's side: the message is gone, a note in its place.
    expect(message.locator(".chat-body")).to_have_text(
        "Diese Nachricht wurde von der Moderation ausgeblendet."
    )
    expect(message).not_to_contain_text("Billig")
    report_row = MessageReport.objects.get()
    assert (report_row.decision, report_row.decided_by_id) == ("hide", owner_user.pk)
    assert_clean(rita, olga)


def lena_in_annas_group(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> tuple[Any, Any, Group, Any, Any]:
    """Lena, a member of Anna's open group, signed in with its panel open: (anna's
    user, lena's user, the group, lena, her panel)."""
    anna_user, lena_user = make_user("Anna Becker"), make_user("Lena Köhler")
    group = group_of(anna_user, lena_user)
    lena = person_factory(lena_user, live_server_process)
    lena.login()
    return anna_user, lena_user, group, lena, lena.open_panel(f"/gruppen/{group.slug}/")


def test_removed_from_an_open_group_the_page_says_so_and_she_reads_on(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    anna_user, lena_user, group, lena, panel = lena_in_annas_group(
        live_server_process, person_factory, make_user
    )
    page = lena.page
    expect(page.get_by_text("Ihre Rolle in dieser Gruppe:")).to_be_visible()
    expect(page.locator("#member-count")).to_have_text("2 Mitglieder")

    do_remove_member(actor=anna_user, group=group, user_id=lena_user.pk)

    # She is told, and the page no longer contradicts it: no role, no "verlassen",
    # the count without her, the join button an open group offers to anyone.
    expect(page.locator(".toast")).to_contain_text(
        f"Sie wurden aus der Gruppe „{group.name}“ entfernt."
    )
    expect(
        page.locator("#membership-box").get_by_role("button", name="Gruppe beitreten")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Gruppe beitreten")).to_have_count(2)  # and beside
    expect(page.get_by_text("Ihre Rolle in dieser Gruppe:")).to_have_count(0)
    expect(page.get_by_role("button", name="Gruppe verlassen …")).to_have_count(0)
    expect(page.locator("#member-count")).to_have_text("1 Mitglied")
    # The open group stays readable to her as to any non-member reader, live.
    expect(panel.locator("textarea")).to_have_count(0)
    expect(panel).not_to_contain_text("Kein Zugriff")
    expect(page.locator('#chat-panel[data-state="live"]')).to_have_count(1)
    do_send_message(
        actor=anna_user, conversation_id=group.conversation_id, body="Danke allen", client_id="a-1"
    )
    expect(panel.locator(".chat-message", has_text="Danke allen")).to_have_count(1)
    page.goto(f"{lena.base_url}/benachrichtigungen/")
    expect(page.locator("main")).to_contain_text(
        f"Sie wurden aus der Gruppe „{group.name}“ entfernt"
    )
    assert_clean(lena)


def test_a_panel_that_lost_write_access_to_an_open_group_reads_on(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    """Another tab's "Gruppe verlassen": no notification, the panel falls back alone."""
    anna_user, lena_user, group, lena, panel = lena_in_annas_group(
        live_server_process, person_factory, make_user
    )

    do_leave_group(actor=lena_user, group=group)

    expect(panel.locator(".chat-readonly")).to_have_text(
        "Sie sind nicht mehr Mitglied dieser Gruppe und lesen nur mit."
    )
    expect(panel.locator("textarea")).to_have_count(0)
    do_send_message(
        actor=anna_user, conversation_id=group.conversation_id, body="Schade", client_id="a-2"
    )
    expect(panel.locator(".chat-message", has_text="Schade")).to_have_count(1)
    assert_clean(lena)
