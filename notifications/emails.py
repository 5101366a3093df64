"""The e-mail side of notifications: unsubscribe links and the outbox worker.

Delivery guarantee (docs/notifications.md, "E-mail"): the decision to e-mail is stored
in the notification row, in the transaction of its cause. The worker takes one due row
at a time with `SELECT ... FOR UPDATE SKIP LOCKED`, sends it and sets `emailed_at` in
that same transaction. A failed send rolls back and is retried on the next pass; a
second worker skips a row that is being sent; a row read in the browser meanwhile no
longer matches. The one window left: the process dies (or the database connection
breaks) after the mail server accepted the message and before the commit; that row
is sent once more on the next pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import EmailFrequency
from notifications import presentation
from notifications.models import Notification

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "netzn.notifications.unsubscribe"


def unsubscribe_token(user: Any) -> str:
    """A signed, non-expiring token naming the person (no login needed to use it)."""
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def user_id_from_token(token: str) -> int | None:
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    user_id = payload.get("u") if isinstance(payload, dict) else None
    return user_id if isinstance(user_id, int) else None


def unsubscribe_url(user: Any) -> str:
    return presentation.absolute(f"/benachrichtigungen/abmelden/{unsubscribe_token(user)}/")


def preferences_url() -> str:
    return presentation.absolute("/benachrichtigungen/einstellungen/")


def build_message(
    *,
    to: Any,
    subject: str,
    template: str,
    context: dict[str, Any],
    connection: Any = None,
) -> EmailMultiAlternatives:
    """A German e-mail with a plain-text body, an HTML alternative and the
    unsubscribe headers of RFC 2369 / RFC 8058 (one-click unsubscribe)."""
    link = unsubscribe_url(to)
    full_context = {
        **context,
        "recipient": to,
        "unsubscribe_url": link,
        "preferences_url": preferences_url(),
        "site_url": settings.SITE_URL,
    }
    # A bare name is one of notifications' own e-mails; other apps pass their path.
    path = template if "/" in template else f"notifications/email/{template}"
    with translation.override("de"), timezone.override(settings.TIME_ZONE):
        text = render_to_string(f"{path}.txt", full_context)
        html = render_to_string(f"{path}.html", full_context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def notification_message(notification: Notification, connection: Any = None) -> Any:
    summary = presentation.summary(notification)
    return build_message(
        to=notification.recipient,
        subject=f"netzn: {summary}",
        template="notification",
        context={
            "notification": notification,
            "summary": summary,
            "detail": presentation.detail(notification),
            "explanation": presentation.explanation(notification),
            "link": presentation.absolute(presentation.target_path(notification)),
            "action_label": presentation.action_label(notification),
        },
        connection=connection,
    )


@dataclass
class EmailPass:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def due_notifications(now: Any) -> Any:
    return Notification.objects.filter(
        email_due_at__lte=now, emailed_at__isnull=True, read_at__isnull=True
    )


def send_due_emails(*, now: Any = None, limit: int = 1000) -> EmailPass:
    """One pass of the e-mail worker: send every due, unread, unsent notification once.

    Each row is its own short transaction: lock it (skipping rows another worker holds),
    send, set `emailed_at`, commit. A person who switched to digest or off since the
    notification was stored gets no single e-mail; the row's `email_due_at` is cleared
    so it is not looked at again."""
    result = EmailPass()
    connection = get_connection()
    try:
        while len(result.sent) + len(result.skipped) + len(result.failed) < limit:
            moment = now or timezone.now()
            with transaction.atomic():
                notification = (
                    due_notifications(moment)
                    .exclude(pk__in=result.failed)
                    .select_related("recipient")
                    .select_for_update(skip_locked=True, of=("self",))
                    .order_by("email_due_at", "pk")
                    .first()
                )
                if notification is None:
                    break
                recipient = notification.recipient
                if (
                    recipient.email_frequency != EmailFrequency.IMMEDIATE
                    or not recipient.is_active
                    or not recipient.email
                ):
                    Notification.objects.filter(pk=notification.pk).update(email_due_at=None)
                    result.skipped.append(notification.pk)
                    continue
                try:
                    notification_message(notification, connection).send()
                except Exception:
                    # Roll back this row only; it stays due and is retried next pass.
                    logger.exception(
                        "sending the e-mail of notification %s failed", notification.pk
                    )
                    transaction.set_rollback(True)
                    result.failed.append(notification.pk)
                    continue
                Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
                result.sent.append(notification.pk)
    finally:
        connection.close()
    return result
