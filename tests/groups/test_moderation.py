"""Group moderation of reported messages (docs/formatting-moderation.md): owners and
admins see their group's open reports and decide (hide, warn, remove, dismiss);
members, outsiders and admins of another group cannot; every decision is recorded."""

from __future__ import annotations

from typing import Any

import pytest

from chat.actions import do_report_message, do_send_message
from chat.models import Message, MessageReport, Participant
from groups.models import Membership
from notifications.models import Notification
from tests.groups.conftest import Api, Cast, make_cast


def reported_message(cast: Cast, *, by: Any = None, text: str = "Kauft billig bei mir!") -> Any:
    author = by or cast.member
    message, _ = do_send_message(
        actor=author,
        conversation_id=cast.group.conversation_id,
        body=text,
        client_id=f"r-{Message.objects.count()}",
    )
    reporter = cast.admin if author != cast.admin else cast.owner
    do_report_message(actor=reporter, message_id=message.pk, reason="Spam oder Werbung: Werbung")
    return message


def test_owner_sees_open_reports_without_who_reported(closed_cast: Cast) -> None:
    message = reported_message(closed_cast)
    do_report_message(actor=closed_cast.owner, message_id=message.pk, reason="")
    answer = Api(closed_cast.owner).get(f"/groups/{closed_cast.group.slug}/reports")
    assert answer.status_code == 200
    (item,) = answer.json()["results"]
    assert item["message"] == message.pk
    assert item["author"]["display_name"] == "Mia Mitglied"
    assert item["body"] == "Kauft billig bei mir!"
    assert item["body_html"] == "<p>Kauft billig bei mir!</p>"
    assert item["reports"] == 2
    assert item["reasons"] == ["Spam oder Werbung: Werbung"]
    # Who reported stays confidential: no field names them.
    assert set(item) == {
        "message",
        "seq",
        "author",
        "body",
        "body_html",
        "created_at",
        "deleted",
        "reports",
        "reasons",
        "first_reported_at",
    }


@pytest.mark.parametrize("role", ["member", "requester", "other"])
def test_others_cannot_see_or_decide_reports(closed_cast: Cast, role: str) -> None:
    message = reported_message(closed_cast)
    api = Api(closed_cast.person(role))
    slug = closed_cast.group.slug
    listing = api.get(f"/groups/{slug}/reports")
    decision = api.post(f"/groups/{slug}/reports/{message.pk}", {"decision": "hide"})
    assert listing.status_code in (403, 404)
    assert decision.status_code in (403, 404)
    assert MessageReport.objects.get().status == "open"
    assert Message.objects.get(pk=message.pk).hidden_at is None
    # The owner, with the same setup, may.
    allowed = Api(closed_cast.owner).get(f"/groups/{slug}/reports")
    assert [i["message"] for i in allowed.json()["results"]] == [message.pk]


def test_admin_of_one_group_cannot_decide_reports_of_another(
    make_user: Any, closed_cast: Cast
) -> None:
    other = make_cast(make_user, "open")
    message = reported_message(closed_cast)
    # The admin of the other group, through their own group's URL and through this one's.
    foreign = Api(other.admin)
    through_own = foreign.post(
        f"/groups/{other.group.slug}/reports/{message.pk}", {"decision": "hide"}
    )
    through_theirs = foreign.post(
        f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": "hide"}
    )
    assert through_own.status_code == 404
    assert through_theirs.status_code in (403, 404)
    assert MessageReport.objects.get().status == "open"
    assert Message.objects.get(pk=message.pk).hidden_at is None


def test_hide_closes_every_report_and_is_recorded(
    closed_cast: Cast, published: Any, django_capture_on_commit_callbacks: Any
) -> None:
    message = reported_message(closed_cast)
    do_report_message(actor=closed_cast.owner, message_id=message.pk, reason="Beleidigung")
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = Api(closed_cast.admin).post(
            f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": "hide"}
        )
    assert answer.status_code == 200
    assert answer.json() == {"message": message.pk, "decision": "hide", "closed": 2}
    reports = list(MessageReport.objects.all())
    assert {(r.status, r.decision, r.decided_by_id) for r in reports} == {
        ("resolved", "hide", closed_cast.admin.pk)
    }
    assert all(r.resolved_at is not None for r in reports)
    stored = Message.objects.get(pk=message.pk)
    assert stored.hidden_by_id == closed_cast.admin.pk
    assert stored.body == "Kauft billig bei mir!"  # kept for the audit
    frames = [f for topic, f in published if topic == f"conv:{message.conversation_id}"]
    assert frames == [
        {
            "type": "message_deleted",
            "conversation": message.conversation_id,
            "id": message.pk,
            "seq": message.seq,
            "hidden": True,
        }
    ]
    # Gone for everyone in the history; no longer in the queue; a second decision: 404.
    history = (
        Api(closed_cast.member)
        .get(f"/conversations/{message.conversation_id}/messages")
        .json()["results"]
    )
    (item,) = history
    assert (item["body"], item["deleted"], item["hidden"]) == ("", True, True)
    assert "body_html" not in item
    assert (
        Api(closed_cast.owner).get(f"/groups/{closed_cast.group.slug}/reports").json()["results"]
        == []
    )
    again = Api(closed_cast.owner).post(
        f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": "dismiss"}
    )
    assert again.status_code == 404


