"""Storing notifications, delivering them live, marking them read, preferences
(docs/architecture.md, rule 1).

A notification row is also the outbox entry of its e-mail: `do_notify` runs in the
transaction of its cause and stores, in the same row, whether and from when an e-mail
is owed (`email_due_at`). The worker (`send_notification_emails`) sends what is due and
still unread; see docs/notifications.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import EmailFrequency, User
from notifications.events import NotificationFrame, NotificationsReadFrame
from notifications.models import Notification
from realtime.errors import ClientError
from realtime.frames import user_topic
from realtime.publish import publish_many_on_commit, publish_on_commit

# Kinds that concern the person directly and usually wait for them: owed as a single
# e-mail to people who chose "immediate" and did not read them in the browser in time.
# `role_changed` is informational only and stays in the notification centre.
# `unanswered` and `group_quiet` (engagement) ask the person to do something in a group
# they may not visit often: the e-mail is what reaches them.
EMAILED_KINDS = frozenset(
    {
        Notification.Kind.JOIN_REQUEST,
        Notification.Kind.DIRECT_MESSAGE,
        Notification.Kind.MENTION,
        Notification.Kind.REPLY,
        Notification.Kind.INVITATION,
        Notification.Kind.JOIN_APPROVED,
        Notification.Kind.JOIN_DECLINED,
        Notification.Kind.COMPANY_CLAIM,
        Notification.Kind.MATCH,
        Notification.Kind.UNANSWERED,
        Notification.Kind.GROUP_QUIET,
        # A moderator's warning about a reported message (docs/formatting-moderation.md).
        Notification.Kind.WARNING,
        # Removed from a group by its owners or admins: it concerns the person
        # directly and is rare, like the decision on a join request.
        Notification.Kind.MEMBER_REMOVED,
    }
)
MAX_IDS_PER_CALL = 500


def notification_frame(notification: Notification) -> NotificationFrame:
    return frame_of(notification.pk, notification.kind, notification.data, notification.created_at)


def frame_of(pk: int, kind: str, data: dict[str, Any], created_at: Any) -> NotificationFrame:
    return {
        "type": "notification",
        "id": pk,
        "kind": kind,
        "data": data,
        "created_at": created_at.isoformat(),
    }


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def email_due_at_for(recipient: Any, kind: str, created_at: Any) -> Any:
    """When the single e-mail for this notification is owed, or None if none is."""
    if kind not in EMAILED_KINDS:
        return None
    if recipient.email_frequency != EmailFrequency.IMMEDIATE:
        return None
    if not recipient.is_active or not recipient.email:
        return None
    return created_at + timedelta(seconds=settings.NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS)


def do_notify(
    *,
    recipient: Any,
    kind: str,
    data: dict[str, Any],
    dedupe_key: str,
    email: bool = True,
) -> Notification | None:
    """Store a notification for `recipient` in the caller's transaction and send the
    `notification` frame to every open socket of the recipient after the commit.

    Called by the actions of other apps (groups: join requests, decisions, roles,
    invitations; chat: direct messages, mentions, replies). If the kind is e-mailed and the
    recipient wants single e-mails (`email_frequency == "immediate"`), the row is
    also the outbox entry of that e-mail, owed after
    `NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS` unless read by then. `email=False` stores
    and publishes without ever e-mailing (e.g. a caller that knows the person saw it).

    The same `dedupe_key` for the same recipient is stored once: a second call returns
    None and publishes nothing. Emits: `notification` on `user:<recipient>`."""
    if kind not in Notification.Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    created_at = timezone.now()
    due = email_due_at_for(recipient, kind, created_at) if email else None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                kind=kind,
                data=data,
                dedupe_key=dedupe_key,
                created_at=created_at,
                email_due_at=due,
            )
    except IntegrityError:
        return None
    publish_on_commit(user_topic(recipient.pk), notification_frame(notification))
    return notification


def _publish_read(user: Any, ids: list[int] | None) -> None:
    frame: NotificationsReadFrame = {
        "type": "notifications_read",
        "unread_count": unread_count(user),
    }
    if ids is None:
        frame["all"] = True
    else:
        frame["ids"] = ids
    publish_on_commit(user_topic(user.pk), frame)


def do_mark_read(*, actor: Any, ids: Iterable[int]) -> list[int]:
    """Mark the actor's own notifications with these ids read; ids of other people's
    notifications, unknown and already read ones are ignored (nobody learns whether
    they exist). Returns the ids that changed.

    Called by the API, the notification centre page and the "open" link. Emits
    `notifications_read` on `user:<actor>` when anything changed, so every tab updates
    its badge."""
    wanted = sorted({int(i) for i in ids})
    if len(wanted) > MAX_IDS_PER_CALL:
        raise ClientError(
            "bad_request",
            "Zu viele Benachrichtigungen auf einmal.",
            fields={"ids": [f"Höchstens {MAX_IDS_PER_CALL} Einträge."]},
        )
    with transaction.atomic():
        changed = list(
            Notification.objects.filter(
                recipient=actor, pk__in=wanted, read_at__isnull=True
            ).values_list("pk", flat=True)
        )
        if changed:
            Notification.objects.filter(pk__in=changed, read_at__isnull=True).update(
                read_at=timezone.now()
            )
            _publish_read(actor, sorted(changed))
    return sorted(changed)


def do_mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification of the actor read; returns how many changed.

    Called by the API and the notification centre page. Emits `notifications_read`
    with `"all": true` on `user:<actor>` when anything changed."""
    with transaction.atomic():
        count = Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        if count:
            _publish_read(actor, None)
    return count


