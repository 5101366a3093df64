"""Serialising frames once, and telling server-internal control frames apart.

Every event is serialised to its wire text exactly once, by the publisher; the hub of
each process hands that same string to every local socket. Control frames (type
starting with "_") travel the same way on a user's personal topic but are acted upon
by the consumer and never forwarded to a client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

CONTROL_PREFIX = '{"type":"_'
# Delivered by the hub itself (realtime.hub): the topic's subscription was lost with
# the Redis connection, frames may be missing; and: it holds again.
LOST = '{"type":"_lost"}'
RESUMED = '{"type":"_resumed"}'
# Published (realtime.publish) on a topic once Redis answers again after a publish
# to it failed: its subscribers missed a frame.
MISSED = '{"type":"_missed"}'


def encode(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=str)


def is_control(payload: str) -> bool:
    return payload.startswith(CONTROL_PREFIX)


def conversation_topic(conversation_id: int) -> str:
    return f"conv:{conversation_id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"
