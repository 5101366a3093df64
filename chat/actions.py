"""Every state change of conversations and messages (docs/architecture.md, rule 1).

The WebSocket consumer, the HTTP API, the admin and the demo seeding all call these
functions; each validates, writes inside one short transaction and publishes its
frames only after the commit (`realtime.publish.publish_on_commit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.access import is_blocked_between
from accounts.models import Block, User
from accounts.throttle import limit_action
from chat import attachments
from chat.access import (
    access_message,
    access_message_to_react,
    direct_key_for,
    is_id,
    mention_candidates,
)
from chat.events import (
    FORMER_MEMBER,
    author_payload,
    message_deleted_frame,
    message_frame,
    post_updated_frame,
    reaction_frame,
    read_frame,
)
from chat.formatting import formatted_html, plain_text
from chat.models import (
    Conversation,
    Message,
    MessageReport,
    NotificationLevel,
    Participant,
    Reaction,
)
from chat.reactions import attach_reactions, clean_emoji, clean_on
from notifications.actions import do_mark_read_by_key, do_notify, do_notify_all
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
    once: a `_access_changed` control frame naming them on the conversation's topic
    makes each of their consumers re-check access and drop the subscription. On the
    conversation's own topic it is ordered before every later message of it (a
    person's topic may live on another Redis shard)."""
    with transaction.atomic():
        Participant.objects.filter(conversation=conversation, user=user).delete()
        publish_on_commit(
            conversation_topic(conversation.pk),
            {"type": "_access_changed", "conversation": conversation.pk, "user": user.pk},
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


def clean_body(body: Any, *, may_be_empty: bool = False) -> str:
    """Plain text, not blank, at most `NETZN_MESSAGE_MAX_CHARS` characters, nothing
    a database cannot store (NUL, a lone surrogate: `realtime.text`). A message with
    attachments (`may_be_empty`) may have no text: absent or blank is ""."""
    if may_be_empty and (body is None or (isinstance(body, str) and not body.strip())):
        return ""
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


def clean_reply_to(reply_to: Any) -> int | None:
    """`reply_to`: absent/null, or the id of a message (checked against the
    conversation when the send is stored)."""
    if reply_to is None:
        return None
    if not is_id(reply_to):
        raise ClientError(
            "bad_request",
            "reply_to muss die ID einer Nachricht sein.",
            fields={"reply_to": ["Ungültig."]},
        )
    return int(reply_to)


def reply_target_missing() -> ClientError:
    """A reply to a message that is not in this conversation, does not exist or was
    deleted: one answer for all, so nobody learns of messages elsewhere."""
    return ClientError(
        "bad_request",
        "Die Nachricht, auf die Sie antworten, gibt es in dieser Unterhaltung nicht (mehr).",
        fields={"reply_to": ["Nicht in dieser Unterhaltung."]},
    )


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
    # The id of the message of the same conversation this one answers.
    reply_to: Any = None
    # Ids of the author's pending uploads to this conversation (docs/attachments.md).
    attachments: Any = None


SendResult = tuple[Message, bool] | ClientError


def do_send_message(
    *,
    actor: Any,
    conversation_id: Any,
    body: Any,
    client_id: Any,
    post: dict[str, Any] | None = None,
    reply_to: Any = None,
    attachments: Any = None,
) -> tuple[Message, bool]:
    """Store a message from `actor` and return `(message, created)`: a batch of one
    of `do_send_messages` (who may send, the events emitted: see there). Raises the
    `ClientError` of a refused send. `post`: the card of a board post the message
    shows (board actions only); `reply_to`: the message it answers; `attachments`: ids
    of the actor's pending uploads."""
    (result,) = do_send_messages(
        conversation_id=conversation_id,
        sends=[
            SendRequest(
                actor=actor,
                body=body,
                client_id=client_id,
                post=post,
                reply_to=reply_to,
                attachments=attachments,
            )
        ],
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
    send never fails the others. A send's `attachments` (at most 10 ids) must be
    the author's own pending uploads to this conversation, none claimed by another
    send (else `bad_request` for that send, nothing stored); they are linked to the
    message in the storing transaction, and such a message may have no text. Seqs
    are `last_seq + 1, + 2, ...` in the order of `sends`, taken under the
    conversation's row lock in the storing transaction: every conversation numbers
    1, 2, 3, ... without gaps. Each author's read marker moves to their newest
    message. Idempotent on (author, client_id): a retry, also
    one repeated inside the batch, returns the stored message with `created=False`
    and stores and publishes nothing; a client_id already used in another
    conversation is a `conflict`. `reply_to` must name a message of the same
    conversation that is not deleted (else `bad_request`, nothing stored); a retry
    answers with the stored message whatever it names.

    Emits after the commit: `message` on `conv:<id>` for each stored message (one
    Redis round trip for the batch); in a direct conversation a `direct_message`
    notification to the other person (one per unread stretch); in a group `mention`
    notifications to mentioned participants who did not mute it, and a `reply`
    notification to the author of the message answered (see `_notify_reply`)."""
    results: list[SendResult | None] = [None] * len(sends)
    # The first send of each (author, client_id); later ones answer as its retry.
    first_of: dict[tuple[int, str], int] = {}
    repeats: dict[int, int] = {}
    checked: list[_Send] = []
    for index, send in enumerate(sends):
        try:
            if not is_id(conversation_id) or not send.actor.is_active:
                raise forbidden()
            attachment_ids = attachments.clean_attachment_ids(send.attachments)
            body = clean_body(send.body, may_be_empty=bool(attachment_ids))
            client_id = clean_client_id(send.client_id)
            reply_to_id = clean_reply_to(send.reply_to)
            check_mention_all(conversation_id, send.actor, body)
        except ClientError as error:
            results[index] = error
            continue
        key = (send.actor.pk, client_id)
        if key in first_of:
            repeats[index] = first_of[key]
            continue
        first_of[key] = index
        checked.append(
            _Send(
                index=index,
                actor=send.actor,
                body=body,
                client_id=client_id,
                post=send.post,
                reply_to_id=reply_to_id,
                # Rendered here, outside the transaction that holds the conversation lock.
                body_html=formatted_html(body),
                attachments=attachment_ids,
            )
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
    reply_to_id: int | None = None
    reply_to: Message | None = None
    body_html: str = ""
    attachments: list[int] = field(default_factory=list)


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
    with_files = {send.index: (send.actor.pk, send.attachments) for send in new if send.attachments}
    if with_files:
        refused = attachments.claim_for_send(conversation_id, with_files)
        for send in new:
            if send.index in refused:
                results[send.index] = attachments.unusable_attachments()
        new = [send for send in new if send.index not in refused]
    if retries:
        stored = Message.objects.select_related("author", "reply_to__author").in_bulk(
            list(retries.values())
        )
        for index, message_id in retries.items():
            results[index] = (stored[message_id], False)
    new = _with_reply_targets(conversation_id, new, results)
    recipients: dict[int, list[Participant]] = {}
    if new and kind == Conversation.Kind.DIRECT:
        recipients = _direct_recipients(conversation_id, {send.actor.pk for send in new})
        for send in new:
            if send.actor.pk not in recipients:
                results[send.index] = forbidden()
        new = [send for send in new if send.actor.pk in recipients]
    if new:
        for send, message in zip(new, _write(conversation_id, new, title, recipients), strict=True):
            results[send.index] = (message, True)
    return results


def _with_reply_targets(
    conversation_id: int, sends: list[_Send], results: dict[int, SendResult]
) -> list[_Send]:
    """The sends whose `reply_to` is a live message of this conversation (each gets
    it attached); the others are refused with `bad_request`. One query per batch."""
    wanted = {send.reply_to_id for send in sends if send.reply_to_id is not None}
    if not wanted:
        return sends
    found = Message.objects.select_related("author").in_bulk(
        [
            pk
            for pk in Message.objects.filter(
                pk__in=wanted, conversation_id=conversation_id, deleted_at__isnull=True
            ).values_list("pk", flat=True)
        ]
    )
    kept = []
    for send in sends:
        if send.reply_to_id is None:
            kept.append(send)
        elif send.reply_to_id in found:
            send.reply_to = found[send.reply_to_id]
            kept.append(send)
        else:
            results[send.index] = reply_target_missing()
    return kept


def _direct_recipients(conversation_id: int, author_ids: set[int]) -> dict[int, list[Participant]]:
    """Author id -> the other active participants of a direct conversation (two to
    nine people), who each get the `direct_message` notification. An author who may
    not send there is left out: when every other participant is inactive, or when
    the author and any other participant blocked one another (two queries)."""
    everyone = list(
        Participant.objects.select_related("user").filter(conversation_id=conversation_id)
    )
    ids = [participant.user_id for participant in everyone]
    blocked = {
        frozenset(pair)
        for pair in Block.objects.filter(blocker_id__in=ids, blocked_id__in=ids).values_list(
            "blocker_id", "blocked_id"
        )
    }
    result: dict[int, list[Participant]] = {}
    for author_id in author_ids:
        others = [p for p in everyone if p.user_id != author_id]
        active = [p for p in others if p.user.is_active]
        if len(others) == len(everyone) or not active:
            continue
        if any(frozenset((author_id, p.user_id)) in blocked for p in others):
            continue
        result[author_id] = active
    return result


def _write(
    conversation_id: int, sends: list[_Send], title: str, recipients: dict[int, list[Participant]]
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
                    body_html=send.body_html,
                    client_id=send.client_id,
                    created_at=now,
                    post=send.post,
                    reply_to=send.reply_to,
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
        links = [(m, s.attachments) for m, s in zip(messages, sends, strict=True) if s.attachments]
        # An upload attached or deleted since the check: roll back, check again.
        if not attachments.link_to_messages(conversation_id, links):
            raise _ChangedMeanwhile
        attachments.prefetch_attachments(messages, any_attached=bool(links))
        # The batch's message frames go out together (one Redis round trip), before
        # the notifications that point at them.
        publish_all_on_commit(
            conversation_topic(conversation_id), [message_frame(m) for m in messages]
        )
        markers = {p.user_id: p.last_read_seq for ps in recipients.values() for p in ps}
        for message in messages:
            author_id = message.author_id
            assert author_id is not None  # only a deleted account's messages have none
            others = recipients.get(author_id)
            if others is not None:
                for recipient in others:
                    # The recipient's marker as a one-by-one send would have seen it:
                    # their own earlier messages of the batch moved it.
                    recipient.last_read_seq = markers.get(recipient.user_id, 0)
                    _notify_direct_message(message, recipient)
                markers[author_id] = message.seq
            else:
                mentioned = (
                    _notify_mentions(message, message.author, title)
                    if "@" in message.body
                    else set()
                )
                if message.reply_to is not None:
                    _notify_reply(message, title, already_notified=mentioned)
    return messages


MENTION_ALL = re.compile(r"(?<![\w@])@alle(?!\w)", re.IGNORECASE)


def mentions_everyone(body: str) -> bool:
    """`@alle` (not `@allein`, not an e-mail address) somewhere in the text."""
    return "@" in body and MENTION_ALL.search(body) is not None


def check_mention_all(conversation_id: Any, actor: Any, body: str) -> None:
    """`@alle` in a group conversation is for its moderators (the group's owners and
    admins) only: anyone else gets `bad_request` and nothing is stored. Elsewhere
    (direct conversations, someone who takes no part: refused later) it is text."""
    if not mentions_everyone(body):
        return
    may = (
        Participant.objects.filter(
            conversation_id=conversation_id,
            user_id=actor.pk,
            conversation__kind=Conversation.Kind.GROUP,
        )
        .values_list("can_moderate", flat=True)
        .first()
    )
    if may is False:
        raise ClientError(
            "bad_request",
            "Nur Admins der Gruppe dürfen @alle verwenden.",
            fields={"body": ["@alle ist Admins vorbehalten."]},
        )


def preview(body: str) -> str:
    """One line of the message as plain text (Markdown markers gone) for
    notifications and e-mails; a message of files alone (the only kind without
    text) reads "📎 Anhang"."""
    flat = " ".join(plain_text(body).split())
    if not flat:
        return "📎 Anhang"
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


def _notify_mentions(message: Message, actor: Any, title: str) -> set[int]:
    """`mention` notifications for participants named after an `@` who did not mute
    the conversation; `@alle` (checked before the store: moderators only) names every
    participant. Non-participants and unknown names notify nobody. One INSERT for
    all of them (`do_notify_all`), so `@alle` in a large group stays one statement.
    Returns the ids of the people notified."""
    participants = mention_candidates(message.conversation_id, exclude_user=actor)
    if mentions_everyone(message.body):
        mentioned = {participant.user_id for participant in participants}
    else:
        names = {p.user_id: p.user.display_name for p in participants}
        mentioned = find_mentions(message.body, names)
    data = {
        "conversation": message.conversation_id,
        "conversation_title": title,
        "message": message.pk,
        "seq": message.seq,
        "author": {"id": actor.pk, "display_name": actor.display_name},
        "preview": preview(message.body),
    }
    recipients = [
        participant
        for participant in participants
        if participant.user_id in mentioned
        and participant.notification_level != NotificationLevel.MUTED
    ]
    do_notify_all(
        kind="mention",
        notices=[(participant.user, data) for participant in recipients],
        dedupe_key=f"mention:{message.conversation_id}:{message.pk}",
    )
    return {participant.user_id for participant in recipients}


def _notify_reply(message: Message, title: str, *, already_notified: set[int]) -> None:
    """A `reply` notification to the author of the message `message` answers, in a
    group conversation (in a direct one the `direct_message` notification says it
    already). Nobody is notified of a reply to themself, nor a former member, nor
    someone who no longer takes part or muted the conversation ("Stumm"; "Nur
    Erwähnungen" still hears of replies, which address them as a mention does), nor
    when either blocked the other, nor twice when the reply also @-mentions them."""
    original = message.reply_to
    assert original is not None
    recipient_id = original.author_id
    if recipient_id is None or recipient_id == message.author_id:
        return
    if recipient_id in already_notified:
        return
    participant = (
        Participant.objects.filter(
            conversation_id=message.conversation_id, user_id=recipient_id, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    if participant is None:
        return
    if participant.notification_level == NotificationLevel.MUTED:
        return
    if is_blocked_between(message.author, participant.user):
        return
    do_notify(
        recipient=participant.user,
        kind="reply",
        data={
            "conversation": message.conversation_id,
            "conversation_title": title,
            "message": message.pk,
            "seq": message.seq,
            "author": author_ref(message.author),
            "preview": preview(message.body),
            "reply_to": {"id": original.pk, "seq": original.seq},
        },
        dedupe_key=f"reply:{message.conversation_id}:{message.pk}",
    )


def do_edit_message(*, actor: Any, message_id: Any, body: Any) -> Message:
    """Change the text of `actor`'s own message (while still a participant; not once
    deleted). Emits `message_edited` on `conv:<id>` after the commit."""
    body = clean_body(body)
    body_html = formatted_html(body)
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
        if message.hidden_at is not None:
            raise ClientError("conflict", "Die Nachricht wurde von der Moderation ausgeblendet.")
        check_mention_all(message.conversation_id, actor, body)
        if message.body == body:
            return message
        message.body = body
        message.body_html = body_html
        message.edited_at = timezone.now()
        message.save(update_fields=["body", "body_html", "edited_at"])
        # The frame every subscriber shares: reactions with `mine` false.
        attach_reactions([message], None)
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
    message.body_html = ""
    message.save(update_fields=["deleted_at", "body", "body_html"])
    # A deleted message shows nothing: its reactions go with its text.
    Reaction.objects.filter(message=message).delete()
    # Its files go too (from the storage after the commit).
    attachments.delete_for_messages([message.pk])
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
            do_mark_read_by_key(recipient=actor, dedupe_key_prefix=f"reply:{conversation.pk}:")
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
    return _get_or_create_direct(actor, [other.pk])


GROUP_DIRECT_MAX_OTHERS = 8


def do_get_or_create_group_direct_conversation(
    *, actor: Any, user_ids: Any
) -> tuple[Conversation, bool]:
    """The one direct conversation of `actor` and exactly the people `user_ids`
    (one to eight others, any order: the same set is the same conversation; one
    other is the 1:1 conversation of `do_get_or_create_direct_conversation`).
    Created on first use, race-safe through the unique `direct_key`. A list that is
    not one to eight distinct ids of other people is a `bad_request` naming the
    problem; an unknown or deactivated person in it, or a block between any two of
    them (either direction), is `forbidden`, the same answer for each.
    No event: the participants see it with its first message."""
    field = "user_ids"
    if not actor.is_active:
        raise forbidden()
    if not isinstance(user_ids, list) or not all(is_id(item) for item in user_ids):
        raise ClientError(
            "bad_request",
            "„user_ids“ muss eine Liste von Personen-IDs sein.",
            fields={field: ["Eine Liste ganzer Zahlen > 0."]},
        )
    if not 1 <= len(user_ids) <= GROUP_DIRECT_MAX_OTHERS:
        raise ClientError(
            "bad_request",
            f"Eine Direktnachricht geht an eine bis {GROUP_DIRECT_MAX_OTHERS} andere Personen.",
            fields={field: [f"Eine bis {GROUP_DIRECT_MAX_OTHERS} Personen."]},
        )
    if len(set(user_ids)) != len(user_ids):
        raise ClientError(
            "bad_request",
            "Jede Person darf nur einmal vorkommen.",
            fields={field: ["Doppelte Einträge."]},
        )
    if actor.pk in user_ids:
        raise ClientError(
            "bad_request",
            "Sie selbst gehören ohnehin dazu; bitte nur die anderen angeben.",
            fields={field: ["Die eigene ID gehört nicht in die Liste."]},
        )
    # Unknown and deactivated people are refused like a block, with the same answer
    # (as the 1:1 form does): a person must not tell "blocked me" from "not there".
    found = User.objects.filter(pk__in=user_ids, is_active=True).count()
    everyone = [actor.pk, *user_ids]
    if (
        found != len(user_ids)
        or Block.objects.filter(blocker_id__in=everyone, blocked_id__in=everyone).exists()
    ):
        raise ClientError(
            "forbidden", "Mit dieser Zusammenstellung ist keine Direktnachricht möglich."
        )
    return _get_or_create_direct(actor, user_ids)


def _get_or_create_direct(actor: Any, other_ids: list[int]) -> tuple[Conversation, bool]:
    key = direct_key_for(actor.pk, *other_ids)
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
                    Participant(conversation=conversation, user_id=user_id)
                    for user_id in [actor.pk, *other_ids]
                ]
            )
    except IntegrityError:
        # Someone of the set (or another tab) created it a moment ago.
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
    if message.deleted_at is not None or message.hidden_at is not None:
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
    ).update(status=status, resolved_at=timezone.now(), decided_by=actor)


WARNING_TEXT = (
    "Eine Ihrer Nachrichten in „{title}“ wurde gemeldet. Die Moderation der Gruppe "
    "bittet Sie, die Regeln des Netzwerks zu beachten."
)


def do_decide_reports(
    *,
    actor: Any,
    conversation_id: int,
    message_id: Any,
    decision: Any,
    notice_data: dict[str, Any] | None = None,
) -> tuple[Message, int]:
    """Decide the open reports of one message in `conversation_id`: `hide` the message
    (gone for everyone, kept for the audit), `warn` its author (a `warning`
    notification), `remove` (the groups action removed the author already; recorded
    here) or `dismiss`. Every open report of the message closes with the decision, who
    and when. Only a moderator of the conversation (`Participant.can_moderate`: the
    group's owners and admins), called through the groups action, which also checks
    the role. A message without open reports, or of another conversation: `not_found`,
    the same answer as a missing one. Emits `message_deleted` with `hidden: true` on
    `conv:<id>` (hide) and `notification` on `user:<author>` (warn) after the commit.
    `notice_data`: what the caller adds to the warning (the group's name and link).
    Returns the message and how many reports closed."""
    if decision not in MessageReport.Decision.values:
        raise ClientError(
            "bad_request",
            "Unbekannte Entscheidung.",
            fields={"decision": ["hide, warn, remove oder dismiss."]},
        )
    if not is_id(message_id):
        raise _no_open_reports()
    with transaction.atomic():
        moderator = Participant.objects.filter(
            conversation_id=conversation_id, user=actor, can_moderate=True
        ).exists()
        if not moderator:
            raise forbidden()
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("author", "conversation")
            .filter(pk=message_id, conversation_id=conversation_id)
            .first()
        )
        if message is None:
            raise _no_open_reports()
        reports = MessageReport.objects.filter(message=message, status=MessageReport.Status.OPEN)
        if not reports.exists():
            raise _no_open_reports()
        now = timezone.now()
        if decision == MessageReport.Decision.HIDE:
            _hide(message, actor=actor, now=now)
        elif decision == MessageReport.Decision.WARN and message.author is not None:
            do_notify(
                recipient=message.author,
                kind="warning",
                data={
                    "conversation": message.conversation_id,
                    "conversation_title": message.conversation.title,
                    "message": message.pk,
                    "seq": message.seq,
                    "text": WARNING_TEXT.format(title=message.conversation.title),
                    "preview": preview(message.body),
                    **(notice_data or {}),
                },
                dedupe_key=f"warning:{message.pk}",
            )
        status = (
            MessageReport.Status.DISMISSED
            if decision == MessageReport.Decision.DISMISS
            else MessageReport.Status.RESOLVED
        )
        closed = reports.update(status=status, decision=decision, decided_by=actor, resolved_at=now)
    return message, closed


def _no_open_reports() -> ClientError:
    return ClientError("not_found", "Keine offene Meldung zu dieser Nachricht.")


def _hide(message: Message, *, actor: Any, now: Any) -> None:
    """Hide a (locked) message for everyone; its text stays stored for the audit.
    Emits `message_deleted` with `hidden: true` after the commit."""
    if message.hidden_at is not None or message.deleted_at is not None:
        return
    message.hidden_at = now
    message.hidden_by = actor
    message.save(update_fields=["hidden_at", "hidden_by"])
    publish_on_commit(
        conversation_topic(message.conversation_id), message_deleted_frame(message, hidden=True)
    )


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


def do_set_reaction(*, actor: Any, message_id: Any, emoji: Any, on: Any) -> tuple[Message, bool]:
    """Set (`on` true) or remove (`on` false) `actor`'s `emoji` on a message; returns
    `(message, changed)`. The emoji must be one of `chat.reactions.ALLOWED_EMOJI`
    (else `bad_request`). Only participants may react (who may write, PROTOCOL.md:
    a reaction is seen by everyone); a message `actor` may not read or that does not
    exist is `forbidden` alike; an archived conversation, or a direct one where
    either blocked the other, is `forbidden`; a deleted message is a `conflict`.
    Idempotent: setting a reaction twice is one reaction (a unique constraint), and
    a repeat changes and publishes nothing. Counted against the `reaction` budget
    of `NETZN_ACTION_LIMITS`.

    Emits after the commit, when something changed: `reaction` on `conv:<id>`."""
    emoji = clean_emoji(emoji)
    on = clean_on(on)
    target = access_message_to_react(actor, message_id)
    message = target.message
    if target.kind == Conversation.Kind.DIRECT:
        others = Participant.objects.filter(conversation_id=message.conversation_id)
        for other in others.exclude(user=actor).select_related("user"):
            if not other.user.is_active or is_blocked_between(actor, other.user):
                raise forbidden()
    if message.deleted_at is not None:
        raise ClientError("conflict", "Die Nachricht wurde gelöscht.")
    limit_action("reaction", actor.pk)
    with transaction.atomic():
        if not store_reaction(message.pk, actor.pk, emoji, on=on):
            return message, False
        publish_on_commit(
            conversation_topic(message.conversation_id),
            reaction_frame(message, actor, emoji, on),
        )
    return message, True


def store_reaction(message_id: int, user_id: int, emoji: str, *, on: bool) -> bool:
    """Insert (`on`) or delete one reaction row; whether a row changed. One plain
    statement either way (PostgreSQL and SQLite alike): a reaction set twice is
    left alone by the unique constraint (`ON CONFLICT DO NOTHING`, no savepoint and
    IntegrityError), and nothing cascades from a reaction (no collector needed)."""
    with connection.cursor() as cursor:
        if on:
            created_at = connection.ops.adapt_datetimefield_value(timezone.now())
            cursor.execute(INSERT_REACTION, [message_id, user_id, emoji, created_at])
        else:
            cursor.execute(DELETE_REACTION, [message_id, user_id, emoji])
        return bool(cursor.rowcount == 1)


INSERT_REACTION = (
    "INSERT INTO chat_reaction (message_id, user_id, emoji, created_at) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
DELETE_REACTION = "DELETE FROM chat_reaction WHERE message_id = %s AND user_id = %s AND emoji = %s"


def erase_reactions_of(user: Any) -> None:
    """Account deletion: every reaction of `user` goes; subscribers learn it from one
    `reaction` frame (`on` false, the name already "Ehemaliges Mitglied") per
    reaction after the commit. Called by the deletion action only."""
    reactions = list(
        Reaction.objects.filter(user=user).select_related("message").order_by("message_id", "id")
    )
    if not reactions:
        return
    Reaction.objects.filter(pk__in=[r.pk for r in reactions]).delete()
    by_topic: dict[str, list[Any]] = {}
    for reaction in reactions:
        frame = reaction_frame(reaction.message, None, reaction.emoji, False)
        frame["user"] = {"id": user.pk, "display_name": FORMER_MEMBER}
        by_topic.setdefault(conversation_topic(reaction.message.conversation_id), []).append(frame)
    for topic, frames in by_topic.items():
        publish_all_on_commit(topic, frames)
