"""Questions get answered: the `unanswered` routing (engagement/jobs.py)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from accounts.models import Block
from chat.models import Participant
from engagement.jobs import route_unanswered_questions
from engagement.questions import is_question
from notifications.models import Notification

from .conftest import NOW, ago, company_contact, make_group, post_message, seen
from .conftest import add_member as join


@pytest.fixture
def ausbildung(make_user: Any) -> dict[str, Any]:
    """ "Ausbildung im EN-Kreis" (topic Ausbildung, closed): owner Olaf; Nina asks;
    Carla is responsible for Ausbildung at Stahlbau Witten; seven members carry the
    topic; Max muted the group, Bea is blocked by Nina, Paul has no topic; Otto carries
    the topic but is no member."""
    olaf = make_user("Olaf Owner")
    nina = make_user("Nina Neu")
    carla = make_user("Carla Krüger")
    max_ = make_user("Max Stumm", topics=["Ausbildung"])
    bea = make_user("Bea Blockiert", topics=["Ausbildung"])
    paul = make_user("Paul Plain")
    otto = make_user("Otto Außen", topics=["Ausbildung"])
    topical = [make_user(f"Thema {n}", topics=["Ausbildung"]) for n in range(1, 8)]
    group = make_group(
        "Ausbildung im EN-Kreis", olaf, nina, carla, max_, bea, paul, *topical, visibility="closed"
    )
    group.topics = ["Ausbildung"]
    group.save()
    company_contact(carla, "Stahlbau Witten", "Ausbildung, Personal")
    Participant.objects.filter(conversation=group.conversation, user=max_).update(
        notification_level="muted"
    )
    Block.objects.create(blocker=nina, blocked=bea)
    # Recently active first: Thema 7 was here an hour ago, Thema 1 a week ago.
    for n, person in enumerate(topical, start=1):
        seen(person, ago(hours=8 - n))
    return {
        "group": group,
        "olaf": olaf,
        "nina": nina,
        "carla": carla,
        "max": max_,
        "bea": bea,
        "paul": paul,
        "otto": otto,
        "topical": topical,
    }


def unanswered() -> list[Notification]:
    return list(Notification.objects.filter(kind="unanswered").select_related("recipient"))


def test_question_without_reply_goes_once_to_the_likely_experts_and_the_admins(
    ausbildung: dict[str, Any],
) -> None:
    group, nina, carla = ausbildung["group"], ausbildung["nina"], ausbildung["carla"]
    question = post_message(
        group.conversation, nina, "Wer bildet 2027 noch Mechatroniker aus?", ago(hours=5)
    )

    assert route_unanswered_questions(NOW) == (
        6,
        "1 offene Frage weitergegeben, 6 Personen gefragt",
    )

    by_name = {n.recipient.display_name: n for n in unanswered()}
    # Carla (responsibility, score 3) first, then the four most recently active of the
    # topic; and the owner. Never the author, the muted, the blocked, outsiders.
    assert set(by_name) == {
        "Carla Krüger",
        "Thema 7",
        "Thema 6",
        "Thema 5",
        "Thema 4",
        "Olaf Owner",
    }
    reason = by_name["Carla Krüger"].data["reason"]
    assert reason == (
        "Sie wurden gefragt, weil Sie bei Stahlbau Witten für „Ausbildung“ zuständig sind."
    )
    assert by_name["Thema 7"].data["reason"] == (
        "Sie wurden gefragt, weil „Ausbildung“ Ihr Thema und ein Thema der Gruppe ist."
    )
    assert "verwalten" in by_name["Olaf Owner"].data["reason"]
    data = by_name["Carla Krüger"].data
    assert data["message"] == question.pk
    assert data["author"]["display_name"] == "Nina Neu"
    assert data["url"] == f"/gruppen/{group.slug}/#nachricht-{group.conversation_id}-1"
    assert carla.pk in {n.recipient_id for n in unanswered()}

    # Once per message: a second run, and new members with the topic later, get nothing.
    join(group, ausbildung["otto"])
    assert route_unanswered_questions(NOW) == (
        0,
        "0 offene Fragen weitergegeben, 0 Personen gefragt",
    )
    assert len(unanswered()) == 6


def test_answered_within_the_window_notifies_nobody(ausbildung: dict[str, Any]) -> None:
    group = ausbildung["group"]
    post_message(
        group.conversation, ausbildung["nina"], "Kennt jemand eine IHK-Prüferin?", ago(hours=5)
    )
    post_message(group.conversation, ausbildung["paul"], "Ja, Frau Brandt.", ago(hours=3))
    route_unanswered_questions(NOW)
    assert unanswered() == []


def test_own_follow_up_is_no_answer_and_the_window_is_respected(
    ausbildung: dict[str, Any], settings: Any
) -> None:
    group, nina = ausbildung["group"], ausbildung["nina"]
    post_message(
        group.conversation, nina, "Welche Berufsschule nimmt Quereinsteiger?", ago(hours=3)
    )
    post_message(group.conversation, nina, "Gern auch in Hagen.", ago(hours=2))
    route_unanswered_questions(NOW)
    assert unanswered() == []  # asked three hours ago: not due yet (240 minutes)
    settings.NETZN_UNANSWERED_AFTER_MINUTES = 120
    route_unanswered_questions(NOW)
    assert len(unanswered()) == 6


def test_statements_and_deleted_questions_are_not_routed(ausbildung: dict[str, Any]) -> None:
    group, nina = ausbildung["group"], ausbildung["nina"]
    post_message(group.conversation, nina, "Danke für das Treffen gestern.", ago(hours=6))
    deleted = post_message(group.conversation, nina, "Wer hat Zeit?", ago(hours=6))
    deleted.deleted_at = ago(hours=5)
    deleted.save()
    route_unanswered_questions(NOW)
    assert unanswered() == []


def test_without_any_match_only_the_admins_are_asked(make_user: Any) -> None:
    owner, asker = make_user("Olga Owner"), make_user("Ali Asker")
    others = [make_user(f"Ohne Thema {n}") for n in range(3)]
    group = make_group("Stammtisch Herne", owner, asker, *others)
    post_message(group.conversation, asker, "Wo treffen wir uns im Dezember?", ago(hours=5))
    route_unanswered_questions(NOW)
    assert [n.recipient for n in unanswered()] == [owner]


def test_the_notification_e_mail_says_why(ausbildung: dict[str, Any], settings: Any) -> None:
    from notifications.emails import send_due_emails

    post_message(
        ausbildung["group"].conversation,
        ausbildung["nina"],
        "Wer bildet Mechatroniker aus?",
        ago(hours=5),
    )
    route_unanswered_questions(NOW)
    send_due_emails(now=NOW.replace(year=2027))
    to_carla = next(m for m in mail.outbox if m.to == [ausbildung["carla"].email])
    assert to_carla.subject == (
        "netzn: Können Sie helfen? Nina Neu wartet in „Ausbildung im EN-Kreis“ auf eine Antwort"
    )
    assert "„Wer bildet Mechatroniker aus?“" in to_carla.body
    assert "Sie bei Stahlbau Witten für „Ausbildung“ zuständig sind" in to_carla.body
    assert "Frage beantworten:" in to_carla.body
    assert to_carla.extra_headers["List-Unsubscribe"].startswith(
        "<https://netzn.example/benachrichtigungen/"
    )


@pytest.mark.postgres("three routing runs in parallel transactions")
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_route_each_question_once(make_user: Any) -> None:
    owner = make_user("Olga Owner")
    askers = [make_user(f"Frager {n}") for n in range(6)]
    experts = [make_user(f"Expertin {n}", topics=["Logistik"]) for n in range(3)]
    group = make_group("Logistik Ruhr", owner, *askers, *experts)
    for n, asker in enumerate(askers):
        post_message(
            group.conversation,
            asker,
            f"Wer fährt Logistik nach Dortmund {n}?",
            ago(hours=5, minutes=n),
        )
    results: list[tuple[int, str]] = []

    def run() -> None:
        try:
            results.append(route_unanswered_questions(NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 3
    notes = unanswered()
    # Six questions, each to three experts and the owner: 24, none twice.
    assert len(notes) == 24
    assert len({(n.recipient_id, n.data["message"]) for n in notes}) == 24


@pytest.mark.parametrize(
    ("body", "asks"),
    [
        ("Hat jemand Erfahrung mit dem Azubi-Ticket", True),
        ("Welche Kammer ist zuständig", True),
        ("Gibt es in Witten einen Coworking-Space", True),
        ("Kurze Frage: passt Dienstag?", True),
        ("Wir suchen eine Fachkraft für Lagerlogistik", True),
        ("Hat super geklappt, danke!", False),
        ("Das Treffen war gut.", False),
        ("", False),
    ],
)
def test_what_counts_as_a_question(body: str, asks: bool) -> None:
    assert is_question(body) is asks


def test_a_board_request_counts_as_a_question_and_an_offer_does_not() -> None:
    body = "Ladung Herne → Hamburg, 6 Paletten."
    assert is_question(body, {"id": 1, "kind": "request", "category": "freight"}) is True
    assert is_question(body, {"id": 2, "kind": "offer", "category": "freight"}) is False
    assert is_question(body, None) is False


def test_a_question_after_a_question_answers_nothing(ausbildung: dict[str, Any]) -> None:
    group, nina, paul = ausbildung["group"], ausbildung["nina"], ausbildung["paul"]
    post_message(group.conversation, nina, "Wer prüft bei der IHK?", ago(hours=6))
    post_message(group.conversation, paul, "Und wer kennt die Termine?", ago(hours=5))
    route_unanswered_questions(NOW)
    assert {n.data["message"] for n in unanswered()} == {
        m.pk for m in group.conversation.messages.all()
    }
    # A question back that names the asker is an answer (a follow-up question).
    post_message(group.conversation, nina, "Welche Unterlagen brauche ich?", ago(hours=5))
    post_message(group.conversation, paul, "@Nina Neu für welchen Beruf?", ago(hours=4, minutes=59))
    before = len(unanswered())
    route_unanswered_questions(NOW)
    assert len(unanswered()) == before


def test_a_question_to_someone_by_name_is_not_routed() -> None:
    assert not is_question("@Carla Krüger kommen Sie am Montag?")
