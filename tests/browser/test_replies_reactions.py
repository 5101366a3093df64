"""Replies and reactions in Chromium, two people against a real server process: reply
from the message's "Antworten", the quote on both sides, the jump to an original that
has to be loaded first; a reaction picked by keyboard, seen live on the other side,
toggled by its chip; and the phone width."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from chat.actions import do_send_message
from chat.models import Message, Reaction
from tests.browser.test_live import assert_clean, group_with
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.browser


def send(author: Any, group: Any, body: str, **extra: Any) -> Message:
    message, _ = do_send_message(
        actor=author,
        conversation_id=group.conversation_id,
        body=body,
        client_id=str(uuid.uuid4()),
        **extra,
    )
    return message


def message_row(person: Any, text: str) -> Any:
    return person.page.locator("#chat-panel .chat-message", has_text=text).last


def test_reply_and_jump_to_the_original(live_server_process, person_factory, make_user) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Öztürk", company_name="Logistik Herne")
    group = group_with(anna_user, ben_user)
    first = send(anna_user, group, "Ganz am Anfang: Wer hat Europaletten übrig?")
    for n in range(2, 61):
        send(anna_user if n % 2 else ben_user, group, f"Zwischendurch {n}")
    send(ben_user, group, "Ja, 40 Stück in Herne.", reply_to=first.pk)

    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    ben.open_panel(f"/gruppen/{group.slug}/")

    # Ben answers Anna's newest message from its "Antworten" button.
    target = message_row(ben, "Zwischendurch 59")
    target.hover()
    target.get_by_role("button", name="Auf die Nachricht von Anna Becker antworten").click()
    bar = ben.page.locator("#chat-panel .chat-reply-bar")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("Antwort an Anna Becker")
    expect(bar).to_contain_text("Zwischendurch 59")
    # Cancelable: Escape drops it, "Antworten" brings it back.
    box = ben.page.locator("#chat-panel textarea")
    expect(box).to_be_focused()
    box.press("Escape")
    expect(bar).to_be_hidden()
    target.hover()
    target.get_by_role("button", name="Auf die Nachricht von Anna Becker antworten").click()
    expect(bar).to_be_visible()
    box.fill("Dazu: morgen ab 7 Uhr.")
    box.press("Enter")
    expect(bar).to_be_hidden()

    for person in (ben, anna):
        reply = message_row(person, "morgen ab 7 Uhr")
        quote = reply.locator(".chat-quote")
        expect(quote).to_contain_text("Anna Becker")
        expect(quote).to_contain_text("Zwischendurch 59")
    stored = Message.objects.get(body="Dazu: morgen ab 7 Uhr.")
    assert stored.reply_to is not None and stored.reply_to.body == "Zwischendurch 59"

    # Anna jumps from the old reply to its original, 60 messages up: not loaded yet.
    original = anna.page.locator("#chat-panel .chat-message").filter(
        has=anna.page.locator(".chat-body", has_text="Ganz am Anfang")
    )
    expect(original).to_have_count(0)
    old_reply = message_row(anna, "40 Stück in Herne")
    old_reply.locator(".chat-quote").click()
    expect(original).to_have_count(1)
    expect(original).to_have_class(re.compile(r"\bis-highlighted\b"))
    expect(original).to_be_in_viewport()
    expect(original).to_be_focused()
    assert_clean(anna, ben)


def test_react_by_keyboard_and_see_it_live(live_server_process, person_factory, make_user) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Öztürk", company_name="Logistik Herne")
    group = group_with(anna_user, ben_user)
    send(anna_user, group, "Die neue Halle ist fertig!")
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process)
    anna.login()
    ben.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    ben.open_panel(f"/gruppen/{group.slug}/")

    # Ben opens the picker from the keyboard: the first emoji has focus, arrows move,
    # Escape closes it and gives the focus back to its button.
    message = message_row(ben, "Die neue Halle")
    opener = message.get_by_role("button", name="Reaktion hinzufügen")
    opener.focus()
    opener.press("Enter")
    picker = message.get_by_role("toolbar", name="Reaktion wählen")
    expect(picker).to_be_visible()
    expect(opener).to_have_attribute("aria-expanded", "true")
    expect(picker.get_by_role("button", name="Daumen hoch")).to_be_focused()
    ben.page.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    expect(opener).to_be_focused()
    opener.press("Enter")
    ben.page.keyboard.press("ArrowRight")
    expect(picker.get_by_role("button", name="Herz")).to_be_focused()
    ben.page.keyboard.press("ArrowLeft")
    ben.page.keyboard.press("ArrowLeft")
    expect(picker.get_by_role("button", name="Applaus")).to_be_focused()
    ben.page.keyboard.press("Home")
    ben.page.keyboard.press("ArrowRight")
    ben.page.keyboard.press("Enter")
    expect(picker).to_have_count(0)

    # Both see the chip live, with the name on hover; Ben's is pressed, Anna's not.
    for person, pressed in ((ben, "true"), (anna, "false")):
        chip = message_row(person, "Die neue Halle").locator(".chat-reaction")
        expect(chip).to_have_count(1)
        expect(chip).to_have_text("❤️1")
        expect(chip).to_have_attribute("title", "Herz: Ben Öztürk")
        expect(chip).to_have_attribute("aria-pressed", pressed)

    # Anna joins by clicking the chip: 2 on both sides, names of both on hover.
    message_row(anna, "Die neue Halle").locator(".chat-reaction").click()
    for person in (ben, anna):
        chip = message_row(person, "Die neue Halle").locator(".chat-reaction")
        expect(chip).to_have_text("❤️2")
        expect(chip).to_have_attribute("title", "Herz: Ben Öztürk und Anna Becker")
    expect(message_row(anna, "Die neue Halle").locator(".chat-reaction")).to_have_attribute(
        "aria-pressed", "true"
    )
    # Ben takes his back.
    message_row(ben, "Die neue Halle").locator(".chat-reaction").click()
    for person in (ben, anna):
        chip = message_row(person, "Die neue Halle").locator(".chat-reaction")
        expect(chip).to_have_text("❤️1")
        expect(chip).to_have_attribute("title", "Herz: Anna Becker")
    expect(message_row(ben, "Die neue Halle").locator(".chat-reaction")).to_have_attribute(
        "aria-pressed", "false"
    )
    assert list(Reaction.objects.values_list("user__display_name", "emoji")) == [
        ("Anna Becker", "❤️")
    ]
    # After a reload the state comes from history, per person.
    ben.open_panel(f"/gruppen/{group.slug}/")
    expect(message_row(ben, "Die neue Halle").locator(".chat-reaction")).to_have_attribute(
        "aria-pressed", "false"
    )
    anna.open_panel(f"/gruppen/{group.slug}/")
    expect(message_row(anna, "Die neue Halle").locator(".chat-reaction")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert_clean(anna, ben)


def test_replies_and_reactions_fit_a_phone(live_server_process, person_factory, make_user) -> None:
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Öztürk")
    group = group_with(anna_user, ben_user)
    original = send(anna_user, group, "Eine recht lange Frage zu Ausbildungsplätzen in Bochum " * 4)
    send(ben_user, group, "Kurze Antwort.", reply_to=original.pk)
    anna = person_factory(anna_user, live_server_process, **PHONE)
    anna.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    reply = message_row(anna, "Kurze Antwort.")
    reply.get_by_role("button", name="Aktionen für diese Nachricht").tap()
    reply.get_by_role("button", name="Reaktion hinzufügen").tap()
    reply.get_by_role("toolbar", name="Reaktion wählen").get_by_role("button", name="Danke").tap()
    expect(reply.locator(".chat-reaction")).to_have_text("🙏1")
    reply.get_by_role("button", name="Aktionen für diese Nachricht").tap()
    reply.get_by_role("button", name="Auf die Nachricht von Ben Öztürk antworten").tap()
    expect(anna.page.locator("#chat-panel .chat-reply-bar")).to_be_visible()
    width = anna.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide"
    assert_clean(anna)


def test_reaction_chips_follow_each_emojis_first_reaction(
    live_server_process, person_factory, make_user
) -> None:
    """🎉 came first, then 👍, then ❤️ (docs/replies-reactions.md): the chips show that
    order, not the picker's; a new emoji arriving live joins at the end."""
    from chat.actions import do_set_reaction

    anna_user, ben_user = make_user("Anna Becker"), make_user("Ben Öztürk")
    group = group_with(anna_user, ben_user)
    message = send(anna_user, group, "Die Prüfung ist bestanden!")
    for actor, emoji in (
        (ben_user, "\U0001f389"),
        (anna_user, "\U0001f44d"),
        (ben_user, "\u2764\ufe0f"),
        (anna_user, "\U0001f389"),
    ):
        do_set_reaction(actor=actor, message_id=message.pk, emoji=emoji, on=True)
    anna = person_factory(anna_user, live_server_process)
    anna.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    chips = message_row(anna, "Die Prüfung ist bestanden!").locator(".chat-reaction-emoji")
    expect(chips).to_have_text(["\U0001f389", "\U0001f44d", "\u2764\ufe0f"])

    do_set_reaction(actor=ben_user, message_id=message.pk, emoji="\u2705", on=True)
    expect(chips).to_have_text(["\U0001f389", "\U0001f44d", "\u2764\ufe0f", "\u2705"])
    assert_clean(anna)
