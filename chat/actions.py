"""Every state change of conversations and messages (CONVENTIONS.md, rule 1).

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
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.access import is_blocked_between
from accounts.models import User
from chat.access import access_message, direct_key_for, mention_candidates
from chat.events import message_deleted_frame, message_frame, read_frame
from chat.models import Conversation, Message, MessageReport, NotificationLevel, Participant
from notifications.actions import do_mark_read_by_key, do_notify
from notifications.models import Notification
from realtime.errors import ClientError, forbidden
from realtime.frames import conversation_topic, user_topic
from realtime.publish import publish_all_on_commit, publish_on_commit

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
    """Plain text, not blank, at most `NETZN_MESSAGE_MAX_CHARS` characters."""
    if not isinstance(body, str):
        raise ClientError("bad_request", "Der Text fehlt.", fields={"body": ["Text erwartet."]})
    if len(body) > settings.NETZN_MESSAGE_MAX_CHARS:
        raise ClientError(
            "too_large",
            f"Eine Nachricht hat höchstens {settings.NETZN_MESSAGE_MAX_CHARS} Zeichen.",
            fields={"body": ["Zu lang."]},
        )
    if "\x00" in body:
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
        or "\x00" in client_id
    ):
        raise ClientError(
            "bad_request",
            f"client_id muss eine Zeichenkette mit 1 bis {CLIENT_ID_MAX_CHARS} Zeichen sein.",
            fields={"client_id": ["Ungültig."]},
        )
    return client_id


def _existing_send(actor: Any, conversation_id: int, client_id: str) -> Message | None:
    """The message an earlier send with this client_id stored, for a retry."""
    existing = (
        Message.objects.select_related("author").filter(author=actor, client_id=client_id).first()
    )
    if existing is None:
        return None
    if existing.conversation_id != conversation_id:
        raise ClientError(
            "conflict",
            "Diese client_id wurde schon für eine andere Unterhaltung verwendet.",
            fields={"client_id": ["Bereits verwendet."]},
        )
    return existing


def do_send_message(
    *, actor: Any, conversation_id: Any, body: Any, client_id: Any
) -> tuple[Message, bool]:
    """Store a message from `actor` (a participant of the conversation; in a direct
    conversation only while neither of the two blocked the other) and return
    `(message, created)`.

    The seq is `last_seq + 1`, taken under the conversation's row lock in the storing
    transaction, so every conversation numbers 1, 2, 3, ... without gaps. The sender's
    read marker moves to the new message. Idempotent on (author, client_id): a retry
    returns the stored message with `created=False`, stores and publishes nothing.

    Emits after the commit: `message` on `conv:<id>`; for a direct conversation a
    `direct_message` notification to the other person (one per unread stretch); for a
    group `mention` notifications to mentioned participants who did not mute it."""
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise forbidden()
    body = clean_body(body)
    client_id = clean_client_id(client_id)
    try:
        with transaction.atomic():
            message = _store_message(actor, conversation_id, body, client_id)
    except IntegrityError:
        # A concurrent (or earlier) send with the same client_id won the unique
        # constraint: this is a retry, answer with the stored message.
        existing = _existing_send(actor, conversation_id, client_id)
        if existing is None:
            raise
        return existing, False
    return message, True


# One statement takes the next seq and locks the conversation row until the commit:
# the lock is held for three short statements (this, the insert, the read marker).
NEXT_SEQ_SQL = (
    "UPDATE chat_conversation SET last_seq = last_seq + 1, last_message_at = %s "
    "WHERE id = %s AND NOT read_only RETURNING last_seq, kind"
)


def _store_message(actor: Any, conversation_id: int, body: str, client_id: str) -> Message:
    if not actor.is_active:
        raise forbidden()
    now = timezone.now()
    # Lock order: conversation, then participant rows (CONVENTIONS.md, rule 5).
    with connection.cursor() as cursor:
        cursor.execute(NEXT_SEQ_SQL, [now, conversation_id])
        row = cursor.fetchone()
    if row is None:
        raise forbidden()
    seq, kind = int(row[0]), row[1]
    message = Message.objects.create(
        conversation_id=conversation_id,
        seq=seq,
        author=actor,
        body=body,
        client_id=client_id,
        created_at=now,
    )
    # Moving the sender's read marker doubles as the write-access check: no
    # participant row, no message (the transaction rolls back).
    if not Participant.objects.filter(conversation_id=conversation_id, user=actor).update(
        last_read_seq=Greatest(F("last_read_seq"), seq)
    ):
        raise forbidden()
    other: Participant | None = None
    if kind == Conversation.Kind.DIRECT:
        other = (
            Participant.objects.select_related("user")
            .filter(conversation_id=conversation_id)
            .exclude(user=actor)
            .first()
        )
        if other is None or not other.user.is_active or is_blocked_between(actor, other.user):
            raise forbidden()
    message.author = actor
    publish_on_commit(conversation_topic(conversation_id), message_frame(message))
    if other is not None:
        _notify_direct_message(message, other)
    elif "@" in body:
        _notify_mentions(message, actor)
    return message


@dataclass
class SendRequest:
    """One `send` of a batch (see `do_send_messages`)."""

    actor: Any
    body: Any
    client_id: Any


SendResult = tuple[Message, bool] | ClientError

# One statement stores a whole batch of a group conversation: it checks each send
# (its author takes part; its client_id is not stored yet), takes the seqs of the sends
# that pass under the conversation's row lock, inserts them and moves each author's
# read marker to their newest message. The row lock is held inside PostgreSQL for this
# one statement and the commit, never across a round trip to the server process.
STORE_BATCH_SQL = """
WITH v AS (
    SELECT * FROM unnest(%(authors)s::bigint[], %(bodies)s::text[], %(client_ids)s::text[])
        WITH ORDINALITY AS v(author_id, body, client_id, ord)
), s AS (
    SELECT v.*,
        EXISTS (SELECT 1 FROM chat_participant p
                WHERE p.conversation_id = %(conversation)s AND p.user_id = v.author_id)
            AS participant,
        EXISTS (SELECT 1 FROM chat_message e
                WHERE e.author_id = v.author_id AND e.client_id = v.client_id) AS stored
    FROM v
), ok AS (
    SELECT author_id, body, client_id, row_number() OVER (ORDER BY ord) AS n
    FROM s WHERE participant AND NOT stored
), c AS (
    UPDATE chat_conversation
    SET last_seq = last_seq + (SELECT count(*) FROM ok), last_message_at = %(now)s
    WHERE id = %(conversation)s AND kind = %(group)s AND NOT read_only
        AND EXISTS (SELECT 1 FROM ok)
    RETURNING last_seq
), m AS (
    INSERT INTO chat_message (conversation_id, seq, author_id, body, client_id, created_at)
    SELECT %(conversation)s, c.last_seq - (SELECT count(*) FROM ok) + ok.n,
        ok.author_id, ok.body, ok.client_id, %(now)s
    FROM ok CROSS JOIN c
    RETURNING id, seq, author_id, client_id
), r AS (
    UPDATE chat_participant p SET last_read_seq = GREATEST(p.last_read_seq, x.seq)
    FROM (SELECT author_id, max(seq) AS seq FROM m GROUP BY author_id) x
    WHERE p.conversation_id = %(conversation)s AND p.user_id = x.author_id
)
SELECT s.participant, m.id, m.seq
FROM s LEFT JOIN m ON m.author_id = s.author_id AND m.client_id = s.client_id
ORDER BY s.ord
"""


def do_send_messages(*, conversation_id: int, sends: list[SendRequest]) -> list[SendResult]:
    """Store several sends to one group conversation in one transaction (group
    commit): what the WebSocket consumer does when sends to the same conversation
    queue up behind each other. Each result is exactly what `do_send_message` would
    have returned (or raised, as a `ClientError`) for that send, and the same events
    are emitted after the commit. Seqs are taken in the order of `sends`.

    Sends that the batch cannot decide on its own (a retry of a stored client_id, the
    same client_id twice in the batch, an inactive author, a direct conversation) and
    a batch that fails as a whole go through `do_send_message` one by one."""
    results: list[SendResult | None] = [None] * len(sends)
    batch: list[int] = []
    single: list[int] = []
    seen: set[tuple[int, str]] = set()
    for index, send in enumerate(sends):
        try:
            send.body = clean_body(send.body)
            send.client_id = clean_client_id(send.client_id)
        except ClientError as error:
            results[index] = error
            continue
        key = (send.actor.pk, send.client_id)
        if key in seen or not send.actor.is_active:
            single.append(index)
        else:
            seen.add(key)
            batch.append(index)
    if len(batch) > 1:
        try:
            stored = _store_batch(conversation_id, [sends[i] for i in batch])
        except IntegrityError:
            single = sorted(single + batch)
        else:
            for index, result in zip(batch, stored, strict=True):
                if result is None:
                    single.append(index)
                else:
                    results[index] = result
            single.sort()
    else:
        single = sorted(single + batch)
    for index in single:
        send = sends[index]
        try:
            results[index] = do_send_message(
                actor=send.actor,
                conversation_id=conversation_id,
                body=send.body,
                client_id=send.client_id,
            )
        except ClientError as error:
            results[index] = error
    return [result for result in results if result is not None]


def _store_batch(conversation_id: int, sends: list[SendRequest]) -> list[SendResult | None]:
    """None in the result: decide this send on the single path (a retry of a stored
    client_id; every send of a direct or read-only conversation)."""
    results: list[SendResult | None] = [None] * len(sends)
    now = timezone.now()
    params: dict[str, Any] = {
        "conversation": conversation_id,
        "group": Conversation.Kind.GROUP.value,
        "now": now,
        "authors": [send.actor.pk for send in sends],
        "bodies": [send.body for send in sends],
        "client_ids": [send.client_id for send in sends],
    }
    stored: list[Message] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(STORE_BATCH_SQL, params)
            rows = cursor.fetchall()
        for index, (send, (participant, message_id, seq)) in enumerate(
            zip(sends, rows, strict=True)
        ):
            if not participant:
                results[index] = forbidden()
                continue
            if message_id is None:
                continue
            message = Message(
                id=message_id,
                conversation_id=conversation_id,
                seq=seq,
                author=send.actor,
                body=send.body,
                client_id=send.client_id,
                created_at=now,
            )
            stored.append(message)
            results[index] = (message, True)
        # The batch's message frames go out together (one Redis round trip), before
        # the mention notifications that point at them.
        publish_all_on_commit(
            conversation_topic(conversation_id), [message_frame(m) for m in stored]
        )
        for message in stored:
            if "@" in message.body:
                _notify_mentions(message, message.author)
    return results


def preview(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


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
            "author": {"id": message.author.pk, "display_name": message.author.display_name},
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


def _notify_mentions(message: Message, actor: Any) -> None:
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
                "conversation_title": message.conversation.title,
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