def test_a_hidden_message_cannot_be_edited_or_reported_again(closed_cast: Cast) -> None:
    message = reported_message(closed_cast)
    Api(closed_cast.owner).post(
        f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": "hide"}
    )
    edit = Api(closed_cast.member).call(
        "PATCH",
        f"/conversations/{message.conversation_id}/messages/{message.pk}",
        {"body": "anders"},
    )
    assert edit.status_code == 409
    report = Api(closed_cast.owner).post(f"/messages/{message.pk}/report", {"reason": "x"})
    assert report.status_code == 409


def test_warn_notifies_the_author(closed_cast: Cast) -> None:
    message = reported_message(closed_cast)
    answer = Api(closed_cast.owner).post(
        f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": "warn"}
    )
    assert answer.status_code == 200
    warning = Notification.objects.get(kind="warning")
    assert warning.recipient_id == closed_cast.member.pk
    assert warning.data["group_slug"] == closed_cast.group.slug
    assert "gemeldet" in warning.data["text"]
    assert Message.objects.get(pk=message.pk).hidden_at is None
    assert MessageReport.objects.get().decision == "warn"


def test_remove_takes_the_author_out_of_the_group(closed_cast: Cast) -> None:
    message = reported_message(closed_cast)
    answer = Api(closed_cast.admin).post(
        f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": "remove"}
    )
    assert answer.status_code == 200
    assert not Membership.objects.filter(group=closed_cast.group, user=closed_cast.member).exists()
    assert not Participant.objects.filter(
        conversation_id=message.conversation_id, user=closed_cast.member
    ).exists()
    assert MessageReport.objects.get().decision == "remove"


def test_an_admin_cannot_remove_another_admin_and_nothing_changes(closed_cast: Cast) -> None:
    second_admin = closed_cast.requester
    Membership.objects.create(group=closed_cast.group, user=second_admin, role="admin")
    closed_cast.group.conversation.participants.create(user=second_admin, can_moderate=True)
    message = reported_message(closed_cast, by=second_admin)
    answer = Api(closed_cast.admin).post(
        f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": "remove"}
    )
    assert answer.status_code == 403
    assert Membership.objects.filter(group=closed_cast.group, user=second_admin).exists()
    assert MessageReport.objects.get().status == "open"


def test_dismiss_keeps_the_message(closed_cast: Cast) -> None:
    message = reported_message(closed_cast)
    answer = Api(closed_cast.owner).post(
        f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": "dismiss"}
    )
    assert answer.status_code == 200
    report = MessageReport.objects.get()
    assert (report.status, report.decision) == ("dismissed", "dismiss")
    assert Message.objects.get(pk=message.pk).hidden_at is None


@pytest.mark.parametrize("decision", [None, "", "delete", 3, ["hide"], {"x": 1}])
def test_bad_decisions_are_refused(closed_cast: Cast, decision: Any) -> None:
    message = reported_message(closed_cast)
    answer = Api(closed_cast.owner).post(
        f"/groups/{closed_cast.group.slug}/reports/{message.pk}", {"decision": decision}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
    assert MessageReport.objects.get().status == "open"


def test_outsider_reporting_a_closed_group_message_gets_the_missing_answer(
    closed_cast: Cast,
) -> None:
    message, _ = do_send_message(
        actor=closed_cast.member,
        conversation_id=closed_cast.group.conversation_id,
        body="intern",
        client_id="i-1",
    )
    outsider = Api(closed_cast.other)
    forbidden = outsider.post(f"/messages/{message.pk}/report", {"reason": "x"})
    missing = outsider.post(f"/messages/{message.pk + 1000}/report", {"reason": "x"})
    assert forbidden.status_code == missing.status_code
    assert forbidden.json() == missing.json()
    assert not MessageReport.objects.exists()


def test_a_reporter_learns_nothing_of_other_reports(closed_cast: Cast) -> None:
    message = reported_message(closed_cast)
    answer = Api(closed_cast.owner).post(f"/messages/{message.pk}/report", {"reason": "auch"})
    assert answer.status_code == 201
    assert set(answer.json()) == {"id", "message", "status", "created_at"}
