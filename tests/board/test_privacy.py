"""The board's part of the export and of the account deletion."""

from __future__ import annotations

import pytest

from accounts.privacy import do_delete_person, export_person
from board.models import Contact, Match, Post, SavedSearch
from chat.models import Message
from tests.board.conftest import Board, freight
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_export_has_posts_and_searches_and_deletion_takes_them(board: Board) -> None:
    capacity = board.api(board.haulier).post("/groups/mobilitaet/posts", freight("offer")).json()
    board.api(board.haulier).post("/searches", {"name": "Herne", "filters": {"city": "Herne"}})
    board.api(board.shipper).post("/groups/mobilitaet/posts", freight("request"))
    board.api(board.shipper).post(f"/posts/{capacity['id']}/contact", {"message": "Hallo"})
    exported = export_person(board.haulier)
    part = exported["board"]
    assert [p["title"] for p in part["posts"]] == [capacity["title"]]
    assert part["posts"][0]["fields"]["from_postcode"] == "44787"
    assert [s["name"] for s in part["saved_searches"]] == ["Herne"]
    assert [m["post"]["title"] for m in part["matches_received"]] == ["Ladung nach München"]
    do_delete_person(actor=board.haulier, person=board.haulier, password=PASSWORD)
    assert not Post.objects.filter(pk=capacity["id"]).exists()
    assert not SavedSearch.objects.exists()
    assert not Match.objects.filter(other_id=capacity["id"]).exists()
    assert not Contact.objects.filter(post_id=capacity["id"]).exists()
    card = Message.objects.get(pk=capacity["message_id"]).post
    assert card is not None and card["status"] == "withdrawn"
    assert board.api(board.shipper).get(f"/posts/{capacity['id']}").status_code == 404
