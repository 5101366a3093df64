"""Creating a post (matching included) and the board's first page do not grow in
queries with the number of posts and saved searches, nor a create with the number
of people it matches (pinned)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from board.actions import do_create_post, do_create_saved_search
from board.models import Match
from groups.actions import do_join_group
from notifications.models import Notification
from tests.board.conftest import Board, apprenticeship, freight

pytestmark = pytest.mark.django_db

# Pinned: a change that adds a query per post, per search or per match shows here.
CREATE_QUERIES = 12
BOARD_QUERIES = 3
BOARD_PAGE_QUERIES = 5  # the page /brett/: session, user, posts, groups, unread count


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
    page = Client()
    page.force_login(board.haulier)
    page.get("/brett/", secure=True)  # the first request after login writes the visit
    add_posts_and_searches(board, 3)
    small_create = queries(lambda: create_matching_load(board))
    small_board = queries(lambda: api.get("/board"))
    small_page = queries(lambda: page.get("/brett/", secure=True))
    add_posts_and_searches(board, 30)
    large_create = queries(lambda: create_matching_load(board))
    large_board = queries(lambda: api.get("/board"))
    large_page = queries(lambda: page.get("/brett/", secure=True))
    # The load fits the haulier's capacity and none of the searches: SQLite links the
    # post to its message, reads the fitting posts, inserts the match and reads the
    # searches (PostgreSQL does all of it in one statement).
    expected = CREATE_QUERIES if settings.IS_POSTGRES else CREATE_QUERIES + 3
    assert small_create == large_create == expected
    assert small_board == large_board == BOARD_QUERIES
    assert small_page == large_page == BOARD_PAGE_QUERIES


def add_fitting_people(board: Board, make_user: Any, start: int, count: int) -> None:
    """`count` more members, each with an immediate and a daily saved search and an
    open capacity the test's load fits: more people told, more matches, a bigger
    group."""
    for number in range(start, start + count):
        person = make_user(f"Spedition {number}", company_name=f"Fuhrbetrieb {number}")
        do_join_group(actor=person, group=board.open_group)
        do_create_post(actor=person, group_slug="mobilitaet", **freight("offer"))
        do_create_saved_search(
            actor=person, name="Ab Bochum", filters={"city": "Bochum"}, alert="immediate"
        )
        do_create_saved_search(
            actor=person,
            name="Nach München",
            filters={"postcode": "80", "q": "München"},
            alert="daily",
        )


def test_create_does_not_grow_with_the_people_it_tells(
    board: Board, make_user: Callable[..., Any]
) -> None:
    """The queries of a create stay the same whether the new post fits one person's
    post and searches or those of 25 (a bigger group, 25 times the matches, rows
    and notifications)."""
    add_fitting_people(board, make_user, 0, 1)
    small = []
    with CaptureQueriesContext(connection) as context:
        small.append(create_matching_load(board))
    small_queries = len(context.captured_queries)
    add_fitting_people(board, make_user, 1, 24)
    with CaptureQueriesContext(connection) as context:
        large = create_matching_load(board)
    large_queries = len(context.captured_queries)
    assert len(small[0].notified) == 1
    assert len(large.notified) == 25
    assert len(large.matched_posts) == 25
    assert Match.objects.filter(post=large.post).count() == 75  # posts, immediate, daily
    assert Notification.objects.filter(dedupe_key=f"match:{large.post.pk}").count() == 25
    # PostgreSQL links the message and finds and stores the post and search matches
    # in one statement; SQLite updates the post, then reads each kind and inserts it.
    expected = CREATE_QUERIES if settings.IS_POSTGRES else CREATE_QUERIES + 4
    assert small_queries == large_queries == expected
