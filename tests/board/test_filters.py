"""`GET /board` reads the board through written SQL (`BoardFilters.where_sql`,
`access.BoardRows`); the pages through the ORM (`BoardFilters.apply`). Both give
the same posts in the same order for every filter, visibility and status."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from board import access, presentation
from board.actions import do_create_post, do_update_post_status
from board.filters import BoardFilters
from board.models import Post
from tests.board.conftest import Board, apprenticeship, day, freight

pytestmark = pytest.mark.django_db

FILTERS: list[dict[str, str]] = [
    {},
    {"kind": "offer"},
    {"kind": "request", "category": "freight"},
    {"category": "apprenticeship"},
    {"category": "other"},
    {"group": "mobilitaet"},
    {"group": "unbekannt"},
    {"city": "bochum"},
    {"city": "Herne"},
    {"city": "München"},
    {"postcode": "4"},
    {"postcode": "447"},
    {"postcode": "80331"},
    {"postcode": "9"},
    {"occupation": "Fachkraft für Lagerlogistik"},
    {"q": "München"},
    {"q": "Lagerlogistik Herne"},
    {"q": "100%_"},
    {"date": day(4)},
    {"date": day(9)},
    {"status": "all"},
    {"status": "filled"},
    {"status": "withdrawn"},
    {"status": "expired"},
    {"status": "all", "kind": "offer", "city": "Bochum", "date": day(3)},
]


def listed(board: Board, person: Any, raw: dict[str, str]) -> list[int]:
    response = board.api(person).get(f"/board?{urlencode(raw)}")
    assert response.status_code == 200, response.content[:300]
    return [post["id"] for post in response.json()["results"]]


def test_the_api_lists_what_the_pages_list_for_every_filter(board: Board) -> None:
    haulier, shipper = board.haulier, board.shipper
    do_create_post(actor=haulier, group_slug="mobilitaet", **freight("offer"))
    load = do_create_post(actor=shipper, group_slug="mobilitaet", **freight("request")).post
    do_create_post(
        actor=shipper,
        group_slug="mobilitaet",
        **freight(
            "request", from_postcode="01067", from_city="Dresden", earliest=day(8), latest=day(10)
        ),
    )
    do_create_post(actor=haulier, group_slug="mobilitaet", **apprenticeship("offer"))
    do_create_post(
        actor=shipper,
        group_slug="mobilitaet",
        kind="request",
        category="other",
        title="Suche Gabelstapler 100%",
        body="Für Herne",
    )
    secret = do_create_post(actor=haulier, group_slug="logistikkreis", **freight("offer")).post
    filled = do_create_post(actor=haulier, group_slug="mobilitaet", **apprenticeship("request"))
    do_update_post_status(actor=haulier, post_id=filled.post.pk, status="filled")
    do_update_post_status(actor=shipper, post_id=load.pk, status="withdrawn")
    past = do_create_post(actor=haulier, group_slug="mobilitaet", **freight("offer")).post
    Post.objects.filter(pk=past.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    for post in Post.objects.all():  # stored with the post, as the pages format it
        assert post.summary == presentation.summary(post.category, post.fields)
    seen_any = 0
    for person in (haulier, shipper, board.outsider):
        for raw in FILTERS:
            ids = listed(board, person, raw)
            pages = [post.pk for post in access.board(person, BoardFilters.parse(raw))]
            assert ids == pages, raw
            if person is board.outsider:
                assert secret.pk not in ids
            seen_any += bool(ids)
    assert seen_any > len(FILTERS)
    assert listed(board, haulier, {"status": "expired"}) == [past.pk]
    assert secret.pk in listed(board, haulier, {"group": "logistikkreis"})


def test_pages_of_the_api_list_follow_each_other(board: Board) -> None:
    for number in range(7):
        body = freight("offer")
        body["title"] = f"Laderaum {number}"
        do_create_post(actor=board.haulier, group_slug="mobilitaet", **body)
    api = board.api(board.shipper)
    first = api.get("/board?limit=3").json()
    second = api.get(f"/board?limit=3&cursor={first['next']}").json()
    third = api.get(f"/board?limit=3&cursor={second['next']}").json()
    titles = [p["title"] for p in first["results"] + second["results"] + third["results"]]
    assert titles == [f"Laderaum {number}" for number in range(6, -1, -1)]
    assert third["next"] is None
