"""JSON endpoints of the groups app (see PROTOCOL.md and docs/groups.md).

Parse, call an action or access function, answer. Lists answer
`{"results": [...], "next": <cursor or null>}`; the cursor is an opaque offset.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status

from chat.access import ReportedMessage
from chat.events import author_payload
from chat.formatting import render_html
from groups import access
from groups.actions import (
    do_accept_invitation,
    do_approve_join_request,
    do_archive_group,
    do_change_member_role,
    do_create_group,
    do_decide_report,
    do_decline_invitation,
    do_decline_join_request,
    do_invite_to_group,
    do_join_group,
    do_leave_group,
    do_remove_member,
    do_revoke_invitation,
    do_set_group_notification_level,
    do_transfer_ownership,
    do_update_group,
    do_withdraw_join_request,
    member_info,
    person_info,
)
from groups.models import Group, Invitation, JoinRequest, Membership
from realtime.errors import ClientError
from realtime.text import parse_json_body

router = Router(tags=["groups"])

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class GroupIn(Schema):
    name: Any = None
    description: Any = ""
    visibility: Any = Group.Visibility.OPEN
    topics: Any = []
    city: Any = ""


class GroupPatch(Schema):
    name: Any = None
    description: Any = None
    visibility: Any = None
    topics: Any = None
    city: Any = None


class RoleIn(Schema):
    role: Any = None


class UserIdIn(Schema):
    user_id: Any = None


class NotificationLevelIn(Schema):
    notification_level: Any = None


def optional_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object of a call whose body may be left out entirely."""
    if not request.body.strip():
        return {}
    body = parse_json_body(request.body)
    if not isinstance(body, dict):
        raise ClientError("bad_request", "Erwartet wird ein JSON-Objekt.")
    return body


def page(
    items: QuerySet[Any], cursor: str | None, limit: int | None
) -> tuple[list[Any], str | None]:
    try:
        offset = max(0, int(cursor)) if cursor else 0
    except ValueError as exc:
        raise ClientError(
            "bad_request", "Ungültiger Cursor.", fields={"cursor": ["ungültig"]}
        ) from exc
    size = PAGE_SIZE if limit is None else max(1, min(limit, MAX_PAGE_SIZE))
    rows = list(items[offset : offset + size + 1])
    following = str(offset + size) if len(rows) > size else None
    return rows[:size], following


def group_summary(group: Group, member_count: int) -> dict[str, Any]:
    return {
        "slug": group.slug,
        "name": group.name,
        "description": group.description,
        "topics": group.topics,
        "city": group.city,
        "visibility": group.visibility,
        "archived": group.archived_at is not None,
        "member_count": member_count,
        "created_at": group.created_at.isoformat(),
    }


def request_out(request: JoinRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "status": request.status,
        "message": request.message,
        "created_at": request.created_at.isoformat(),
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "reason": request.reason,
        "requester": person_info(request.user),
    }


def invitation_out(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.pk,
        "status": invitation.status,
        "group": {"slug": invitation.group.slug, "name": invitation.group.name},
        "person": person_info(invitation.user),
        "invited_by": person_info(invitation.invited_by) if invitation.invited_by else None,
        "created_at": invitation.created_at.isoformat(),
    }


def member_out(membership: Membership) -> dict[str, Any]:
    return {**member_info(membership), "joined_at": membership.joined_at.isoformat()}


def group_detail(user: Any, group: Group) -> dict[str, Any]:
    membership = access.membership_of(user, group)
    pending = access.my_pending_request(user, group)
    invitation = access.my_pending_invitation(user, group)
    participant_level = None
    if membership is not None:
        participant_level = (
            group.conversation.participants.filter(user=user)
            .values_list("notification_level", flat=True)
            .first()
        )
    return {
        **group_summary(group, Membership.objects.filter(group=group).count()),
        "conversation_id": group.conversation_id,
        "my_role": membership.role if membership else None,
        "my_pending_request": request_out(pending) if pending else None,
        "my_invitation_id": invitation.pk if invitation else None,
        "my_notification_level": participant_level,
        "can_see_members": access.can_see_members(user, group),
        "can_read_messages": access.can_read_messages(user, group),
    }


