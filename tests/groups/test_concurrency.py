"""Races with real parallel transactions on PostgreSQL.

Each case starts its calls in threads (each thread its own database connection and
transaction) released together by a barrier, over the JSON API. The group row lock
serialises them: the loser sees the winner's result and gets a clear 409, and the
data stays consistent. Each case runs a few rounds, so both orders get a chance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from groups.actions import do_create_group
from groups.models import Group, JoinRequest, Membership
from notifications.models import Notification
from tests.groups.conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 3


Request = tuple[Api, str, str] | tuple[Api, str, str, Any]


def race(*calls: Request) -> list[Any]:
    """Make the API calls (api, method, path[, body]) at the same moment in parallel
    threads; their responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Request) -> None:
        api, method, path, *body = call
        try:
            barrier.wait(timeout=10)
            results[index] = api.call(method, path, body[0] if body else None)
        except Exception as exc:  # surfaced by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def statuses(responses: list[Any]) -> list[int]:
    return sorted(response.status_code for response in responses)


def closed_group(owner: Any, name: str) -> Group:
    return do_create_group(actor=owner, name=name, visibility="closed")


def test_two_admins_approve_the_same_request(make_user: Callable[..., Any]) -> None:
    owner, admin = make_user("Olga"), make_user("Arne")
    for round_ in range(ROUNDS):
        group = closed_group(owner, f"Kreis {round_}")
        Membership.objects.create(group=group, user=admin, role="admin")
        requester = make_user(f"Rolf {round_}")
        request = JoinRequest.objects.create(group=group, user=requester)
        url = f"/groups/{group.slug}/requests/{request.pk}/approve"
        owner_api, admin_api = Api(owner), Api(admin)
        results = race((owner_api, "POST", url), (admin_api, "POST", url))
        assert statuses(results) == [200, 409]
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json()["error"]["code"] == "conflict"
        assert Membership.objects.filter(group=group, user=requester).count() == 1
        assert Notification.objects.filter(recipient=requester, kind="join_approved").count() == 1
        assert group.conversation.participants.filter(user=requester).count() == 1


def test_approve_and_decline_at_the_same_moment(make_user: Callable[..., Any]) -> None:
    owner, admin = make_user("Olga"), make_user("Arne")
    for round_ in range(ROUNDS):
        group = closed_group(owner, f"Runde {round_}")
        Membership.objects.create(group=group, user=admin, role="admin")
        requester = make_user(f"Rolf {round_}")
        request = JoinRequest.objects.create(group=group, user=requester)
        base = f"/groups/{group.slug}/requests/{request.pk}"
        owner_api, admin_api = Api(owner), Api(admin)
        results = race(
            (owner_api, "POST", f"{base}/approve"),
            (admin_api, "POST", f"{base}/decline", {"reason": "Passt nicht"}),
        )
        assert statuses(results) == [200, 409]
        request.refresh_from_db()
        is_member = Membership.objects.filter(group=group, user=requester).exists()
        assert is_member is (request.status == "approved")


def test_many_people_join_an_open_group_at_once(make_user: Callable[..., Any]) -> None:
    owner = make_user("Olga")
    group = do_create_group(actor=owner, name="Offen für alle")
    people = [make_user(f"Person {i}") for i in range(6)]
    apis = [Api(person) for person in people]
    results = race(*[(api, "POST", f"/groups/{group.slug}/join") for api in apis])
    assert statuses(results) == [200] * 6
    assert Membership.objects.filter(group=group).count() == 7
    assert group.conversation.participants.count() == 7
    counts = sorted(r.json()["member"]["id"] for r in results)
    assert counts == sorted(p.pk for p in people)


def test_same_person_joins_twice_at_once(make_user: Callable[..., Any]) -> None:
    owner = make_user("Olga")
    for round_ in range(ROUNDS):
        person = make_user(f"Doppelklick {round_}")
        open_group = do_create_group(actor=owner, name=f"Offen {round_}")
        closed = closed_group(owner, f"Zu {round_}")
        api_a, api_b = Api(person), Api(person)
        open_results = race(
            (api_a, "POST", f"/groups/{open_group.slug}/join"),
            (api_b, "POST", f"/groups/{open_group.slug}/join"),
        )
        assert statuses(open_results) == [200, 409]
        assert Membership.objects.filter(group=open_group, user=person).count() == 1
        closed_results = race(
            (api_a, "POST", f"/groups/{closed.slug}/join"),
            (api_b, "POST", f"/groups/{closed.slug}/join"),
        )
        assert statuses(closed_results) == [202, 409]
        assert JoinRequest.objects.filter(group=closed, user=person, status="pending").count() == 1
        assert (
            Notification.objects.filter(recipient=owner, kind="join_request").count() == round_ + 1
        )


def test_two_owners_leave_at_once(make_user: Callable[..., Any]) -> None:
    for round_ in range(ROUNDS):
        first, second = make_user(f"Erste {round_}"), make_user(f"Zweiter {round_}")
        group = closed_group(first, f"Zwei Inhaber {round_}")
        Membership.objects.create(group=group, user=second, role="owner")
        results = race(
            (Api(first), "POST", f"/groups/{group.slug}/leave"),
            (Api(second), "POST", f"/groups/{group.slug}/leave"),
        )
        assert statuses(results) == [200, 409]
        assert Membership.objects.filter(group=group, role="owner").count() == 1


def test_last_owner_leave_races_role_change(make_user: Callable[..., Any]) -> None:
    """Two owners: one leaves while the other steps down to admin. Whichever commits
    first wins; the other is refused, and the group keeps an owner."""
    for round_ in range(ROUNDS):
        leaver, stepper = make_user(f"Geht {round_}"), make_user(f"Bleibt {round_}")
        group = closed_group(leaver, f"Wechsel {round_}")
        Membership.objects.create(group=group, user=stepper, role="owner")
        results = race(
            (Api(leaver), "POST", f"/groups/{group.slug}/leave"),
            (
                Api(stepper),
                "PATCH",
                f"/groups/{group.slug}/members/{stepper.pk}",
                {"role": "admin"},
            ),
        )
        assert statuses(results) == [200, 409]
        owners = Membership.objects.filter(group=group, role="owner")
        assert owners.count() == 1


def test_two_founders_take_the_same_name(make_user: Callable[..., Any]) -> None:
    for round_ in range(ROUNDS):
        a, b = Api(make_user()), Api(make_user())
        name = f"Gleicher Name {round_}"
        results = race(
            (a, "POST", "/groups", {"name": name}),
            (b, "POST", "/groups", {"name": name.upper()}),
        )
        assert statuses(results) == [201, 409]
        assert Group.objects.filter(name__iexact=name).count() == 1
