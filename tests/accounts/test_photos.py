"""Profile photos and company logos: checked from their content, cut to a square,
stored through the storage API, served only by their views, shown where the person
or company appears; bad files get a German reason and store nothing."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.actions import do_create_company
from accounts.models import User
from chat.actions import do_get_or_create_direct_conversation, do_send_message
from tests.accounts.conftest import as_user, html_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture(width: int, height: int, fmt: str = "PNG", colour: str = "red") -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), colour)
    # The centre is blue: a centre crop keeps it, a squashed image would not be square.
    for x in range(width // 2 - 5, width // 2 + 5):
        for y in range(height // 2 - 5, height // 2 + 5):
            image.putpixel((x, y), (0, 0, 255))
    image.save(out, format=fmt)
    return out.getvalue()


def upload(client: Client, content: bytes, name: str = "foto.png") -> Any:
    return client.post(
        "/einstellungen/profil/foto/",
        {"avatar": SimpleUploadedFile(name, content, content_type="image/png")},
        follow=True,
    )


def test_a_photo_is_cut_to_a_square_and_shown_where_the_person_appears(
    make_user: Any, _media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    page = upload(html_client(anna), picture(600, 300, "JPEG"), "urlaub.jpg")
    assert "Ihr Foto ist gespeichert." in page.content.decode()
    anna.refresh_from_db()
    assert anna.avatar.name.startswith("avatars/")
    assert (_media / anna.avatar.name).exists()
    profile = as_user(ben).get(f"/people/{anna.pk}").json()
    url = profile["avatar_url"]
    assert url.startswith(f"/personen/{anna.pk}/foto/?v=")

    served = html_client(ben).get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    content = b"".join(served.streaming_content)  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(content)) as image:
        assert image.size == (256, 256)
        centre = image.convert("RGB").getpixel((128, 128))
        assert isinstance(centre, tuple)
        assert centre[2] > 200 and centre[0] < 60  # blue: the centre of the wide picture

    # Shown in the directory, beside her name in a member list and on messages.
    assert f'src="{url}"' in html_client(ben).get("/personen/").content.decode()
    direct, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    do_send_message(actor=anna, conversation_id=direct.pk, body="Hallo", client_id="x-1")
    history = as_user(ben).get(f"/conversations/{direct.pk}/messages").json()["results"]
    assert history[0]["author"]["avatar_url"] == url

    # Not for visitors without a login (as the name is not).
    assert Client().get(url).status_code == 302
    # A new photo is a new URL; the old file is gone.
    old = _media / anna.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        upload(html_client(anna), picture(300, 300))
    anna.refresh_from_db()
    assert not old.exists()
    assert as_user(ben).get(f"/people/{anna.pk}").json()["avatar_url"] != url
    html_client(anna).post("/einstellungen/profil/foto/", {"action": "remove"})
    anna.refresh_from_db()
    assert anna.avatar.name == ""
    assert as_user(ben).get(f"/people/{anna.pk}").json()["avatar_url"] is None


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"%PDF-1.4 kein Bild", "foto.png", "Diese Datei ist kein lesbares Bild."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "foto.svg", "kein lesbares Bild"),
        (picture(40, 40), "klein.png", "Das Bild ist zu klein (mindestens 64 × 64 Pixel)."),  # noqa: RUF001
        (picture(200, 200, "BMP"), "foto.bmp", "Bitte ein Bild im Format"),
        (b"", "leer.png", "Bitte wählen Sie eine Bilddatei aus."),
    ],
)
def test_bad_files_get_a_german_reason_and_store_nothing(
    make_user: Any, _media: Path, content: bytes, name: str, reason: str
) -> None:
    anna = make_user("Anna Becker")
    page = upload(html_client(anna), content, name).content.decode()
    assert reason in page
    anna.refresh_from_db()
    assert anna.avatar.name == ""
    assert not (_media / "avatars").exists() or not any((_media / "avatars").iterdir())


def test_too_large_a_file_is_refused(make_user: Any, settings: Any) -> None:
    settings.NETZN_IMAGE_MAX_BYTES = 1024 * 1024
    anna = make_user("Anna Becker")
    big = picture(64, 64) + b"\0" * (1024 * 1024)
    page = upload(html_client(anna), big).content.decode()
    assert "Das Bild ist zu groß (höchstens 1 MB)." in page
    assert User.objects.get(pk=anna.pk).avatar.name == ""


def test_company_logo_by_its_admins_only_public_like_the_company(make_user: Any) -> None:
    karin = make_user("Karin Weiß")
    ben = make_user("Ben Yilmaz")
    company = do_create_company(actor=karin, fields={"name": f"Stahlbau {uuid.uuid4().hex[:4]}"})
    path = f"/unternehmen/{company.slug}/logo/aendern/"
    logo = SimpleUploadedFile("logo.png", picture(120, 80), content_type="image/png")
    refused = html_client(ben).post(path, {"logo": logo}, follow=True).content.decode()
    assert "Nur die Profil-Admins des Unternehmens dürfen das." in refused
    logo = SimpleUploadedFile("logo.png", picture(120, 80), content_type="image/png")
    html_client(karin).post(path, {"logo": logo})
    company.refresh_from_db()
    assert company.logo.name.endswith(".png")
    listed = as_user(ben).get("/companies").json()["results"][0]
    served = Client().get(listed["logo_url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    page = Client().get(f"/unternehmen/{company.slug}/").content.decode()
    assert "avatar-photo" in page


def test_the_form_of_address_is_set_over_the_api_and_checked(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    answer = as_user(anna).patch("/me", {"address_form": "frau"})
    assert answer.status_code == 200
    assert answer.json()["address_form"] == "frau"
    bad = as_user(anna).patch("/me", {"address_form": "madame"})
    assert bad.status_code == 400
    assert "address_form" in bad.json()["error"]["fields"]
    assert User.objects.get(pk=anna.pk).address_form == "frau"
