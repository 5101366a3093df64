"""Presence on the wire (PROTOCOL.md 1.1, "Presence"; decisions in docs/presence.md).

The `presence_subscribe` handler of the WebSocket consumer and the parsing shared
with `GET /presence`: the gate (`chat.access.presence_visible_ids`) decides whom the
viewer may see, `realtime.presence` holds the state and fans the changes out.
"""

from __future__ import annotations

from typing import Any

from chat.access import is_id, presence_visible_ids, presence_watchable_ids
from realtime import presence
from realtime.db import in_db_thread
from realtime.errors import ClientError
from realtime.hub import HubUnavailable

MAX_USERS = presence.SUBSCRIBE_MAX_USERS


def parse_user_ids(value: Any, name: str = "users") -> list[int]:
    """A list of at most 500 person ids, else `bad_request` (nothing is watched)."""
    if not isinstance(value, list):
        raise ClientError(
            "bad_request",
            f"Feld „{name}“ muss eine Liste von Personen-IDs sein.",
            fields={name: ["Eine Liste ganzer Zahlen."]},
        )
    if len(value) > MAX_USERS:
        raise ClientError(
            "bad_request",
            f"Höchstens {MAX_USERS} Personen auf einmal.",
            fields={name: [f"Höchstens {MAX_USERS} Einträge."]},
        )
    if not all(is_id(item) for item in value):
        raise ClientError(
            "bad_request",
            f"Jeder Eintrag in „{name}“ muss eine Personen-ID (ganze Zahl > 0) sein.",
            fields={name: ["Nur ganze Zahlen > 0."]},
        )
    return value


def visible_states(viewer: Any, user_ids: list[int]) -> list[dict[str, Any]]:
    """`{"user","online","last_seen"}` for the people among `user_ids` the viewer may
    see (GET /presence)."""
    return presence.states_now(presence_visible_ids(viewer, user_ids))


async def on_presence_subscribe(consumer: Any, content: dict[str, Any], ref: str | None) -> None:
    """`{"type":"presence_subscribe","users":[ID,...]}`: replaces the socket's watched
    people; one `presence` frame per visible id at once, then each change."""
    user_ids = parse_user_ids(content.get("users"))
    visible, hidden = await in_db_thread(presence_watchable_ids)(consumer.user, user_ids)
    try:
        await presence.watch(consumer, visible, hidden=hidden)
    except HubUnavailable:
        raise ClientError(
            "unavailable", "Der Online-Status ist gerade nicht verfügbar. Bitte gleich erneut."
        ) from None
