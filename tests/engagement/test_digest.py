"""The daily digest (engagement/digest.py, `send_digests`): content, who gets it, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from chat.models import Participant
from engagement.digest import send_digests
from engagement.models import PersonRhythm
from notifications.actions import do_mark_read, do_notify
from tests.notifications.conftest import (
    add_member,
    direct_conversation,
    join_request,
    make_group,
    post_message,
)


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = "https://netzn.example"


@pytest.fixture
def network(make_user: Any) -> dict[str, Any]:
    """Anna (digest) owns "Stahlbau Ruhr" and is a member of "Kreativwirtschaft Bochum";
    her last digest went out yesterday morning."""
    now = timezone.now()
    yesterday = now - timedelta(hours=24)
    anna = make_user("Anna Becker", email_frequency="digest")
    PersonRhythm.objects.create(user=anna, digest_sent_at=yesterday)
    jorg = make_user("Jörg Müller")
    petra = make_user("Petra Özdemir")
    stahl = make_group("Stahlbau Ruhr", anna, jorg, visibility="closed")
    kreativ = make_group("Kreativwirtschaft Bochum", petra, anna, jorg)
    for group in (stahl, kreativ):
        for member in group.memberships.all():
            member.joined_at = now - timedelta(days=30)
            member.save()
    return {
        "now": now,
        "yesterday": yesterday,
        "anna": anna,
        "jorg": jorg,
        "petra": petra,
        "stahl": stahl,
        "kreativ": kreativ,
    }


def test_digest_reports_messages_requests_members_and_direct_messages(
    network: dict[str, Any], make_user: Any
) -> None:
    now, anna, jorg, petra = network["now"], network["anna"], network["jorg"], network["petra"]
    stahl, kreativ = network["stahl"], network["kreativ"]
    post_message(stahl.conversation, jorg, "Altes vom Vorgestern", now - timedelta(hours=30))
    post_message(kreativ.conversation, anna, "Meine eigene Frage", now - timedelta(hours=7))
    for number, author in enumerate([jorg, petra, jorg, petra, jorg], start=1):
        post_message(
            kreativ.conversation,
            author,
            f"Beitrag {number} zur Messe in Hattingen",
            now - timedelta(hours=6 - number),
        )
    bernd = make_user("Bernd Schulz")
    join_request(stahl, bernd, "Wir sind Zulieferer aus Witten.")
    add_member(kreativ, make_user("Carla Schmidt"), at=now - timedelta(hours=2))
    dm = direct_conversation(anna, petra)
    post_message(dm, petra, "Haben Sie morgen Zeit?", now - timedelta(hours=1))
    post_message(dm, petra, "Oder Freitag?", now - timedelta(minutes=30))

    do_notify(
        recipient=anna,
        kind="mention",
        data={
            "conversation": stahl.conversation_id,
            "conversation_title": "Stahlbau Ruhr",
            "author": {"display_name": "Jörg Müller"},
            "preview": "@Anna Becker bringen Sie den Prospekt mit?",
        },
        dedupe_key="mention:1",
    )
    read = do_notify(recipient=anna, kind="invitation", data={}, dedupe_key="invitation:1")
    assert read is not None
    do_mark_read(actor=anna, ids=[read.pk])

    run = send_digests(now=now)

    assert run.sent == 1
    (message,) = mail.outbox
    assert message.to == [anna.email]
    assert message.subject == (
        "netzn: Ihre Zusammenfassung (5 neue Nachrichten, 1 offene Anfrage, "
        "1 neues Mitglied, 1 Benachrichtigung, 2 ungelesene Direktnachrichten)"
    )
    body = message.body
    assert "Guten Tag Anna Becker" in body
    assert "Kreativwirtschaft Bochum: 5 neue Nachrichten" in body
    # The last three lines, oldest first, with author names; older ones and her own not.
    assert "Jörg Müller (" in body
    assert "): Beitrag 3 zur Messe in Hattingen" in body
    assert "): Beitrag 5 zur Messe in Hattingen" in body
    assert "Beitrag 2 zur" not in body
    assert body.index("Beitrag 3") < body.index("Beitrag 4") < body.index("Beitrag 5")
    assert "Meine eigene Frage" not in body
    assert "Altes vom Vorgestern" not in body
    assert "Stahlbau Ruhr: 1" not in body
    assert "(die letzten 3 von 5)" in body
    assert f"https://netzn.example/gruppen/{kreativ.slug}/" in body
    assert "OFFENE BEITRITTSANFRAGEN" in body
    assert "* Stahlbau Ruhr: Bernd Schulz (1 neu)" in body
    assert f"https://netzn.example/gruppen/{stahl.slug}/anfragen/" in body
    assert "NEUE MITGLIEDER" in body
    assert "* Kreativwirtschaft Bochum: Carla Schmidt" in body
    assert "2 ungelesene Nachrichten von Petra Özdemir." in body
    assert (
        "* Jörg Müller hat Sie in „Stahlbau Ruhr“ erwähnt: "
        "„@Anna Becker bringen Sie den Prospekt mit?“\n"
        f"  https://netzn.example/nachrichten/{stahl.conversation_id}/"
    ) in body
    assert "lädt Sie" not in body
    assert "/benachrichtigungen/abmelden/" in body
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "<h2>Offene Beitrittsanfragen</h2>" in html
    assert "<strong>Petra Özdemir</strong>" in html
    assert PersonRhythm.objects.get(user=anna).digest_sent_at == now


def only_digest_body() -> str:
    (message,) = mail.outbox
    return str(message.body)


def test_nothing_new_means_no_email(network: dict[str, Any]) -> None:
    now, anna, jorg = network["now"], network["anna"], network["jorg"]
    post_message(network["kreativ"].conversation, jorg, "Vorgestern", now - timedelta(hours=30))
    post_message(network["kreativ"].conversation, anna, "Von mir selbst", now)
    assert send_digests(now=now).sent == 0
    assert mail.outbox == []
    assert PersonRhythm.objects.get(user=anna).digest_sent_at == network["yesterday"]
    # One new message from someone else, and the digest goes out with it alone.
    post_message(network["kreativ"].conversation, jorg, "Neu von Jörg", now - timedelta(hours=1))
    assert send_digests(now=now).sent == 1
    body = only_digest_body()
    assert "Neu von Jörg" in body
    assert "Vorgestern" not in body
    assert "Von mir selbst" not in body


def test_old_open_requests_alone_do_not_repeat_the_digest(network: dict[str, Any]) -> None:
    now = network["now"]
    join_request(network["stahl"], network["petra"], at=now - timedelta(days=3))
    assert send_digests(now=now).sent == 0
    # Together with something new they are listed as a reminder.
    post_message(network["kreativ"].conversation, network["jorg"], "Neu", now - timedelta(hours=1))
    send_digests(now=now)
    (message,) = mail.outbox
    assert "* Stahlbau Ruhr: Petra Özdemir" in message.body
    assert "(1 neu)" not in message.body


def test_muted_and_mentions_only_groups_are_left_out(network: dict[str, Any]) -> None:
    now, anna, jorg = network["now"], network["anna"], network["jorg"]
    Participant.objects.filter(user=anna, conversation=network["kreativ"].conversation).update(
        notification_level="muted"
    )
    Participant.objects.filter(user=anna, conversation=network["stahl"].conversation).update(
        notification_level="mentions"
    )
    post_message(network["kreativ"].conversation, jorg, "Stumm", now - timedelta(hours=1))
    post_message(network["stahl"].conversation, jorg, "Nur Erwähnungen", now - timedelta(hours=1))
    assert send_digests(now=now).sent == 0
    assert mail.outbox == []
    # Unmuted, that group is in the next digest; the mentions-only one still is not.
    Participant.objects.filter(user=anna, conversation=network["kreativ"].conversation).update(
        notification_level="all"
    )
    assert send_digests(now=now).sent == 1
    body = only_digest_body()
    assert "Stumm" in body
    assert "Nur Erwähnungen" not in body


def test_read_messages_are_not_reported(network: dict[str, Any]) -> None:
    now, anna, jorg = network["now"], network["anna"], network["jorg"]
    message = post_message(
        network["kreativ"].conversation, jorg, "Schon gelesen", now - timedelta(hours=1)
    )
    Participant.objects.filter(user=anna, conversation=network["kreativ"].conversation).update(
        last_read_seq=message.seq
    )
    assert send_digests(now=now).sent == 0
    assert mail.outbox == []
    post_message(
        network["kreativ"].conversation, jorg, "Noch ungelesen", now - timedelta(minutes=5)
    )
    assert send_digests(now=now).sent == 1
    body = only_digest_body()
    assert "Noch ungelesen" in body
    assert "Schon gelesen" not in body


@pytest.mark.parametrize("frequency", ["immediate", "off"])
def test_only_people_who_chose_the_digest_get_it(network: dict[str, Any], frequency: str) -> None:
    now, anna = network["now"], network["anna"]
    User.objects.filter(pk=anna.pk).update(email_frequency=frequency)
    post_message(
        network["kreativ"].conversation, network["jorg"], "Hallo", now - timedelta(hours=1)
    )
    assert send_digests(now=now).sent == 0
    assert mail.outbox == []
    User.objects.filter(pk=anna.pk).update(email_frequency="digest")
    assert send_digests(now=now).sent == 1
    assert mail.outbox[0].to == [anna.email]


def test_second_run_sends_nothing_twice(network: dict[str, Any]) -> None:
    now = network["now"]
    post_message(
        network["kreativ"].conversation, network["jorg"], "Hallo", now - timedelta(hours=1)
    )
    call_command("send_digests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("send_digests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(mail.outbox) == 1
