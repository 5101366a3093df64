"""The e-mail worker: delay, once only, read meanwhile, preferences, unsubscribe."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from notifications.actions import do_mark_read, do_mark_read_by_key, do_notify
from notifications.emails import send_due_emails, unsubscribe_token
from notifications.models import Notification

DM = {
    "conversation": 41,
    "message": 7,
    "seq": 3,
    "author": {"id": 9, "display_name": "Jörg Müller"},
    "preview": "Hallo Frau Becker, passt Ihnen Dienstag um 10 Uhr in Herne?",
}
REQUEST = {
    "group": {"slug": "stahlbau-ruhr", "name": "Stahlbau Ruhr"},
    "request_id": 12,
    "requester": {"id": 9, "display_name": "Jörg Müller"},
    "message": "Wir sind ein Zulieferer aus Witten.",
    "url": "/gruppen/stahlbau-ruhr/anfragen/",
}


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = "https://netzn.example"
    settings.NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS = 600


def later(seconds: int = 601) -> Any:
    return timezone.now() + timedelta(seconds=seconds)


def test_nothing_is_sent_before_the_delay(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    do_notify(recipient=anna, kind="direct_message", data=DM, dedupe_key="dm:41:0")
    assert send_due_emails().sent == []
    assert send_due_emails(now=later(590)).sent == []
    assert mail.outbox == []


def test_one_german_email_after_the_delay_with_link_and_unsubscribe(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    notification = do_notify(recipient=anna, kind="direct_message", data=DM, dedupe_key="k")
    assert notification is not None
    result = send_due_emails(now=later())
    assert result.sent == [notification.pk]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [anna.email]
    assert message.subject == "netzn: Jörg Müller hat Ihnen eine Direktnachricht geschrieben"
    assert "Guten Tag Anna Becker" in message.body
    assert "Hallo Frau Becker, passt Ihnen Dienstag um 10 Uhr in Herne?" in message.body
    assert "https://netzn.example/nachrichten/41/" in message.body
    token = unsubscribe_token(anna)
    unsubscribe = f"https://netzn.example/benachrichtigungen/abmelden/{token}/"
    assert unsubscribe in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert isinstance(message, EmailMultiAlternatives)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert 'href="https://netzn.example/nachrichten/41/"' in str(html)
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_join_request_email_links_to_the_request_queue(make_user: Any) -> None:
    admin = make_user("Petra Admin")
    do_notify(recipient=admin, kind="join_request", data=REQUEST, dedupe_key="join_request:12")
    send_due_emails(now=later())
    (message,) = mail.outbox
    assert message.subject == "netzn: Jörg Müller möchte der Gruppe „Stahlbau Ruhr“ beitreten"
    assert "Wir sind ein Zulieferer aus Witten." in message.body
    assert "Anfrage entscheiden:\nhttps://netzn.example/gruppen/stahlbau-ruhr/anfragen/" in (
        message.body
    )


def test_never_sent_twice(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    do_notify(recipient=anna, kind="mention", data=DM, dedupe_key="mention:41:7")
    assert len(send_due_emails(now=later()).sent) == 1
    assert send_due_emails(now=later(3600)).sent == []
    # The same thing notified again is de-duplicated, so it owes no second e-mail.
    assert do_notify(recipient=anna, kind="mention", data=DM, dedupe_key="mention:41:7") is None
    assert send_due_emails(now=later(7200)).sent == []
    assert len(mail.outbox) == 1


def test_read_in_the_browser_meanwhile_gets_no_email(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    bernd = make_user("Bernd Schulz")
    read = do_notify(recipient=anna, kind="direct_message", data=DM, dedupe_key="dm:41:0")
    opened = do_notify(recipient=bernd, kind="direct_message", data=DM, dedupe_key="dm:41:0")
    assert read is not None
    assert opened is not None
    do_mark_read(actor=anna, ids=[read.pk])
    # Bernd read the conversation itself: chat clears the notification by its key.
    do_mark_read_by_key(recipient=bernd, dedupe_key_prefix="dm:41:")
    assert send_due_emails(now=later()).sent == []
    assert mail.outbox == []


def test_switching_to_digest_or_off_cancels_owed_single_emails(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    bernd = make_user("Bernd Schulz")
    carla = make_user("Carla Schmidt")
    for person in (anna, bernd, carla):
        do_notify(recipient=person, kind="mention", data=DM, dedupe_key="m")
    User.objects.filter(pk=anna.pk).update(email_frequency="digest")
    User.objects.filter(pk=bernd.pk).update(email_frequency="off")
    result = send_due_emails(now=later())
    assert len(result.sent) == 1
    assert len(result.skipped) == 2
    assert [message.to for message in mail.outbox] == [[carla.email]]
    assert Notification.objects.filter(email_due_at__isnull=False, emailed_at=None).count() == 0


def test_a_failed_send_is_retried_and_not_lost(make_user: Any, monkeypatch: Any) -> None:
    anna = make_user("Anna Becker")
    bernd = make_user("Bernd Schulz")
    do_notify(recipient=anna, kind="mention", data=DM, dedupe_key="m")
    do_notify(recipient=bernd, kind="mention", data=DM, dedupe_key="m")
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages

    def refuse_anna(self: Any, messages: Any) -> int:
        if messages[0].to == [anna.email]:
            raise OSError("SMTP-Server nicht erreichbar")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_anna)
    first = send_due_emails(now=later())
    assert len(first.sent) == 1
    assert len(first.failed) == 1
    assert [m.to for m in mail.outbox] == [[bernd.email]]
    monkeypatch.setattr(EmailBackend, "send_messages", original)
    second = send_due_emails(now=later())
    assert second.failed == []
    assert [m.to for m in mail.outbox] == [[bernd.email], [anna.email]]


def test_the_command_sends_what_is_due(make_user: Any, settings: Any) -> None:
    settings.NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS = 0
    anna = make_user("Anna Becker")
    do_notify(recipient=anna, kind="invitation", data={}, dedupe_key="invitation:1")
    call_command("send_notification_emails", verbosity=0)
    call_command("send_notification_emails", verbosity=0)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "netzn: Jemand lädt Sie in die Gruppe „einer Gruppe“ ein"


def unsubscribe_link(message: Any) -> str:
    match = re.search(
        r"https://netzn\.example(/benachrichtigungen/abmelden/[^/\s]+/)", message.body
    )
    assert match is not None
    return match.group(1)


def test_unsubscribe_link_asks_first_then_turns_emails_off(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    do_notify(recipient=anna, kind="mention", data=DM, dedupe_key="m")
    send_due_emails(now=later())
    path = unsubscribe_link(mail.outbox[0])
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200
    assert "E-Mails abbestellen" in page.content.decode()
    anna.refresh_from_db()
    assert anna.email_frequency == "immediate"  # a prefetching mail client changes nothing
    done = browser.post(path)  # no login, no CSRF token: the signed token is the credential
    assert done.status_code == 200
    assert "keine Benachrichtigungs-E-Mails mehr" in done.content.decode()
    anna.refresh_from_db()
    assert anna.email_frequency == "off"
    do_notify(recipient=anna, kind="mention", data=DM, dedupe_key="m2")
    send_due_emails(now=later())
    assert len(mail.outbox) == 1


def test_forged_unsubscribe_link_changes_nothing(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    token = unsubscribe_token(anna)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for path in (f"/benachrichtigungen/abmelden/{forged}/", "/benachrichtigungen/abmelden/x/"):
        response = Client().post(path)
        assert response.status_code == 400
        assert "ungültig" in response.content.decode()
    anna.refresh_from_db()
    assert anna.email_frequency == "immediate"


@pytest.mark.postgres("workers skip each other's rows with SELECT ... FOR UPDATE SKIP LOCKED")
@pytest.mark.django_db(transaction=True)
def test_three_workers_sending_at_the_same_moment_send_each_email_once(make_user: Any) -> None:
    """Each worker's first e-mail waits at a barrier until all three are in the middle
    of sending one, each holding its row: they truly overlap, and none waits for
    another's lock (that would break the barrier) or sends another's row."""
    people = [make_user(f"Person {number}") for number in range(12)]
    for person in people:
        do_notify(recipient=person, kind="mention", data=DM, dedupe_key="m")
    moment = later()
    results: list[Any] = []
    errors: list[BaseException] = []
    workers_count = 3
    all_sending = threading.Barrier(workers_count, timeout=10)
    first_done = threading.local()
    send_messages = locmem.EmailBackend.send_messages

    def overlapping(backend: Any, messages: Any) -> Any:
        if not getattr(first_done, "value", False):
            first_done.value = True
            all_sending.wait()
        return send_messages(backend, messages)

    def work() -> None:
        try:
            results.append(send_due_emails(now=moment))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(workers_count)]
    with mock.patch.object(locmem.EmailBackend, "send_messages", overlapping):
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
    assert errors == []
    assert [result.failed for result in results] == [[]] * workers_count  # no barrier broke
    sent = [pk for result in results for pk in result.sent]
    assert len(results) == 3
    assert sorted(sent) == sorted(set(sent))
    assert len(sent) == len(people)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
