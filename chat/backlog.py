"""The catch-up of a WebSocket `subscribe` (docs/protocol.md, "Subscribing"): the
access decision and the missed messages as ready frames.

Every reconnect runs this once per conversation, so a storm of reconnects runs it
thousands of times a second: one query for access and participation
(`access_subscription`), one for the missed messages with their authors, the
messages they answer and whether they have reactions or attachments, then one for
the reactions and one for the attachments only when some of the messages have any
(most backlogs have neither: two statements of six per reconnect saved), the frames
built from the rows without model instances (`message_frame_of_row`, the same frames
as `message_frame`; docs/performance.md, "Catch-up: ORM instances for the backlog"),
every statement compiled once (`chat.compiled.CompiledRows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef

from chat.access import access_subscription
from chat.attachments import attachments_of
from chat.compiled import CompiledRows
from chat.events import MESSAGE_ROW_FIELDS, MessageFrame, message_frame_of_row
from chat.models import Attachment, Message, Reaction
from chat.reactions import summaries


@dataclass
class Backlog:
    # The missed messages' frames, ascending by seq, reactions as the viewer sees them.
    frames: list[MessageFrame]
    last_seq: int
    # More were missed than the backlog carries (the client fetches the rest over HTTP).
    truncated: bool
    can_write: bool


# The newest rows after a seq, one statement per backlog limit (the LIMIT is in it).
_MISSED_ROWS: dict[int, CompiledRows] = {}


def missed_rows(
    conversation_id: int, after: int, last_seq: int, limit: int
) -> list[dict[str, Any]]:
    """The newest `limit` messages with after < seq <= last_seq, newest first, each
    with `has_reactions` and `has_attachments`."""
    statement = _MISSED_ROWS.get(limit)
    if statement is None:
        statement = _MISSED_ROWS[limit] = CompiledRows(
            lambda conversation, lowest, highest: (
                Message.objects.filter(
                    conversation_id=conversation, seq__gt=lowest, seq__lte=highest
                )
                .annotate(
                    has_reactions=Exists(Reaction.objects.filter(message_id=OuterRef("pk"))),
                    has_attachments=Exists(Attachment.objects.filter(message_id=OuterRef("pk"))),
                )
                .order_by("-seq")
                .values(*MESSAGE_ROW_FIELDS, "has_reactions", "has_attachments")[:limit]
            )
        )
    return statement.dicts(conversation_id, after, last_seq)


def subscription_backlog(user: Any, conversation_id: int, after: int | None) -> Backlog:
    """What a subscribe of `user` with `after` (None: no catch-up) answers: the newest
    `NETZN_BACKLOG_LIMIT` messages after `after`, up to the conversation's last seq as
    read here. `forbidden` as `access_conversation` decides."""
    access = access_subscription(user, conversation_id)
    last_seq = access.last_seq
    if after is None or after >= last_seq:
        return Backlog(frames=[], last_seq=last_seq, truncated=False, can_write=access.can_write)
    limit = settings.NETZN_BACKLOG_LIMIT
    rows = missed_rows(conversation_id, after, last_seq, limit + 1)
    truncated = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    shown = [row for row in rows if row["deleted_at"] is None and row["hidden_at"] is None]
    reactions = summaries((row["id"] for row in shown if row["has_reactions"]), user)
    attachments = attachments_of([row["id"] for row in shown if row["has_attachments"]])
    frames = [
        message_frame_of_row(
            row,
            conversation_id=conversation_id,
            reactions=reactions.get(row["id"], []),
            attachments=attachments.get(row["id"], []),
        )
        for row in rows
    ]
    return Backlog(
        frames=frames, last_seq=last_seq, truncated=truncated, can_write=access.can_write
    )
