"""Retention: what netzn keeps no longer than docs/privacy.md says. Each step is
idempotent and returns how many rows it removed; `netzn_cron` runs them all hourly
(the job `retention` in engagement/cron.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session

from accounts.models import AccessToken, UserSession
from chat.models import MessageReport
from notifications.models import Notification


def purge_expired_sessions(now: datetime) -> int:
    """Expired browser sessions and our records of sessions that no longer exist."""
    expired, _ = Session.objects.filter(expire_date__lt=now).delete()
    live = Session.objects.values("session_key")
    orphans, _ = UserSession.objects.exclude(session_key__in=live).delete()
    return expired + orphans


def purge_revoked_tokens(now: datetime) -> int:
    """Revoked access tokens are kept `NETZN_RETAIN_REVOKED_TOKENS_DAYS` for the
    person's own overview, then deleted."""
    cutoff = now - timedelta(days=settings.NETZN_RETAIN_REVOKED_TOKENS_DAYS)
    removed, _ = AccessToken.objects.filter(revoked_at__lt=cutoff).delete()
    return removed


def purge_old_notifications(now: datetime) -> int:
    """Notifications (also the e-mail outbox) read or sent longer than
    `NETZN_RETAIN_NOTIFICATIONS_DAYS` ago; unread ones are kept (capped at twice as
    long) so nothing vanishes unseen."""
    days = settings.NETZN_RETAIN_NOTIFICATIONS_DAYS
    read, _ = Notification.objects.filter(read_at__lt=now - timedelta(days=days)).delete()
    stale, _ = Notification.objects.filter(created_at__lt=now - timedelta(days=2 * days)).delete()
    return read + stale


def purge_resolved_reports(now: datetime) -> int:
    """Decided reports (and the copy of the reported text) after
    `NETZN_RETAIN_REPORTS_DAYS`; open reports stay until the team decides."""
    cutoff = now - timedelta(days=settings.NETZN_RETAIN_REPORTS_DAYS)
    removed, _ = (
        MessageReport.objects.exclude(status=MessageReport.Status.OPEN)
        .filter(resolved_at__lt=cutoff)
        .delete()
    )
    return removed


STEPS: dict[str, Callable[[datetime], int]] = {
    "sessions": purge_expired_sessions,
    "tokens": purge_revoked_tokens,
    "notifications": purge_old_notifications,
    "reports": purge_resolved_reports,
}


def apply_retention(now: datetime) -> tuple[int, str]:
    """The `netzn_cron` job: every step; how many rows went, and a German summary."""
    removed = {name: step(now) for name, step in STEPS.items()}
    summary = ", ".join(f"{name}: {count}" for name, count in removed.items())
    return sum(removed.values()), f"Aufbewahrungsfristen: {summary} gelöscht"
