"""The demo groups: four starter groups, members from the demo companies, a closed
group with a pending request of a demo login; a second run changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chat.models import Message
from groups.demo import DEMO_GROUPS, seed_groups
from groups.models import Group, JoinRequest, Membership
from notifications.models import Notification


def demo_people(make_user: Callable[..., Any]) -> None:
    emails = {e for g in DEMO_GROUPS for e in [g.owner, *g.admins, *g.members]}
    emails |= {email for g in DEMO_GROUPS for email, _ in g.requests}
    for email in sorted(emails):
        make_user(email.split("@")[0].replace(".", " ").title(), email=email)


def snapshot() -> tuple[Any, ...]:
    return (
        sorted(Group.objects.values_list("name", "visibility")),
        sorted(Membership.objects.values_list("group__name", "user__email", "role")),
        sorted(JoinRequest.objects.values_list("group__name", "user__email", "status")),
        Notification.objects.count(),
        sorted(Message.objects.values_list("conversation__title", "seq", "author__email")),
    )


def test_seed_groups_is_complete_and_idempotent(make_user: Callable[..., Any]) -> None:
    demo_people(make_user)
    seed_groups()
    first = snapshot()
    assert first[0] == [
        ("Ausbildung", "open"),
        ("Import/Export", "open"),
        ("Innovationskreis Mobilität", "closed"),
        ("Unternehmensnachfolge", "closed"),
    ]
    roles = {(g, e): r for g, e, r in first[1]}
    assert roles[("Ausbildung", "karin.weiss@example.de")] == "owner"
    assert roles[("Ausbildung", "anna.becker@example.de")] == "admin"
    assert roles[("Import/Export", "malte.schroeder@example.de")] == "member"
    # a demo login waits for a decision; another demo login decides one
    assert ("Innovationskreis Mobilität", "malte.schroeder@example.de", "pending") in first[2]
    assert ("Unternehmensnachfolge", "guenther.koehler@example.de", "pending") in first[2]
    assert Notification.objects.filter(
        recipient__email="anna.becker@example.de", kind="join_request"
    ).exists()
    ausbildung = Group.objects.get(name="Ausbildung")
    bodies = list(ausbildung.conversation.messages.order_by("seq").values_list("body", flat=True))
    assert len(bodies) == 3
    assert bodies[0].startswith("Willkommen in der Gruppe!")
    assert ausbildung.conversation.last_seq == 3
    for group in Group.objects.all():
        members = set(Membership.objects.filter(group=group).values_list("user_id", flat=True))
        participants = set(group.conversation.participants.values_list("user_id", flat=True))
        assert members == participants
        assert group.conversation.readable_by_all is (group.visibility == "open")
    seed_groups()
    assert snapshot() == first


def test_seed_groups_skips_missing_people(make_user: Callable[..., Any]) -> None:
    make_user("Karin Weiß", email="karin.weiss@example.de")
    seed_groups()
    assert list(Group.objects.values_list("name", flat=True)) == ["Ausbildung"]
    assert Membership.objects.count() == 1
