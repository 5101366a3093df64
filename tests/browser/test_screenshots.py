"""Screenshots of the main pages, for docs/screenshots/ and the README.

Runs with the suite (writing to a temporary directory, so a test run never changes
the work tree); `NETZN_SCREENSHOTS=1` writes them to docs/screenshots/ instead:

    NETZN_SCREENSHOTS=1 DATABASE_URL=... REDIS_URL=... \
        .venv/bin/pytest tests/browser/test_screenshots.py
"""

from __future__ import annotations

import io
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from accounts.actions import do_set_avatar
from accounts.models import Company
from chat.actions import do_get_or_create_direct_conversation, do_send_message
from groups.actions import do_create_group, do_join_group
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


# Text of Django's and daphne's own error pages, and of a traceback.
ERROR_SIGNS = ("Traceback", "Server Error", "Internal Server Error", "Page not found", "Exception")
NACHRICHTEN = re.compile(r"^Nachrichten")


def shoot(
    person: Any,
    path: str | None,
    png: Path,
    heading: str | re.Pattern[str],
    *texts: str,
    full_page: bool = True,
) -> None:
    """Open `path` (or stay), check that the page shows what it should (its heading,
    its texts, no error page, no script error), then take the screenshot."""
    if path is not None:
        response = person.goto(path)
        assert response is not None and response.status == 200, (path, response)
    page = person.page
    expect(page.locator("h1").first).to_have_text(heading)
    for text in texts:
        expect(page.get_by_text(text).first).to_be_visible()
    body = page.locator("body").inner_text()
    for sign in ERROR_SIGNS:
        assert sign not in body, (path, sign)
    assert person.page_errors == [], person.page_errors
    page.screenshot(path=str(png), full_page=full_page)
    assert png.stat().st_size > 10_000


