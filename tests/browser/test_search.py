"""Search in a real browser (docs/search.md): the header's search box finds a message
far back in a group's discussion, the hit is marked, and choosing it opens the
conversation with older history loaded and the message highlighted; the same from
the search box of the chat panel; the results page at 375 px."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from chat.actions import do_send_message
from groups.actions import do_create_group, do_join_group
from tests.browser.conftest import Person

pytestmark = pytest.mark.browser

TARGET = "Wir haben einen Ausbildungsplatz als Fachkraft für Lagerlogistik in Herne."


def assert_clean(person: Person) -> None:
    assert person.page_errors == [], person.page_errors
    assert person.csp_violations == [], person.csp_violations


def fill_discussion(anna: Any, conversation_id: int) -> None:
    """The message to find, then 120 more: it is not on the panel's first page."""
    for number in range(121):
        body = TARGET if number == 0 else f"Tagesordnung Punkt {number}"
        do_send_message(
            actor=anna, conversation_id=conversation_id, body=body, client_id=str(uuid.uuid4())
        )


def query() -> str:
    # PostgreSQL stems ("Ausbildungsplätze" finds "Ausbildungsplatz"); SQLite matches
    # the substring.
    return "Ausbildungsplätze" if settings.IS_POSTGRES else "Ausbildungsplatz"


def test_search_from_the_header_and_jump_to_the_message(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    anna = make_user("Anna Becker", company_name="Logistik Herne")
    ben = make_user("Ben Öztürk")
    group = do_create_group(actor=anna, name="Ausbildung", visibility="open")
    do_join_group(actor=ben, group=group)
    fill_discussion(anna, group.conversation_id)
    person = person_factory(ben, live_server_process)
    person.login()

    box = person.page.get_by_role("searchbox", name="Nachrichten durchsuchen")
    box.fill(query())
    box.press("Enter")
    person.page.wait_for_url(re.compile(r"/suche/\?q="))
    hit = person.page.locator(".search-hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark")).to_have_text("Ausbildungsplatz")
    expect(hit).to_contain_text("Ausbildung")  # the conversation's title
    hit.get_by_role("link").click()

    person.page.wait_for_url(re.compile(rf"/nachrichten/{group.conversation_id}/\?nachricht=1"))
    shown = person.page.locator("#chat-panel .chat-message.is-search-hit")
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text("Fachkraft für Lagerlogistik in Herne")
    expect(shown).to_be_focused()
    expect(shown).to_be_in_viewport()
    # Older history was loaded to reach it: the whole discussion is there now.
    expect(person.page.locator("#chat-panel .chat-message")).to_have_count(121)
    assert_clean(person)


