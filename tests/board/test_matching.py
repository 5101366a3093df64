"""Matching on creation, saved searches and `match` notifications (docs/protocol.md 1.1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from accounts.models import Block, EmailFrequency
from board.models import Match
from notifications.emails import send_due_emails
from notifications.models import Notification
from tests.board.conftest import Board, apprenticeship, day, freight

pytestmark = pytest.mark.django_db


def post(board: Board, person: Any, body: dict[str, Any], group: str = "mobilitaet") -> Any:
    response = board.api(person).post(f"/groups/{group}/posts", body)
    assert response.status_code == 201, response.json()
    return response.json()


def matches_for(person: Any) -> list[Notification]:
    return list(Notification.objects.filter(recipient=person, kind="match"))


def test_a_load_finds_the_free_capacity_and_its_author_is_told(board: Board) -> None:
    capacity = post(board, board.haulier, freight("offer"))
    load = post(board, board.shipper, freight("request"))
    assert [m["id"] for m in load["matches"]] == [capacity["id"]]
    [notification] = matches_for(board.haulier)
    assert notification.data["post"]["id"] == load["id"]
    assert notification.data["matched"] == {
        "type": "post",
        "id": capacity["id"],
        "title": capacity["title"],
    }
    assert notification.data["url"] == f"/brett/{load['id']}/"
    assert matches_for(board.shipper) == []  # never to the author of the new post


@pytest.mark.parametrize(
    ("capacity", "load", "fits"),
    [
        ({}, {}, True),
        # Date windows that only touch on one day still overlap.
        ({"earliest": day(1), "latest": day(3)}, {"earliest": day(3), "latest": day(6)}, True),
        ({"earliest": day(1), "latest": day(2)}, {"earliest": day(3), "latest": day(6)}, False),
        # Exactly the capacity fits; a tenth more does not.
        ({"loading_metres": 13.6, "weight_t": 24}, {"loading_metres": 13.6, "weight_t": 24}, True),
        ({"loading_metres": 6.4}, {"loading_metres": 6.5}, False),
        ({"weight_t": 7.99}, {"weight_t": 8}, False),
        # Same region (first two digits) or same city.
        ({"from_postcode": "44623", "from_city": "Herne"}, {}, True),
        ({"from_postcode": "45127", "from_city": "Essen"}, {}, False),
        ({"from_postcode": "45127", "from_city": "bochum"}, {}, True),
        ({"to_postcode": "20095", "to_city": "Hamburg"}, {}, False),
        # An ADR load needs an ADR truck; an ADR truck takes other loads too.
        ({}, {"adr": True}, False),
        ({"adr": True}, {"adr": True}, True),
        ({"adr": True}, {}, True),
    ],
)
def test_freight_rules(
    board: Board, capacity: dict[str, Any], load: dict[str, Any], fits: bool
) -> None:
    offered = post(board, board.haulier, freight("offer", **capacity))
    wanted = post(board, board.shipper, freight("request", **load))
    assert bool(wanted["matches"]) is fits
    assert bool(matches_for(board.haulier)) is fits
    assert Match.objects.filter(post_id=wanted["id"], other_id=offered["id"]).exists() is fits


def test_capacity_posted_after_the_load_finds_it_too(board: Board) -> None:
    load = post(board, board.shipper, freight("request"))
    post(board, board.haulier, freight("offer"))
    [notification] = matches_for(board.shipper)
    assert notification.data["matched"]["id"] == load["id"]


def test_the_same_pair_is_matched_once(board: Board) -> None:
    post(board, board.haulier, freight("offer"))
    post(board, board.haulier, freight("offer", weight_t=30))
    load = post(board, board.shipper, freight("request"))
    # Two of the haulier's posts fit: two matches, one notification.
    assert Match.objects.filter(post_id=load["id"]).count() == 2
    [notification] = matches_for(board.haulier)
    assert notification.data["count"] == 2


def test_filled_withdrawn_and_expired_posts_are_not_matched(board: Board) -> None:
    from board.models import Post

    first = post(board, board.haulier, freight("offer"))
    board.api(board.haulier).patch(f"/posts/{first['id']}", {"status": "filled"})
    second = post(board, board.haulier, freight("offer"))
    Post.objects.filter(pk=second["id"]).update(expires_on=day(-1))
    load = post(board, board.shipper, freight("request"))
    assert load["matches"] == []
    assert matches_for(board.haulier) == []


def test_apprenticeship_matches_on_occupation_and_region(board: Board) -> None:
    place = post(board, board.shipper, apprenticeship("offer"))
    post(board, board.haulier, apprenticeship("request", postcode="80331", city="München"))
    assert matches_for(board.shipper) == []
    post(board, board.haulier, apprenticeship("request", occupation="Koch/Köchin"))
    assert matches_for(board.shipper) == []
    seeker = post(board, board.haulier, apprenticeship("request", postcode="44789", city="Bochum"))
    [notification] = matches_for(board.shipper)
    assert notification.data["post"]["id"] == seeker["id"]
    assert notification.data["matched"]["id"] == place["id"]


def test_blocks_are_respected(board: Board) -> None:
    post(board, board.haulier, freight("offer"))
    Block.objects.create(blocker=board.haulier, blocked=board.shipper)
    load = post(board, board.shipper, freight("request"))
    assert load["matches"] == []
    assert matches_for(board.haulier) == []


def test_closed_group_post_reaches_members_only(board: Board) -> None:
    """An outsider's open post and saved search fit the closed group's post: neither
    leads to a notification or an e-mail."""
    from groups.actions import do_join_group

    mobility = board.open_group
    do_join_group(actor=board.outsider, group=mobility)
    post(board, board.outsider, freight("offer"))
    search = board.api(board.outsider).post(
        "/searches", {"name": "München", "filters": {"city": "München"}, "alert": "immediate"}
    )
    assert search.status_code == 201
    board.outsider.email_frequency = EmailFrequency.IMMEDIATE
    board.outsider.save()
    secret = post(board, board.shipper, freight("request"), group="logistikkreis")
    assert secret["matches"] == []
    assert matches_for(board.outsider) == []
    send_due_emails(now=None)
    assert not [m for m in mail.outbox if board.outsider.email in m.to]
    assert board.api(board.outsider).get(f"/posts/{secret['id']}").status_code == 404
    assert all(
        p["id"] != secret["id"] for p in board.api(board.outsider).get("/board").json()["results"]
    )
    found = board.api(board.outsider).get("/search?q=München").json()["results"]
    assert all(m["id"] != secret["message_id"] for m in found)
    # A member sees it everywhere.
    assert board.api(board.haulier).get(f"/posts/{secret['id']}").status_code == 200
    found = board.api(board.haulier).get("/search?q=München").json()["results"]
    assert secret["message_id"] in [m["id"] for m in found]


def test_saved_search_alerts(board: Board) -> None:
    api = board.api(board.haulier)
    immediate = api.post(
        "/searches",
        {"name": "Ladung ab Bochum", "filters": {"category": "freight", "postcode": "44"}},
    )
    assert immediate.status_code == 201
    assert immediate.json()["alert"] == "immediate"
    daily = board.api(board.admin).post(
        "/searches",
        {"name": "Alles nach München", "filters": {"city": "münchen"}, "alert": "daily"},
    )
    assert daily.status_code == 201
    off = board.api(board.outsider).post(
        "/searches", {"name": "still", "filters": {"q": "München"}, "alert": "off"}
    )
    assert off.status_code == 201
    load = post(board, board.shipper, freight("request"))
    [notification] = matches_for(board.haulier)
    assert notification.data["matched"] == {
        "type": "search",
        "id": immediate.json()["id"],
        "name": "Ladung ab Bochum",
    }
    assert matches_for(board.admin) == []  # daily: in the digest, not now
    assert Match.objects.filter(post_id=load["id"], recipient=board.admin, daily=True).exists()
    assert not Match.objects.filter(recipient=board.outsider).exists()


def test_saved_search_with_words_uses_german_full_text(board: Board) -> None:
    board.api(board.haulier).post("/searches", {"name": "Kühl", "filters": {"q": "Kühlware"}})
    post(board, board.shipper, {**freight("request"), "body": "Kühlware, zwei Paletten"})
    assert len(matches_for(board.haulier)) == 1
    board.api(board.outsider).post("/searches", {"name": "Holz", "filters": {"q": "Holz"}})
    assert matches_for(board.outsider) == []


def test_saved_searches_list_delete_and_bad_input(board: Board) -> None:
    api = board.api(board.haulier)
    created = api.post("/searches", {"name": "Herne", "filters": {"city": "Herne"}}).json()
    assert [s["id"] for s in api.get("/searches").json()["results"]] == [created["id"]]
    assert board.api(board.shipper).delete(f"/searches/{created['id']}").status_code == 404
    assert api.delete(f"/searches/{created['id']}").status_code == 204
    assert api.get("/searches").json()["results"] == []
    bad = api.post(
        "/searches",
        {
            "name": "",
            "filters": {"kind": "tausch", "postcode": "4x", "farbe": "rot"},
            "alert": "oft",
        },
    )
    assert bad.status_code == 400
    fields = bad.json()["error"]["fields"]
    assert set(fields) == {"name", "alert", "filters.kind", "filters.postcode", "filters.farbe"}
    hidden = api.post("/searches", {"name": "x", "filters": {"group": "gibt-es-nicht"}})
    assert "filters.group" in hidden.json()["error"]["fields"]


def test_match_email_goes_out_once_for_immediate_people(board: Board) -> None:
    board.haulier.email_frequency = EmailFrequency.IMMEDIATE
    board.haulier.save()
    post(board, board.haulier, freight("offer"))
    post(board, board.shipper, freight("request"))
    from datetime import timedelta

    from django.utils import timezone

    [notification] = matches_for(board.haulier)
    result = send_due_emails(now=timezone.now() + timedelta(hours=1))
    assert notification.pk in result.sent
    [email] = [m for m in mail.outbox if board.haulier.email in m.to and "Passend" in m.subject]
    assert "„Ladung nach München“" in email.subject
    assert f"/brett/{notification.data['post']['id']}/" in email.body
    assert send_due_emails(now=timezone.now() + timedelta(hours=2)).sent == []


def test_suggestions_offer_open_posts_by_topic_and_city(board: Board) -> None:
    from groups.actions import do_update_group

    do_update_group(actor=board.admin, group=board.open_group, topics=["Logistik"])
    post(board, board.haulier, freight("offer"))
    board.outsider.topics = ["Logistik"]
    board.outsider.city = "Bochum"
    board.outsider.save()
    body = board.api(board.outsider).get("/me/suggestions").json()
    [suggestion] = body["posts"]
    assert suggestion["title"] == "Freier Laderaum Bochum → München"
    assert suggestion["reason"] == "Thema Logistik, Bochum"
    # A closed group's post is never suggested to an outsider.
    post(board, board.shipper, freight("request"), group="logistikkreis")
    body = board.api(board.outsider).get("/me/suggestions").json()
    assert [s["title"] for s in body["posts"]] == ["Freier Laderaum Bochum → München"]
    Block.objects.create(blocker=board.haulier, blocked=board.outsider)
    assert board.api(board.outsider).get("/me/suggestions").json()["posts"] == []
