"""Retention: the periodic jobs that delete what netzn keeps no longer than
docs/privacy.md says. Each job is idempotent and returns how many rows it removed;
`python manage.py apply_retention` runs them all (from cron, e.g. hourly).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import AccessToken, UserSession
from chat.models import MessageReport
from notifications.models import Notification


def _days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


def purge_expired_sessions() -> int:
    """Expired browser sessions and our records of sessions that no longer exist."""
    expired, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    live = Session.objects.values("session_key")
    orphans, _ = UserSession.objects.exclude(session_key__in=live).delete()
    return expired + orphans


def purge_revoked_tokens() -> int:
    """Revoked access tokens are kept `NETZN_RETAIN_REVOKED_TOKENS_DAYS` for the
    person's own overview, then deleted."""
    cutoff = _days_ago(settings.NETZN_RETAIN_REVOKED_TOKENS_DAYS)
    removed, _ = AccessToken.objects.filter(revoked_at__lt=cutoff).delete()
    return removed


def purge_old_notifications() -> int:
    """Notifications (also the e-mail outbox) read or sent longer than
    `NETZN_RETAIN_NOTIFICATIONS_DAYS` ago; unread ones are kept (capped at twice as
    long) so nothing vanishes unseen."""
    days = settings.NETZN_RETAIN_NOTIFICATIONS_DAYS
    read, _ = Notification.objects.filter(read_at__lt=_days_ago(days)).delete()
    stale, _ = Notification.objects.filter(created_at__lt=_days_ago(2 * days)).delete()
    return read + stale


def purge_resolved_reports() -> int:
    """Decided reports (and the copy of the reported text) after
    `NETZN_RETAIN_REPORTS_DAYS`; open reports stay until the team decides."""
    cutoff = _days_ago(settings.NETZN_RETAIN_REPORTS_DAYS)
    removed, _ = (
        MessageReport.objects.exclude(status=MessageReport.Status.OPEN)
        .filter(resolved_at__lt=cutoff)
        .delete()
    )
    return removed


JOBS: dict[str, Callable[[], int]] = {
    "sessions": purge_expired_sessions,
    "tokens": purge_revoked_tokens,
    "notifications": purge_old_notifications,
    "reports": purge_resolved_reports,
}


def run_all() -> dict[str, int]:
    return {name: job() for name, job in JOBS.items()}
