"""JSON endpoints of the groups app (see docs/protocol.md and docs/groups.md).

Parse, call an action or access function, answer. Lists answer
`{"results": [...], "next": <cursor or null>}`; the cursor is an opaque offset.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

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
from groups.schemas import (
    AcceptedOut,
    ArchiveIn,
    DeclineIn,
    GroupDetail,
    GroupIn,
    GroupPage,
    GroupPatch,
    InvitationOut,
    InvitationPage,
    JoinedOut,
    JoinIn,
    JoinRequestOut,
    JoinRequestPage,
    LeftOut,
    LevelOut,
    MemberOut,
    MemberPage,
    NotificationLevelIn,
    PendingOut,
    RoleIn,
    UserIdIn,
)
from realtime.errors import ClientError
from realtime.schemas import MAX_ID, In, Out, errors

router = Router(tags=["groups"])

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# Path and query parameters. A cursor is an offset (digits); `limit` is capped at 200.
Slug = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Cursor = Annotated[str | None, Query(max_length=18, pattern=r"^[0-9]*$")]
Limit = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Filter = Annotated[str, Query(max_length=200)]


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


@router.get("/groups", response=GroupPage)
def list_groups(
    request: HttpRequest,
    q: Filter = "",
    mine: bool = False,
    topic: Filter = "",
    city: Filter = "",
    cursor: Cursor = None,
    limit: Limit = None,
) -> dict[str, Any]:
    groups = access.list_groups(request.user, q=q, mine=mine, topic=topic, city=city)
    rows, following = page(groups, cursor, limit)
    return {
        "results": [group_summary(group, group.member_total) for group in rows],
        "next": following,
    }


@router.post("/groups", response={201: GroupDetail, **errors(409, 429)})
def create_group(request: HttpRequest, payload: GroupIn) -> Status[dict[str, Any]]:
    group = do_create_group(actor=request.user, **payload.model_dump())
    return Status(201, group_detail(request.user, group))


@router.get("/groups/{slug}", response={200: GroupDetail, **errors(403, 404)})
def get_group(request: HttpRequest, slug: Slug) -> dict[str, Any]:
    return group_detail(request.user, access.access_group(request.user, slug))


@router.patch("/groups/{slug}", response={200: GroupDetail, **errors(403, 404, 409)})
def update_group(request: HttpRequest, slug: Slug, payload: GroupPatch) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    group = do_update_group(actor=request.user, group=group, **payload.model_dump())
    return group_detail(request.user, group)


@router.post("/groups/{slug}/archive", response={200: GroupDetail, **errors(403, 404, 409)})
def archive_group(
    request: HttpRequest, slug: Slug, payload: ArchiveIn | None = None
) -> dict[str, Any]:
    """Archive (`{"archived": false}` brings the group back; the body may be left out)."""
    group = access.access_group(request.user, slug)
    group = do_archive_group(
        actor=request.user, group=group, archived=(payload or ArchiveIn()).archived
    )
    return group_detail(request.user, group)


@router.post(
    "/groups/{slug}/join",
    response={200: JoinedOut, 202: PendingOut, **errors(403, 404, 409, 429)},
)
def join_group(
    request: HttpRequest, slug: Slug, payload: JoinIn | None = None
) -> Status[dict[str, Any]]:
    """Join an open group (200), or ask to join a closed one (202); the body may be
    left out."""
    group = access.access_group(request.user, slug)
    result = do_join_group(actor=request.user, group=group, message=(payload or JoinIn()).message)
    if isinstance(result, JoinRequest):
        return Status(202, {"status": "pending", "request": request_out(result)})
    return Status(200, {"status": "member", "member": member_out(result)})


@router.post("/groups/{slug}/withdraw", response={200: JoinRequestOut, **errors(403, 404, 409)})
def withdraw_request(request: HttpRequest, slug: Slug) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    return request_out(do_withdraw_join_request(actor=request.user, group=group))


@router.post("/groups/{slug}/leave", response={200: LeftOut, **errors(403, 404, 409)})
def leave_group(request: HttpRequest, slug: Slug) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    do_leave_group(actor=request.user, group=group)
    return {"status": "left"}


@router.patch("/groups/{slug}/membership", response={200: LevelOut, **errors(403, 404)})
def update_my_membership(
    request: HttpRequest, slug: Slug, payload: NotificationLevelIn
) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    level = do_set_group_notification_level(
        actor=request.user, group=group, level=payload.notification_level
    )
    return {"notification_level": level}


@router.get("/groups/{slug}/members", response={200: MemberPage, **errors(403, 404)})
def list_members(
    request: HttpRequest, slug: Slug, cursor: Cursor = None, limit: Limit = None
) -> dict[str, Any]:
    _group, members = access.access_group_members(request.user, slug)
    rows, following = page(members, cursor, limit)
    return {"results": [member_out(m) for m in rows], "next": following}


@router.patch(
    "/groups/{slug}/members/{user_id}", response={200: MemberOut, **errors(403, 404, 409)}
)
def change_role(request: HttpRequest, slug: Slug, user_id: Id, payload: RoleIn) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    membership = do_change_member_role(
        actor=request.user, group=group, user_id=user_id, role=payload.role
    )
    return member_out(membership)


@router.delete("/groups/{slug}/members/{user_id}", response={204: None, **errors(403, 404, 409)})
def remove_member(request: HttpRequest, slug: Slug, user_id: Id) -> Status[None]:
    group = access.access_group(request.user, slug)
    do_remove_member(actor=request.user, group=group, user_id=user_id)
    return Status(204, None)


@router.post("/groups/{slug}/transfer", response={200: MemberOut, **errors(403, 404, 409)})
def transfer_ownership(request: HttpRequest, slug: Slug, payload: UserIdIn) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    membership = do_transfer_ownership(actor=request.user, group=group, user_id=payload.user_id)
    return member_out(membership)


@router.get("/groups/{slug}/requests", response={200: JoinRequestPage, **errors(403, 404)})
def list_requests(
    request: HttpRequest, slug: Slug, cursor: Cursor = None, limit: Limit = None
) -> dict[str, Any]:
    _group, requests = access.access_pending_requests(request.user, slug)
    rows, following = page(requests, cursor, limit)
    return {"results": [request_out(r) for r in rows], "next": following}


@router.post(
    "/groups/{slug}/requests/{request_id}/approve",
    response={200: JoinRequestOut, **errors(403, 404, 409)},
)
def approve_request(request: HttpRequest, slug: Slug, request_id: Id) -> dict[str, Any]:
    group = access.access_group(request.user, slug)
    decided = do_approve_join_request(actor=request.user, group=group, request_id=request_id)
    return request_out(decided)


@router.post(
    "/groups/{slug}/requests/{request_id}/decline",
    response={200: JoinRequestOut, **errors(403, 404, 409)},
)
def decline_request(
    request: HttpRequest, slug: Slug, request_id: Id, payload: DeclineIn | None = None
) -> dict[str, Any]:
    """Decline, with an optional reason for the person (the body may be left out)."""
    group = access.access_group(request.user, slug)
    decided = do_decline_join_request(
        actor=request.user,
        group=group,
        request_id=request_id,
        reason=(payload or DeclineIn()).reason,
    )
    return request_out(decided)


@router.get("/groups/{slug}/invitations", response={200: InvitationPage, **errors(403, 404)})
def list_group_invitations(
    request: HttpRequest, slug: Slug, cursor: Cursor = None, limit: Limit = None
) -> dict[str, Any]:
    group = access.access_group_for_managing(request.user, slug)
    rows, following = page(access.pending_invitations(group), cursor, limit)
    return {"results": [invitation_out(i) for i in rows], "next": following}


@router.post(
    "/groups/{slug}/invitations",
    response={200: JoinedOut, 201: InvitationOut, **errors(403, 404, 409, 429)},
)
def invite(request: HttpRequest, slug: Slug, payload: UserIdIn) -> Status[dict[str, Any]]:
    group = access.access_group(request.user, slug)
    result = do_invite_to_group(actor=request.user, group=group, user_id=payload.user_id)
    if isinstance(result, Invitation):
        return Status(201, invitation_out(result))
    return Status(200, {"status": "member", "member": member_out(result)})


@router.delete(
    "/groups/{slug}/invitations/{invitation_id}",
    response={204: None, **errors(403, 404, 409)},
)
def revoke_invitation(request: HttpRequest, slug: Slug, invitation_id: Id) -> Status[None]:
    group = access.access_group(request.user, slug)
    do_revoke_invitation(actor=request.user, group=group, invitation_id=invitation_id)
    return Status(204, None)


@router.get("/invitations", response=InvitationPage)
def my_invitations(
    request: HttpRequest, cursor: Cursor = None, limit: Limit = None
) -> dict[str, Any]:
    rows, following = page(access.my_invitations(request.user), cursor, limit)
    return {"results": [invitation_out(i) for i in rows], "next": following}


@router.post(
    "/invitations/{invitation_id}/accept", response={200: AcceptedOut, **errors(403, 404, 409)}
)
def accept_invitation(request: HttpRequest, invitation_id: Id) -> dict[str, Any]:
    membership = do_accept_invitation(actor=request.user, invitation_id=invitation_id)
    return {
        "status": "member",
        "group": {"slug": membership.group.slug, "name": membership.group.name},
        "member": member_out(membership),
    }


@router.post(
    "/invitations/{invitation_id}/decline",
    response={200: InvitationOut, **errors(403, 404, 409)},
)
def decline_invitation(request: HttpRequest, invitation_id: Id) -> dict[str, Any]:
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


class DecisionIn(In):
    decision: Literal["hide", "warn", "remove", "dismiss"]


class ReportedMessageOut(Out):
    message: int
    seq: int
    author: dict[str, Any]
    body: str
    body_html: str
    created_at: str
    deleted: bool
    reports: int
    reasons: list[str]
    first_reported_at: str


class ReportQueueOut(Out):
    results: list[ReportedMessageOut]
    next: str | None


class DecisionOut(Out):
    message: int
    decision: str
    closed: int


@router.get("/groups/{slug}/reports", response={200: ReportQueueOut, **errors(403, 404)})
def list_reports(request: HttpRequest, slug: Slug) -> dict[str, Any]:
    """The group's messages with open reports (owners and admins only)."""
    _group, reported = access.access_group_reports(request.user, slug)
    return {"results": [reported_out(entry) for entry in reported], "next": None}


@router.post(
    "/groups/{slug}/reports/{message_id}",
    response={200: DecisionOut, **errors(403, 404)},
)
def decide_report(
    request: HttpRequest,
    slug: Slug,
    message_id: Id,
    payload: DecisionIn,
) -> dict[str, Any]:
    """Decide the open reports of a message: hide, warn, remove or dismiss."""
    group = access.access_group(request.user, slug)
    closed = do_decide_report(
        actor=request.user, group=group, message_id=message_id, decision=payload.decision
    )
    return {"message": message_id, "decision": payload.decision, "closed": closed}
