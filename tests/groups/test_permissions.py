"""The permission table of docs/groups.md, one test per cell, over the JSON API.

Every row is one action or read; every column one role. The same setup (one closed
group with an owner, an admin, a member, a person with a pending request and an
outsider) serves the allowed and the forbidden cells of a row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from chat.access import can_read
from groups.actions import do_invite_to_group
from groups.models import Group, Invitation, JoinRequest, Membership
from tests.groups.conftest import Api, Cast

ROLES = ["owner", "admin", "member", "requester", "other", "anonymous"]

Call = Callable[[Api, Cast], Any]


def invitation_for_other(cast: Cast) -> Invitation:
    result = do_invite_to_group(actor=cast.owner, group=cast.group, user_id=cast.other.pk)
    assert isinstance(result, Invitation)
    return result


def base(cast: Cast) -> str:
    return f"/groups/{cast.group.slug}"


# row -> (call, expected status per role)
TABLE: dict[str, tuple[Call, dict[str, int]]] = {
    "view group": (
        lambda api, c: api.get(base(c)),
        {"owner": 200, "admin": 200, "member": 200, "requester": 200, "other": 200},
    ),
    "list groups": (
        lambda api, c: api.get("/groups"),
        {"owner": 200, "admin": 200, "member": 200, "requester": 200, "other": 200},
    ),
    "list members": (
        lambda api, c: api.get(f"{base(c)}/members"),
        {"owner": 200, "admin": 200, "member": 200, "requester": 403, "other": 403},
    ),
    "list requests": (
        lambda api, c: api.get(f"{base(c)}/requests"),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
    ),
    "list invitations": (
        lambda api, c: api.get(f"{base(c)}/invitations"),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
    ),
    "create group": (
        lambda api, c: api.post("/groups", {"name": "Neue Gruppe"}),
        {"owner": 201, "admin": 201, "member": 201, "requester": 201, "other": 201},
    ),
    "edit": (
        lambda api, c: api.patch(base(c), {"description": "Neu"}),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
    ),
    "archive": (
        lambda api, c: api.post(f"{base(c)}/archive"),
        {"owner": 200, "admin": 403, "member": 403, "requester": 403, "other": 403},
    ),
    "join": (
        lambda api, c: api.post(f"{base(c)}/join", {"message": "Hallo"}),
        {"owner": 409, "admin": 409, "member": 409, "requester": 409, "other": 202},
    ),
    "withdraw": (
        lambda api, c: api.post(f"{base(c)}/withdraw"),
        {"owner": 409, "admin": 409, "member": 409, "requester": 200, "other": 409},
    ),
    "approve": (
        lambda api, c: api.post(f"{base(c)}/requests/{c.request.pk}/approve"),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
    ),
    "decline": (
        lambda api, c: api.post(f"{base(c)}/requests/{c.request.pk}/decline", {"reason": "x"}),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
    ),
    "invite": (
        lambda api, c: api.post(f"{base(c)}/invitations", {"user_id": c.other.pk}),
        {"owner": 201, "admin": 201, "member": 403, "requester": 403, "other": 403},
    ),
    "revoke invitation": (
        lambda api, c: api.delete(f"{base(c)}/invitations/{invitation_for_other(c).pk}"),
        {"owner": 204, "admin": 204, "member": 403, "requester": 403, "other": 403},
    ),
    "accept invitation": (
        lambda api, c: api.post(f"/invitations/{invitation_for_other(c).pk}/accept"),
        {"owner": 404, "admin": 404, "member": 404, "requester": 404, "other": 200},
    ),
    "decline invitation": (
        lambda api, c: api.post(f"/invitations/{invitation_for_other(c).pk}/decline"),
        {"owner": 404, "admin": 404, "member": 404, "requester": 404, "other": 200},
    ),
    "my invitations": (
        lambda api, c: api.get("/invitations"),
        {"owner": 200, "admin": 200, "member": 200, "requester": 200, "other": 200},
    ),
    "leave": (
        lambda api, c: api.post(f"{base(c)}/leave"),
        {"owner": 409, "admin": 200, "member": 200, "requester": 409, "other": 409},
    ),
    "remove member": (
        lambda api, c: api.delete(f"{base(c)}/members/{c.member.pk}"),
        {"owner": 204, "admin": 204, "member": 403, "requester": 403, "other": 403},
    ),
    "remove admin": (
        lambda api, c: api.delete(f"{base(c)}/members/{c.admin.pk}"),
        {"owner": 204, "admin": 400, "member": 403, "requester": 403, "other": 403},
    ),
    "remove owner": (
        lambda api, c: api.delete(f"{base(c)}/members/{c.owner.pk}"),
        {"owner": 400, "admin": 403, "member": 403, "requester": 403, "other": 403},
    ),
    "make member admin": (
        lambda api, c: api.patch(f"{base(c)}/members/{c.member.pk}", {"role": "admin"}),
        {"owner": 200, "admin": 200, "member": 403, "requester": 403, "other": 403},
    ),
    "make member owner": (
        lambda api, c: api.patch(f"{base(c)}/members/{c.member.pk}", {"role": "owner"}),
        {"owner": 200, "admin": 403, "member": 403, "requester": 403, "other": 403},
    ),
    "demote owner": (
        lambda api, c: api.patch(f"{base(c)}/members/{c.owner.pk}", {"role": "member"}),
        {"owner": 409, "admin": 403, "member": 403, "requester": 403, "other": 403},
    ),
    "transfer ownership": (
        lambda api, c: api.post(f"{base(c)}/transfer", {"user_id": c.member.pk}),
        {"owner": 200, "admin": 403, "member": 403, "requester": 403, "other": 403},
    ),
    "set my notification level": (
        lambda api, c: api.patch(f"{base(c)}/membership", {"notification_level": "muted"}),
        {"owner": 200, "admin": 200, "member": 200, "requester": 403, "other": 403},
    ),
}

# Anonymous callers get 401 everywhere on the API.
CELLS = [
    (row, role, statuses.get(role, 401))
    for row, (_call, statuses) in TABLE.items()
    for role in ROLES
]


@pytest.mark.parametrize(("row", "role", "expected"), CELLS)
def test_permission_cell(closed_cast: Cast, row: str, role: str, expected: int) -> None:
    call, _statuses = TABLE[row]
    response = call(Api(closed_cast.person(role)), closed_cast)
    assert response.status_code == expected, response.content
    if expected in (401, 403, 404, 409, 400):
        assert response.json()["error"]["code"]


# The reads that differ for an open group: every signed-in person sees the members
# and reads the conversation; anonymous callers still get 401.
OPEN_ROWS: dict[str, tuple[Call, dict[str, int]]] = {
    "list members (open)": (
        lambda api, c: api.get(f"{base(c)}/members"),
        {"owner": 200, "admin": 200, "member": 200, "requester": 200, "other": 200},
    ),
    "join (open)": (
        lambda api, c: api.post(f"{base(c)}/join"),
        # The requester asked while the group was closed; now it is open: member at once.
        {"owner": 409, "admin": 409, "member": 409, "requester": 200, "other": 200},
    ),
}
OPEN_CELLS = [
    (row, role, statuses.get(role, 401))
    for row, (_call, statuses) in OPEN_ROWS.items()
    for role in ROLES
]


@pytest.mark.parametrize(("row", "role", "expected"), OPEN_CELLS)
def test_open_group_permission_cell(open_cast: Cast, row: str, role: str, expected: int) -> None:
    call, _statuses = OPEN_ROWS[row]
    response = call(Api(open_cast.person(role)), open_cast)
    assert response.status_code == expected, response.content


READ_MESSAGES = {
    "closed": {"owner": True, "admin": True, "member": True, "requester": False, "other": False},
    "open": {"owner": True, "admin": True, "member": True, "requester": True, "other": True},
}


@pytest.mark.parametrize("visibility", ["closed", "open"])
@pytest.mark.parametrize("role", ROLES)
def test_read_messages_cell(request: pytest.FixtureRequest, visibility: str, role: str) -> None:
    """Who reads the group's conversation: the chat's gate, kept in step by groups."""
    cast: Cast = request.getfixturevalue(f"{visibility}_cast")
    person = cast.person(role)
    expected = READ_MESSAGES[visibility].get(role, False)
    if person is None:
        person = AnonymousUser()
    cast.group.conversation.refresh_from_db()
    assert can_read(person, cast.group.conversation) is expected


@pytest.mark.parametrize("role", ROLES)
def test_write_messages_cell(closed_cast: Cast, role: str) -> None:
    """Who may write: the conversation's participants, i.e. exactly the members."""
    person = closed_cast.person(role)
    participant_ids = set(
        closed_cast.group.conversation.participants.values_list("user_id", flat=True)
    )
    is_member = role in ("owner", "admin", "member")
    assert (person is not None and person.pk in participant_ids) is is_member


