"""Every state change of conversations and messages (docs/architecture.md, rule 1).

The WebSocket consumer, the HTTP API, the admin and the demo seeding all call these
functions; each validates, writes inside one short transaction and publishes its
frames only after the commit (`realtime.publish.publish_on_commit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.access import is_blocked_between
from accounts.models import User
from accounts.throttle import limit_action
from chat.access import access_message, direct_key_for, is_id, mention_candidates
from chat.events import (
    author_payload,
    message_deleted_frame,
    message_frame,
    post_updated_frame,
    read_frame,
)
from chat.models import Conversation, Message, MessageReport, NotificationLevel, Participant
from notifications.actions import do_mark_read_by_key, do_notify
from notifications.models import Notification
from realtime.errors import ClientError, forbidden
from realtime.frames import conversation_topic, user_topic
from realtime.publish import publish_all_on_commit, publish_on_commit
from realtime.text import is_storable

CLIENT_ID_MAX_CHARS = 64
REPORT_REASON_MAX_CHARS = 1000
PREVIEW_CHARS = 140


def do_create_group_conversation(*, title: str, readable_by_all: bool) -> Conversation:
    """Create the conversation a group owns. Called by the groups actions only."""
    return Conversation.objects.create(
        kind=Conversation.Kind.GROUP, title=title, readable_by_all=readable_by_all
    )


def do_update_group_conversation(
    *, conversation: Conversation, title: str, readable_by_all: bool, read_only: bool = False
) -> None:
    """Keep a group conversation's title, readability and whether it takes messages
    (`read_only`: an archived group) in step with its group.

    When a group closes, non-participants lose read access: every open socket is told
    to drop the conversation (the consumer re-checks access on `_access_changed`)."""
    became_closed = conversation.readable_by_all and not readable_by_all
    Conversation.objects.filter(pk=conversation.pk).update(
        title=title, readable_by_all=readable_by_all, read_only=read_only
    )
    conversation.title = title
    conversation.readable_by_all = readable_by_all
    conversation.read_only = read_only
    if became_closed:
        publish_on_commit(
            conversation_topic(conversation.pk),
            {"type": "_access_changed", "conversation": conversation.pk},
        )


def do_add_participant(*, conversation: Conversation, user: Any) -> Participant:
    """Make `user` a participant (may write). Idempotent. Moves the read marker to
    the current end, so a newcomer does not start with the whole history unread."""
    participant, _ = Participant.objects.get_or_create(
        conversation=conversation,
        user=user,
        defaults={"last_read_seq": conversation.last_seq, "joined_at": timezone.now()},
    )
    return participant


def do_remove_participant(*, conversation: Conversation, user: Any) -> None:
    """Remove `user` from the conversation. Their open sockets stop receiving it at
    once: a `_access_changed` control frame on the user's topic makes each consumer
    re-check access and drop the subscription."""
    with transaction.atomic():
        Participant.objects.filter(conversation=conversation, user=user).delete()
        publish_on_commit(
            user_topic(user.pk), {"type": "_access_changed", "conversation": conversation.pk}
        )


def do_set_moderator(*, conversation: Conversation, user: Any, can_moderate: bool) -> None:
    """Let `user` delete others' messages in `conversation` (or stop it). Called by the
    groups actions whenever a member becomes or stops being owner or admin. No event."""
    Participant.objects.filter(conversation=conversation, user=user).update(
        can_moderate=can_moderate
    )


def do_set_notification_level(*, conversation: Conversation, user: Any, level: str) -> None:
    """Set how much of `conversation` notifies `user`: all, mentions only, or muted
    (a muted conversation sends no mention notifications). Called by the groups
    actions for a member's own choice. No event."""
    if level not in NotificationLevel.values:
        raise ClientError(
            "bad_request", "Unbekannte Benachrichtigungsstufe.", fields={"level": ["Ungültig."]}
        )
    Participant.objects.filter(conversation=conversation, user=user).update(
        notification_level=level
    )


