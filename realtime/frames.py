"""Serialising frames once, and telling server-internal control frames apart.

Every event is serialised to its wire text exactly once, by the publisher; the hub of
each process hands that same string to every local socket. Control frames (type
starting with "_") travel the same way on a user's personal topic but are acted upon
by the consumer and never forwarded to a client.
"""

from __future__ import annotations

import json
import re
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


# NUL (PostgreSQL stores no NUL in text) and UTF-16 surrogates: JSON can spell a lone
# one ("\\ud800"), which no UTF-8 encoder, database or client takes.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable_text(value: Any) -> bool:
    """Whether any string in a parsed JSON value (keys included, at any depth) holds
    a character that cannot be stored or sent on."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def encode(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=str)


def is_control(payload: str) -> bool:
    return payload.startswith(CONTROL_PREFIX)


def conversation_topic(conversation_id: int) -> str:
    return f"conv:{conversation_id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"
