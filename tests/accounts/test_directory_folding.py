"""Directory search as a German user types it, in both modes (run the suite with and
without DATABASE_URL): umlauts spelled out, small typos, whole-tag topic filters and
German alphabetical order with titles ignored (docs/ui.md "Directory search")."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.actions import do_create_company
from accounts.directory import fold, sort_key
from tests.accounts.conftest import as_user, html_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory(make_user: Any) -> dict[str, Any]:
    people = {
        "schaefer": make_user("Jonas Schäfer", job_title="Lagerleiter", city="Bochum"),
        "weiss": make_user("Dr. Karin Weiß", job_title="Geschäftsführerin", city="Witten"),
        "oezlem": make_user(
            "Özlem Yilmaz",
            company_name="Spedition Kowalski",
            city="Herne",
            topics=["Logistik", "Gefahrgut"],
        ),
        "tobias": make_user("Tobias Brandt", topics=["Logistikplanung"], city="Hattingen"),
        "anna": make_user("Anna Becker", city="Witten", topics=["Ausbildung"]),
    }
    do_create_company(
        actor=people["schaefer"], fields={"name": "Bäckerei Schäfer", "city": "Bochum"}
    )
    do_create_company(actor=people["oezlem"], fields={"name": "Spedition Kowalski"})
    return people


def people(viewer: Any, query: str) -> list[str]:
    response = as_user(viewer).get(f"/people?{query}")
    assert response.status_code == 200, response.content
    return [person["display_name"] for person in response.json()["results"]]


def companies(viewer: Any, query: str) -> list[str]:
    response = as_user(viewer).get(f"/companies?{query}")
    assert response.status_code == 200, response.content
    return [company["name"] for company in response.json()["results"]]


def test_umlauts_typed_as_two_letters_find_the_umlaut(directory: dict[str, Any]) -> None:
    viewer = directory["anna"]
    assert people(viewer, "q=Schaefer") == ["Jonas Schäfer"]
    assert people(viewer, "q=Weiss") == ["Dr. Karin Weiß"]
    assert people(viewer, "q=Oezlem") == ["Özlem Yilmaz"]
    assert companies(viewer, "q=Baeckerei") == ["Bäckerei Schäfer"]
    assert companies(viewer, "q=B%C3%A4ckerei") == ["Bäckerei Schäfer"]


def test_a_small_typo_still_finds_the_name(directory: dict[str, Any]) -> None:
    viewer = directory["anna"]
    assert people(viewer, "q=Kowalsky") == ["Özlem Yilmaz"]  # her company's name
    assert companies(viewer, "q=Kowalsky") == ["Spedition Kowalski"]
    assert people(viewer, "q=Schefer") == ["Jonas Schäfer"]
    # A typo is small: a different word finds nothing.
    assert people(viewer, "q=Schmidt") == []


def test_a_topic_filter_matches_a_whole_topic(directory: dict[str, Any]) -> None:
    viewer = directory["anna"]
    assert people(viewer, "topic=Logis") == []
    assert people(viewer, "topic=logistik") == ["Özlem Yilmaz"]
    assert people(viewer, "topic=Logistikplanung") == ["Tobias Brandt"]


def test_lists_sort_in_german_order_titles_ignored(directory: dict[str, Any]) -> None:
    viewer = directory["anna"]
    assert people(viewer, "") == [
        "Anna Becker",
        "Jonas Schäfer",
        "Dr. Karin Weiß",
        "Özlem Yilmaz",
        "Tobias Brandt",
    ]
    page = html_client(viewer).get("/personen/").content.decode()
    positions = [page.index(name) for name in ("Anna Becker", "Dr. Karin Weiß", "Özlem Yilmaz")]
    assert positions == sorted(positions)


def test_the_folding_and_sort_keys() -> None:
    assert fold("Schäfer") == fold("SCHAEFER") == "schaefer"
    assert fold("Weiß") == "weiss"
    assert sort_key("Dr. Karin Weiß")[0] == "karin weiss"
    assert sort_key("Prof. Dr.-Ing. Uwe Ölschläger")[0] == "uwe olschlager"
    assert sorted(["Tobias", "Özlem", "Otto", "Anna"], key=sort_key) == [
        "Anna",
        "Otto",
        "Özlem",
        "Tobias",
    ]