def clean_body(body: Any) -> str:
    """Plain text, not blank, at most `NETZN_MESSAGE_MAX_CHARS` characters, nothing
    a database cannot store (NUL, a lone surrogate: `realtime.text`)."""
    if not isinstance(body, str):
        raise ClientError("bad_request", "Der Text fehlt.", fields={"body": ["Text erwartet."]})
    if len(body) > settings.NETZN_MESSAGE_MAX_CHARS:
        raise ClientError(
            "too_large",
            f"Eine Nachricht hat höchstens {settings.NETZN_MESSAGE_MAX_CHARS} Zeichen.",
            fields={"body": ["Zu lang."]},
        )
    if not is_storable(body):
        raise ClientError(
            "bad_request", "Ungültiges Zeichen im Text.", fields={"body": ["Ungültig."]}
        )
    if not body.strip():
        raise ClientError(
            "bad_request", "Die Nachricht ist leer.", fields={"body": ["Darf nicht leer sein."]}
        )
    return body


def clean_client_id(client_id: Any) -> str:
    if (
        not isinstance(client_id, str)
        or not client_id.strip()
        or len(client_id) > CLIENT_ID_MAX_CHARS
        or not is_storable(client_id)
    ):
        raise ClientError(
            "bad_request",
            f"client_id muss eine Zeichenkette mit 1 bis {CLIENT_ID_MAX_CHARS} Zeichen sein.",
            fields={"client_id": ["Ungültig."]},
        )
    return client_id


@dataclass
class SendRequest:
    """One `send` (see `do_send_messages`)."""

    actor: Any
    body: Any
    client_id: Any
    # The card of a board post this message shows (set by the board actions only;
    # clients cannot send it). See docs/board.md.
    post: dict[str, Any] | None = None


SendResult = tuple[Message, bool] | ClientError


def do_send_message(
    *,
    actor: Any,
    conversation_id: Any,
    body: Any,
    client_id: Any,
    post: dict[str, Any] | None = None,
) -> tuple[Message, bool]:
    """Store a message from `actor` and return `(message, created)`: a batch of one
    of `do_send_messages` (who may send, the events emitted: see there). Raises the
    `ClientError` of a refused send. `post`: the card of a board post the message
    shows (board actions only)."""
    (result,) = do_send_messages(
        conversation_id=conversation_id,
        sends=[SendRequest(actor=actor, body=body, client_id=client_id, post=post)],
    )
    if isinstance(result, ClientError):
        raise result
    return result


# Attempts of a batch that met a concurrent change between its checks and its writes
# (a racing retry of the same client_id, a participant removed meanwhile).
SEND_ATTEMPTS = 3


