"""Every read of conversations and messages goes through here (docs/architecture.md, rule 3).

A missing conversation or message and a forbidden one give the same `forbidden`
error, so nobody can probe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet

from chat.models import Conversation, Message, Participant
from realtime.errors import ClientError, forbidden

HISTORY_PAGE_MAX = 200


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def can_read(user: Any, conversation: Conversation) -> bool:
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if conversation.readable_by_all and conversation.kind == Conversation.Kind.GROUP:
        return True
    return Participant.objects.filter(conversation=conversation, user=user).exists()


def access_conversation(user: Any, conversation_id: Any) -> Conversation:
    """The conversation if `user` may read it, else `forbidden` (also when missing)."""
    if not is_id(conversation_id):
        raise forbidden()
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise forbidden()
    if not can_read(user, conversation):
        raise forbidden()
    return conversation


def access_conversation_for_writing(user: Any, conversation_id: Any) -> Conversation:
    """The conversation if `user` is a participant (may write), else `forbidden`."""
    conversation = access_conversation(user, conversation_id)
    if not Participant.objects.filter(conversation=conversation, user=user).exists():
        raise forbidden()
    return conversation


def access_message(user: Any, message_id: Any, *, for_update: bool = False) -> Message:
    """A message in a conversation `user` may read, else `forbidden` (also missing)."""
    if not is_id(message_id):
        raise forbidden()
    messages = Message.objects.select_related("author", "conversation")
    if for_update:
        messages = messages.select_for_update(of=("self",))
    message = messages.filter(pk=message_id).first()
    if message is None:
        raise forbidden()
    if not can_read(user, message.conversation):
        raise forbidden()
    return message


def readable_conversations(user: Any) -> QuerySet[Conversation]:
    """Every conversation `user` may read: participations and open groups."""
    return Conversation.objects.filter(
        Q(participants__user=user) | Q(readable_by_all=True, kind=Conversation.Kind.GROUP)
    )


def direct_key_for(user_a: int, user_b: int) -> str:
    low, high = sorted((user_a, user_b))
    return f"{low}:{high}"


def mention_candidates(conversation_id: int, *, exclude_user: Any) -> list[Participant]:
    """The participants a message in the conversation may mention, with their names."""
    return list(
        Participant.objects.filter(conversation_id=conversation_id, user__is_active=True)
        .exclude(user=exclude_user)
        .select_related("user")
        .only("user_id", "notification_level", "user__display_name", "user__is_active")
    )


def parse_seq(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value >= 2**63:
        raise ClientError(
            "bad_request", f"{name} muss eine ganze Zahl ≥ 0 sein.", fields={name: ["Ungültig."]}
        )
    return value


@dataclass
class Page:
    messages: list[Message]
    last_seq: int
    # More messages exist on the far side of the page than it holds.
    truncated: bool


def messages_page(
    conversation: Conversation,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page:
    """One page of an (already access-checked) conversation, ascending by seq.

    `after` alone: the first `limit` after it; `before` alone: the last `limit` before
    it; neither: the newest `limit`; both: the newest `limit` in between. The same
    query serves the HTTP history and the WebSocket catch-up (it walks the
    (conversation, seq) index)."""
    messages = Message.objects.filter(conversation=conversation).select_related("author")
    if after is not None:
        messages = messages.filter(seq__gt=after)
    if before is not None:
        messages = messages.filter(seq__lt=before)
    newest_first = after is None or before is not None
    ordered = messages.order_by("-seq" if newest_first else "seq")
    rows = list(ordered[: limit + 1])
    truncated = len(rows) > limit
    rows = rows[:limit]
    if newest_first:
        rows.reverse()
    return Page(messages=rows, last_seq=conversation.last_seq, truncated=truncated)


def backlog(conversation: Conversation, after: int) -> Page:
    """What a subscriber missed since `after`: the newest `NETZN_BACKLOG_LIMIT` of it,
    with `truncated` when more were missed (the client fetches the rest over HTTP)."""
    if after >= conversation.last_seq:
        return Page(messages=[], last_seq=conversation.last_seq, truncated=False)
    return messages_page(
        conversation,
        after=after,
        before=conversation.last_seq + 1,
        limit=settings.NETZN_BACKLOG_LIMIT,
    )


def conversation_title(conversation: Conversation, viewer: Any) -> str:
    """A group conversation's own title; for a direct one the other person's name."""
    if conversation.kind != Conversation.Kind.DIRECT:
        return conversation.title
    others = getattr(conversation, "other_participants", None)
    if others is None:
        others = list(
            Participant.objects.filter(conversation=conversation)
            .exclude(user=viewer)
            .select_related("user")
        )
    return others[0].user.display_name if others else "Direktnachricht"


def conversations_of(user: Any) -> list[dict[str, Any]]:
    """The conversations `user` takes part in, newest activity first, with the read
    marker and unread count (messages after the marker; own messages move it)."""
    participations = list(
        Participant.objects.filter(user=user)
        .select_related("conversation")
        .order_by(
            F("conversation__last_message_at").desc(nulls_last=True), "-conversation__created_at"
        )
    )
    direct_ids = [
        p.conversation_id for p in participations if p.conversation.kind == Conversation.Kind.DIRECT
    ]
    others: dict[int, list[Participant]] = {}
    if direct_ids:
        for other in (
            Participant.objects.filter(conversation_id__in=direct_ids)
            .exclude(user=user)
            .select_related("user")
        ):
            others.setdefault(other.conversation_id, []).append(other)
    result = []
    for participant in participations:
        conversation = participant.conversation
        if conversation.kind == Conversation.Kind.DIRECT:
            conversation.other_participants = others.get(conversation.pk, [])  # type: ignore[attr-defined]
        last_read = min(participant.last_read_seq, conversation.last_seq)
        result.append(
            {
                "id": conversation.pk,
                "kind": conversation.kind,
                "title": conversation_title(conversation, user),
                "last_seq": conversation.last_seq,
                "last_read_seq": last_read,
                "unread_count": conversation.last_seq - last_read,
                "last_message_at": (
                    conversation.last_message_at.isoformat()
                    if conversation.last_message_at
                    else None
                ),
            }
        )
    return result
