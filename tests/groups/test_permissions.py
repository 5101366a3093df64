"""The permission table of docs/groups.md, one test per cell, over the JSON API.

Every row is one action or read; every column one role. One setup (a closed group
with an owner, an admin, a member, a person with a pending request and an outsider)
serves the allowed and the forbidden cells of a row. An allowed cell checks what a
user would check: the answer's content, the rows that changed (and that nothing else
did) and the events published after the commit. A refused cell (401, 403, 404, 409,
400) checks the error, that no table changed and that nothing was published or even
queued for publishing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from chat.actions import do_send_message
from chat.models import Conversation, Message, Participant
from groups.actions import do_invite_to_group
from groups.models import Group, Invitation, JoinRequest, Membership
from notifications.models import Notification
from realtime.frames import conversation_topic, user_topic
from tests.groups.conftest import (
    Api,
    Cast,
    Published,
    Snapshot,
    changed_tables,
    event_names,
    snapshot,
)

ROLES = ["owner", "admin", "member", "requester", "other", "anonymous"]


@dataclass
class Outcome:
    """What one call did: its answer, the tables before and after, what it published."""

    cast: Cast
    role: str
    actor: Any  # None for anonymous, whose cells are all refused
    response: Any
    before: Snapshot
    after: Snapshot
    published: Published
    prepared: Any

    @property
    def body(self) -> Any:
        return self.response.json()

    def changed(self) -> set[str]:
        return changed_tables(self.before, self.after)

    def events(self) -> list[tuple[str, str]]:
        return event_names(self.published)


@dataclass(frozen=True)
class Row:
    call: Callable[[Api, Cast, Any], Any]
    statuses: dict[str, int]
    effect: Callable[[Outcome], None]
    # Data the call needs (an invitation to revoke, a message to read), made before
    # the "before" snapshot, so the cell sees only what the call itself did.
    prepare: Callable[[Cast], Any] = field(default=lambda cast: None)


def base(cast: Cast) -> str:
    return f"/groups/{cast.group.slug}"


def conv(cast: Cast) -> str:
    return conversation_topic(cast.group.conversation_id)


def to(user: Any) -> str:
    return user_topic(user.pk)


def invite_other(cast: Cast) -> Invitation:
    result = do_invite_to_group(actor=cast.owner, group=cast.group, user_id=cast.other.pk)
    assert isinstance(result, Invitation)
    return result


def role_in(cast: Cast, user: Any) -> str | None:
    return (
        Membership.objects.filter(group=cast.group, user=user)
        .values_list("role", flat=True)
        .first()
    )


def participant(cast: Cast, user: Any) -> Participant | None:
    return Participant.objects.filter(conversation=cast.group.conversation, user=user).first()


def request_status(cast: Cast) -> str:
    return JoinRequest.objects.get(pk=cast.request.pk).status


def new_notifications(o: Outcome) -> list[tuple[int, str]]:
    return sorted(set(o.after["notifications"]) - set(o.before["notifications"]))


def frame_of(o: Outcome, frame_type: str) -> dict[str, Any]:
    [frame] = [frame for _, frame in o.published if frame["type"] == frame_type]
    return frame


def read_only(o: Outcome) -> None:
    assert o.changed() == set()
    assert o.published == []


# --- effects of allowed cells, one per row ---------------------------------------


def viewed_group(o: Outcome) -> None:
    assert o.body["slug"] == o.cast.group.slug
    assert (o.body["name"], o.body["member_count"]) == ("Testgruppe closed", 3)
    expected_role = o.role if o.role in ("owner", "admin", "member") else None
    assert o.body["my_role"] == expected_role
    assert (o.body["my_pending_request"] is not None) is (o.role == "requester")
    read_only(o)


def listed_groups(o: Outcome) -> None:
    assert [g["slug"] for g in o.body["results"]] == [o.cast.group.slug]
    read_only(o)


def listed_members(o: Outcome) -> None:
    assert [(m["display_name"], m["role"]) for m in o.body["results"]] == [
        ("Olga Inhaber", "owner"),
        ("Arne Admin", "admin"),
        ("Mia Mitglied", "member"),
    ]
    read_only(o)


def listed_requests(o: Outcome) -> None:
    assert [(r["requester"]["id"], r["status"], r["message"]) for r in o.body["results"]] == [
        (o.cast.requester.pk, "pending", "Darf ich?")
    ]
    read_only(o)


def listed_invitations(o: Outcome) -> None:
    assert [(i["id"], i["person"]["id"]) for i in o.body["results"]] == [
        (o.prepared.pk, o.cast.other.pk)
    ]
    read_only(o)


def created_group(o: Outcome) -> None:
    assert (o.body["name"], o.body["my_role"]) == ("Neue Gruppe", "owner")
    group = Group.objects.get(slug=o.body["slug"])
    assert list(group.memberships.values_list("user_id", "role")) == [(o.actor.pk, "owner")]
    founder = Participant.objects.get(conversation=group.conversation, user=o.actor)
    assert founder.can_moderate is True
    assert o.changed() == {"groups", "memberships", "conversations", "participants"}
    assert o.published == []  # nobody listens to a new group yet


def edited_group(o: Outcome) -> None:
    assert o.body["description"] == "Neu"
    assert Group.objects.get(pk=o.cast.group.pk).description == "Neu"
    assert o.changed() == {"groups"}
    assert o.events() == [(conv(o.cast), "group_updated")]


def archived_group(o: Outcome) -> None:
    assert o.body["archived"] is True
    assert Group.objects.get(pk=o.cast.group.pk).archived_at is not None
    assert Conversation.objects.get(pk=o.cast.group.conversation_id).read_only is True
    # The requester's pending request is declined: an archived group decides nothing.
    assert JoinRequest.objects.get(pk=o.cast.request.pk).status == "declined"
    assert o.changed() == {"groups", "conversations", "join_requests"}
    assert o.events() == [(conv(o.cast), "group_updated")]
    assert frame_of(o, "group_updated")["archived"] is True


def asked_to_join(o: Outcome) -> None:
    assert o.body["status"] == "pending"
    request = JoinRequest.objects.get(group=o.cast.group, user=o.actor)
    assert (request.status, request.message) == ("pending", "Hallo")
    assert role_in(o.cast, o.actor) is None
    assert new_notifications(o) == sorted(
        [(o.cast.owner.pk, "join_request"), (o.cast.admin.pk, "join_request")]
    )
    assert o.changed() == {"join_requests", "notifications"}
    assert o.events() == sorted(
        [
            (to(o.cast.owner), "notification:join_request"),
            (to(o.cast.admin), "notification:join_request"),
        ]
    )


def withdrew(o: Outcome) -> None:
    assert o.body["status"] == "withdrawn"
    assert request_status(o.cast) == "withdrawn"
    assert o.changed() == {"join_requests"}
    assert o.published == []


def approved(o: Outcome) -> None:
    assert o.body["status"] == "approved"
    assert request_status(o.cast) == "approved"
    assert role_in(o.cast, o.cast.requester) == "member"
    assert participant(o.cast, o.cast.requester) is not None
    assert new_notifications(o) == [(o.cast.requester.pk, "join_approved")]
    assert o.changed() == {"join_requests", "memberships", "participants", "notifications"}
    assert o.events() == sorted(
        [(conv(o.cast), "member_joined"), (to(o.cast.requester), "notification:join_approved")]
    )


def declined(o: Outcome) -> None:
    assert (o.body["status"], o.body["reason"]) == ("declined", "x")
    assert request_status(o.cast) == "declined"
    assert role_in(o.cast, o.cast.requester) is None
    assert new_notifications(o) == [(o.cast.requester.pk, "join_declined")]
    assert o.changed() == {"join_requests", "notifications"}
    assert o.events() == [(to(o.cast.requester), "notification:join_declined")]


def invited(o: Outcome) -> None:
    invitation = Invitation.objects.get(group=o.cast.group, user=o.cast.other)
    assert (o.body["id"], invitation.status) == (invitation.pk, "pending")
    assert invitation.invited_by == o.actor
    assert new_notifications(o) == [(o.cast.other.pk, "invitation")]
    assert o.changed() == {"invitations", "notifications"}
    assert o.events() == [(to(o.cast.other), "notification:invitation")]


def invitation_settled(o: Outcome) -> None:
    """The invitee's invitation notification is settled: read, and their tabs told."""
    invitee = o.prepared.user_id
    assert not Notification.objects.filter(
        recipient_id=invitee, kind="invitation", read_at__isnull=True
    ).exists()
    assert (f"user:{invitee}", "notifications_read") in o.events()


