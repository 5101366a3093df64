"""Every read of conversations and messages goes through here (docs/architecture.md, rule 3).

A missing conversation or message and a forbidden one give the same `forbidden`
error, so nobody can probe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Block
from chat.compiled import CompiledRows
from chat.models import Attachment, Conversation, Message, MessageReport, Participant
from realtime.errors import ClientError, forbidden

HISTORY_PAGE_MAX = 200


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def open_to_readers(readable_by_all: bool, kind: str) -> bool:
    """The rule of every gate here: an open group's conversation may be read by anyone
    signed in and active; any other only by the people taking part."""
    return readable_by_all and kind == Conversation.Kind.GROUP


def can_read(user: Any, conversation: Conversation) -> bool:
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if open_to_readers(conversation.readable_by_all, conversation.kind):
        return True
    return Participant.objects.filter(conversation=conversation, user=user).exists()


@dataclass
class ConversationAccess:
    """What `access_conversation` fetched: the conversation and the caller's
    participant row (None for a reader of an open group who does not take part), so
    no caller queries its participation again."""

    conversation: Conversation
    participant: Participant | None

    @property
    def can_write(self) -> bool:
        return self.participant is not None


def access_conversation(user: Any, conversation_id: Any) -> ConversationAccess:
    """The conversation and the caller's participation if `user` may read it, else
    `forbidden` (also when missing)."""
    if not is_id(conversation_id) or not user.is_authenticated or not user.is_active:
        raise forbidden()
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise forbidden()
    participant = Participant.objects.filter(conversation=conversation, user=user).first()
    if participant is None and not open_to_readers(conversation.readable_by_all, conversation.kind):
        raise forbidden()
    return ConversationAccess(conversation, participant)


@dataclass(frozen=True)
class SubscriptionAccess:
    """What a WebSocket `subscribe` needs to know of a conversation it may read."""

    last_seq: int
    # Takes part (may write); False for a reader of an open group.
    can_write: bool


SUBSCRIPTION_ROW = CompiledRows(
    lambda conversation_id, user_id: (
        Conversation.objects.filter(pk=conversation_id)
        .annotate(
            takes_part=Exists(
                Participant.objects.filter(conversation_id=OuterRef("pk"), user_id=user_id)
            )
        )
        .values_list("last_seq", "readable_by_all", "kind", "takes_part")
    )
)


def access_subscription(user: Any, conversation_id: Any) -> SubscriptionAccess:
    """`access_conversation`'s decision in one query (the conversation with whether
    `user` takes part), for the catch-up of every reconnect: `forbidden` unless
    `user` takes part or it is an open group (also when missing)."""
    if not is_id(conversation_id) or not user.is_authenticated or not user.is_active:
        raise forbidden()
    found = SUBSCRIPTION_ROW.rows(conversation_id, user.pk)
    if not found:
        raise forbidden()
    last_seq, readable_by_all, kind, takes_part = found[0]
    if not takes_part and not open_to_readers(readable_by_all, kind):
        raise forbidden()
    return SubscriptionAccess(last_seq=last_seq, can_write=bool(takes_part))


@dataclass
class ReactionTarget:
    """What `access_message_to_react` fetched: the message as a model instance with
    the fields a reaction's frame and ack read (no author, no body), and its
    conversation's kind."""

    message: Message
    kind: str


REACTION_TARGET_ROW = CompiledRows(
    lambda message_id, user_id: (
        Message.objects.filter(pk=message_id)
        .annotate(
            takes_part=Exists(
                Participant.objects.filter(
                    conversation_id=OuterRef("conversation_id"), user_id=user_id
                )
            )
        )
        .values_list(
            "conversation_id",
            "seq",
            "deleted_at",
            "hidden_at",
            "conversation__kind",
            "conversation__read_only",
            "takes_part",
        )
    )
)