@router.get("/groups")
def list_groups(
    request: HttpRequest,
    q: str = "",
    mine: bool = False,
    topic: str = "",
    city: str = "",
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    groups = access.list_groups(request.user, q=q, mine=mine, topic=topic, city=city)
    rows, following = page(groups, cursor, limit)
    return {
        "results": [group_summary(group, group.member_total) for group in rows],
        "next": following,
    }


@router.post("/groups", response={201: dict})
def create_group(request: HttpRequest, payload: GroupIn) -> Status[dict[str, Any]]:
    group = do_create_group(actor=request.user, **payload.dict())
    return Status(201, group_detail(request.user, group))


@router.get("/groups/{slug}")
def get_group(request: HttpRequest, slug: str) -> dict[str, Any]:
    return group_detail(request.user, access.access_group(request.user, slug))


@router.patch("/groups/{slug}")
def update_group(request: HttpRequest, slug: str, payload: GroupPatch) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    group = do_update_group(actor=request.user, group=group, **payload.dict())
    return group_detail(request.user, group)


@router.post("/groups/{slug}/archive")
def archive_group(request: HttpRequest, slug: str) -> dict[str, Any]:
    """Archive (`{"archived": false}` brings the group back)."""
    group = access.access_group(request.user, slug)
    archived = optional_body(request).get("archived", True)
    if not isinstance(archived, bool):
        raise ClientError("bad_request", "„archived“ muss true oder false sein.")
    group = do_archive_group(actor=request.user, group=group, archived=archived)
    return group_detail(request.user, group)


@router.post("/groups/{slug}/join", response={200: dict, 202: dict})
def join_group(request: HttpRequest, slug: str) -> Status[dict[str, Any]]:
    group = access.access_group(request.user, slug)
    message = optional_body(request).get("message", "")
    result = do_join_group(actor=request.user, group=group, message=message)
    if isinstance(result, JoinRequest):
        return Status(202, {"status": "pending", "request": request_out(result)})
    return Status(200, {"status": "member", "member": member_out(result)})


@router.post("/groups/{slug}/withdraw")
def withdraw_request(request: HttpRequest, slug: str) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    return request_out(do_withdraw_join_request(actor=request.user, group=group))


@router.post("/groups/{slug}/leave")
def leave_group(request: HttpRequest, slug: str) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    do_leave_group(actor=request.user, group=group)
    return {"status": "left"}


@router.patch("/groups/{slug}/membership")
def update_my_membership(
    request: HttpRequest, slug: str, payload: NotificationLevelIn
) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    level = do_set_group_notification_level(
        actor=request.user, group=group, level=payload.notification_level
    )
    return {"notification_level": level}


@router.get("/groups/{slug}/members")
def list_members(
    request: HttpRequest, slug: str, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    _group, members = access.access_group_members(request.user, slug)
    rows, following = page(members, cursor, limit)
    return {"results": [member_out(m) for m in rows], "next": following}


@router.patch("/groups/{slug}/members/{user_id}")
def change_role(request: HttpRequest, slug: str, user_id: int, payload: RoleIn) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    membership = do_change_member_role(
        actor=request.user, group=group, user_id=user_id, role=payload.role
    )
    return member_out(membership)


@router.delete("/groups/{slug}/members/{user_id}", response={204: None})
def remove_member(request: HttpRequest, slug: str, user_id: int) -> Status[None]:
    group = access.access_group(request.user, slug)
    do_remove_member(actor=request.user, group=group, user_id=user_id)
    return Status(204, None)


@router.post("/groups/{slug}/transfer")
def transfer_ownership(request: HttpRequest, slug: str, payload: UserIdIn) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    membership = do_transfer_ownership(actor=request.user, group=group, user_id=payload.user_id)
    return member_out(membership)


@router.get("/groups/{slug}/requests")
def list_requests(
    request: HttpRequest, slug: str, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    _group, requests = access.access_pending_requests(request.user, slug)
    rows, following = page(requests, cursor, limit)
    return {"results": [request_out(r) for r in rows], "next": following}


@router.post("/groups/{slug}/requests/{request_id}/approve")
def approve_request(request: HttpRequest, slug: str, request_id: int) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    decided = do_approve_join_request(actor=request.user, group=group, request_id=request_id)
    return request_out(decided)


@router.post("/groups/{slug}/requests/{request_id}/decline")
def decline_request(request: HttpRequest, slug: str, request_id: int) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    reason = optional_body(request).get("reason", "")
    decided = do_decline_join_request(
        actor=request.user, group=group, request_id=request_id, reason=reason
    )
    return request_out(decided)


@router.get("/groups/{slug}/invitations")
def list_group_invitations(
    request: HttpRequest, slug: str, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    group = access.access_group_for_managing(request.user, slug)
    rows, following = page(access.pending_invitations(group), cursor, limit)
    return {"results": [invitation_out(i) for i in rows], "next": following}


@router.post("/groups/{slug}/invitations", response={200: dict, 201: dict})
def invite(request: HttpRequest, slug: str, payload: UserIdIn) -> Status[dict[str, Any]]:
    group = access.access_group(request.user, slug)
    result = do_invite_to_group(actor=request.user, group=group, user_id=payload.user_id)
    if isinstance(result, Invitation):
        return Status(201, invitation_out(result))
    return Status(200, {"status": "member", "member": member_out(result)})


@router.delete("/groups/{slug}/invitations/{invitation_id}", response={204: None})
def revoke_invitation(request: HttpRequest, slug: str, invitation_id: int) -> Status[None]:
    group = access.access_group(request.user, slug)
    do_revoke_invitation(actor=request.user, group=group, invitation_id=invitation_id)
    return Status(204, None)


@router.get("/invitations")
def my_invitations(
    request: HttpRequest, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    rows, following = page(access.my_invitations(request.user), cursor, limit)
    return {"results": [invitation_out(i) for i in rows], "next": following}


@router.post("/invitations/{invitation_id}/accept")
def accept_invitation(request: HttpRequest, invitation_id: int) -> dict[str, Any]:
    membership = do_accept_invitation(actor=request.user, invitation_id=invitation_id)
    return {
        "status": "member",
        "group": {"slug": membership.group.slug, "name": membership.group.name},
        "member": member_out(membership),
    }


@router.post("/invitations/{invitation_id}/decline")
def decline_invitation(request: HttpRequest, invitation_id: int) -> dict[str, Any]:
    return invitation_out(do_decline_invitation(actor=request.user, invitation_id=invitation_id))


def reported_out(entry: ReportedMessage) -> dict[str, Any]:
    """A reported message for the group's moderators: the text as first reported,
    the count and reasons, never who reported (docs/formatting-moderation.md)."""
    message = entry.message
    return {
        "message": message.pk,
        "seq": message.seq,
        "author": author_payload(message.author),
        "body": entry.body,
        "body_html": render_html(entry.body),
        "created_at": message.created_at.isoformat(),
        "deleted": message.deleted_at is not None,
        "reports": entry.count,
        "reasons": entry.reasons,
        "first_reported_at": entry.first_reported_at.isoformat(),
    }


class DecisionIn(Schema):
    decision: Any = None


@router.get("/groups/{slug}/reports")
def list_reports(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The group's messages with open reports (owners and admins only)."""
    _group, reported = access.access_group_reports(request.user, slug)
    return {"results": [reported_out(entry) for entry in reported], "next": None}


@router.post("/groups/{slug}/reports/{message_id}")
def decide_report(
    request: HttpRequest, slug: str, message_id: int, payload: DecisionIn
) -> dict[str, Any]:
    """Decide the open reports of a message: hide, warn, remove or dismiss."""
    group = access.access_group(request.user, slug)
    closed = do_decide_report(
        actor=request.user, group=group, message_id=message_id, decision=payload.decision
    )
    return {"message": message_id, "decision": payload.decision, "closed": closed}