def do_send_messages(*, conversation_id: Any, sends: list[SendRequest]) -> list[SendResult]:
    """Store sends to one conversation in one short transaction (group commit: the
    WebSocket consumer batches the sends that queue up behind each other; every other
    caller sends a batch of one through `do_send_message`). The one send path, the
    same on PostgreSQL and SQLite.

    Each result is `(message, created)` or the `ClientError` of that send alone: a
    send is refused (`forbidden`) unless its author is active and takes part in the
    conversation, the conversation takes messages (not archived) and, in a direct
    conversation, the other person is active and neither blocked the other; bodies
    and client ids are validated one by one before anything is written, so one bad
    send never fails the others. Seqs are `last_seq + 1, + 2, ...` in the order of
    `sends`, taken under the conversation's row lock in the storing transaction:
    every conversation numbers 1, 2, 3, ... without gaps. Each author's read marker
    moves to their newest message. Idempotent on (author, client_id): a retry, also
    one repeated inside the batch, returns the stored message with `created=False`
    and stores and publishes nothing; a client_id already used in another
    conversation is a `conflict`.

    Emits after the commit: `message` on `conv:<id>` for each stored message (one
    Redis round trip for the batch); in a direct conversation a `direct_message`
    notification to the other person (one per unread stretch); in a group `mention`
    notifications to mentioned participants who did not mute it."""
    results: list[SendResult | None] = [None] * len(sends)
    # The first send of each (author, client_id); later ones answer as its retry.
    first_of: dict[tuple[int, str], int] = {}
    repeats: dict[int, int] = {}
    checked: list[_Send] = []
    for index, send in enumerate(sends):
        try:
            if not is_id(conversation_id) or not send.actor.is_active:
                raise forbidden()
            body = clean_body(send.body)
            client_id = clean_client_id(send.client_id)
        except ClientError as error:
            results[index] = error
            continue
        key = (send.actor.pk, client_id)
        if key in first_of:
            repeats[index] = first_of[key]
            continue
        first_of[key] = index
        checked.append(
            _Send(index=index, actor=send.actor, body=body, client_id=client_id, post=send.post)
        )
    if checked:
        _store_checked(conversation_id, checked, results)
    for index, first in repeats.items():
        result = results[first]
        assert result is not None
        results[index] = result if isinstance(result, ClientError) else (result[0], False)
    answered = [result for result in results if result is not None]
    assert len(answered) == len(sends)
    return answered


@dataclass
class _Send:
    index: int
    actor: Any
    body: str
    client_id: str
    post: dict[str, Any] | None = None


class _ChangedMeanwhile(Exception):
    """What the batch checked before taking the lock no longer holds: check again."""


def _store_checked(conversation_id: int, sends: list[_Send], results: list[Any]) -> None:
    for attempt in range(SEND_ATTEMPTS):
        try:
            results_by_index = _store(conversation_id, sends)
        except (_ChangedMeanwhile, IntegrityError):
            if attempt + 1 < SEND_ATTEMPTS:
                continue
            if len(sends) == 1:
                raise
            # Something keeps failing the batch: each send on its own, so whatever
            # it is fails only the send that causes it.
            for send in sends:
                _store_checked(conversation_id, [send], results)
            return
        for index, result in results_by_index.items():
            results[index] = result
        return


# Per send: does its author take part, and which message (of which conversation)
# holds its (author, client_id) already. One statement for the whole batch, the same
# on PostgreSQL and SQLite (a VALUES list, no arrays); no lock is taken.
CHECK_SENDS_SQL = """
WITH v(ord, author_id, client_id) AS (VALUES {values})
SELECT v.ord, c.kind, c.title, c.read_only,
    EXISTS (SELECT 1 FROM chat_participant p
            WHERE p.conversation_id = c.id AND p.user_id = v.author_id),
    e.id, e.conversation_id
FROM v
JOIN chat_conversation c ON c.id = %s
LEFT JOIN chat_message e ON e.author_id = v.author_id AND e.client_id = v.client_id
ORDER BY v.ord
"""

# Takes the batch's seqs and locks the conversation row until the commit: from here
# on the transaction holds the lock for two more statements (the insert, the read
# markers), never for a check. Raw SQL: the ORM has no UPDATE ... RETURNING.
TAKE_SEQS_SQL = (
    "UPDATE chat_conversation SET last_seq = last_seq + %s, last_message_at = %s "
    "WHERE id = %s AND NOT read_only RETURNING last_seq"
)


# Moves each author's read marker to their newest message of the batch (never back).
# Raw SQL: the ORM's form (a Case with one When per author) took more Python time
# than the whole rest of a batch. No WITH: Python's sqlite3 reports a rowcount only
# for statements that start as DML. VALUES columns are column1, column2 on both.
MOVE_MARKERS_SQL = (
    "UPDATE chat_participant SET last_read_seq = CASE"
    " WHEN v.column2 > chat_participant.last_read_seq THEN v.column2"
    " ELSE chat_participant.last_read_seq END"
    " FROM (VALUES {values}) AS v"
    " WHERE chat_participant.conversation_id = %s AND chat_participant.user_id = v.column1"
)