def test_search_in_the_panel_marks_the_message_in_place(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    anna = make_user("Anna Becker", company_name="Logistik Herne")
    ben = make_user("Ben Öztürk")
    group = do_create_group(actor=anna, name="Ausbildung", visibility="open")
    do_join_group(actor=ben, group=group)
    fill_discussion(anna, group.conversation_id)
    person = person_factory(ben, live_server_process)
    person.login()
    panel = person.open_panel(f"/nachrichten/{group.conversation_id}/")
    toggle = panel.get_by_role("button", name="In dieser Unterhaltung suchen")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    field = panel.get_by_label("Suchbegriff")
    expect(field).to_be_focused()
    field.fill(query())
    field.press("Enter")
    results = panel.locator(".chat-search-hit")
    expect(results).to_have_count(1)
    expect(results.locator("mark")).to_have_text("Ausbildungsplatz")
    expect(results).to_contain_text("Anna Becker")
    results.get_by_role("button").press("Enter")  # keyboard works as well as a click
    shown = panel.locator(".chat-message.is-search-hit")
    expect(shown).to_contain_text("Fachkraft für Lagerlogistik in Herne")
    expect(shown).to_be_in_viewport()
    expect(panel.locator(".chat-search-status")).to_have_text(
        "Treffer 1 von 1. Die Nachricht ist im Verlauf markiert."
    )
    field.focus()
    field.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    assert_clean(person)


def test_the_results_page_fits_a_phone(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    anna = make_user("Anna Becker")
    group = do_create_group(actor=anna, name="Ausbildung", visibility="open")
    do_send_message(
        actor=anna,
        conversation_id=group.conversation_id,
        body="Ausbildungsplatz " + "Lagerlogistikfachkraftausbildungsplatzangebot" * 3,
        client_id="lang",
    )
    person = person_factory(
        anna,
        live_server_process,
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    person.login()
    person.goto(f"/suche/?q={query()}")
    expect(person.page.locator(".search-hit")).to_have_count(1)
    width = person.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide"
    assert_clean(person)


HIT_IN_LOG = """(panel) => {
    const log = panel.querySelector('.chat-scroll').getBoundingClientRect();
    const hit = panel.querySelector('.chat-message.is-search-hit').getBoundingClientRect();
    return {log: log.height, top: hit.top - log.top, bottom: log.bottom - hit.bottom};
}"""


@pytest.mark.parametrize("width,height", [(1280, 900), (375, 740)])
def test_after_a_jump_the_hits_fold_away_and_the_message_is_fully_visible(
    live_server_process: Any, person_factory: Any, make_user: Any, width: int, height: int
) -> None:
    """Sixty hits, the second page loaded: choosing one folds the list away (the query
    stays), the log gets the panel back and shows the whole message; the hits come
    back on demand and "Nächster Treffer" steps on."""
    anna = make_user("Anna Becker")
    group = do_create_group(actor=anna, name="Ausbildung", visibility="open")
    for number in range(60):
        do_send_message(
            actor=anna,
            conversation_id=group.conversation_id,
            body=f"Füllnachricht {number}",
            client_id=f"fill-{number}",
        )
    person = person_factory(anna, live_server_process, viewport={"width": width, "height": height})
    person.login()
    panel = person.open_panel(f"/nachrichten/{group.conversation_id}/")
    panel.get_by_role("button", name="In dieser Unterhaltung suchen").click()
    field = panel.get_by_label("Suchbegriff")
    field.fill("Füllnachricht")
    field.press("Enter")
    results = panel.locator(".chat-search-hit")
    expect(results).to_have_count(50)
    panel.get_by_role("button", name="Weitere Treffer").click()
    expect(results).to_have_count(60)
    results.nth(20).get_by_role("button").click()

    shown = panel.locator(".chat-message.is-search-hit")
    expect(shown).to_be_focused()
    expect(panel.locator(".chat-search-results")).to_be_hidden()
    expect(field).to_have_value("Füllnachricht")
    expect(panel.locator(".chat-search-status")).to_have_text(
        "Treffer 21 von 60. Die Nachricht ist im Verlauf markiert."
    )
    first_seq = shown.get_attribute("id")
    place = panel.evaluate(HIT_IN_LOG)
    assert place["log"] >= 150, place
    assert place["top"] >= 0 and place["bottom"] >= 0, place

    panel.get_by_role("button", name="Nächster Treffer").click()
    expect(shown).not_to_have_attribute("id", first_seq or "")
    expect(panel.locator(".chat-search-status")).to_have_text(
        "Treffer 22 von 60. Die Nachricht ist im Verlauf markiert."
    )
    place = panel.evaluate(HIT_IN_LOG)
    assert place["top"] >= 0 and place["bottom"] >= 0, place

    reopen = panel.get_by_role("button", name=re.compile("Treffer anzeigen"))
    expect(reopen).to_have_attribute("aria-expanded", "false")
    reopen.click()
    expect(panel.locator(".chat-search-results")).to_be_visible()
    expect(results).to_have_count(60)
    width_now = person.page.evaluate("document.documentElement.scrollWidth")
    assert width_now <= width, f"the page is {width_now} px wide"
    assert_clean(person)
