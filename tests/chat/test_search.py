"""Search (docs/search.md): German word forms on PostgreSQL, the hit marked as plain
text, paging past 50 hits with the cursor, a closed group's messages never found by
outsiders, bad input answered 400, and the page /suche/ without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from chat.actions import do_send_message
from chat.models import Message
from tests.chat.helpers import group_with
from tests.chat.test_api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    anna = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben = make_user("Ben Öztürk")
    otto = make_user("Otto Außen")
    group = group_with(anna, ben, title="Ausbildung Ruhr")
    closed = group_with(anna, title="Vorstand")
    return {"anna": anna, "ben": ben, "otto": otto, "group": group, "closed": closed}


def say(person: Any, conversation: Any, body: str, key: str) -> Message:
    message, _ = do_send_message(
        actor=person, conversation_id=conversation.pk, body=body, client_id=key
    )
    return message


def marked(hit: dict[str, Any]) -> list[str]:
    return [segment["text"] for segment in hit["highlight"] if segment["hit"]]


@pytest.mark.postgres("German word forms come from PostgreSQL's full-text search")
def test_a_plural_finds_the_singular_and_the_hit_is_marked(people: dict[str, Any]) -> None:
    say(people["anna"], people["group"], "Wir haben noch einen Ausbildungsplatz frei.", "a1")
    say(people["anna"], people["group"], "Heute Grillen im Hof.", "a2")
    found = Api(people["ben"]).get("/search", q="Ausbildungsplätze").json()
    assert [hit["body"] for hit in found["results"]] == [
        "Wir haben noch einen Ausbildungsplatz frei."
    ]
    hit = found["results"][0]
    assert marked(hit) == ["Ausbildungsplatz"]
    assert "".join(segment["text"] for segment in hit["highlight"]) == hit["body"]
    assert hit["conversation_title"] == "Ausbildung Ruhr"
    assert found["next"] is None


def test_markup_in_a_message_comes_back_as_text_never_as_html(people: dict[str, Any]) -> None:
    body = '<img src=x onerror="alert(1)"> Rückladung \ue000frei\ue001 nach Bochum'
    say(people["anna"], people["group"], body, "x1")
    hit = Api(people["ben"]).get("/search", q="Rückladung").json()["results"][0]
    text = "".join(segment["text"] for segment in hit["highlight"])
    assert '<img src=x onerror="alert(1)">' in text  # as text: the client makes text nodes
    assert marked(hit) == ["Rückladung"]  # a faked marker in the message marks nothing
    page = browser(people["ben"]).get("/suche/", {"q": "Rückladung"}).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "<mark>Rückladung</mark>" in page


def test_more_than_50_hits_page_with_the_cursor(people: dict[str, Any]) -> None:
    for number in range(1, 61):
        say(people["anna"], people["group"], f"Palette {number} abholbereit", f"p{number}")
    api = Api(people["ben"])
    first = api.get("/search", q="Palette").json()
    assert len(first["results"]) == 50 and first["next"]
    second = api.get("/search", q="Palette", cursor=first["next"]).json()
    assert len(second["results"]) == 10 and second["next"] is None
    seqs = [hit["seq"] for hit in first["results"] + second["results"]]
    assert seqs == list(range(60, 0, -1))  # newest first, none twice, none left out
    small = api.get("/search", q="Palette", limit=25).json()
    assert len(small["results"]) == 25
    rest = api.get("/search", q="Palette", limit=25, cursor=small["next"]).json()
    assert [hit["seq"] for hit in rest["results"]] == list(range(35, 10, -1))


def test_a_closed_groups_messages_are_never_found_by_outsiders(people: dict[str, Any]) -> None:
    say(people["anna"], people["closed"], "Vertraulich: Übernahme der Spedition", "c1")
    say(people["anna"], people["group"], "Spedition sucht Fahrer", "c2")
    for person in ("ben", "otto"):
        found = Api(people[person]).get("/search", q="Spedition").json()["results"]
        assert [hit["conversation"] for hit in found] == [people["group"].pk] * (
            1 if person == "ben" else 0
        )
        narrowed = Api(people[person]).get(
            "/search", q="Spedition", conversation=people["closed"].pk
        )
        assert narrowed.status_code in (403, 404)
        page = browser(people[person]).get("/suche/", {"q": "Übernahme"}).content.decode()
        assert "Vertraulich" not in page
    mine = Api(people["anna"]).get("/search", q="Übernahme").json()["results"]
    assert [hit["conversation"] for hit in mine] == [people["closed"].pk]


def test_bad_input_is_a_clear_400(people: dict[str, Any]) -> None:
    api = Api(people["ben"])
    say(people["anna"], people["group"], "Palette", "b1")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "Stahl\x00bau"}, "q"),
        ({"q": "Palette", "cursor": "gestern"}, "cursor"),
        ({"q": "Palette", "cursor": "99999999999999999999.1"}, "cursor"),
        ({"q": "Palette", "cursor": "1.2.3"}, "cursor"),
        ({"q": "Palette", "limit": 0}, "limit"),
        ({"q": "Palette", "limit": 51}, "limit"),
    ]
    for params, field in cases:
        response = api.get("/search", **params)
        assert response.status_code == 400, params
        error = response.json()["error"]
        assert error["code"] == "bad_request" and error["detail"]
        assert list(error["fields"]) == [field], params
    assert api.get("/search", q="Palette", limit="viele").status_code == 400
    assert Client().get("/api/v1/search", {"q": "Palette"}).status_code == 401


def browser(person: Any) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_the_search_page_works_without_javascript(people: dict[str, Any]) -> None:
    for number in range(1, 56):
        say(people["anna"], people["group"], f"Gitterbox {number} zu vergeben", f"g{number}")
    ben = browser(people["ben"])
    empty = ben.get("/suche/")
    assert empty.status_code == 200
    assert 'role="search"' in empty.content.decode()
    page = ben.get("/suche/", {"q": "Gitterbox"}).content.decode()
    assert page.count('class="search-hit"') == 50
    assert f'href="/nachrichten/{people["group"].pk}/?nachricht=55#nachricht-' in page
    assert "Weitere Ergebnisse" in page
    start = page.index('rel="next"') - 200
    next_url = page[start:].split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = ben.get(f"/suche/{next_url}").content.decode()
    assert second.count('class="search-hit"') == 5
    assert "Zur ersten Seite" in second
    nothing = ben.get("/suche/", {"q": "Kühlschrank"}).content.decode()
    assert "Keine Treffer für „Kühlschrank“" in nothing
    too_long = ben.get("/suche/", {"q": "x" * 300})
    assert too_long.status_code == 400
    assert "zu lang" in too_long.content.decode()
    assert Client().get("/suche/", {"q": "Gitterbox"}).status_code == 302  # sign in first
    header = ben.get("/gruppen/").content.decode()
    assert 'action="/suche/"' in header


@pytest.mark.parametrize("postgres", [True, False])
def test_the_search_pages_help_promises_what_the_database_does(
    people: dict[str, Any], settings: Any, postgres: bool
) -> None:
    settings.IS_POSTGRES = postgres
    page = browser(people["ben"]).get("/suche/").content.decode()
    full_text = ("Wortformen werden gefunden", "„-Wort“ schließt aus", "Anführungszeichen")
    substring = "auch als Teil eines Wortes"
    for promise in full_text:
        assert (promise in page) is postgres, promise
    assert (substring in page) is not postgres


def test_substring_search_where_there_is_no_postgresql(people: dict[str, Any]) -> None:
    if settings.IS_POSTGRES:
        pytest.skip("the substring fallback runs without PostgreSQL")
    say(people["anna"], people["group"], "Suche Stapler, Stapler mit Fahrer", "s1")
    hit = Api(people["ben"]).get("/search", q="stapler").json()["results"][0]
    assert marked(hit) == ["Stapler", "Stapler"]


def test_a_hit_is_the_message_as_in_history_with_its_extra_keys(people: dict[str, Any]) -> None:
    # A board post's card as board/presentation.py writes it (chat.schemas.PostCardOut).
    card = {
        "id": 7,
        "kind": "offer",
        "category": "transport",
        "title": "Laderaum frei",
        "status": "open",
        "kind_label": "Angebot",
        "summary": "Bochum → Hamburg",
        "excerpt": "Zwei Stellplätze frei",
        "expires_on": None,
        "group": "logistik",
        "author_id": None,
        "url": "/brett/7/",
    }
    do_send_message(
        actor=people["anna"],
        conversation_id=people["group"].pk,
        body="Freier Laderaum: Laderaum frei",
        client_id="card-1",
        post=card,
    )
    hit = Api(people["ben"]).get("/search", q="Laderaum").json()["results"][0]
    history = Api(people["ben"]).get(f"/conversations/{people['group'].pk}/messages").json()
    assert {key: hit[key] for key in history["results"][0]} == history["results"][0]
    assert hit["post"] == card
    assert hit["author"]["display_name"] == "Anna Becker"