def _store(conversation_id: int, sends: list[_Send]) -> dict[int, SendResult]:
    values = ", ".join(["(%s, %s, %s)"] * len(sends))
    params: list[Any] = []
    for position, send in enumerate(sends):
        params += [position, send.actor.pk, send.client_id]
    with connection.cursor() as cursor:
        cursor.execute(CHECK_SENDS_SQL.format(values=values), [*params, conversation_id])
        rows = cursor.fetchall()
    if not rows:
        return {send.index: forbidden() for send in sends}
    kind, title, read_only = rows[0][1], rows[0][2], bool(rows[0][3])
    results: dict[int, SendResult] = {}
    retries: dict[int, int] = {}
    new: list[_Send] = []
    for send, (_, _, _, _, participant, stored_id, stored_in) in zip(sends, rows, strict=True):
        if stored_id is not None:
            if stored_in != conversation_id:
                results[send.index] = ClientError(
                    "conflict",
                    "Diese client_id wurde schon für eine andere Unterhaltung verwendet.",
                    fields={"client_id": ["Bereits verwendet."]},
                )
            else:
                retries[send.index] = stored_id
        elif not participant or read_only:
            results[send.index] = forbidden()
        else:
            new.append(send)
    if retries:
        stored = Message.objects.select_related("author").in_bulk(list(retries.values()))
        for index, message_id in retries.items():
            results[index] = (stored[message_id], False)
    recipients: dict[int, Participant] = {}
    if new and kind == Conversation.Kind.DIRECT:
        recipients = _direct_recipients(conversation_id)
        if not recipients:
            for send in new:
                results[send.index] = forbidden()
            new = []
    if new:
        for send, message in zip(new, _write(conversation_id, new, title, recipients), strict=True):
            results[send.index] = (message, True)
    return results


def _direct_recipients(conversation_id: int) -> dict[int, Participant]:
    """Author id -> the other participant of a direct conversation; empty when a
    message may not be sent there (the other is inactive, or one blocked the other)."""
    pair = list(Participant.objects.select_related("user").filter(conversation_id=conversation_id))
    if len(pair) != 2 or not all(p.user.is_active for p in pair):
        return {}
    first, second = pair
    if is_blocked_between(first.user, second.user):
        return {}
    return {first.user_id: second, second.user_id: first}


def _write(
    conversation_id: int, sends: list[_Send], title: str, recipients: dict[int, Participant]
) -> list[Message]:
    now = timezone.now()
    with transaction.atomic():
        # Lock order: conversation, then participant rows (docs/architecture.md, rule 5).
        with connection.cursor() as cursor:
            cursor.execute(
                TAKE_SEQS_SQL,
                [len(sends), connection.ops.adapt_datetimefield_value(now), conversation_id],
            )
            row = cursor.fetchone()
        if row is None:
            raise _ChangedMeanwhile  # archived meanwhile: the next check refuses it
        first_seq = int(row[0]) - len(sends) + 1
        messages = Message.objects.bulk_create(
            [
                Message(
                    conversation_id=conversation_id,
                    seq=first_seq + position,
                    author=send.actor,
                    body=send.body,
                    client_id=send.client_id,
                    created_at=now,
                    post=send.post,
                )
                for position, send in enumerate(sends)
            ]
        )
        newest = {message.author_id: message.seq for message in messages}
        with connection.cursor() as cursor:
            cursor.execute(
                MOVE_MARKERS_SQL.format(values=", ".join(["(%s, %s)"] * len(newest))),
                [*(value for item in newest.items() for value in item), conversation_id],
            )
            moved = cursor.rowcount
        # Moving the read markers doubles as the participation check under the lock:
        # someone removed since the check rolls the batch back and it is checked again.
        if moved != len(newest):
            raise _ChangedMeanwhile
        # The batch's message frames go out together (one Redis round trip), before
        # the notifications that point at them.
        publish_all_on_commit(
            conversation_topic(conversation_id), [message_frame(m) for m in messages]
        )
        markers = {p.user_id: p.last_read_seq for p in recipients.values()}
        for message in messages:
            author_id = message.author_id
            assert author_id is not None  # only a deleted account's messages have none
            recipient = recipients.get(author_id)
            if recipient is not None:
                # The recipient's marker as a one-by-one send would have seen it:
                # their own earlier messages of the batch moved it.
                recipient.last_read_seq = markers.get(recipient.user_id, 0)
                _notify_direct_message(message, recipient)
                markers[author_id] = message.seq
            elif "@" in message.body:
                _notify_mentions(message, message.author, title)
    return messages


