"""Directory search with German words (PostgreSQL full-text search, German config),
filters, and the list cursor; as API and as pages."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.conf import settings

from accounts.actions import do_create_company
from tests.accounts.conftest import as_user, error_of, html_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(make_user: Any, anna: Any) -> dict[str, Any]:
    people = {
        "anna": anna,
        "oezlem": make_user(
            "Özlem Yılmaz",  # noqa: RUF001 (Turkish dotless i)
            job_title="Disponentin",
            company_name="Spedition Kowalski",
            city="Herne",
            topics=["Logistik", "Gefahrgut"],
        ),
        "guenther": make_user(
            "Günther Köhler",
            job_title="Bäckermeister",
            city="Hattingen",
            bio="Wir bilden jedes Jahr aus: Bäckerinnen und Fachverkäufer.",
            topics=["Handwerk"],
        ),
        "malte": make_user(
            "Malte Schröder", job_title="Geschäftsführer", city="Bochum", topics=["IT-Sicherheit"]
        ),
    }
    do_create_company(
        actor=people["oezlem"],
        fields={
            "name": "Spedition Kowalski",
            "industry": "Spedition und Logistik",
            "city": "Herne",
            "description": "Vierzig Lkw und Lagerhallen am Kanal.",
        },
    )
    do_create_company(
        actor=people["guenther"],
        fields={
            "name": "Bäckerei Köhler",
            "industry": "Lebensmittelhandwerk",
            "city": "Hattingen",
            "description": "Ausbildungsplätze für Bäckerinnen und Bäcker.",
        },
    )
    return people


def names(viewer: Any, query: str) -> list[str]:
    response = as_user(viewer).get(f"/people?{query}")
    assert response.status_code == 200
    return [person["display_name"] for person in response.json()["results"]]


def company_names(viewer: Any, query: str) -> list[str]:
    response = as_user(viewer).get(f"/companies?{query}")
    assert response.status_code == 200
    return [company["name"] for company in response.json()["results"]]


needs_postgres = pytest.mark.skipif(
    not settings.IS_POSTGRES,
    reason="stemming (Bäckerin = Bäckerinnen, never Becker) is PostgreSQL's German config",
)


def test_ausbildung_finds_the_ausbildungsleiterin(network: dict[str, Any]) -> None:
    assert names(network["malte"], "q=Ausbildung") == ["Anna Becker"]


@needs_postgres
def test_german_stemming_and_umlauts(network: dict[str, Any]) -> None:
    viewer = network["malte"]
    assert names(viewer, "q=B%C3%A4ckerin") == ["Günther Köhler"]  # "Bäckerinnen" in the bio
    assert names(viewer, "q=Koehler") == ["Günther Köhler"]
    assert names(viewer, "q=Schr%C3%B6d") == ["Malte Schröder"]
    assert names(viewer, "q=Beck") == ["Anna Becker"]
    assert names(viewer, "q=Beker") == ["Anna Becker"]
    assert names(viewer, "q=Logistik+Herne") == ["Özlem Yılmaz"]  # noqa: RUF001
    assert names(viewer, "q=Logistik+Witten") == []


def test_company_search_in_german(network: dict[str, Any]) -> None:
    viewer = network["malte"]
    assert company_names(viewer, "q=Ausbildung") == ["Bäckerei Köhler"]
    assert company_names(viewer, "q=Spedition") == ["Spedition Kowalski"]
    assert company_names(viewer, "q=Lager") == ["Spedition Kowalski"]
    assert company_names(viewer, "q=B%C3%A4ckerei") == ["Bäckerei Köhler"]


def test_filters(network: dict[str, Any]) -> None:
    viewer = network["malte"]
    assert names(viewer, "city=herne") == ["Özlem Yılmaz"]  # noqa: RUF001
    assert names(viewer, "topic=logistik") == ["Özlem Yılmaz"]  # noqa: RUF001
    assert names(viewer, "topic=Logis") == []
    assert names(viewer, "company=spedition-kowalski") == ["Özlem Yılmaz"]  # noqa: RUF001
    assert names(viewer, "company=Kowalski") == ["Özlem Yılmaz"]  # noqa: RUF001
    assert names(viewer, "city=Witten&topic=Ausbildung") == ["Anna Becker"]
    assert company_names(viewer, "city=Hattingen") == ["Bäckerei Köhler"]
    assert company_names(viewer, "industry=logistik") == ["Spedition Kowalski"]


def test_punctuation_only_query_lists_everyone(network: dict[str, Any]) -> None:
    assert len(names(network["malte"], "q=%26%7C%21%3A%2A")) == 4


def test_cursor_pages_through_everyone_once(network: dict[str, Any], make_user: Any) -> None:
    for number in range(5):
        make_user(f"Zacharias {number}")
    client = as_user(network["malte"])
    seen: list[int] = []
    url = "/people?limit=2"
    pages = 0
    while True:
        body = client.get(url).json()
        assert len(body["results"]) <= 2
        seen.extend(person["id"] for person in body["results"])
        pages += 1
        if body["next"] is None:
            break
        url = f"/people?limit=2&cursor={body['next']}"
    assert pages == 5
    assert len(seen) == len(set(seen)) == 9


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=kaputt", "cursor"),
        ("cursor=eyJvIjogLTF9", "cursor"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=zwei", "limit"),
        ("q=" + "x" * 201, "q"),
        ("cursor=" + "A" * 101, "cursor"),
    ],
)
def test_bad_list_parameters_are_400(anna: Any, query: str, field: str) -> None:
    for path in ("/people", "/companies"):
        response = as_user(anna).get(f"{path}?{query}")
        assert response.status_code == 400
        assert field in error_of(response)["fields"]


def test_people_page_searches_and_pages(network: dict[str, Any], make_user: Any) -> None:
    client = html_client(network["malte"])
    html = client.get("/personen/?topic=Logistik").content.decode()
    assert "Özlem Yılmaz" in html  # noqa: RUF001
    assert "Anna Becker" not in html
    for number in range(20):
        make_user(f"Yvonne {number:02d}")
    first = client.get("/personen/?city=").content.decode()
    assert "Weitere Ergebnisse" in first
    link = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert link is not None
    second = client.get("/personen/" + unescape(link.group(1))).content.decode()
    assert "Zur ersten Seite" in second
    assert "Yvonne 19" in second
    assert "Yvonne 19" not in first
    bad = client.get("/personen/?cursor=kaputt")
    assert bad.status_code == 400
    assert "Ungültiger Cursor." in bad.content.decode()


def test_people_page_finds_german_words(network: dict[str, Any]) -> None:
    html = html_client(network["malte"]).get("/personen/?q=Ausbildung").content.decode()
    assert "Anna Becker" in html
    assert "Günther Köhler" not in html


def test_simple_fallback_without_postgres(network: dict[str, Any], settings: Any) -> None:
    """The SQLite code path (icontains), exercised on the test database."""
    settings.IS_POSTGRES = False
    viewer = network["malte"]
    assert names(viewer, "q=ausbildungsleiterin") == ["Anna Becker"]
    assert names(viewer, "q=Logistik+Herne") == ["Özlem Yılmaz"]  # noqa: RUF001
    assert names(viewer, "topic=Handwerk") == ["Günther Köhler"]
    assert company_names(viewer, "q=Lager") == ["Spedition Kowalski"]