def revoked(o: Outcome) -> None:
    assert Invitation.objects.get(pk=o.prepared.pk).status == "revoked"
    assert o.changed() == {"invitations"}
    invitation_settled(o)
    assert o.events() == [(f"user:{o.prepared.user_id}", "notifications_read")]


def accepted(o: Outcome) -> None:
    assert (o.body["status"], o.body["member"]["id"]) == ("member", o.actor.pk)
    assert Invitation.objects.get(pk=o.prepared.pk).status == "accepted"
    assert role_in(o.cast, o.actor) == "member"
    assert participant(o.cast, o.actor) is not None
    assert o.changed() == {"invitations", "memberships", "participants"}
    invitation_settled(o)
    assert o.events() == [
        (conv(o.cast), "member_joined"),
        (f"user:{o.actor.pk}", "notifications_read"),
    ]


def declined_invitation(o: Outcome) -> None:
    assert o.body["status"] == "declined"
    assert Invitation.objects.get(pk=o.prepared.pk).status == "declined"
    assert role_in(o.cast, o.actor) is None
    assert o.changed() == {"invitations"}
    invitation_settled(o)
    assert o.events() == [(f"user:{o.actor.pk}", "notifications_read")]


def listed_my_invitations(o: Outcome) -> None:
    mine = [(i["id"], i["group"]["slug"]) for i in o.body["results"]]
    if o.role == "other":
        assert mine == [(o.prepared.pk, o.cast.group.slug)]
    else:
        assert mine == []  # nobody sees another person's invitation
    read_only(o)


