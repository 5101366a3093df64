"""Creating a post (matching included) and the board's first page do not grow in
queries with the number of posts and saved searches (pinned)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from board.actions import do_create_post, do_create_saved_search
from tests.board.conftest import Board, apprenticeship, freight

pytestmark = pytest.mark.django_db

# Pinned: a change that adds a query per post, per search or per match shows here.
CREATE_QUERIES = 16
BOARD_QUERIES = 3


def add_posts_and_searches(board: Board, count: int) -> None:
    for number in range(count):
        person = board.haulier if number % 2 else board.shipper
        body = freight(
            "offer" if number % 3 else "request", from_postcode="01067", from_city="Dresden"
        )
        do_create_post(actor=person, group_slug="mobilitaet", **body)
        do_create_post(actor=person, group_slug="mobilitaet", **apprenticeship("offer"))
        do_create_saved_search(
            actor=board.outsider,
            name=f"Suche {number}",
            filters={"city": "Leipzig", "q": "Kühlware"},
            alert="immediate",
        )


def queries(call: Any) -> int:
    with CaptureQueriesContext(connection) as context:
        call()
    return len(context.captured_queries)


def create_matching_load(board: Board) -> Any:
    return do_create_post(actor=board.shipper, group_slug="mobilitaet", **freight("request"))


def test_create_with_matching_and_board_page_stay_flat(board: Board) -> None:
    do_create_post(actor=board.haulier, group_slug="mobilitaet", **freight("offer"))
    api = board.api(board.haulier)
    add_posts_and_searches(board, 3)
    small_create = queries(lambda: create_matching_load(board))
    small_board = queries(lambda: api.get("/board"))
    add_posts_and_searches(board, 30)
    large_create = queries(lambda: create_matching_load(board))
    large_board = queries(lambda: api.get("/board"))
    assert small_create == large_create == CREATE_QUERIES
    assert small_board == large_board == BOARD_QUERIES
