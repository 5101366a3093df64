"""The board in a real browser against a real server: the haulier posts capacity, the
shipper posts a load, the haulier sees the match live and opens the conversation
from it; the card in the discussion follows the post's status live; 375 px."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from board.actions import do_update_post_status
from board.models import Post
from groups.actions import do_create_group, do_join_group
from tests.browser.conftest import Person

pytestmark = pytest.mark.browser


def day(offset: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=offset)).isoformat()


def fill_freight(person: Person, *, kind_label: str, title: str, metres: str, tonnes: str) -> None:
    person.goto("/gruppen/mobilitaet/gesuche-angebote/neu/?kategorie=freight")
    form = person.page.locator("form.post-form")
    form.get_by_label(kind_label).check()
    form.get_by_label("Titel").fill(title)
    form.get_by_label("PLZ Beladung").fill("44787")
    form.get_by_label("Ort Beladung").fill("Bochum")
    form.get_by_label("PLZ Entladung").fill("80331")
    form.get_by_label("Ort Entladung").fill("München")
    form.get_by_label("Frühestens").fill(day(3))
    form.get_by_label("Spätestens").fill(day(5))
    form.get_by_label("Lademeter").fill(metres)
    form.get_by_label("Gewicht in Tonnen").fill(tonnes)
    form.get_by_label("Aufbau").select_option("plane")
    form.get_by_role("button", name="Veröffentlichen").click()
    person.page.wait_for_url(re.compile(r"/brett/\d+/$"))


def assert_clean(*people: Person) -> None:
    for person in people:
        assert person.page_errors == [], f"script error for {person.user}: {person.page_errors}"
        assert person.csp_violations == [], f"CSP violation: {person.csp_violations}"


def test_haulier_sees_the_match_live_and_opens_the_conversation(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    hans = make_user("Hans Spedition", company_name="Spedition Ruhr")
    sabine = make_user("Sabine Versand", company_name="Stahlbau Witten")
    group = do_create_group(actor=hans, name="Mobilität", visibility="open")
    do_join_group(actor=sabine, group=group)
    haulier = person_factory(hans, live_server_process)
    shipper = person_factory(sabine, live_server_process)
    haulier.login()
    shipper.login()

    # Inline German validation first (the field takes at most five digits; a postcode
    # region that does not exist is refused beside its field).
    haulier.goto("/gruppen/mobilitaet/gesuche-angebote/neu/?kategorie=freight")
    form = haulier.page.locator("form.post-form")
    form.get_by_label("Titel").fill("Laderaum")
    form.get_by_label("PLZ Beladung").fill("00000")
    form.get_by_role("button", name="Veröffentlichen").click()
    expect(haulier.page.locator("#e-from_postcode")).to_have_text(
        "Diese Postleitzahlregion gibt es nicht."
    )
    expect(haulier.page.locator("#e-to_postcode")).to_have_text(
        "Bitte eine deutsche Postleitzahl mit fünf Ziffern angeben."
    )
    assert not Post.objects.exists()

    fill_freight(
        haulier,
        kind_label="Freier Laderaum",
        title="Freier Laderaum Bochum → München",
        metres="13,6",
        tonnes="24",
    )
    expect(haulier.page.locator("h1")).to_have_text("Freier Laderaum Bochum → München")

    # The shipper sees the capacity as a card in the group's discussion.
    panel = shipper.open_panel("/gruppen/mobilitaet/")
    card = panel.locator(".post-card")
    expect(card.locator(".post-card-title")).to_have_text("Freier Laderaum Bochum → München")
    expect(card.locator(".post-status")).to_have_text("Offen")
    expect(card.get_by_role("button", name="Interesse")).to_be_visible()

    # The haulier waits on the start page; the shipper posts a load.
    haulier.goto("/")
    haulier.page.locator("body[data-user-id]").wait_for()
    haulier.page.wait_for_function("document.getElementById('connection-state').hidden")
    fill_freight(
        shipper,
        kind_label="Ladung sucht Fahrzeug",
        title="Stahlträger nach München",
        metres="6,5",
        tonnes="8",
    )
    expect(shipper.page.locator("main")).to_contain_text("1 passender Eintrag gefunden")

    # The match appears live, without a reload, and leads to the conversation.
    match = haulier.page.locator("#board-matches .post-item.is-new")
    expect(match).to_contain_text("Stahlträger nach München")
    expect(haulier.page.locator("#toasts")).to_contain_text("Passender Eintrag")
    match.locator("a").click()
    haulier.page.wait_for_url(re.compile(r"/brett/\d+/$"))
    haulier.page.get_by_label("Nachricht an Sabine Versand").fill("Wir können das mitnehmen.")
    haulier.page.get_by_role("button", name="Interesse senden").click()
    haulier.page.wait_for_url(re.compile(r"/nachrichten/\d+/$"))
    dm = haulier.page.locator("#chat-panel")
    expect(dm.locator(".chat-body").last).to_contain_text("Wir können das mitnehmen.")
    expect(dm.locator(".post-card-title").last).to_have_text("Stahlträger nach München")

    # The shipper's card of the capacity follows the status live.
    panel = shipper.open_panel("/gruppen/mobilitaet/")
    capacity = Post.objects.get(title="Freier Laderaum Bochum → München")
    first_card = panel.locator(f'.post-card[data-post-id="{capacity.pk}"]')
    expect(first_card.locator(".post-status")).to_have_text("Offen")
    do_update_post_status(actor=hans, post_id=capacity.pk, status="filled")
    expect(first_card.locator(".post-status")).to_have_text("Vergeben")
    expect(first_card.get_by_role("button", name="Interesse")).to_have_count(0)
    assert_clean(haulier, shipper)


def test_board_pages_fit_375_px(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    hans = make_user("Hans Spedition", company_name="Spedition Ruhr")
    do_create_group(actor=hans, name="Mobilität", visibility="open")
    phone = person_factory(hans, live_server_process, viewport={"width": 375, "height": 740})
    phone.login()
    for path in (
        "/brett/",
        "/gruppen/mobilitaet/gesuche-angebote/",
        "/gruppen/mobilitaet/gesuche-angebote/neu/?kategorie=freight",
        "/gruppen/mobilitaet/gesuche-angebote/neu/?kategorie=apprenticeship",
        "/brett/suchen/",
    ):
        phone.goto(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide"
    assert_clean(phone)


def test_the_line_under_a_board_entry_wraps_at_375_px(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    from board.actions import do_create_post
    from tests.board.conftest import apprenticeship

    anna = make_user("Anna Becker", company_name="Stahlbau Rüther GmbH")
    group = do_create_group(
        actor=anna, name="Ausbildung und Fachkräfte Ruhrgebiet", visibility="open"
    )
    do_create_post(actor=anna, group_slug=group.slug, **apprenticeship("offer"))
    phone = person_factory(anna, live_server_process, viewport={"width": 375, "height": 740})
    phone.login()
    phone.goto("/brett/")
    line = phone.page.locator(".post-item .item-sub").first
    expect(line).to_contain_text("Ausbildung und Fachkräfte Ruhrgebiet")
    expect(line.locator("time")).to_be_visible()
    clipped = line.evaluate("(el) => el.scrollWidth > el.clientWidth")
    assert not clipped, line.inner_text()
    time_box = line.locator("time").bounding_box()
    line_box = line.bounding_box()
    assert time_box is not None and line_box is not None
    assert time_box["x"] + time_box["width"] <= line_box["x"] + line_box["width"] + 1
    assert_clean(phone)
