"""Request and response bodies of the groups API (docs/groups.md); the building
blocks are in `realtime/schemas.py`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from groups.actions import MAX_MESSAGE_CHARS, MAX_TOPIC_CHARS, MAX_TOPICS
from realtime.schemas import MAX_ID, NOT_BLANK, In, Integer, Out

Visibility = Literal["open", "closed"]
Role = Literal["owner", "admin", "member"]
Level = Literal["all", "mentions", "muted"]
GroupName = Annotated[str, Field(min_length=1, max_length=120, pattern=NOT_BLANK)]
Description = Annotated[str, Field(max_length=4000)]
City = Annotated[str, Field(max_length=100)]
Topics = Annotated[
    list[Annotated[str, Field(max_length=MAX_TOPIC_CHARS)]],
    Field(
        max_length=MAX_TOPICS, description="Distinct topics (case-insensitive); blank ones drop."
    ),
]
Note = Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)]


class GroupIn(In):
    name: GroupName
    description: Description = ""
    visibility: Visibility = "open"
    topics: Topics = []
    city: City = ""


class GroupPatch(In):
    """Fields left out (or null) stay as they are."""

    name: GroupName | None = None
    description: Description | None = None
    visibility: Visibility | None = None
    topics: Topics | None = None
    city: City | None = None


class ArchiveIn(In):
    archived: bool = Field(default=True, description="false brings the group back.")


class JoinIn(In):
    message: Note = Field(default="", description="For the managers of a closed group.")


class DeclineIn(In):
    reason: Note = ""


class RoleIn(In):
    role: Role


class UserIdIn(In):
    user_id: Integer = Field(ge=1, le=MAX_ID)


class NotificationLevelIn(In):
    notification_level: Level


class GroupRef(Out):
    slug: str
    name: str


class PersonOut(Out):
    id: int
    display_name: str
    company: str
    job_title: str


class MemberOut(PersonOut):
    role: str
    address_form: str
    avatar_url: str | None = None
    joined_at: str


class GroupSummary(Out):
    slug: str
    name: str
    description: str
    topics: list[str]
    city: str
    visibility: str
    archived: bool
    member_count: int
    created_at: str


class JoinRequestOut(Out):
    id: int
    status: str
    message: str
    created_at: str
    decided_at: str | None
    reason: str
    requester: PersonOut


class GroupDetail(GroupSummary):
    conversation_id: int
    my_role: str | None
    my_pending_request: JoinRequestOut | None
    my_invitation_id: int | None
    my_notification_level: str | None
    can_see_members: bool
    can_read_messages: bool


class InvitationOut(Out):
    id: int
    status: str
    group: GroupRef
    person: PersonOut
    invited_by: PersonOut | None
    created_at: str


class GroupPage(Out):
    results: list[GroupSummary]
    next: str | None


class MemberPage(Out):
    results: list[MemberOut]
    next: str | None


class JoinRequestPage(Out):
    results: list[JoinRequestOut]
    next: str | None


class InvitationPage(Out):
    results: list[InvitationOut]
    next: str | None


class JoinedOut(Out):
    status: Literal["member"]
    member: MemberOut


class PendingOut(Out):
    status: Literal["pending"]
    request: JoinRequestOut


class LeftOut(Out):
    status: Literal["left"]


class LevelOut(Out):
    notification_level: str


class AcceptedOut(Out):
    status: Literal["member"]
    group: GroupRef
    member: MemberOut
