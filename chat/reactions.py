"""Reactions: the allowed emoji and the per-viewer summaries of messages
(PROTOCOL.md 1.1, "Reactions"; decisions in docs/replies-reactions.md).

The summaries of a whole page of messages come from one query, however many messages
and reactions the page holds (`attach_reactions`), so a history page costs the same
number of queries for 5 messages as for 200.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Max, Min, Value, When, Window
from django.db.models.functions import RowNumber

from chat.compiled import CompiledRows
from chat.events import REACTIONS_ATTR, ReactionSummary
from chat.models import Message, Reaction
from realtime.errors import ClientError

# The documented set, in the order the picker shows it. Each is accepted in exactly
# this form (code points below); anything else, also the same picture in another
# form (U+2764 without the variation selector U+FE0F, a skin tone), is `bad_request`.
ALLOWED_EMOJI: tuple[str, ...] = (
    "\U0001f44d",  # 👍 U+1F44D
    "\u2764\ufe0f",  # ❤️ U+2764 U+FE0F
    "\U0001f604",  # 😄 U+1F604
    "\U0001f389",  # 🎉 U+1F389
    "\U0001f440",  # 👀 U+1F440
    "\U0001f64f",  # 🙏 U+1F64F
    "\u2705",  # ✅ U+2705
    "\U0001f44f",  # 👏 U+1F44F
)
# German names for screen readers and the picker's labels (static/js/reactions.js
# carries the same list).
EMOJI_NAMES: dict[str, str] = {
    "\U0001f44d": "Daumen hoch",
    "\u2764\ufe0f": "Herz",
    "\U0001f604": "Lachen",
    "\U0001f389": "Feiern",
    "\U0001f440": "Gesehen",
    "\U0001f64f": "Danke",
    "\u2705": "Erledigt",
    "\U0001f44f": "Applaus",
}
# Names carried per emoji and message (the hover text); `count` is always the total.
NAMES_MAX = 20


def clean_emoji(emoji: Any) -> str:
    if not isinstance(emoji, str):
        raise ClientError(
            "bad_request", "Feld „emoji“ muss Text sein.", fields={"emoji": ["Text erwartet."]}
        )
    if emoji not in ALLOWED_EMOJI:
        raise ClientError(
            "bad_request",
            "Diese Reaktion gibt es nicht. Erlaubt: " + " ".join(ALLOWED_EMOJI),
            fields={"emoji": ["Nicht erlaubt."]},
        )
    return emoji


def clean_on(on: Any) -> bool:
    if not isinstance(on, bool):
        raise ClientError(
            "bad_request",
            "Feld „on“ muss true oder false sein.",
            fields={"on": ["true oder false erwartet."]},
        )
    return on


def _summary_rows(message_ids: list[int], viewer_id: int) -> Any:
    group = [F("message_id"), F("emoji")]
    mine = Case(
        When(user_id=viewer_id, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return (
        Reaction.objects.filter(message_id__in=message_ids)
        .annotate(
            total=Window(Count("id"), partition_by=group),
            first_id=Window(Min("id"), partition_by=group),
            is_mine=Window(Max(mine), partition_by=group),
            rank=Window(RowNumber(), partition_by=group, order_by=F("id").asc()),
        )
        .filter(rank__lte=NAMES_MAX)
        .order_by("message_id", "first_id", "id")
        .values_list("message_id", "emoji", "total", "is_mine", "user_id", "user__display_name")
    )


SUMMARY_ROWS = CompiledRows(_summary_rows)


def summaries(message_ids: Iterable[int], viewer: Any) -> dict[int, list[ReactionSummary]]:
    """Message id -> its reactions as `viewer` sees them (`mine`: the viewer's own;
    `viewer` None: nobody's, for frames shared by every subscriber). One query: each
    row carries its (message, emoji) group's count and whether the viewer is in it,
    and only the first `NAMES_MAX` rows of a group come back."""
    ids = list(message_ids)
    if not ids:
        return {}
    viewer_id = getattr(viewer, "pk", None) if viewer is not None else None
    # Nobody has the id 0: nothing is "mine" for frames shared by every subscriber.
    rows = SUMMARY_ROWS.rows(ids, viewer_id or 0)
    result: dict[int, list[ReactionSummary]] = {}
    current: dict[tuple[int, str], ReactionSummary] = {}
    for message_id, emoji, total, is_mine, user_id, name in rows:
        summary = current.get((message_id, emoji))
        if summary is None:
            summary = {
                "emoji": emoji,
                "count": int(total),
                "mine": bool(is_mine) and viewer_id is not None,
                "users": [],
            }
            current[(message_id, emoji)] = summary
            result.setdefault(message_id, []).append(summary)
        summary["users"].append({"id": user_id, "display_name": name})
    return result


def attach_reactions(messages: Iterable[Message], viewer: Any) -> None:
    """Set each message's reactions as `viewer` sees them, for `message_payload`."""
    messages = list(messages)
    found = summaries((m.pk for m in messages if m.deleted_at is None), viewer)
    for message in messages:
        setattr(message, REACTIONS_ATTR, found.get(message.pk, []))