def preview(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def author_ref(user: Any) -> dict[str, Any]:
    payload = author_payload(user)
    return {"id": payload["id"], "display_name": payload["display_name"]}


def _notify_direct_message(message: Message, recipient: Participant) -> None:
    """One `direct_message` notification per conversation and unread stretch: while the
    recipient has an unread one for this conversation, later messages join it. Once it
    is read (in the conversation, or only in the notification centre while the
    conversation itself stays unread), the next message starts a new stretch keyed by
    its own seq, so it toasts and counts again. The send holds the conversation's row
    lock, so two messages cannot both start a stretch."""
    prefix = f"dm:{message.conversation_id}:"
    if Notification.objects.filter(
        recipient=recipient.user, dedupe_key__startswith=prefix, read_at__isnull=True
    ).exists():
        return
    do_notify(
        recipient=recipient.user,
        kind="direct_message",
        data={
            "conversation": message.conversation_id,
            "message": message.pk,
            "seq": message.seq,
            "author": author_ref(message.author),
            "preview": preview(message.body),
        },
        dedupe_key=f"{prefix}{message.seq}",
    )


MENTION_BOUNDARY = re.compile(r"\w", re.UNICODE)


def find_mentions(body: str, names: dict[int, str]) -> set[int]:
    """The user ids whose display name follows an `@` in `body`.

    Longest match wins ("@Anna Becker-Schulz" is not "@Anna Becker"), case does not
    matter, and a name must end at a word boundary ("@Annabel" is not "@Anna")."""
    folded = body.casefold()
    candidates = sorted(
        ((name.casefold(), user_id) for user_id, name in names.items() if name.strip()),
        key=lambda item: len(item[0]),
        reverse=True,
    )
    found: set[int] = set()
    start = folded.find("@")
    while start != -1:
        rest = folded[start + 1 :]
        for name, user_id in candidates:
            if not rest.startswith(name):
                continue
            after = rest[len(name) : len(name) + 1]
            if after and MENTION_BOUNDARY.match(after):
                continue
            found.add(user_id)
            break
        start = folded.find("@", start + 1)
    return found


def _notify_mentions(message: Message, actor: Any, title: str) -> None:
    """`mention` notifications for participants named after an `@` who did not mute
    the conversation. Non-participants and unknown names notify nobody."""
    participants = mention_candidates(message.conversation_id, exclude_user=actor)
    names = {participant.user_id: participant.user.display_name for participant in participants}
    mentioned = find_mentions(message.body, names)
    for participant in participants:
        if participant.user_id not in mentioned:
            continue
        if participant.notification_level == NotificationLevel.MUTED:
            continue
        do_notify(
            recipient=participant.user,
            kind="mention",
            data={
                "conversation": message.conversation_id,
                "conversation_title": title,
                "message": message.pk,
                "seq": message.seq,
                "author": {"id": actor.pk, "display_name": actor.display_name},
                "preview": preview(message.body),
            },
            dedupe_key=f"mention:{message.conversation_id}:{message.pk}",
        )


def do_edit_message(*, actor: Any, message_id: Any, body: Any) -> Message:
    """Change the text of `actor`'s own message (while still a participant; not once
    deleted). Emits `message_edited` on `conv:<id>` after the commit."""
    body = clean_body(body)
    with transaction.atomic():
        message = access_message(actor, message_id, for_update=True)
        if message.author_id != actor.pk:
            raise forbidden()
        if not Participant.objects.filter(
            conversation_id=message.conversation_id, user=actor
        ).exists():
            raise forbidden()
        if message.deleted_at is not None:
            raise ClientError("conflict", "Die Nachricht wurde gelöscht.")
        if message.body == body:
            return message
        message.body = body
        message.edited_at = timezone.now()
        message.save(update_fields=["body", "edited_at"])
        publish_on_commit(
            conversation_topic(message.conversation_id), message_frame(message, "message_edited")
        )
    return message


def do_delete_message(*, actor: Any, message_id: Any) -> Message:
    """Delete a message: its author, or a moderator of the conversation (group owners
    and admins). The message keeps its seq and shows as deleted; its text is erased
    (a report keeps its own copy). Idempotent. Emits `message_deleted` on
    `conv:<id>` after the commit."""
    with transaction.atomic():
        message = access_message(actor, message_id, for_update=True)
        membership = Participant.objects.filter(
            conversation_id=message.conversation_id, user=actor
        ).first()
        if membership is None:
            raise forbidden()
        if message.author_id != actor.pk and not membership.can_moderate:
            raise forbidden()
        _erase(message)
    return message


def _erase(message: Message) -> None:
    """Mark a (locked) message deleted, keeping its seq and dropping its text; emit
    `message_deleted` after the commit. Nothing happens to one already deleted."""
    if message.deleted_at is not None:
        return
    message.deleted_at = timezone.now()
    message.body = ""
    message.save(update_fields=["deleted_at", "body"])
    publish_on_commit(conversation_topic(message.conversation_id), message_deleted_frame(message))


def erase_messages_of(user: Any) -> None:
    """Account deletion with "delete my messages too": every message of `user` is
    erased as a delete would (text gone, seq kept, `message_deleted` after the
    commit). Called by the deletion action only."""
    for message in Message.objects.select_for_update().filter(author=user, deleted_at=None):
        _erase(message)


def do_delete_message_as_operator(*, actor: Any, message_id: int) -> Message:
    """Delete a reported message from the moderation queue: platform staff only, and
    only a message that someone reported (the operator reads nothing else). Emits
    `message_deleted` on `conv:<id>` after the commit."""
    if not actor.is_staff:
        raise forbidden()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .filter(pk=message_id, reports__isnull=False)
            .first()
        )
        if message is None:
            raise forbidden()
        _erase(message)
    return message


