"""Quiet groups (`group_quiet`) and the network's health figures (API and staff page)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from engagement.health import health, weeks
from engagement.jobs import nudge_quiet_groups
from groups.models import Group, Membership
from notifications.models import Notification
from tests.notifications.conftest import Api

from .conftest import NOW, ago, make_group, post_message, seen


def quiet_notes() -> list[Notification]:
    return list(Notification.objects.filter(kind="group_quiet").select_related("recipient"))


def test_quiet_group_nudges_owners_and_admins_once_per_spell(make_user: Any) -> None:
    owner, admin, member = make_user("Olaf Owner"), make_user("Ada Admin"), make_user("Mia")
    make_user("Erik Energie", topics=["Energie"])
    group = make_group("Energie Bochum", owner, admin, member)
    group.topics, group.created_at = ["Energie"], ago(days=40)
    group.save()
    Membership.objects.filter(group=group, user=admin).update(role="admin")
    lively = make_group("Lebhaft", owner)
    Group.objects.filter(pk=lively.pk).update(created_at=ago(days=40))
    post_message(lively.conversation, owner, "Hallo", ago(days=2))
    post_message(group.conversation, member, "Letzte Nachricht", ago(days=15))

    assert nudge_quiet_groups(NOW) == (1, "1 stille Gruppen angestoßen")

    notes = quiet_notes()
    assert {n.recipient for n in notes} == {owner, admin}
    data = notes[0].data
    assert data["group"] == {"slug": group.slug, "name": "Energie Bochum"}
    assert data["quiet_days"] == 15
    assert data["suggestions"][0] == (
        "Stellen Sie eine Frage, die Ihre Mitglieder gerade beschäftigt, etwa zu „Energie“."
    )
    assert "Erik Energie (Thema Energie)" in data["suggestions"][2]
    centre = Client()
    centre.force_login(owner)
    page = centre.get("/benachrichtigungen/").content.decode()
    assert "In „Energie Bochum“ ist es seit 15 Tagen still" in page
    assert "Erik Energie (Thema Energie)" in page

    # Once per spell: later runs say nothing; a new message ends the spell, the next
    # silence of 14 days is a new one.
    assert nudge_quiet_groups(NOW + timedelta(days=3))[0] == 0
    post_message(group.conversation, member, "Wieder da", NOW + timedelta(days=4))
    assert nudge_quiet_groups(NOW + timedelta(days=10))[0] == 0
    # 19 days on, Energie Bochum is quiet again (and Lebhaft for the first time).
    assert nudge_quiet_groups(NOW + timedelta(days=19))[0] == 2
    energie = [n for n in quiet_notes() if n.data["group"]["slug"] == group.slug]
    assert len(energie) == 4


def test_young_and_archived_groups_are_left_alone(make_user: Any) -> None:
    owner = make_user("Olaf Owner")
    make_group("Ganz neu", owner)
    archived = make_group("Archiv", owner)
    Group.objects.filter(pk=archived.pk).update(created_at=ago(days=40), archived_at=ago(days=1))
    assert nudge_quiet_groups(NOW)[0] == 0


@pytest.fixture
def known(make_user: Any) -> dict[str, Any]:
    """Within the last 7 days before NOW: 3 questions (2 answered after 30 and 90
    minutes), 6 messages in all (one deleted is not counted), 3 writers; a group silent
    for 20 days; 2 people joined in the period, one visitor who did not write."""
    anna, bernd, carla = make_user("Anna"), make_user("Bernd"), make_user("Carla")
    visitor = make_user("Vera Besuch")
    old = make_user("Otto Alt")
    from accounts.models import User

    User.objects.filter(pk__in=[anna.pk, bernd.pk, carla.pk, visitor.pk, old.pk]).update(
        date_joined=ago(days=100)
    )
    User.objects.filter(pk__in=[anna.pk, bernd.pk]).update(date_joined=ago(days=3))
    seen(visitor, ago(days=1))
    seen(old, ago(days=20))
    group = make_group("Ausbildung", anna, bernd, carla, visibility="closed")
    silent = make_group("Still", anna)
    Group.objects.filter(pk__in=[group.pk, silent.pk]).update(created_at=ago(days=60))
    post_message(silent.conversation, anna, "Lange her", ago(days=20))
    c = group.conversation
    post_message(c, anna, "Wer bildet Elektroniker aus?", ago(days=2, hours=3))
    post_message(c, bernd, "Wir, seit 2019.", ago(days=2, hours=2, minutes=30))
    post_message(c, carla, "Kennt jemand die Prüfungstermine?", ago(days=1, hours=5))
    post_message(c, anna, "Ja: 12. März.", ago(days=1, hours=3, minutes=30))
    post_message(c, bernd, "Wo finde ich das Formular?", ago(hours=5))
    gone = post_message(c, carla, "gelöscht", ago(hours=4))
    gone.deleted_at = ago(hours=3)
    gone.save()
    return {"anna": anna, "visitor": visitor}


def test_health_figures_from_a_known_fixture(known: dict[str, Any]) -> None:
    figures = health(days=7, now=NOW)
    assert figures == {
        "days": 7,
        "active_people": 4,  # three writers and the visitor
        "new_people": 2,
        "messages": 5,
        "questions": 3,
        "questions_answered_pct": 66.7,
        "median_first_reply_minutes": 60.0,  # median of 30 and 90; a deleted one answers not
        "posts": 0,
        "matches": 0,
        "groups_active": 1,
        "groups_quiet": 1,
    }


def test_weekly_series(known: dict[str, Any]) -> None:
    series = weeks(days=7, now=NOW)
    assert 1 <= len(series) <= 2
    assert sum(week.messages for week in series) == 5
    assert all(week.start.weekday() == 0 for week in series)


def test_health_api_is_for_staff_only(known: dict[str, Any], make_user: Any) -> None:
    staff = make_user("Betrieb", is_staff=True)
    member = known["anna"]
    assert Api(None).get("/network/health").status_code == 401
    forbidden = Api(member).get("/network/health?days=30")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    answer = Api(staff).get("/network/health?days=30").json()
    assert answer == health(days=30, now=timezone.now())  # the API's clock is the real one
    assert Api(staff).get("/network/health").json()["days"] == 30
    for bad in ("0", "366", "abc", "-1", "7.5"):
        response = Api(staff).get(f"/network/health?days={bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"]["fields"]["days"]


def test_health_page_renders_svg_without_inline_style(
    known: dict[str, Any], make_user: Any
) -> None:
    staff = make_user("Betrieb", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.get("/netzwerk/gesundheit/?tage=90")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lebt das Netzwerk?" in html
    assert html.count("<svg") == 4
    assert 'data-chart="beantwortet"' in html
    assert "style=" not in html
    assert "<script>" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert 'aria-current="page">90 Tage' in html
    # SVG coordinates are plain numbers, never German decimals.
    import re

    for value in re.findall(r'(?:x|y|width|height)="([^"]*)"', html.split("<svg", 1)[1]):
        assert "," not in value, value
    member = Client()
    member.force_login(known["anna"])
    denied = member.get("/netzwerk/gesundheit/")
    assert denied.status_code == 403
    assert "Kein Zugriff" in denied.content.decode()
    assert "Ausbildung" not in denied.content.decode()
