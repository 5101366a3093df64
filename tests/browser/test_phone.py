"""The phone (375 px, touch): no page wider than the screen, toasts on it and clear of
the heading and "Senden", the menu button's unread sign, the group page's tabs,
message actions behind one button, the edit form's buttons in reach."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.actions import (
    do_claim_company,
    do_confirm_company_member,
    do_create_company,
    do_update_profile,
)
from chat.actions import do_get_or_create_direct_conversation, do_send_message
from groups.actions import do_update_group
from tests.browser.conftest import Person
from tests.browser.test_first_week import read_marker
from tests.browser.test_live import assert_clean, group_with, post, wait_until

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
LONG_TOPICS = [
    "Berufsorientierung",
    "Fachkräftesicherung",
    "Verbundausbildung",
    "Prüfungsvorbereitung",
    "Kontraktlogistik",
]


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not rendered"
    return found


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def on_screen(person: Person, locator: Any) -> None:
    found = box(locator)
    assert found["x"] >= 0 and found["x"] + found["width"] <= 375, found
    assert found["y"] >= 0 and found["y"] + found["height"] <= 740, found


def network(make_user: Any) -> dict[str, Any]:
    """People, a company and a group with long German words, topics and phone numbers:
    what made the pages 676 px wide."""
    anna = make_user(
        "Anna Becker",
        job_title="Ausbildungsleiterin und Verantwortliche für Berufsorientierungsmaßnahmen",
        company_name="Stahlbau Rüther GmbH & Co. KG",
        city="Witten",
    )
    do_update_profile(
        actor=anna,
        changes={
            "topics": LONG_TOPICS,
            "phone": "02302 555 0101 / 0172 555 01 02",
            "phone_visibility": "members",
            "email_visibility": "members",
        },
    )
    ben = make_user("Ben Yilmaz", company_name="Spedition Kowalski", city="Herne")
    company = do_create_company(
        actor=anna,
        fields={
            "name": "Stahlbau Rüther GmbH & Co. KG",
            "industry": "Stahl- und Metallbau, Schweißfachbetrieb",
            "city": "Witten",
            "address": "Industriestraße 12, 58455 Witten",
            "website": "https://www.stahlbau-ruether-witten.example.de/ausbildung/bewerbung",
        },
    )
    do_claim_company(actor=ben, company=company, responsibility="Disposition")
    do_confirm_company_member(actor=anna, company=company, user_id=ben.pk)
    group = group_with(
        anna,
        ben,
        name="Ausbildungsverbund Mittleres Ruhrgebiet",
        description="Betriebe, Schulen und Kammern: " + "Ausbildungsplatzvermittlung " * 6,
    )
    do_update_group(actor=anna, group=group, topics=LONG_TOPICS, city="Bochum")
    post(anna, group, "Wer hat noch Plätze? https://example.org/" + "sehr-lang-" * 15)
    direct, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    do_send_message(actor=anna, conversation_id=direct.pk, body="Hallo Ben", client_id="p-1")
    return {"anna": anna, "ben": ben, "company": company, "group": group, "direct": direct}


def test_no_main_page_is_wider_than_a_phone(live_server_process, person_factory, make_user):
    data = network(make_user)
    ben = person_factory(data["ben"], live_server_process, **PHONE)
    ben.login()
    pages = [
        "/",
        "/gruppen/",
        f"/gruppen/{data['group'].slug}/",
        "/personen/",
        f"/personen/{data['anna'].pk}/",
        "/unternehmen/",
        f"/unternehmen/{data['company'].slug}/",
        "/nachrichten/",
        f"/nachrichten/{data['direct'].pk}/",
        "/benachrichtigungen/",
        "/benachrichtigungen/einstellungen/",
        "/einstellungen/profil/",
        "/einstellungen/zugaenge/",
        "/einstellungen/blockiert/",
        "/gruppen/neu/",
        "/gruppen/einladungen/",
        "/impressum/",
        "/datenschutz/",
    ]
    too_wide = {}
    for path in pages:
        ben.goto(path)
        ben.page.wait_for_load_state("networkidle")
        width = ben.page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            too_wide[path] = width
    # Signed out as well (the start, login and company pages).
    visitor = person_factory(None, live_server_process, **PHONE)
    for path in ("/", "/anmelden/", "/registrieren/", f"/unternehmen/{data['company'].slug}/"):
        visitor.goto(path)
        width = visitor.page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            too_wide[f"anonym {path}"] = width
    assert too_wide == {}
    # The phone number is shown whole, not cut off.
    ben.goto(f"/personen/{data['anna'].pk}/")
    phone = ben.page.get_by_role("link", name="02302 555 0101 / 0172 555 01 02")
    on_screen(ben, phone)
    assert_clean(ben)


def test_toasts_stay_on_the_screen_and_off_the_heading_and_senden(
    live_server_process, person_factory, make_user
):
    data = network(make_user)
    ben = person_factory(data["ben"], live_server_process, **PHONE)
    ben.login()
    ben.goto("/gruppen/")
    ben.page.locator('body[data-unread="live"]').wait_for()
    do_send_message(
        actor=data["anna"], conversation_id=data["direct"].pk, body="Eins", client_id="t-1"
    )
    toast = ben.page.locator("#toasts .toast").first
    expect(toast).to_be_visible()
    on_screen(ben, toast)
    assert not overlaps(box(toast), box(ben.page.get_by_role("heading", level=1)))

    # In the group's discussion the toast stands above the composer.
    ben.open_panel(f"/gruppen/{data['group'].slug}/")
    ben.page.locator('body[data-unread="live"]').wait_for()
    other, _ = do_get_or_create_direct_conversation(
        actor=make_user("Clara Nowak"), other_user_id=data["ben"].pk
    )
    clara = other.participants.exclude(user=data["ben"]).get().user
    do_send_message(actor=clara, conversation_id=other.pk, body="Zwei", client_id="t-2")
    toast = ben.page.locator("#toasts .toast", has_text="Clara Nowak")
    expect(toast).to_be_visible()
    on_screen(ben, toast)
    send = ben.page.get_by_role("button", name="Senden")
    assert not overlaps(box(toast), box(send))
    assert not overlaps(box(toast), box(ben.page.locator("#chat-panel textarea")))
    assert_clean(ben)


def test_the_menu_button_shows_that_something_is_new(
    live_server_process, person_factory, make_user
):
    data = network(make_user)
    ben = person_factory(data["ben"], live_server_process, **PHONE)
    ben.login()
    menu = ben.page.get_by_role("button", name="Menü")
    sign = ben.page.locator(".nav-toggle-sign")
    # Anna's earlier direct message is unread: the closed menu says so.
    expect(sign).to_be_visible()
    expect(menu).to_have_accessible_name(re.compile(r"^Menü\W+Neues vorhanden$"))
    ben.open_panel(f"/nachrichten/{data['direct'].pk}/")
    wait_until(lambda: read_marker(data["ben"], data["direct"].pk) == 1)
    ben.goto("/gruppen/")
    ben.page.locator('body[data-unread="live"]').wait_for()
    expect(sign).to_be_hidden()
    do_send_message(
        actor=data["anna"], conversation_id=data["direct"].pk, body="Noch da?", client_id="m-2"
    )
    expect(sign).to_be_visible()
    menu.click()
    expect(ben.page.locator("#messages-badge .badge-count")).to_have_text("1")
    assert_clean(ben)


def test_the_group_page_opens_on_the_discussion_with_tabs(
    live_server_process, person_factory, make_user
):
    data = network(make_user)
    ben = person_factory(data["ben"], live_server_process, **PHONE)
    ben.login()
    panel = ben.open_panel(f"/gruppen/{data['group'].slug}/")
    tabs = ben.page.get_by_role("tab")
    expect(tabs).to_have_text(["Diskussion", "Info", "Mitglieder"])
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    # The discussion starts right under the heading and the tab bars, not 1,430 px down.
    assert box(panel)["y"] < 450
    expect(ben.page.locator("#membership-box")).to_be_hidden()
    ben.page.get_by_role("tab", name="Mitglieder").click()
    expect(ben.page.locator("#member-list")).to_be_visible()
    expect(panel).to_be_hidden()
    ben.page.get_by_role("tab", name="Mitglieder").press("ArrowLeft")
    expect(ben.page.get_by_role("tab", name="Info")).to_be_focused()
    expect(ben.page.locator("#membership-box")).to_be_visible()
    ben.page.get_by_role("tab", name="Diskussion").click()
    expect(panel).to_be_visible()
    # A wide screen shows everything side by side, without tabs.
    ben.page.set_viewport_size({"width": 1280, "height": 900})
    expect(tabs.first).to_be_hidden()
    expect(ben.page.locator("#member-list")).to_be_visible()
    expect(panel).to_be_visible()
    assert_clean(ben)


def test_the_way_into_a_group_is_beside_the_discussion_on_a_phone(
    live_server_process, person_factory, make_user
):
    anna_user = make_user("Anna Becker")
    ben_user = make_user("Ben Yilmaz")
    open_group = group_with(anna_user, name="Import und Export")
    closed_group = group_with(anna_user, visibility="closed", name="Geschäftsführung Hattingen")
    ben = person_factory(ben_user, live_server_process, **PHONE)
    ben.login()

    ben.open_panel(f"/gruppen/{open_group.slug}/")
    readonly = ben.page.locator("#chat-panel .chat-readonly")
    expect(readonly).to_contain_text("Treten Sie der Gruppe bei, um mitzuschreiben.")
    join = readonly.get_by_role("button", name="Gruppe beitreten")
    expect(join).to_be_visible()
    # Right under the sentence, within the screen's width.
    sentence = box(readonly.locator("p").first)
    button = box(join)
    assert 0 <= button["y"] - (sentence["y"] + sentence["height"]) < 40, (sentence, button)
    assert button["x"] >= 0 and button["x"] + button["width"] <= 375, button
    join.click()
    expect(ben.page.locator("#chat-panel textarea")).to_be_visible()
    expect(ben.page.locator("#join-action")).to_have_count(0)

    ben.goto(f"/gruppen/{closed_group.slug}/")
    notice = ben.page.locator("#bereich-diskussion .card")
    expect(notice).to_contain_text("Die Diskussion dieser Gruppe lesen nur ihre Mitglieder.")
    ask = notice.get_by_role("link", name="Beitritt anfragen")
    expect(ask).to_be_visible()
    ask.click()
    expect(ben.page.get_by_role("tab", name="Info")).to_have_attribute("aria-selected", "true")
    form = ben.page.locator("#membership-box")
    expect(form.get_by_role("button", name="Beitritt anfragen")).to_be_visible()
    form.get_by_role("button", name="Beitritt anfragen").click()
    expect(ben.page.locator("#join-action")).to_contain_text("wartet")
    assert_clean(ben)


def test_message_actions_open_on_tap_and_the_edit_form_fits(
    live_server_process, person_factory, make_user
):
    data = network(make_user)
    anna = person_factory(data["anna"], live_server_process, **PHONE)
    anna.login()
    panel = anna.open_panel(f"/gruppen/{data['group'].slug}/")
    post(data["ben"], data["group"], "Ben fragt etwas")
    anna.send(f"Meine Antwort {uuid.uuid4().hex[:4]}")
    mine = panel.locator(".chat-message.is-mine").last
    expect(mine).not_to_have_class("is-pending")
    theirs = panel.locator(".chat-message", has_text="Ben fragt etwas")
    # The owner sees no button row under every message: one "⋯" each.
    for message in (mine, theirs):
        expect(message.get_by_role("button", name="Nachricht löschen")).to_be_hidden()
        expect(message.get_by_role("button", name="Aktionen für diese Nachricht")).to_be_visible()
    height_before = box(theirs)["height"]
    assert height_before < 110, height_before
    mine.get_by_role("button", name="Aktionen für diese Nachricht").tap()
    expect(mine.get_by_role("button", name="Nachricht bearbeiten")).to_be_visible()
    mine.get_by_role("button", name="Nachricht bearbeiten").tap()
    editor = mine.get_by_role("textbox", name="Neuer Text der Nachricht")
    expect(editor).to_be_focused()
    for name in ("Speichern", "Abbrechen"):
        button = mine.get_by_role("button", name=name)
        button.scroll_into_view_if_needed()
        on_screen(anna, button)
    editor.fill("Geänderte Antwort")
    mine.get_by_role("button", name="Speichern").tap()
    expect(mine.locator(".chat-body")).to_have_text("Geänderte Antwort(bearbeitet)")
    assert_clean(anna)


def test_the_reconnect_banner_does_not_cover_the_heading(
    live_server_process, restartable_server, person_factory, make_user
):
    data = network(make_user)
    second = restartable_server()
    ben = person_factory(data["ben"], second, **PHONE)
    ben.login()
    ben.open_panel(f"/gruppen/{data['group'].slug}/")
    heading = ben.page.get_by_role("heading", level=1)
    second.stop()
    banner = ben.page.locator("#connection-state")
    expect(banner).to_have_text("Verbindung wird wiederhergestellt…")
    assert not overlaps(box(banner), box(heading))
    on_screen(ben, banner)
    restartable_server()
    expect(banner).to_be_hidden(timeout=40_000)
    assert ben.page_errors == []


MENU_IN_LOG = """(message) => {
    const log = message.closest('.chat-scroll').getBoundingClientRect();
    return [...message.querySelectorAll('.chat-actions .chat-action')].map((button) => {
        const r = button.getBoundingClientRect();
        return {name: button.textContent, top: r.top - log.top, bottom: log.bottom - r.bottom};
    });
}"""


def test_the_newest_messages_menu_opens_where_it_is_fully_visible(
    live_server_process, person_factory, make_user
):
    """The "⋯" of the newest message has no room below it in the log: the menu opens
    upward, every action inside the log; an older message's menu still opens below."""
    data = network(make_user)
    for number in range(8):
        post(data["ben"], data["group"], f"Ben fragt etwas {number}")
    anna = person_factory(data["anna"], live_server_process, **PHONE)
    anna.login()
    panel = anna.open_panel(f"/gruppen/{data['group'].slug}/")
    newest = panel.locator(".chat-message", has_text="Ben fragt etwas 7")
    newest.scroll_into_view_if_needed()
    newest.get_by_role("button", name="Aktionen für diese Nachricht").tap()
    expect(newest.get_by_role("button", name="Nachricht löschen")).to_be_visible()
    actions = newest.evaluate(MENU_IN_LOG)
    assert len(actions) >= 3, actions
    for action in actions:
        assert action["top"] >= 0 and action["bottom"] >= 0, actions
    expect(newest).to_have_class(re.compile("is-menu-up"))
    expect(newest.locator(".chat-action").first).to_be_focused()

    newest.get_by_role("button", name="Aktionen für diese Nachricht").tap()
    expect(newest).not_to_have_class(re.compile("is-menu-open|is-menu-up"))

    older = panel.locator(".chat-message", has_text="Ben fragt etwas 2")
    older.scroll_into_view_if_needed()
    older.get_by_role("button", name="Aktionen für diese Nachricht").tap()
    expect(older.get_by_role("button", name="Nachricht löschen")).to_be_visible()
    expect(older).not_to_have_class(re.compile("is-menu-up"))
    for action in older.evaluate(MENU_IN_LOG):
        assert action["top"] >= 0 and action["bottom"] >= 0, action
    assert_clean(anna)


