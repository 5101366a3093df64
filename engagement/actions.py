"""Every state change of engagement (docs/architecture.md, rule 1): its own bookkeeping,
and the notifications of the jobs, through `notifications.actions.do_notify`.

The jobs that call these live in `engagement/jobs.py`; they run from `netzn_cron`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from engagement.models import JobRun, PersonRhythm, QuietSpell, RoutedQuestion
from notifications.actions import do_notify


def locked_rhythm(user_id: int) -> PersonRhythm:
    """The person's bookkeeping row, created if missing, locked until the caller's
    transaction ends: two runs of a job for the same person wait for each other."""
    PersonRhythm.objects.bulk_create([PersonRhythm(user_id=user_id)], ignore_conflicts=True)
    return PersonRhythm.objects.select_for_update().get(user_id=user_id)


def do_record_visit(*, user_id: int, at: datetime) -> None:
    """Note that the person was here (a page or a WebSocket hello). Called by the
    visit middleware and the hello hook at most every few minutes per person.
    One statement (an upsert). Emits nothing."""
    PersonRhythm.objects.bulk_create(
        [PersonRhythm(user_id=user_id, last_seen_at=at)],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["last_seen_at"],
    )


def do_record_digest_sent(*, rhythm: PersonRhythm, at: datetime) -> None:
    """The daily digest went out at `at` (inside the sending transaction, on the row
    `locked_rhythm` returned). Emits nothing."""
    PersonRhythm.objects.filter(pk=rhythm.pk).update(digest_sent_at=at)
    rhythm.digest_sent_at = at


def do_record_weekly_sent(*, rhythm: PersonRhythm, at: datetime) -> None:
    """The weekly catch-up e-mail went out at `at` (inside the sending transaction).
    Emits nothing."""
    PersonRhythm.objects.filter(pk=rhythm.pk).update(weekly_sent_at=at)
    rhythm.weekly_sent_at = at


def do_route_question(
    *,
    message: Any,
    group: Any,
    recipients: list[tuple[Any, str]],
    data: dict[str, Any],
    at: datetime,
) -> bool:
    """Bring an unanswered question to the people chosen for it (each with the German
    reason why they were asked): one `unanswered` notification each, once per message.

    Called by the unanswered-questions job only. The `RoutedQuestion` row is written in
    the same transaction: a second run (or a second machine) that gets here for the same
    message meets the unique constraint and notifies nobody. Returns whether this call
    routed it. Emits `notification` frames on each recipient's stream after the commit."""
    try:
        with transaction.atomic():
            RoutedQuestion.objects.create(
                message=message, group=group, routed_at=at, recipients=len(recipients)
            )
            for recipient, reason in recipients:
                do_notify(
                    recipient=recipient,
                    kind="unanswered",
                    data={**data, "reason": reason},
                    dedupe_key=f"unanswered:{message.pk}",
                )
    except IntegrityError:
        return False
    return True


def do_nudge_quiet_group(
    *, group: Any, since: datetime, managers: list[Any], data: dict[str, Any], at: datetime
) -> bool:
    """Tell a quiet group's owners and admins, once per quiet spell (`since` is the
    last message, or the founding of a group that never had one).

    Called by the quiet-groups job only; the unique (group, since) row is the
    guarantee. Emits `notification` frames (kind `group_quiet`) after the commit."""
    try:
        with transaction.atomic():
            QuietSpell.objects.create(group=group, since=since, nudged_at=at)
            for manager in managers:
                do_notify(
                    recipient=manager,
                    kind="group_quiet",
                    data=data,
                    dedupe_key=f"group_quiet:{group.pk}:{since.isoformat()}",
                )
    except IntegrityError:
        return False
    return True


def do_start_job(*, name: str, at: datetime) -> None:
    """`netzn_cron` starts the periodic job `name` (under its lock). Emits nothing."""
    JobRun.objects.update_or_create(name=name, defaults={"started_at": at})


def do_finish_job(*, name: str, at: datetime, summary: str) -> None:
    """The periodic job `name` finished; `summary` is its German one-line result."""
    JobRun.objects.filter(pk=name).update(finished_at=at, summary=summary[:200])
