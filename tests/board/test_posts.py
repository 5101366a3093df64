"""Creating, reading and changing posts over the API, on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from board.models import Post
from chat.models import Message
from tests.board.conftest import Board, apprenticeship, day, freight

pytestmark = pytest.mark.django_db


def card_of(post: dict[str, Any]) -> dict[str, Any]:
    card = Message.objects.get(pk=post["message_id"]).post
    assert isinstance(card, dict)
    return card


def create(board: Board, person: Any, body: dict[str, Any], group: str = "mobilitaet") -> Any:
    return board.api(person).post(f"/groups/{group}/posts", body)


def test_freight_offer_is_stored_and_shown_in_the_group_conversation(board: Board) -> None:
    response = create(board, board.haulier, freight("offer"))
    assert response.status_code == 201, response.json()
    post = response.json()
    assert post["kind"] == "offer"
    assert post["status"] == "open"
    assert post["author"]["display_name"] == "Hans Spedition"
    assert post["company"] == "Spedition Ruhr"
    assert post["group"]["slug"] == "mobilitaet"
    assert post["fields"]["loading_metres"] == 13.6
    assert post["expires_on"] == day(5)
    message = Message.objects.get(pk=post["message_id"])
    assert message.conversation_id == board.open_group.conversation_id
    assert message.post is not None
    assert message.post["id"] == post["id"]
    assert message.post["status"] == "open"
    assert "Bochum" in message.body
    history = board.api(board.shipper).get(
        f"/conversations/{board.open_group.conversation_id}/messages"
    )
    item = history.json()["results"][-1]
    assert item["post"]["id"] == post["id"]
    assert item["post"]["kind"] == "offer"
    assert item["post"]["category"] == "freight"
    assert item["post"]["title"] == "Freier Laderaum Bochum → München"
    assert "13,6 m" in item["post"]["summary"]


def test_apprenticeship_and_other_posts(board: Board) -> None:
    response = create(board, board.shipper, apprenticeship("offer"))
    assert response.status_code == 201, response.json()
    assert response.json()["fields"]["occupation"] == "Fachkraft für Lagerlogistik"
    other = create(
        board,
        board.shipper,
        {"kind": "request", "category": "other", "title": "Suche Stapler", "body": "Für 2 Tage"},
    )
    assert other.status_code == 201, other.json()
    assert other.json()["fields"] == {}


def test_occupation_given_in_another_form_is_stored_by_its_listed_name(board: Board) -> None:
    body = apprenticeship("offer", occupation="Industriekaufleute")
    response = create(board, board.shipper, body)
    assert response.status_code == 201
    assert response.json()["fields"]["occupation"] == "Industriekaufmann/-frau"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"from_postcode": "447870"}, "fields.from_postcode", "fünf Ziffern"),
        ({"to_postcode": "00000"}, "fields.to_postcode", "gibt es nicht"),
        ({"from_postcode": 4478}, "fields.from_postcode", "fünf Ziffern"),
        ({"earliest": day(-1)}, "fields.earliest", "Vergangenheit"),
        ({"earliest": day(6)}, "fields.latest", "vor dem frühesten"),
        ({"earliest": "12.12.2026"}, "fields.earliest", "JJJJ-MM-TT"),
        ({"loading_metres": 13.7}, "fields.loading_metres", "0,1 bis 13,6"),
        ({"loading_metres": 0}, "fields.loading_metres", "0,1 bis 13,6"),
        ({"loading_metres": "viel"}, "fields.loading_metres", "Zahl"),
        ({"weight_t": 41}, "fields.weight_t", "0,01 bis 40"),
        ({"weight_t": True}, "fields.weight_t", "Zahl"),
        ({"vehicle": "ufo"}, "fields.vehicle", "Möglichkeiten"),
        ({"adr": "ja"}, "fields.adr", "ja oder nein"),
        ({"from_city": ""}, "fields.from_city", "ausfüllen"),
        ({"colour": "rot"}, "fields.colour", "gibt es in dieser Kategorie nicht"),
    ],
)
def test_bad_freight_fields_are_refused_field_by_field(
    board: Board, overrides: dict[str, Any], field: str, words: str
) -> None:
    response = create(board, board.haulier, freight("offer", **overrides))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert any(words in message for message in error["fields"][field]), error
    assert not Post.objects.exists()
    assert not Message.objects.filter(post__isnull=False).exists()


def test_exactly_13_6_metres_and_40_tonnes_are_accepted(board: Board) -> None:
    response = create(board, board.haulier, freight("offer", loading_metres=13.6, weight_t=40))
    assert response.status_code == 201
    assert response.json()["fields"]["weight_t"] == 40


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"occupation": "Astronaut"}, "fields.occupation", "anerkannten Ausbildungsberuf"),
        ({"occupation": "Kaufmann"}, "fields.occupation", "Meinten Sie"),
        ({"places": 0}, "fields.places", "1 bis 50"),
        ({"places": 51}, "fields.places", "1 bis 50"),
        ({"places": "zwei"}, "fields.places", "ganze Zahl"),
        ({"start": day(-3)}, "fields.start", "Vergangenheit"),
        ({"postcode": "4462"}, "fields.postcode", "fünf Ziffern"),
        ({"school_leaving": "diplom"}, "fields.school_leaving", "Möglichkeiten"),
    ],
)
def test_bad_apprenticeship_fields_are_refused(
    board: Board, overrides: dict[str, Any], field: str, words: str
) -> None:
    response = create(board, board.shipper, apprenticeship("offer", **overrides))
    assert response.status_code == 400
    assert any(words in m for m in response.json()["error"]["fields"][field])
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "tausch", "category": "other", "title": "x"}, "kind"),
        ({"kind": "offer", "category": "auto", "title": "x"}, "category"),
        ({"kind": "offer", "category": "other", "title": " "}, "title"),
        ({"kind": "offer", "category": "other", "title": "x" * 121}, "title"),
        ({"kind": "offer", "category": "other", "title": 5}, "title"),
        ({"kind": "offer", "category": "other", "title": "x", "fields": []}, "fields"),
        (
            {"kind": "offer", "category": "other", "title": "x", "valid_until": day(-1)},
            "valid_until",
        ),
    ],
)
def test_bad_common_fields(board: Board, body: dict[str, Any], field: str) -> None:
    response = create(board, board.shipper, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Post.objects.exists()


def test_not_json_is_a_400(board: Board) -> None:
    response = board.api(board.shipper).client.post(
        "/api/v1/groups/mobilitaet/posts", data="{kaputt", content_type="application/json"
    )
    assert response.status_code == 400
    assert not Post.objects.exists()


def test_posting_in_a_group_one_is_not_member_of_is_403(board: Board) -> None:
    response = create(board, board.outsider, freight("offer"))
    assert response.status_code == 403
    assert "Mitglieder" in response.json()["error"]["detail"]
    assert create(board, board.outsider, freight("offer"), "gibt-es-nicht").status_code == 404
    assert board.api(None).post("/groups/mobilitaet/posts", freight()).status_code == 401
    assert not Post.objects.exists()


def test_author_marks_filled_and_the_card_follows(board: Board) -> None:
    post = create(board, board.haulier, freight("offer")).json()
    assert (
        board.api(board.shipper).patch(f"/posts/{post['id']}", {"status": "filled"}).status_code
        == 403
    )
    response = board.api(board.haulier).patch(f"/posts/{post['id']}", {"status": "filled"})
    assert response.status_code == 200
    assert response.json()["status"] == "filled"
    assert card_of(post)["status"] == "filled"
    again = board.api(board.haulier).patch(f"/posts/{post['id']}", {"status": "withdrawn"})
    assert again.status_code == 409
    bad = board.api(board.haulier).patch(f"/posts/{post['id']}", {"status": "open"})
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["fields"]


def test_group_admin_may_withdraw_a_members_post(board: Board) -> None:
    post = create(board, board.haulier, freight("offer")).json()
    response = board.api(board.admin).patch(f"/posts/{post['id']}", {"status": "withdrawn"})
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"


def test_a_post_past_its_last_day_is_expired_without_any_job(board: Board) -> None:
    post = create(board, board.haulier, freight("offer")).json()
    Post.objects.filter(pk=post["id"]).update(expires_on=day(-1))
    assert board.api(board.shipper).get(f"/posts/{post['id']}").json()["status"] == "expired"
    listed = board.api(board.shipper).get("/board").json()["results"]
    assert post["id"] not in [p["id"] for p in listed]
    expired = board.api(board.shipper).get("/board?status=expired").json()["results"]
    assert [p["id"] for p in expired] == [post["id"]]


def test_do_expire_posts_stores_expired_and_updates_the_card(board: Board) -> None:
    from board.actions import do_expire_posts

    post = create(board, board.haulier, freight("offer")).json()
    Post.objects.filter(pk=post["id"]).update(expires_on=day(-1))
    assert do_expire_posts() == 1
    assert do_expire_posts() == 0
    assert Post.objects.get(pk=post["id"]).status == "expired"
    assert card_of(post)["status"] == "expired"


def test_occupations_search_is_german_aware(board: Board) -> None:
    api = board.api(board.outsider)
    names = [r["name"] for r in api.get("/occupations?q=Kaufmann").json()["results"]]
    assert "Kaufmann/-frau für Büromanagement" in names
    names = [r["name"] for r in api.get("/occupations?q=kauffrau%20buero").json()["results"]]
    assert names == ["Kaufmann/-frau für Büromanagement"]
    names = [r["name"] for r in api.get("/occupations?q=Köchin").json()["results"]]
    assert names == ["Koch/Köchin"]
    assert api.get("/occupations?q=Raumfahrt").json()["results"] == []
    assert board.api(None).get("/occupations?q=Koch").status_code == 401