def portrait(colour: tuple[int, int, int], initials: str) -> io.BytesIO:
    """A made-up profile photo (a coloured disc with initials), 320 x 240 so the
    upload is really cut to a square."""
    image = Image.new("RGB", (320, 240), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    draw.ellipse((70, 30, 250, 210), fill=colour)
    draw.text((160, 120), initials, fill=(255, 255, 255), anchor="mm", font_size=64)
    out = io.BytesIO()
    image.save(out, format="JPEG")
    out.seek(0)
    return out


def say(author: Any, conversation_id: int, body: str) -> None:
    do_send_message(
        actor=author, conversation_id=conversation_id, body=body, client_id=str(uuid.uuid4())
    )


def test_screenshots_of_the_main_pages(
    live_server_process, person_factory, make_user, tmp_path: Path
) -> None:
    target = ROOT / "docs" / "screenshots" if os.environ.get("NETZN_SCREENSHOTS") else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    anna = make_user(
        "Anna Becker",
        company_name="Stahlbau Witten GmbH",
        job_title="Ausbildungsleiterin",
        city="Witten",
    )
    ben = make_user(
        "Ben Yilmaz", company_name="Logistik Herne KG", job_title="Geschäftsführer", city="Herne"
    )
    clara = make_user(
        "Clara Nowak", company_name="Ruhr Energie AG", job_title="Personalreferentin", city="Bochum"
    )
    anna.address_form = "frau"
    ben.address_form = "herr"
    clara.address_form = "frau"
    for who in (anna, ben, clara):
        who.save(update_fields=["address_form"])
    do_set_avatar(actor=anna, upload=portrait((11, 92, 173), "AB"))
    do_set_avatar(actor=clara, upload=portrait((29, 107, 56), "CN"))
    for name, slug, industry, city in (
        ("Stahlbau Witten GmbH", "stahlbau-witten", "Metallbau", "Witten"),
        ("Logistik Herne KG", "logistik-herne", "Logistik", "Herne"),
        ("Ruhr Energie AG", "ruhr-energie", "Energie", "Bochum"),
    ):
        Company.objects.create(name=name, slug=slug, industry=industry, city=city)
    group = do_create_group(
        actor=anna,
        name="Ausbildung im Ruhrgebiet",
        description="Ausbildungsbetriebe aus Bochum, Herne, Witten und Hattingen tauschen sich "
        "über Azubi-Gewinnung, Prüfungen und Kooperationen aus.",
        topics=["Ausbildung", "Fachkräfte"],
        city="Bochum",
    )
    do_create_group(actor=ben, name="Logistik-Stammtisch Herne", description="Monatliches Treffen.")
    do_create_group(
        actor=clara,
        name="Energie sparen im Betrieb",
        description="Erfahrungen und Förderprogramme.",
    )
    do_join_group(actor=ben, group=group)
    do_join_group(actor=clara, group=group)
    conversation = group.conversation_id
    say(
        anna,
        conversation,
        "Guten Morgen zusammen! Wer ist beim Ausbildungstag am 4. Dezember dabei?",
    )
    say(ben, conversation, "Wir sind mit zwei Azubis vor Ort.")
    say(clara, conversation, "Wir auch. Infos gibt es hier: https://example.org/ausbildungstag")
    say(anna, conversation, "Prima! @Ben Yilmaz, bringen Sie den Gabelstapler-Simulator mit?")
    direct, _ = do_get_or_create_direct_conversation(actor=clara, other_user_id=ben.pk)
    say(clara, direct.pk, "Hallo Herr Yilmaz, hätten Sie Interesse an einer Verbundausbildung?")

    visitor = person_factory(None, live_server_process, viewport={"width": 1280, "height": 800})
    shoot(
        visitor,
        "/",
        target / "start-anonym.png",
        "Das Netzwerk der Unternehmen im mittleren Ruhrgebiet",
        "Registrieren",
    )
    shoot(visitor, "/anmelden/", target / "anmelden.png", "Anmelden", "E-Mail-Adresse", "Passwort")

    person = person_factory(ben, live_server_process, viewport={"width": 1280, "height": 800})
    person.login()
    shoot(
        person,
        "/",
        target / "start.png",
        "Guten Tag, Ben Yilmaz",
        "Meine Gruppen",
        "Ausbildung im Ruhrgebiet",
    )
    shoot(
        person,
        "/gruppen/",
        target / "gruppen.png",
        "Themengruppen",
        "Ausbildung im Ruhrgebiet",
        "Logistik-Stammtisch Herne",
        "Energie sparen im Betrieb",
    )
    shoot(
        person,
        f"/personen/{clara.pk}/",
        target / "profil.png",
        "Clara Nowak",
        "Personalreferentin",
        "Ruhr Energie AG",
    )
    person.open_panel(f"/gruppen/{group.slug}/")
    expect(person.page.locator("#chat-panel .chat-message")).to_have_count(4)
    shoot(
        person,
        None,
        target / "gruppe.png",
        "Ausbildung im Ruhrgebiet",
        "Wir sind mit zwei Azubis vor Ort.",
        "bringen Sie den Gabelstapler-Simulator mit?",
    )
    shoot(person, "/nachrichten/", target / "nachrichten.png", NACHRICHTEN, "Clara Nowak")
    person.open_panel(f"/nachrichten/{direct.pk}/")
    expect(person.page.locator("#chat-panel .chat-unread")).to_have_text("Neu")
    shoot(
        person,
        None,
        target / "direktnachricht.png",
        "Clara Nowak",
        "hätten Sie Interesse an einer Verbundausbildung?",
    )
    shoot(
        person,
        "/benachrichtigungen/",
        target / "benachrichtigungen.png",
        "Benachrichtigungen",
        "Anna Becker hat Sie in „Ausbildung im Ruhrgebiet“ erwähnt",
    )

    phone = person_factory(
        clara,
        live_server_process,
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    phone.login()
    phone.open_panel(f"/gruppen/{group.slug}/")
    expect(phone.page.get_by_role("tab", name="Diskussion")).to_have_attribute(
        "aria-selected", "true"
    )
    shoot(
        phone,
        None,
        target / "gruppe-telefon.png",
        "Ausbildung im Ruhrgebiet",
        "Wir sind mit zwei Azubis vor Ort.",
        full_page=False,
    )
    phone.page.get_by_role("tab", name="Mitglieder").click()
    shoot(
        phone,
        None,
        target / "gruppe-mitglieder-telefon.png",
        "Ausbildung im Ruhrgebiet",
        "Inhaberin",
        full_page=False,
    )
    shoot(
        phone,
        "/personen/",
        target / "personen-telefon.png",
        "Personen",
        "Anna Becker",
        full_page=False,
    )