def test_outsider_sees_name_description_and_count_of_closed_group(closed_cast: Cast) -> None:
    body = Api(closed_cast.other).get(base(closed_cast)).json()
    assert body["name"] == "Testgruppe closed"
    assert body["description"] == "Worum es geht"
    assert body["member_count"] == 3
    assert body["my_role"] is None
    assert body["can_see_members"] is False
    assert body["can_read_messages"] is False


def test_side_effects_of_allowed_cells_leave_data_consistent(closed_cast: Cast) -> None:
    """A forbidden call changes nothing: after every forbidden cell of the table on
    one setup, the group looks exactly as before."""
    before = (
        sorted(Membership.objects.values_list("user_id", "role")),
        sorted(JoinRequest.objects.values_list("user_id", "status")),
        Group.objects.get().description,
    )
    for row, (call, statuses) in TABLE.items():
        if row in (
            "accept invitation",
            "decline invitation",
            "revoke invitation",
            "create group",
            "join",
        ):
            continue
        for role in ("member", "other", "anonymous"):
            if statuses.get(role, 401) in (401, 403, 404, 409):
                call(Api(closed_cast.person(role)), closed_cast)
    after = (
        sorted(Membership.objects.values_list("user_id", "role")),
        sorted(JoinRequest.objects.values_list("user_id", "status")),
        Group.objects.get().description,
    )
    assert after == before
