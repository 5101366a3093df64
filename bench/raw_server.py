"""The ceiling: a raw asyncio `websockets` server broadcasting with `broadcast()`.

It speaks just enough of docs/protocol.md for `bench/loadgen.py` (hello, subscribe ->
subscribed, send -> ack + message to every subscriber, unsubscribe, ping -> pong),
with frames of the same shape and size as netzn's. It stores nothing, checks nothing
and authenticates nobody: it is the comparison line of docs/performance.md, not a
peer with netzn's guarantees.

    python bench/raw_server.py --port 8201
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed


class Room:
    def __init__(self) -> None:
        self.members: set[ServerConnection] = set()
        self.last_seq = 0
        # The seq of each message id, for the `reaction` frame (the bench reacts to
        # the newest messages only; the table is cleared now and then).
        self.seq_of: dict[int, int] = {}


rooms: defaultdict[int, Room] = defaultdict(Room)
# (message id, user id, emoji) of the reactions that are on: as netzn, a toggle that
# changes nothing is acknowledged with `changed: false` and not broadcast.
reactions_on: set[tuple[int, int, str]] = set()
message_ids = iter(range(1, 1 << 62))


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


async def handle(ws: ServerConnection) -> None:
    user_id = id(ws) % 1_000_000
    joined: set[int] = set()
    await ws.send(
        encode({"type": "hello", "user": {"id": user_id}, "conversations": [], "limits": {}})
    )
    try:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            ref = frame.get("ref")
            if kind == "subscribe":
                room_id = int(frame["conversation"])
                rooms[room_id].members.add(ws)
                joined.add(room_id)
                reply = {
                    "type": "subscribed",
                    "conversation": room_id,
                    "last_seq": rooms[room_id].last_seq,
                    "truncated": False,
                }
                await ws.send(encode(reply))
            elif kind == "unsubscribe":
                room_id = int(frame["conversation"])
                rooms[room_id].members.discard(ws)
                joined.discard(room_id)
            elif kind == "send":
                room_id = int(frame["conversation"])
                room = rooms[room_id]
                room.last_seq += 1
                created_at = datetime.now(UTC).isoformat()
                message_id = next(message_ids)
                await ws.send(
                    encode(
                        {
                            "type": "ack",
                            "ref": ref,
                            "client_id": frame["client_id"],
                            "conversation": room_id,
                            "id": message_id,
                            "seq": room.last_seq,
                            "created_at": created_at,
                        }
                    )
                )
                message = {
                    "type": "message",
                    "conversation": room_id,
                    "id": message_id,
                    "seq": room.last_seq,
                    "author": {"id": user_id, "display_name": "Bench", "company": "Lasttest GmbH"},
                    "body": frame["body"],
                    "client_id": frame["client_id"],
                    "created_at": created_at,
                }
                if len(room.seq_of) > 100_000:
                    room.seq_of.clear()
                room.seq_of[message_id] = room.last_seq
                broadcast(room.members, encode(message))
            elif kind == "react":
                # netzn's `ack` and `reaction` frames, for mixed traffic (`--reactions`).
                message_id = int(frame["message"])
                room_id = next((r for r, room in rooms.items() if message_id in room.seq_of), 0)
                room = rooms[room_id]
                seq = room.seq_of.get(message_id, 0)
                user = {"id": user_id, "display_name": "Bench", "company": "Lasttest GmbH"}
                emoji, on = frame["emoji"], bool(frame["on"])
                key = (message_id, user_id, emoji)
                changed = on != (key in reactions_on)
                if on:
                    reactions_on.add(key)
                else:
                    reactions_on.discard(key)
                summary = [{"emoji": emoji, "count": 1, "mine": True, "names": ["Bench"]}]
                reply = {
                    "type": "ack",
                    "ref": ref,
                    "conversation": room_id,
                    "message": message_id,
                    "seq": seq,
                    "emoji": emoji,
                    "on": on,
                    "changed": changed,
                    "reactions": summary if on else [],
                }
                await ws.send(encode(reply))
                if not changed:
                    continue
                reaction = {
                    "type": "reaction",
                    "conversation": room_id,
                    "message": message_id,
                    "seq": seq,
                    "emoji": emoji,
                    "user": user,
                    "on": on,
                }
                broadcast(room.members, encode(reaction))
            elif kind == "ping":
                await ws.send(encode({"type": "pong"}))
    except ConnectionClosed:
        pass  # a client leaving without a close frame is no error here
    finally:
        for room_id in joined:
            rooms[room_id].members.discard(ws)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8201)
    args = parser.parse_args()
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handle, args.host, args.port, compression=None, max_size=64 * 1024):
        await stop


if __name__ == "__main__":
    asyncio.run(main())
