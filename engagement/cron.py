"""`netzn_cron`: every periodic job in one list, run when due, one at a time per job.

Register a job with one line in `JOBS` (a name, when it is due, the function). A job
function takes the moment of the run and returns how many things it did and a short
German summary.

Safety on several machines at once: each job runs under a lock held for the whole
run, a PostgreSQL session advisory lock (`pg_try_advisory_lock`) or, on SQLite, an
exclusive file lock beside the database. A second runner that cannot take the lock
skips the job; after taking it, it re-reads when the job last ran, so a job that just
finished elsewhere is not due any more. The jobs are idempotent on their own as well
(row locks, `SKIP LOCKED`, unique rows), so even a lock lost with its connection
never sends anything twice.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from chat.attachments import delete_stale_uploads
from engagement import jobs, retention
from engagement.actions import do_finish_job, do_start_job
from engagement.models import JobRun

logger = logging.getLogger(__name__)

Due = Callable[[datetime | None, datetime], bool]


def every(*, minutes: float) -> Due:
    """Due when it never ran or last started at least `minutes` ago."""
    interval = timedelta(minutes=minutes)

    def due(last_started: datetime | None, now: datetime) -> bool:
        return last_started is None or now - last_started >= interval

    return due


def daily_at(hh_mm: str) -> Due:
    """Due once a day from HH:MM Europe/Berlin on (a run missed then happens later)."""
    hour, minute = (int(part) for part in hh_mm.split(":"))
    zone = ZoneInfo(settings.TIME_ZONE)

    def due(last_started: datetime | None, now: datetime) -> bool:
        local = now.astimezone(zone)
        today = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
        if local < today:
            return False
        return last_started is None or last_started < today

    return due


@dataclass(frozen=True)
class Job:
    name: str
    due: Due
    run: Callable[[datetime], tuple[int, str]]


JOBS: list[Job] = [
    Job("notification_emails", every(minutes=0), jobs.send_notification_emails),
    Job("unanswered_questions", every(minutes=0), jobs.route_unanswered_questions),
    Job("daily_digest", daily_at(settings.NETZN_DIGEST_TIME), jobs.send_daily_digests),
    Job("weekly_catch_up", every(minutes=60), jobs.send_weekly_catch_ups),
    Job("quiet_groups", every(minutes=60), jobs.nudge_quiet_groups),
    Job("expire_posts", every(minutes=15), jobs.expire_posts),
    # docs/privacy.md, "Retention".
    Job("retention", every(minutes=60), retention.apply_retention),
    # docs/attachments.md: uploads not sent within 24 hours go.
    Job("stale_uploads", every(minutes=15), delete_stale_uploads),
]


@contextmanager
def job_lock(name: str) -> Iterator[bool]:
    """Hold the job's lock for the block; yields False if another runner holds it."""
    lock = advisory_lock if connection.vendor == "postgresql" else file_lock
    with lock(name) as got:
        yield got


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """A PostgreSQL session advisory lock: held across the job's own transactions,
    released at the end, or by the server when the connection dies."""
    key = f"netzn_cron:{name}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        row = cursor.fetchone()
    got = bool(row and row[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


@contextmanager
def file_lock(name: str) -> Iterator[bool]:
    """SQLite (one machine): an exclusive `flock` on `var/cron-<job>.lock`, released
    when the block ends or the process dies."""
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(settings.VAR_DIR / f"cron-{name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Outcome:
    job: str
    state: str  # "ran", "not_due", "locked", "failed"
    summary: str = ""
    done: int = 0


def run_due_jobs(
    *, now: datetime, only: list[str] | None = None, force: bool = False
) -> list[Outcome]:
    """Run every registered job that is due at `now` (or every one with `force`)."""
    outcomes = []
    for job in JOBS:
        if only and job.name not in only:
            continue
        with job_lock(job.name) as got:
            if not got:
                outcomes.append(Outcome(job.name, "locked"))
                continue
            last = JobRun.objects.filter(pk=job.name).values_list("started_at", flat=True).first()
            if not force and not job.due(last, now):
                outcomes.append(Outcome(job.name, "not_due"))
                continue
            do_start_job(name=job.name, at=now)
            try:
                done, summary = job.run(now)
            except Exception:
                # One broken job stops no other; it is due again next time.
                logger.exception("periodic job %s failed", job.name)
                outcomes.append(Outcome(job.name, "failed"))
                continue
            do_finish_job(name=job.name, at=now, summary=summary)
            outcomes.append(Outcome(job.name, "ran", summary, done))
    return outcomes
