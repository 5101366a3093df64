"""'Konto löschen' in one tab ends the live connection of the person's other tab."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from chat.actions import do_send_message
from chat.models import Message
from groups.actions import do_create_group, do_join_group
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_deleting_the_account_closes_the_other_tab(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    anna, bernd = make_user("Anna Becker"), make_user("Bernd Schütte")
    group = do_create_group(actor=bernd, name="Ausbildung Witten")
    do_join_group(actor=anna, group=group)
    do_send_message(
        actor=anna, conversation_id=group.conversation_id, body="Wir bilden aus.", client_id="a1"
    )
    person = person_factory(anna, live_server_process)
    person.login()
    other_tab = person.page.context.new_page()
    other_tab.goto(f"{person.base_url}/gruppen/{group.slug}/")
    panel = other_tab.locator("#chat-panel")
    expect(panel).to_have_attribute("data-state", "live")

    person.goto("/einstellungen/konto-loeschen/")
    expect(person.page.locator("main")).to_contain_text("nicht rückgängig")
    expect(person.page.locator("main")).to_contain_text("Ehemaliges Mitglied")
    person.page.get_by_label("Ihr Passwort").fill(PASSWORD)
    person.page.get_by_role("button", name="Konto endgültig löschen").click()
    expect(person.page.locator(".flash")).to_contain_text("Ihr Konto ist gelöscht")

    expect(panel).not_to_have_attribute("data-state", "live", timeout=5_000)
    expect(other_tab.locator("#connection-state")).to_contain_text(
        "Sie wurden abgemeldet", timeout=10_000
    )
    assert not User.objects.filter(pk=anna.pk).exists()
    kept = Message.objects.get(conversation_id=group.conversation_id)
    assert (kept.author_id, kept.body) == (None, "Wir bilden aus.")
    assert person.page_errors == []
    assert person.csp_violations == []