def access_message_to_react(user: Any, message_id: Any) -> ReactionTarget:
    """A message `user` may react to, in one query compiled once (10 reactions a
    second beside a fan-out to a thousand; docs/performance.md): `forbidden` unless
    `user` takes part in its conversation and that is not archived (also when the
    message is missing: one answer for both, as `access_message`). Whether it was
    deleted and the direct conversations' blocks are the caller's to check."""
    if not is_id(message_id) or not user.is_authenticated or not user.is_active:
        raise forbidden()
    found = REACTION_TARGET_ROW.rows(message_id, user.pk)
    if not found:
        raise forbidden()
    conversation_id, seq, deleted_at, hidden_at, kind, read_only, takes_part = found[0]
    if not takes_part or read_only:
        raise forbidden()
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        seq=seq,
        deleted_at=deleted_at,
        hidden_at=hidden_at,
    )
    return ReactionTarget(message=message, kind=kind)


def access_conversation_for_writing(user: Any, conversation_id: Any) -> ConversationAccess:
    """As `access_conversation`, for a participant (may write) only, else `forbidden`."""
    access = access_conversation(user, conversation_id)
    if access.participant is None:
        raise forbidden()
    return access


def takes_part(user: Any, conversation_id: int) -> bool:
    return Participant.objects.filter(conversation_id=conversation_id, user=user).exists()


def may_still_read(user: Any, conversation_id: int) -> bool:
    try:
        access_conversation(user, conversation_id)
    except ClientError:
        return False
    return True


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


def direct_key_for(user_a: int, *others: int) -> str:
    """The unique key of the direct conversation of exactly these people, in any
    order: their sorted ids joined by ":" ("3:17" for a pair, "3:9:17" for three)."""
    return ":".join(str(user_id) for user_id in sorted({user_a, *others}))


def presence_visible_ids(viewer: Any, user_ids: Sequence[int]) -> list[int]:
    """Whose presence `viewer` may see among `user_ids` (given order, once each):
    oneself, and active people who share a conversation with the viewer (a group's
    or a direct one), have not switched presence off and have no block with the
    viewer in either direction. Everyone else is left out without a word: the
    answer is the same for a stranger and for an id that does not exist. Two
    queries, whatever the number of ids."""
    return presence_watchable_ids(viewer, user_ids)[0]


def presence_watchable_ids(viewer: Any, user_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """`presence_visible_ids`, and beside it the people it leaves out only because
    they switched presence off (every other condition holds). A socket watches
    those too without being told anything of them, so that switching presence on
    again reaches it live (docs/presence.md). Two queries, whatever the number."""
    if not viewer.is_authenticated:
        return [], []
    if not viewer.is_active:
        return [], []
    wanted = list(dict.fromkeys(user_ids))
    others = [user_id for user_id in wanted if user_id != viewer.pk]
    shows = dict(
        Participant.objects.filter(
            user_id__in=others,
            user__is_active=True,
            conversation__participants__user=viewer,
        ).values_list("user_id", "user__show_presence")
    )
    if shows:
        for blocker, blocked in Block.objects.filter(
            Q(blocker=viewer, blocked_id__in=shows) | Q(blocked=viewer, blocker_id__in=shows)
        ).values_list("blocker_id", "blocked_id"):
            shows.pop(blocked if blocker == viewer.pk else blocker, None)
    visible = [user_id for user_id in wanted if user_id == viewer.pk or shows.get(user_id)]
    hidden = [user_id for user_id in wanted if shows.get(user_id) is False]
    return visible, hidden


def mention_candidates(conversation_id: int, *, exclude_user: Any) -> list[Participant]:
    """The participants a message in the conversation may mention, with their names."""
    return list(
        Participant.objects.filter(conversation_id=conversation_id, user__is_active=True)
        .exclude(user=exclude_user)
        .select_related("user")
        .only(
            "user_id",
            "notification_level",
            "user__display_name",
            "user__is_active",
            "user__email",
            "user__email_frequency",
        )
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
    messages = Message.objects.filter(conversation=conversation).select_related(
        "author", "reply_to__author"
    )
    # The page's attachments in one more query (chat/attachments.py).
    messages = messages.prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("position", "pk"))
    )
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


