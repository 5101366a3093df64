"""Blocking: the blocker's settings list it, chat asks `is_blocked_between`, and the
blocked person notices nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from accounts.access import is_blocked_between
from tests.accounts.conftest import anonymous, as_user, error_of, html_client

pytestmark = pytest.mark.django_db


def test_block_and_unblock_over_the_api(anna: Any, bernd: Any) -> None:
    assert not is_blocked_between(anna, bernd)
    assert as_user(anna).post(f"/people/{bernd.pk}/block").status_code == 204
    assert as_user(anna).post(f"/people/{bernd.pk}/block").status_code == 204
    assert is_blocked_between(anna, bernd)
    assert is_blocked_between(bernd, anna)
    assert is_blocked_between(bernd.pk, anna.pk)
    assert as_user(anna).get(f"/people/{bernd.pk}").json()["blocked"] is True
    assert as_user(anna).get("/me/blocked").json() == {
        "results": [
            {"id": bernd.pk, "display_name": "Bernd Schütte", "company_name": "", "job_title": ""}
        ],
        "next": None,
    }
    assert as_user(anna).delete(f"/people/{bernd.pk}/block").status_code == 204
    assert not is_blocked_between(anna, bernd)
    assert as_user(anna).delete(f"/people/{bernd.pk}/block").status_code == 204


def without_csrf(page: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.decode())


def test_the_blocked_person_sees_no_difference(anna: Any, bernd: Any) -> None:
    client = as_user(bernd)
    html = html_client(bernd)

    def seen_by_bernd() -> tuple[Any, ...]:
        return (
            client.get(f"/people/{anna.pk}").json(),
            client.get("/me").json(),
            client.get("/me/blocked").json(),
            without_csrf(html.get(f"/personen/{anna.pk}/").content),
        )

    before = seen_by_bernd()
    as_user(anna).post(f"/people/{bernd.pk}/block")
    assert seen_by_bernd() == before


def test_block_bad_input(anna: Any) -> None:
    own = as_user(anna).post(f"/people/{anna.pk}/block")
    assert own.status_code == 400
    assert error_of(own)["code"] == "bad_request"
    assert as_user(anna).post("/people/999999/block").status_code == 404
    assert as_user(anna).post("/people/abc/block").status_code == 400
    assert anonymous().post(f"/people/{anna.pk}/block").status_code == 401
    assert anonymous().delete(f"/people/{anna.pk}/block").status_code == 401


def test_block_pages(anna: Any, bernd: Any) -> None:
    client = html_client(anna)
    page = client.get(f"/personen/{bernd.pk}/").content.decode()
    assert ">Blockieren</button>" in page
    client.post(f"/personen/{bernd.pk}/blockieren/", {"action": "block"})
    assert is_blocked_between(anna, bernd)
    settings_page = client.get("/einstellungen/blockiert/").content.decode()
    assert "Bernd Schütte" in settings_page
    assert "Blockierung aufheben" in settings_page
    response = client.post(
        f"/personen/{bernd.pk}/blockieren/", {"action": "unblock", "back": "settings"}
    )
    assert response["Location"] == "/einstellungen/blockiert/"
    assert not is_blocked_between(anna, bernd)
    assert (
        "Sie haben niemanden blockiert." in client.get("/einstellungen/blockiert/").content.decode()
    )
    assert client.get(f"/personen/{bernd.pk}/blockieren/").status_code == 405
    assert client.post("/personen/999999/blockieren/").status_code == 404
    own = client.post(f"/personen/{anna.pk}/blockieren/", {"action": "block"}, follow=True)
    assert "Sie können sich nicht selbst blockieren." in own.content.decode()


def test_profile_offers_a_direct_message_unless_blocked(anna: Any, bernd: Any) -> None:
    client = html_client(anna)
    button = f'action="/nachrichten/an/{bernd.pk}/"'
    assert button in client.get(f"/personen/{bernd.pk}/").content.decode()
    as_user(anna).post(f"/people/{bernd.pk}/block")
    assert button not in client.get(f"/personen/{bernd.pk}/").content.decode()
    assert "/nachrichten/an/" not in client.get(f"/personen/{anna.pk}/").content.decode()
