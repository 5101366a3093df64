"""Attachments on the WebSocket: `send` with `attachments`, bad ones refused with the
socket kept, `message` frames and the backlog carrying them (docs/attachments.md)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat.models import Message
from tests.chat.helpers import connect
from tests.chat.test_attachments import Api, bad_sends, media, people, upload_id

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["media", "people"]


async def test_websocket_sends_carry_attachments_and_bad_ones_keep_the_socket(
    people: dict[str, Any],
) -> None:
    anna_api = await database_sync_to_async(Api)(people["anna"])
    first = await database_sync_to_async(upload_id)(anna_api, people["closed"].pk)
    bad = await database_sync_to_async(bad_sends)(people)
    anna = await connect(people["anna"])
    ben = await connect(people["ben"])
    try:
        await ben.subscribe(people["closed"].pk)
        for number, (case, value) in enumerate(bad):
            error = await anna.request(
                {
                    "type": "send",
                    "conversation": people["closed"].pk,
                    "body": "x",
                    "client_id": f"ws-bad-{number}",
                    "attachments": value,
                },
                "ack",
            )
            assert error["type"] == "error", case
            assert error["code"] == "bad_request", case
            assert error["detail"], case
        # Nothing reached the other side, and the socket still works.
        ack = await anna.request(
            {
                "type": "send",
                "conversation": people["closed"].pk,
                "client_id": "ws-ok",
                "attachments": [first],
            },
            "ack",
        )
        assert ack["type"] == "ack"
        frame = await ben.receive_type("message")
        assert frame["client_id"] == "ws-ok"
        assert frame["body"] == ""
        assert [a["id"] for a in frame["attachments"]] == [first]
        assert frame["attachments"][0]["url"] == f"/api/v1/attachments/{first}"
        backlog = await ben.subscribe(people["closed"].pk, after=0)
        assert backlog[-2]["attachments"] == frame["attachments"]
    finally:
        await anna.close()
        await ben.close()
    count = await database_sync_to_async(Message.objects.count)()
    assert count == 2  # "schon weg" and "ws-ok"