def do_mark_read(*, actor: Any, conversation: Conversation, seq: Any) -> int:
    """Move `actor`'s read marker in `conversation` (already access-checked) forward to
    `seq` (capped at the last message); never back. Returns the marker.

    A reader who is no participant (an open group they look at) has no marker: 0.
    Emits `read` on `user:<actor>` when the marker moved, so the person's other tabs
    follow; when everything is read, the conversation's direct-message and mention
    notifications are marked read too."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ClientError("bad_request", "seq muss eine ganze Zahl ≥ 0 sein.")
    with transaction.atomic():
        last_seq = Conversation.objects.values_list("last_seq", flat=True).get(pk=conversation.pk)
        target = min(seq, last_seq)
        moved = Participant.objects.filter(
            conversation=conversation, user=actor, last_read_seq__lt=target
        ).update(last_read_seq=target)
        if not moved:
            current = (
                Participant.objects.filter(conversation=conversation, user=actor)
                .values_list("last_read_seq", flat=True)
                .first()
            )
            return current or 0
        publish_on_commit(user_topic(actor.pk), read_frame(conversation.pk, target))
        if target == last_seq:
            do_mark_read_by_key(recipient=actor, dedupe_key_prefix=f"dm:{conversation.pk}:")
            do_mark_read_by_key(recipient=actor, dedupe_key_prefix=f"mention:{conversation.pk}:")
    return target


def do_get_or_create_direct_conversation(
    *, actor: Any, other_user_id: Any
) -> tuple[Conversation, bool]:
    """The one direct conversation of `actor` and another active person, created on
    first use (safe when both open it at the same moment: `direct_key` is unique).
    Refused with `forbidden` when either blocked the other, and for unknown people,
    so a blocked person learns nothing more. No event."""
    if not isinstance(other_user_id, int) or isinstance(other_user_id, bool):
        raise forbidden()
    if other_user_id == actor.pk:
        raise ClientError("bad_request", "Eine Unterhaltung mit sich selbst ist nicht möglich.")
    other = User.objects.filter(pk=other_user_id, is_active=True).first()
    if other is None or not actor.is_active:
        raise forbidden()
    if is_blocked_between(actor, other):
        raise forbidden()
    key = direct_key_for(actor.pk, other.pk)
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=Conversation.Kind.DIRECT, title="", direct_key=key
            )
            Participant.objects.bulk_create(
                [
                    Participant(conversation=conversation, user=actor),
                    Participant(conversation=conversation, user=other),
                ]
            )
    except IntegrityError:
        # The other person (or another tab) created it a moment ago.
        return Conversation.objects.get(direct_key=key), False
    return conversation, True


def do_report_message(*, actor: Any, message_id: Any, reason: Any) -> tuple[MessageReport, bool]:
    """Report a message `actor` may read to the platform's moderation queue (Django's
    admin). One report per person and message: a repeat returns the first. The report
    keeps a copy of the text, so deleting the message does not destroy the evidence.
    No event."""
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > REPORT_REASON_MAX_CHARS:
        raise ClientError(
            "bad_request",
            f"Der Grund hat höchstens {REPORT_REASON_MAX_CHARS} Zeichen.",
            fields={"reason": ["Ungültig."]},
        )
    message = access_message(actor, message_id)
    if message.deleted_at is not None:
        raise ClientError("conflict", "Die Nachricht wurde bereits gelöscht.")
    if message.author_id == actor.pk:
        raise ClientError("bad_request", "Eigene Nachrichten können nicht gemeldet werden.")
    limit_action("report", actor.pk)
    try:
        with transaction.atomic():
            report = MessageReport.objects.create(
                message=message, reporter=actor, reason=reason.strip(), body_snapshot=message.body
            )
    except IntegrityError:
        return MessageReport.objects.get(message=message, reporter=actor), False
    return report, True


def do_resolve_report(*, actor: Any, report_ids: list[int], status: str) -> int:
    """Close open reports as resolved or dismissed. Called by the admin's moderation
    actions (staff only). Returns how many changed. No event."""
    if not actor.is_staff:
        raise forbidden()
    if status not in (MessageReport.Status.RESOLVED, MessageReport.Status.DISMISSED):
        raise ClientError("bad_request", "Unbekannter Status.")
    return MessageReport.objects.filter(
        Q(pk__in=report_ids), Q(status=MessageReport.Status.OPEN)
    ).update(status=status, resolved_at=timezone.now())


def do_update_post_card(*, message_ids: list[int], post: dict[str, Any]) -> None:
    """Replace the board-post card shown by these messages (the post's message in its
    group and the "Interesse" messages that refer to it). Called by the board actions
    inside their transaction, after they checked who may change the post. Emits
    `post_updated` on each message's `conv:<id>` after the commit."""
    messages = list(Message.objects.select_for_update().filter(pk__in=message_ids).order_by("pk"))
    for message in messages:
        message.post = post
        message.save(update_fields=["post"])
        publish_on_commit(conversation_topic(message.conversation_id), post_updated_frame(message))