def do_mark_read_by_key(*, recipient: Any, dedupe_key_prefix: str) -> list[int]:
    """Mark read the recipient's unread notifications whose dedupe key starts with the
    prefix: reading the thing itself clears its notification (and the e-mail it owes).

    Called by chat when a read marker moves (e.g. prefix `dm:<conversation>:`) and by
    groups when a request is decided elsewhere. Emits `notifications_read` on
    `user:<recipient>` when anything changed."""
    if not dedupe_key_prefix:
        raise ValueError("an empty prefix would mark everything read")
    with transaction.atomic():
        changed = list(
            Notification.objects.filter(
                recipient=recipient,
                dedupe_key__startswith=dedupe_key_prefix,
                read_at__isnull=True,
            ).values_list("pk", flat=True)
        )
        if changed:
            Notification.objects.filter(pk__in=changed, read_at__isnull=True).update(
                read_at=timezone.now()
            )
            _publish_read(recipient, sorted(changed))
    return sorted(changed)


def do_mark_handled(*, dedupe_keys: Iterable[str]) -> int:
    """Mark read, for every recipient, the unread notifications about things that are
    settled now (a join request decided or withdrawn: every admin was told; an
    invitation accepted, declined or revoked): they stop being "Neu", stop counting in
    the badge, and owe no e-mail any more. Exact keys, never prefixes
    ("join_request:1" is not "join_request:12"). Returns how many changed.

    Called by groups' actions inside their transaction. Emits `notifications_read`
    (with the ids and the new count) on `user:<recipient>` of each person concerned."""
    keys = sorted(set(dedupe_keys))
    if not keys:
        return 0
    with transaction.atomic():
        rows = list(
            Notification.objects.filter(dedupe_key__in=keys, read_at__isnull=True).values_list(
                "pk", "recipient_id"
            )
        )
        if not rows:
            return 0
        Notification.objects.filter(pk__in=[pk for pk, _ in rows]).update(read_at=timezone.now())
        by_recipient: dict[int, list[int]] = {}
        for pk, recipient_id in rows:
            by_recipient.setdefault(recipient_id, []).append(pk)
        for recipient_id, ids in sorted(by_recipient.items()):
            _publish_read(User(pk=recipient_id), sorted(ids))
    return len(rows)


