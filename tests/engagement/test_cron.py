"""`netzn_cron`: every due job, nothing twice, not even from two machines at once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from engagement.cron import JOBS, daily_at, every, file_lock, run_due_jobs
from engagement.models import JobRun, PersonRhythm
from notifications.actions import do_notify
from notifications.models import Notification
from tests.conftest import ROOT, database_url_of_test_db

from .conftest import NOW, ago, make_group, post_message, seen

MENTION = {
    "conversation": 1,
    "conversation_title": "Stahlbau Ruhr",
    "author": {"display_name": "Jörg Müller"},
    "preview": "@Anna passt Dienstag?",
}


def busy_network(make_user: Any, *, people: int = 8) -> dict[str, Any]:
    """Due single e-mails, digest readers with news, idle people with news, and an
    unanswered question: something for every job, all due at NOW."""
    owner = make_user("Olga Owner")
    readers = [make_user(f"Leserin {n}", email_frequency="digest") for n in range(people)]
    idle = [make_user(f"Ruhig {n}", date_joined=ago(days=30)) for n in range(people)]
    group = make_group("Netzwerk Bochum", owner, *readers, *idle)
    for person in readers + idle:
        seen(person, ago(days=10))
    seen(owner, ago(minutes=5))
    post_message(group.conversation, owner, "Wer kommt zum Stammtisch?", ago(hours=6))
    for person in idle:
        notification = do_notify(
            recipient=person, kind="mention", data=MENTION, dedupe_key="mention:x"
        )
        assert notification is not None
        Notification.objects.filter(pk=notification.pk).update(email_due_at=ago(minutes=1))
    return {"owner": owner, "readers": readers, "idle": idle, "group": group}


def test_one_run_does_every_due_job_and_a_second_sends_nothing(make_user: Any) -> None:
    network = busy_network(make_user, people=2)
    first = {o.job: o for o in run_due_jobs(now=NOW)}
    assert {name: o.state for name, o in first.items()} == {job.name: "ran" for job in JOBS}
    subjects = sorted(m.subject for m in mail.outbox)
    # 2 single e-mails (mentions), 2 digests, 2 weekly e-mails; the question goes to the
    # owner and is e-mailed later (its own delay).
    assert sum("erwähnt" in s for s in subjects) == 2
    assert sum("Ihre Zusammenfassung" in s for s in subjects) == 2
    assert sum("Was Sie verpasst haben" in s for s in subjects) == 2
    assert Notification.objects.filter(kind="unanswered", recipient=network["owner"]).count() == 0
    assert len(mail.outbox) == 6
    # Second run at once: only the every-minute job is due, and it finds nothing.
    second = {o.job: o.state for o in run_due_jobs(now=NOW)}
    assert second["notification_emails"] == "ran"
    assert second["daily_digest"] == "not_due"
    # Forced: every job runs again, and still nothing is sent twice.
    run_due_jobs(now=NOW + timedelta(minutes=1), force=True)
    assert [m.subject for m in mail.outbox[6:]] == []
    assert JobRun.objects.get(name="daily_digest").summary.startswith("0 Zusammenfassungen")


def test_a_question_of_the_only_admin_without_experts_reaches_nobody(make_user: Any) -> None:
    busy_network(make_user, people=1)
    outcome = run_due_jobs(now=NOW, only=["unanswered_questions"])
    # Nobody carries a topic of the question, and its author is the only admin.
    assert outcome[0].summary == "1 offene Frage weitergegeben, 0 Personen gefragt"
    assert Notification.objects.filter(kind="unanswered").count() == 0


def test_schedules() -> None:
    assert every(minutes=5)(None, NOW)
    assert not every(minutes=5)(NOW - timedelta(minutes=4), NOW)
    assert every(minutes=5)(NOW - timedelta(minutes=5), NOW)
    at_7 = daily_at("07:15")
    morning = NOW.replace(hour=7, minute=14)
    assert not at_7(None, morning)
    assert at_7(None, morning + timedelta(minutes=1))
    assert not at_7(morning + timedelta(minutes=2), NOW)
    assert at_7(morning - timedelta(days=1), NOW)


def test_the_file_lock_of_the_embedded_default(tmp_path: Any, settings: Any) -> None:
    settings.VAR_DIR = tmp_path
    with (
        file_lock("quiet_groups") as first,
        file_lock("quiet_groups") as second,
        file_lock("weekly_catch_up") as other,
    ):
        assert (first, second, other) == (True, False, True)
    with file_lock("quiet_groups") as again:
        assert again


@pytest.mark.postgres("another session holds the job's advisory lock")
def test_a_job_held_elsewhere_is_skipped(make_user: Any, transactional_db: Any) -> None:
    busy_network(make_user, people=1)
    with psycopg.connect(database_url_of_test_db(), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext('netzn_cron:notification_emails'))")
        outcomes = {o.job: o.state for o in run_due_jobs(now=NOW)}
        assert outcomes["notification_emails"] == "locked"
        assert not any("erwähnt" in m.subject for m in mail.outbox)
        other.execute("SELECT pg_advisory_unlock(hashtext('netzn_cron:notification_emails'))")
    outcomes = {o.job: o.state for o in run_due_jobs(now=NOW)}
    assert outcomes["notification_emails"] == "ran"
    assert sum("erwähnt" in m.subject for m in mail.outbox) == 1


def test_a_failing_job_stops_no_other(make_user: Any, monkeypatch: Any) -> None:
    from engagement import cron

    def broken(now: Any) -> tuple[int, str]:
        raise RuntimeError("SMTP weg")

    monkeypatch.setattr(cron, "JOBS", [cron.Job("kaputt", every(minutes=0), broken), *JOBS])
    outcomes = {o.job: o.state for o in run_due_jobs(now=NOW)}
    assert outcomes["kaputt"] == "failed"
    assert outcomes["quiet_groups"] == "ran"


def test_command_output_and_bad_input(make_user: Any) -> None:
    busy_network(make_user, people=1)
    out = StringIO()
    call_command("netzn_cron", "--now", NOW.isoformat(), "--job", "daily_digest", stdout=out)
    assert (
        out.getvalue()
        == "daily_digest: ausgeführt: 1 Zusammenfassungen, 0 ohne Neues, 0 fehlgeschlagen\n"
    )
    with pytest.raises(CommandError, match="Unbekannte Aufgabe: gibtsnicht"):
        call_command("netzn_cron", "--job", "gibtsnicht")


@pytest.mark.postgres("three netzn_cron processes on one database, as on three machines")
@pytest.mark.django_db(transaction=True)
def test_two_processes_at_once_send_nothing_twice(make_user: Any) -> None:
    network = busy_network(make_user, people=8)
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": database_url_of_test_db(),
        "DATABASE_CONN_MAX_AGE": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "SITE_URL": "https://netzn.example",
    }
    command = [sys.executable, "manage.py", "netzn_cron", "--now", NOW.isoformat()]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    stdout = "".join(out.decode() for out, _ in outputs)
    recipients = [line for line in stdout.splitlines() if line.startswith("To: ")]
    # 8 mentions, 8 digests and 8 weekly e-mails: 24, each person once per kind.
    assert len(recipients) == 24
    subjects = [line for line in stdout.splitlines() if line.startswith("Subject: ")]
    assert len(subjects) == 24
    for person in network["readers"] + network["idle"]:
        mails_to_person = [line for line in recipients if person.email in line]
        assert len(mails_to_person) == (2 if person in network["idle"] else 1), person
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 8
    assert PersonRhythm.objects.filter(digest_sent_at=NOW).count() == 8
    assert PersonRhythm.objects.filter(weekly_sent_at=NOW).count() == 8


def test_operators_see_the_last_runs_in_the_admin(make_user: Any) -> None:
    from django.test import Client

    run_due_jobs(now=NOW, only=["quiet_groups"])
    operator = make_user("Betrieb", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)
    page = client.get("/admin/engagement/jobrun/").content.decode()
    assert "quiet_groups" in page
    assert "0 stille Gruppen angestoßen" in page
    assert client.get("/admin/engagement/jobrun/add/").status_code == 403
