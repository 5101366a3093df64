"""Two people in two browser contexts against a real server process (daphne on the
test database): sign-up, live group messages, reconnect catch-up, join requests,
direct messages, XSS and the phone width."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from chat.actions import do_send_message
from groups.actions import do_create_group, do_join_group
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
    bernd.login()
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
    assert_clean(anna, ben)


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

    restartable_server()  # the same port: Ben's tab reconnects by itself
    expect(ben.page.locator("#chat-panel .chat-message", has_text="Drei")).to_have_count(1)
    expect(ben.page.locator("#connection-state")).to_be_hidden()
    assert bodies(ben) == ["Vorher", "Eins", "Zwei", "Drei"]
    seqs = ben.page.locator("#chat-panel .chat-message").evaluate_all(
        "nodes => nodes.map(n => Number(n.dataset.seq))"
    )
    assert seqs == [1, 2, 3, 4]
    # Live again after the catch-up.
    anna.send("Vier")
    expect(ben.page.locator("#chat-panel .chat-message", has_text="Vier")).to_have_count(1)
    assert bodies(ben) == ["Vorher", "Eins", "Zwei", "Drei", "Vier"]
    assert_clean(anna)