def do_set_email_frequency(*, actor: Any, frequency: str) -> None:
    """Set how the actor wants e-mail: immediately, as a daily digest, or not at all.

    Called by the preferences page and the unsubscribe link. E-mails already owed are
    not cancelled here: the worker re-checks the frequency when it sends. Emits
    nothing."""
    if frequency not in EmailFrequency.values:
        raise ClientError(
            "bad_request",
            "Unbekannte Einstellung.",
            fields={"email_frequency": ["Bitte eine der angebotenen Möglichkeiten wählen."]},
        )
    User.objects.filter(pk=actor.pk).update(email_frequency=frequency)
    actor.email_frequency = frequency


def do_notify_all(
    *,
    kind: str,
    notices: list[tuple[Any, dict[str, Any]]],
    dedupe_key: str,
    new_key: bool = False,
) -> list[int]:
    """`do_notify` for many recipients of the same thing at once (e.g. everyone a new
    board post matched): one INSERT for all rows, and all frames published after the
    commit in one hop. A recipient who already has a notification with this
    `dedupe_key` gets nothing new. Returns the ids of the people notified now.

    A recipient is a user or anything with its `pk`, `email`, `email_frequency` and
    `is_active` (e.g. a row of a query that read just those). `new_key=True` says that
    nobody can hold `dedupe_key` yet (it names something created in this transaction,
    like a new post): the rows go in with their ids returned, no read-back, and a
    duplicate would be an error instead of being skipped."""
    if kind not in Notification.Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not notices:
        return []
    created_at = timezone.now()
    if new_key and settings.IS_POSTGRES:
        return _insert_new_key(kind, notices, dedupe_key, created_at)
    rows = [
        Notification(
            recipient_id=recipient.pk,
            kind=kind,
            data=data,
            dedupe_key=dedupe_key,
            created_at=created_at,
            email_due_at=email_due_at_for(recipient, kind, created_at),
        )
        for recipient, data in notices
    ]
    if new_key:
        stored = Notification.objects.bulk_create(rows)
    else:
        with transaction.atomic():
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            stored = list(
                Notification.objects.filter(
                    dedupe_key=dedupe_key,
                    created_at=created_at,
                    recipient_id__in=[recipient.pk for recipient, _ in notices],
                )
            )
    publish_many_on_commit(
        [
            (user_topic(notification.recipient_id), notification_frame(notification))
            for notification in stored
        ]
    )
    return [notification.recipient_id for notification in stored]


# Every row in one JSON document that PostgreSQL expands. Django's bulk insert sends
# one array per column instead, and psycopg quotes each element of the `data` array
# client-side, with a regular-expression replacement per double quote in the JSON:
# about 10 ms of CPU for the 40 notifications of a board post, against 1 ms this way
# (docs/performance.md, "Board").
_INSERT_NEW_KEY = (
    "INSERT INTO notifications_notification "
    "(recipient_id, kind, data, dedupe_key, created_at, email_due_at) "
    "SELECT r.recipient_id, %s, r.data, %s, %s, r.email_due_at "
    "FROM jsonb_to_recordset(%s::jsonb) "
    "AS r(recipient_id integer, data jsonb, email_due_at timestamptz) "
    "RETURNING id, recipient_id"
)


def _insert_new_key(
    kind: str, notices: list[tuple[Any, dict[str, Any]]], dedupe_key: str, created_at: Any
) -> list[int]:
    """`do_notify_all(new_key=True)` on PostgreSQL: one INSERT whose only per-row
    parameter is one JSON text of all rows, the frames built from the ids it returns
    (no model instance per row)."""
    rows = []
    for recipient, data in notices:
        due = email_due_at_for(recipient, kind, created_at)
        rows.append(
            {
                "recipient_id": recipient.pk,
                "data": data,
                "email_due_at": due.isoformat() if due else None,
            }
        )
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_NEW_KEY, [kind, dedupe_key, created_at, json.dumps(rows, ensure_ascii=False)]
        )
        ids = {recipient_id: pk for pk, recipient_id in cursor.fetchall()}
    publish_many_on_commit(
        [
            (
                user_topic(row["recipient_id"]),
                frame_of(ids[row["recipient_id"]], kind, row["data"], created_at),
            )
            for row in rows
        ]
    )
    return [row["recipient_id"] for row in rows]