def dropped(person: str) -> Callable[[Outcome], None]:
    def effect(o: Outcome) -> None:
        user = getattr(o.cast, person) if person != "actor" else o.actor
        assert role_in(o.cast, user) is None
        assert participant(o.cast, user) is None
        assert Membership.objects.filter(group=o.cast.group).count() == 2
        # The member list hears it; the person's own sockets drop the conversation.
        events = [(conv(o.cast), "_access_changed"), (conv(o.cast), "member_left")]
        if person == "actor":
            assert o.changed() == {"memberships", "participants"}
            assert o.events() == events
        else:
            # Removed by someone else: they are told (docs/notifications.md).
            assert o.changed() == {"memberships", "participants", "notifications"}
            assert new_notifications(o) == [(user.pk, "member_removed")]
            assert o.events() == sorted([*events, (to(user), "notification:member_removed")])
        assert frame_of(o, "member_left")["user_id"] == user.pk

    return effect


def promoted_member(role: str) -> Callable[[Outcome], None]:
    def effect(o: Outcome) -> None:
        assert (o.body["id"], o.body["role"]) == (o.cast.member.pk, role)
        assert role_in(o.cast, o.cast.member) == role
        assert Participant.objects.get(user=o.cast.member).can_moderate is True
        assert new_notifications(o) == [(o.cast.member.pk, "role_changed")]
        assert o.changed() == {"memberships", "participants", "notifications"}
        assert o.events() == sorted(
            [
                (conv(o.cast), "member_role_changed"),
                (to(o.cast.member), "notification:role_changed"),
            ]
        )

    return effect


def transferred(o: Outcome) -> None:
    assert (o.body["id"], o.body["role"]) == (o.cast.member.pk, "owner")
    assert role_in(o.cast, o.cast.member) == "owner"
    assert role_in(o.cast, o.cast.owner) == "admin"
    assert new_notifications(o) == [(o.cast.member.pk, "role_changed")]
    assert o.changed() == {"memberships", "participants", "notifications"}
    assert o.events() == sorted(
        [
            (conv(o.cast), "member_role_changed"),
            (conv(o.cast), "member_role_changed"),
            (to(o.cast.member), "notification:role_changed"),
        ]
    )


def muted(o: Outcome) -> None:
    assert o.body == {"notification_level": "muted"}
    assert Participant.objects.get(user=o.actor).notification_level == "muted"
    assert o.changed() == {"participants"}
    assert o.published == []


def never_allowed(o: Outcome) -> None:
    raise AssertionError(f"{o.role} was allowed: {o.response.content!r}")


