"""The weekly "Was Sie verpasst haben" e-mail: to the idle, never to the active."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from engagement.models import PersonRhythm
from engagement.weekly import send_catch_ups
from groups.models import Group

from .conftest import NOW, ago, make_group, post_message, seen


def test_goes_to_the_idle_with_news_and_never_to_the_active(make_user: Any) -> None:
    olaf = make_user("Olaf Owner")
    idle = make_user("Ida Idle", topics=["Logistik"], date_joined=ago(days=60))
    active = make_user("Alex Aktiv", date_joined=ago(days=60))
    off = make_user("Otto Aus", email_frequency="off", date_joined=ago(days=60))
    digest = make_user("Dora Digest", email_frequency="digest", date_joined=ago(days=60))
    idle_no_news = make_user("Ned Nichts", date_joined=ago(days=60))
    group = make_group("Logistik Ruhr", olaf, idle, active, off, digest)
    make_group("Geheimer Kreis", olaf, visibility="closed")
    Group.objects.update(created_at=ago(days=30))  # no group is new to anyone
    for person in (idle, off, digest, idle_no_news):
        seen(person, ago(days=9))
    seen(active, ago(days=2))
    post_message(group.conversation, olaf, "Neue Tour nach Hamburg frei, wer will?", ago(days=3))

    run = send_catch_ups(now=NOW)

    assert run.sent == 1
    (message,) = mail.outbox
    assert message.to == [idle.email]
    assert message.subject.startswith("netzn: Was Sie verpasst haben (1 neue Nachricht")
    body = message.body
    assert "Guten Tag Ida Idle" in body
    assert "NEU IN IHREN GRUPPEN" in body
    assert "Logistik Ruhr: 1 neue Nachricht" in body
    assert "Neue Tour nach Hamburg frei, wer will?" in body
    assert "HIER KÖNNEN SIE HELFEN" in body  # the question has no answer yet
    assert "Geheimer Kreis" not in body
    assert "/benachrichtigungen/abmelden/" in body
    assert isinstance(message, EmailMultiAlternatives)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://netzn.example/")
    assert PersonRhythm.objects.get(user=idle).weekly_sent_at == NOW


def test_once_a_week_and_a_visit_stops_it(make_user: Any) -> None:
    olaf = make_user("Olaf Owner")
    ida = make_user("Ida Idle", date_joined=ago(days=60))
    group = make_group("Logistik Ruhr", olaf, ida)
    seen(ida, ago(days=8))
    post_message(group.conversation, olaf, "Tour 1", ago(days=4))
    assert send_catch_ups(now=NOW).sent == 1
    post_message(group.conversation, olaf, "Tour 2", ago(days=1))
    assert send_catch_ups(now=NOW).sent == 0  # not twice the same week
    week_later = NOW + timedelta(days=7)
    post_message(group.conversation, olaf, "Tour 3", NOW + timedelta(days=2))
    seen(ida, NOW + timedelta(days=3))  # she came by: the visit counts, not the e-mail
    assert send_catch_ups(now=week_later).sent == 0
    post_message(group.conversation, olaf, "Tour 4", NOW + timedelta(days=5))
    assert send_catch_ups(now=NOW + timedelta(days=10)).sent == 1
    assert "Tour 4" in mail.outbox[1].body
    assert "Tour 3" not in mail.outbox[1].body  # seen on her visit


def test_a_page_view_records_the_visit_at_most_every_five_minutes(make_user: Any) -> None:
    ida = make_user("Ida Idle")
    client = Client()
    client.force_login(ida)
    client.get("/")
    first = PersonRhythm.objects.get(user=ida).last_seen_at
    assert first is not None
    client.get("/gruppen/")
    client.get("/api/v1/me")
    assert PersonRhythm.objects.get(user=ida).last_seen_at == first
    cache.clear()  # five minutes later
    client.get("/gruppen/")
    later = PersonRhythm.objects.get(user=ida).last_seen_at
    assert later is not None and later > first


def test_new_groups_that_fit_are_news_too(make_user: Any) -> None:
    olaf = make_user("Olaf Owner")
    ned = make_user("Ned Neu", topics=["Energie"], date_joined=ago(days=60))
    seen(ned, ago(days=9))
    group = make_group("Energie Bochum", olaf)
    group.topics = ["Energie"]
    group.save()
    assert send_catch_ups(now=NOW).sent == 1
    assert "GRUPPEN FÜR SIE\n\n* Energie Bochum (Thema Energie)" in mail.outbox[0].body


def test_a_second_week_idle_gets_the_next_one(make_user: Any) -> None:
    olaf = make_user("Olaf Owner")
    ida = make_user("Ida Idle", date_joined=ago(days=60))
    group = make_group("Logistik Ruhr", olaf, ida)
    seen(ida, ago(days=8))
    post_message(group.conversation, olaf, "Tour 1", ago(days=4))
    assert send_catch_ups(now=NOW).sent == 1
    later = NOW + (NOW - ago(days=7))
    post_message(group.conversation, olaf, "Tour 2", ago(days=-3))
    assert send_catch_ups(now=later).sent == 1
    assert "Tour 2" in mail.outbox[1].body
    assert "Tour 1" not in mail.outbox[1].body
