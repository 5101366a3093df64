"""The WebSocket side of the board, on PostgreSQL and Redis: the post's `message`
frame carries its card, `post_updated` follows a status change, a match arrives as a
`notification` frame; a rolled-back creation publishes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async

from board.actions import do_create_post, do_update_post_status
from board.models import Post
from notifications.models import Notification
from tests.board.conftest import Board, freight
from tests.chat.helpers import connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def create(person: Any, body: dict[str, Any], group: str = "mobilitaet") -> Post:
    return do_create_post(
        actor=person,
        group_slug=group,
        kind=body["kind"],
        category=body["category"],
        title=body["title"],
        fields=body["fields"],
    ).post


async def test_post_frames_and_the_match_notification(board: Board) -> None:
    conversation_id = board.open_group.conversation_id
    haulier = await connect(board.haulier)
    outsider = await connect(board.outsider)
    for client in (haulier, outsider):
        frames = await client.subscribe(conversation_id)
        assert frames[-1]["type"] == "subscribed"
    capacity = await database_sync_to_async(create)(board.haulier, freight("offer"))
    frame = await outsider.receive_type("message")
    assert frame["post"] == {
        "id": capacity.pk,
        "kind": "offer",
        "category": "freight",
        "title": capacity.title,
        "status": "open",
        "kind_label": "Freier Laderaum",
        "summary": frame["post"]["summary"],
        "excerpt": "",
        "expires_on": capacity.expires_on.isoformat() if capacity.expires_on else None,
        "group": "mobilitaet",
        "author_id": board.haulier.pk,
        "url": f"/brett/{capacity.pk}/",
    }
    assert "44787 Bochum → 80331 München" in frame["post"]["summary"]
    await haulier.receive_type("message")
    load = await database_sync_to_async(create)(board.shipper, freight("request"))
    notification = await haulier.receive_type("notification")
    assert notification["kind"] == "match"
    assert notification["data"]["post"]["id"] == load.pk
    assert notification["data"]["matched"]["id"] == capacity.pk
    # The frame names the stored notification (marking it read uses this id).
    stored = await Notification.objects.aget(recipient=board.haulier, dedupe_key=f"match:{load.pk}")
    assert (notification["id"], notification["data"]) == (stored.pk, stored.data)
    assert notification["created_at"] == stored.created_at.isoformat()
    await database_sync_to_async(do_update_post_status)(
        actor=board.haulier, post_id=capacity.pk, status="filled"
    )
    updated = await outsider.receive_type("post_updated")
    assert updated["conversation"] == conversation_id
    assert updated["message"] == capacity.message_id
    assert updated["post"]["status"] == "filled"
    # The outsider was matched with nothing and told nothing.
    assert all(f.get("type") != "notification" for f in outsider.held)
    assert await outsider.nothing()
    for client in (haulier, outsider):
        await client.close()


async def test_a_rolled_back_creation_publishes_nothing(board: Board) -> None:
    conversation_id = board.open_group.conversation_id
    watcher = await connect(board.shipper)
    await watcher.subscribe(conversation_id)

    def fail_after_create() -> None:
        from django.db import transaction

        with pytest.raises(RuntimeError), transaction.atomic():
            create(board.haulier, freight("offer"))
            raise RuntimeError("rollback")

    await database_sync_to_async(fail_after_create)()
    assert await watcher.nothing()
    assert not await database_sync_to_async(Post.objects.exists)()
    await watcher.close()


async def test_frames_round_trip_through_json(board: Board) -> None:
    post = await database_sync_to_async(create)(board.haulier, freight("offer"))
    from board.events import post_card

    card = await database_sync_to_async(
        lambda: post_card(Post.objects.select_related("group").get(pk=post.pk))
    )()
    assert json.loads(json.dumps(card)) == card


@pytest.mark.parametrize("category", ["freight", "apprenticeship", "other"])
async def test_every_category_arrives_as_a_card(board: Board, category: str) -> None:
    from tests.board.conftest import apprenticeship

    bodies = {
        "freight": freight("request"),
        "apprenticeship": apprenticeship("offer"),
        "other": {"kind": "request", "category": "other", "title": "Suche Hubwagen", "fields": {}},
    }
    watcher = await connect(board.outsider)
    await watcher.subscribe(board.open_group.conversation_id)
    post = await database_sync_to_async(create)(board.shipper, bodies[category])
    frame = await watcher.receive_type("message")
    assert (frame["post"]["id"], frame["post"]["category"]) == (post.pk, category)
    assert frame["post"]["title"] == post.title
    assert frame["body"].startswith(frame["post"]["kind_label"])
    await watcher.close()