# row -> the call, the expected status per role (anonymous: 401), the allowed effect
TABLE: dict[str, Row] = {
    "view group": Row(
        lambda api, c, _: api.get(base(c)),
        {"owner": 200, "admin": 200, "member": 200, "requester": 200, "other": 200},
        viewed_group,
    ),
    "list groups": Row(
        lambda api, c, _: api.get("/groups"),
        {"owner": 200, "admin": 200, "member": 200, "requester": 200, "other": 200},
        listed_groups,
    ),
    "list members": Row(
        lambda api, c, _: api.get(f"{base(c)}/members"),
        {"owner": 200, "admin": 200, "member": 200, "requester": 403, "other": 403},
        listed_members,
    ),
    "list requests": Row(
        lambda api, c, _: api.get(f"{base(c)}/requests"),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
        listed_requests,
    ),
    "list invitations": Row(
        lambda api, c, _: api.get(f"{base(c)}/invitations"),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
        listed_invitations,
        prepare=invite_other,
    ),
    "create group": Row(
        lambda api, c, _: api.post("/groups", {"name": "Neue Gruppe"}),
        {"owner": 201, "admin": 201, "member": 201, "requester": 201, "other": 201},
        created_group,
    ),
    "edit": Row(
        lambda api, c, _: api.patch(base(c), {"description": "Neu"}),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
        edited_group,
    ),
    "archive": Row(
        lambda api, c, _: api.post(f"{base(c)}/archive"),
        {"owner": 200, "admin": 403, "member": 403, "requester": 403, "other": 403},
        archived_group,
    ),
    "join": Row(
        lambda api, c, _: api.post(f"{base(c)}/join", {"message": "Hallo"}),
        {"owner": 409, "admin": 409, "member": 409, "requester": 409, "other": 202},
        asked_to_join,
    ),
    "withdraw": Row(
        lambda api, c, _: api.post(f"{base(c)}/withdraw"),
        {"owner": 409, "admin": 409, "member": 409, "requester": 200, "other": 409},
        withdrew,
    ),
    "approve": Row(
        lambda api, c, _: api.post(f"{base(c)}/requests/{c.request.pk}/approve"),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
        approved,
    ),
    "decline": Row(
        lambda api, c, _: api.post(f"{base(c)}/requests/{c.request.pk}/decline", {"reason": "x"}),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
        declined,
    ),
    "invite": Row(
        lambda api, c, _: api.post(f"{base(c)}/invitations", {"user_id": c.other.pk}),
        {"owner": 201, "admin": 201, "member": 403, "requester": 403, "other": 403},
        invited,
    ),
    "revoke invitation": Row(
        lambda api, c, invitation: api.delete(f"{base(c)}/invitations/{invitation.pk}"),
        {"owner": 204, "admin": 204, "member": 403, "requester": 403, "other": 403},
        revoked,
        prepare=invite_other,
    ),
    "accept invitation": Row(
        lambda api, c, invitation: api.post(f"/invitations/{invitation.pk}/accept"),
        {"owner": 404, "admin": 404, "member": 404, "requester": 404, "other": 200},
        accepted,
        prepare=invite_other,
    ),
    "decline invitation": Row(
        lambda api, c, invitation: api.post(f"/invitations/{invitation.pk}/decline"),
        {"owner": 404, "admin": 404, "member": 404, "requester": 404, "other": 200},
        declined_invitation,
        prepare=invite_other,
    ),
    "my invitations": Row(
        lambda api, c, _: api.get("/invitations"),
        {"owner": 200, "admin": 200, "member": 200, "requester": 200, "other": 200},
        listed_my_invitations,
        prepare=invite_other,
    ),
    "leave": Row(
        lambda api, c, _: api.post(f"{base(c)}/leave"),
        {"owner": 409, "admin": 200, "member": 200, "requester": 409, "other": 409},
        dropped("actor"),
    ),
    "remove member": Row(
        lambda api, c, _: api.delete(f"{base(c)}/members/{c.member.pk}"),
        {"owner": 204, "admin": 204, "member": 403, "requester": 403, "other": 403},
        dropped("member"),
    ),
    "remove admin": Row(
        lambda api, c, _: api.delete(f"{base(c)}/members/{c.admin.pk}"),
        {"owner": 204, "admin": 400, "member": 403, "requester": 403, "other": 403},
        dropped("admin"),
    ),
    "remove owner": Row(
        lambda api, c, _: api.delete(f"{base(c)}/members/{c.owner.pk}"),
        {"owner": 400, "admin": 403, "member": 403, "requester": 403, "other": 403},
        never_allowed,
    ),
    "make member admin": Row(
        lambda api, c, _: api.patch(f"{base(c)}/members/{c.member.pk}", {"role": "admin"}),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
        promoted_member("admin"),
    ),
    "make member owner": Row(
        lambda api, c, _: api.patch(f"{base(c)}/members/{c.member.pk}", {"role": "owner"}),
        {"owner": 200, "admin": 403, "member": 403, "requester": 403, "other": 403},
        promoted_member("owner"),
    ),
    "demote owner": Row(
        lambda api, c, _: api.patch(f"{base(c)}/members/{c.owner.pk}", {"role": "member"}),
        {"owner": 409, "admin": 403, "member": 403, "requester": 403, "other": 403},
        never_allowed,
    ),
    "transfer ownership": Row(
        lambda api, c, _: api.post(f"{base(c)}/transfer", {"user_id": c.member.pk}),
        {"owner": 200, "admin": 403, "member": 403, "requester": 403, "other": 403},
        transferred,
    ),
    "set my notification level": Row(
        lambda api, c, _: api.patch(f"{base(c)}/membership", {"notification_level": "muted"}),
        {"owner": 200, "admin": 200, "member": 200, "requester": 403, "other": 403},
        muted,
    ),
}