PLACEHOLDER_FITS = """(input) => {
    const style = getComputedStyle(input);
    const canvas = document.createElement('canvas').getContext('2d');
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return {text: canvas.measureText(input.placeholder).width, room};
}"""


@pytest.mark.parametrize("width", [1280, 375])
def test_placeholders_fit_and_no_page_asks_for_a_missing_favicon(
    live_server_process, person_factory, make_user, width
):
    """The header's search field shows its whole placeholder, the message box is the
    widest part of its row (its placeholder on one line), and nothing answers 404
    (a page without an icon link makes the browser ask for /favicon.ico)."""
    data = network(make_user)
    options = PHONE if width == 375 else {"viewport": {"width": 1280, "height": 900}}
    anna = person_factory(data["anna"], live_server_process, **options)
    failed: list[str] = []
    anna.page.on(
        "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    anna.login()
    panel = anna.open_panel(f"/gruppen/{data['group'].slug}/")
    if width == 375:
        anna.page.get_by_role("button", name=re.compile("Menü")).tap()
    search = anna.page.get_by_role("searchbox", name="Nachrichten durchsuchen")
    expect(search).to_be_visible()
    fits = search.evaluate(PLACEHOLDER_FITS)
    assert fits["text"] <= fits["room"], fits
    if width == 375:
        anna.page.get_by_role("button", name=re.compile("Menü")).tap()

    box_field = panel.get_by_role("textbox", name="Nachricht schreiben")
    fits = box_field.evaluate(PLACEHOLDER_FITS)
    assert fits["text"] <= fits["room"], fits
    send = panel.get_by_role("button", name="Senden")
    expect(send).to_be_visible()
    row = box(panel.locator(".chat-composer-row"))
    assert box(box_field)["width"] >= row["width"] * 0.6, (box(box_field), row)
    scroll_width = anna.page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, scroll_width
    icon = anna.page.locator("link[rel=icon]")
    expect(icon).to_have_attribute("href", re.compile(r"favicon.*\.svg$"))
    anna.page.wait_for_load_state("networkidle")
    assert failed == [], failed
    assert_clean(anna)