HELLO_ROWS = CompiledRows(
    lambda user_id: (
        Participant.objects.filter(user_id=user_id)
        .order_by(
            F("conversation__last_message_at").desc(nulls_last=True), "-conversation__created_at"
        )
        .values_list(
            "conversation_id",
            "conversation__kind",
            "conversation__title",
            "conversation__last_seq",
            "last_read_seq",
        )
    )
)
# The names of the others in the person's direct conversations.
HELLO_DIRECT_NAMES = CompiledRows(
    lambda user_id: (
        Participant.objects.filter(
            conversation__kind=Conversation.Kind.DIRECT,
            conversation_id__in=Participant.objects.filter(user_id=user_id).values(
                "conversation_id"
            ),
        )
        .exclude(user_id=user_id)
        .values_list("conversation_id", "user__display_name")
    )
)


def hello_conversations(user: Any) -> list[dict[str, Any]]:
    """The conversations of the WebSocket `hello` frame: `conversations_of`'s order,
    titles and read markers without its counts, read as rows (every handshake runs
    this; no model instances, no query compiled). One query, a second when there are
    direct ones."""
    rows = HELLO_ROWS.rows(user.pk)
    names: dict[int, list[str]] = {}
    if any(row[1] == Conversation.Kind.DIRECT for row in rows):
        for conversation_id, name in HELLO_DIRECT_NAMES.rows(user.pk):
            names.setdefault(conversation_id, []).append(name)
    return [
        {
            "id": conversation_id,
            "kind": kind,
            "title": (
                direct_title(names.get(conversation_id, []))
                if kind == Conversation.Kind.DIRECT
                else title
            ),
            "last_seq": last_seq,
            "last_read_seq": min(last_read_seq, last_seq),
        }
        for conversation_id, kind, title, last_seq, last_read_seq in rows
    ]


def conversation_title(conversation: Conversation, viewer: Any) -> str:
    """A group conversation's own title; for a direct one the names of the others."""
    if conversation.kind != Conversation.Kind.DIRECT:
        return conversation.title
    others = getattr(conversation, "other_participants", None)
    if others is None:
        others = list(
            Participant.objects.filter(conversation=conversation)
            .exclude(user=viewer)
            .select_related("user")
        )
    return direct_title([other.user.display_name for other in others])


def direct_title(names: list[str]) -> str:
    """The others' names, alphabetically: "Anna Becker", "Anna Becker und Bernd
    Kaiser", "Anna Becker, Bernd Kaiser und Carla Wolf"."""
    if not names:
        return "Direktnachricht"
    ordered = sorted(names, key=str.casefold)
    if len(ordered) == 1:
        return ordered[0]
    return ", ".join(ordered[:-1]) + " und " + ordered[-1]


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


@dataclass
class ReportedMessage:
    """A message with open reports, as its conversation's moderators see it: the text
    as first reported, how many reported it and their reasons, never who."""

    message: Message
    body: str
    count: int
    reasons: list[str]
    first_reported_at: Any


def open_reports_in(conversation_id: int) -> list[ReportedMessage]:
    """The messages of one conversation with open reports, oldest report first. For
    the callers that checked the moderator's right (the groups' access functions)."""
    reports = (
        MessageReport.objects.filter(
            status=MessageReport.Status.OPEN, message__conversation_id=conversation_id
        )
        .select_related("message__author")
        .order_by("created_at", "id")
    )
    by_message: dict[int, ReportedMessage] = {}
    for report in reports:
        entry = by_message.get(report.message_id)
        if entry is None:
            entry = by_message[report.message_id] = ReportedMessage(
                message=report.message,
                body=report.body_snapshot,
                count=0,
                reasons=[],
                first_reported_at=report.created_at,
            )
        entry.count += 1
        if report.reason:
            entry.reasons.append(report.reason)
    return list(by_message.values())


def open_report_count(conversation_id: int) -> int:
    """How many messages of the conversation wait for a moderator's decision."""
    return (
        Message.objects.filter(
            conversation_id=conversation_id, reports__status=MessageReport.Status.OPEN
        )
        .distinct()
        .count()
    )