def run_cell(
    row: Row, cast: Cast, role: str, published: Published, capture_on_commit: Any
) -> tuple[Outcome, list[Any]]:
    """Make the row's data, then call it as `role`, with the commit's callbacks run
    (and recorded) as a real commit would."""
    prepared = row.prepare(cast)
    api = Api(cast.person(role))
    before = snapshot()
    published.clear()
    with capture_on_commit(execute=True) as callbacks:
        response = row.call(api, cast, prepared)
    outcome = Outcome(
        cast=cast,
        role=role,
        actor=cast.person(role),
        response=response,
        before=before,
        after=snapshot(),
        published=list(published),
        prepared=prepared,
    )
    return outcome, callbacks


def check_cell(row: Row, outcome: Outcome, callbacks: list[Any], expected: int) -> None:
    response = outcome.response
    assert response.status_code == expected, response.content
    if 200 <= expected < 300:
        row.effect(outcome)
        return
    body = response.json()
    assert set(body) == {"error"}, body  # an error reveals nothing of the group's content
    assert body["error"]["code"] and body["error"]["detail"]
    assert outcome.changed() == set()
    assert outcome.published == []
    assert callbacks == []  # nothing was even queued for a commit


CELLS = [(name, role, row.statuses.get(role, 401)) for name, row in TABLE.items() for role in ROLES]


@pytest.mark.parametrize(("row", "role", "expected"), CELLS)
def test_permission_cell_answers_and_changes_exactly_what_the_table_says(
    closed_cast: Cast,
    published: Published,
    django_capture_on_commit_callbacks: Any,
    row: str,
    role: str,
    expected: int,
) -> None:
    outcome, callbacks = run_cell(
        TABLE[row], closed_cast, role, published, django_capture_on_commit_callbacks
    )
    check_cell(TABLE[row], outcome, callbacks, expected)


# The rows that differ for an open group: every signed-in person sees the members and
# joins at once; anonymous callers still get 401.
def listed_members_of_open_group(o: Outcome) -> None:
    assert [m["display_name"] for m in o.body["results"]] == [
        "Olga Inhaber",
        "Arne Admin",
        "Mia Mitglied",
    ]
    read_only(o)


def joined_open_group(o: Outcome) -> None:
    assert (o.body["status"], o.body["member"]["id"]) == ("member", o.actor.pk)
    assert role_in(o.cast, o.actor) == "member"
    assert participant(o.cast, o.actor) is not None
    expected = {"memberships", "participants"}
    if o.role == "requester":
        # The request made while the group was closed counts as approved now.
        assert request_status(o.cast) == "approved"
        expected.add("join_requests")
    assert o.changed() == expected
    assert o.events() == [(conv(o.cast), "member_joined")]


OPEN_ROWS: dict[str, Row] = {
    "list members (open)": Row(
        lambda api, c, _: api.get(f"{base(c)}/members"),
        {"owner": 200, "admin": 200, "member": 200, "requester": 200, "other": 200},
        listed_members_of_open_group,
    ),
    "join (open)": Row(
        lambda api, c, _: api.post(f"{base(c)}/join"),
        {"owner": 409, "admin": 409, "member": 409, "requester": 200, "other": 200},
        joined_open_group,
    ),
}
OPEN_CELLS = [
    (name, role, row.statuses.get(role, 401)) for name, row in OPEN_ROWS.items() for role in ROLES
]


@pytest.mark.parametrize(("row", "role", "expected"), OPEN_CELLS)
def test_open_group_cell_answers_and_changes_exactly_what_the_table_says(
    open_cast: Cast,
    published: Published,
    django_capture_on_commit_callbacks: Any,
    row: str,
    role: str,
    expected: int,
) -> None:
    outcome, callbacks = run_cell(
        OPEN_ROWS[row], open_cast, role, published, django_capture_on_commit_callbacks
    )
    check_cell(OPEN_ROWS[row], outcome, callbacks, expected)


# --- the group's conversation: who reads, who writes -----------------------------

SECRET = "Interna der Gruppe"
READERS = {
    "closed": {"owner", "admin", "member"},
    "open": {"owner", "admin", "member", "requester", "other"},
}
WRITERS = {"owner", "admin", "member"}


def post_to_group(cast: Cast) -> Message:
    message, _ = do_send_message(
        actor=cast.owner, conversation_id=cast.group.conversation_id, body=SECRET, client_id="s-1"
    )
    return message


def read_history(o: Outcome) -> None:
    assert [m["body"] for m in o.body["results"]] == [SECRET]
    read_only(o)


def wrote(o: Outcome) -> None:
    stored = Message.objects.get(pk=o.body["id"])
    assert (stored.author_id, stored.body, stored.seq) == (o.actor.pk, "Hallo aus der Gruppe", 1)
    assert o.changed() == {"messages", "conversations", "participants"}
    assert o.events() == [(conv(o.cast), "message")]
    assert frame_of(o, "message")["body"] == "Hallo aus der Gruppe"


def messages_url(cast: Cast) -> str:
    return f"/conversations/{cast.group.conversation_id}/messages"


def statuses_for(allowed: set[str], ok: int) -> dict[str, int]:
    return {role: ok if role in allowed else 403 for role in ROLES if role != "anonymous"}


@pytest.mark.parametrize("visibility", ["closed", "open"])
@pytest.mark.parametrize("role", ROLES)
def test_read_messages_cell_shows_the_history_to_readers_only(
    request: pytest.FixtureRequest,
    published: Published,
    django_capture_on_commit_callbacks: Any,
    visibility: str,
    role: str,
) -> None:
    cast: Cast = request.getfixturevalue(f"{visibility}_cast")
    row = Row(
        lambda api, c, _: api.get(messages_url(c)),
        statuses_for(READERS[visibility], 200),
        read_history,
        prepare=post_to_group,
    )
    outcome, callbacks = run_cell(row, cast, role, published, django_capture_on_commit_callbacks)
    check_cell(row, outcome, callbacks, row.statuses.get(role, 401))
    if outcome.response.status_code != 200:
        assert SECRET not in outcome.response.content.decode()


@pytest.mark.parametrize("visibility", ["closed", "open"])
@pytest.mark.parametrize("role", ROLES)
def test_write_messages_cell_stores_and_publishes_for_members_only(
    request: pytest.FixtureRequest,
    published: Published,
    django_capture_on_commit_callbacks: Any,
    visibility: str,
    role: str,
) -> None:
    """Who may write: the members, also in an open group that everyone may read."""
    cast: Cast = request.getfixturevalue(f"{visibility}_cast")
    row = Row(
        lambda api, c, _: api.post(
            messages_url(c), {"body": "Hallo aus der Gruppe", "client_id": "w-1"}
        ),
        statuses_for(WRITERS, 201),
        wrote,
    )
    outcome, callbacks = run_cell(row, cast, role, published, django_capture_on_commit_callbacks)
    check_cell(row, outcome, callbacks, row.statuses.get(role, 401))
    assert Notification.objects.count() == 0


def test_outsider_sees_name_description_and_count_of_closed_group(closed_cast: Cast) -> None:
    body = Api(closed_cast.other).get(base(closed_cast)).json()
    assert body["name"] == "Testgruppe closed"
    assert body["description"] == "Worum es geht"
    assert body["member_count"] == 3
    assert body["my_role"] is None
    assert body["can_see_members"] is False
    assert body["can_read_messages"] is False
