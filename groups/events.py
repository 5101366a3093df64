"""Typed payloads the groups app publishes through `realtime/` (docs/architecture.md, rule 7).

The frames go to the group conversation's topic (`conv:<id>`), so every socket that
shows the group's chat also keeps its member list live. They add to the server frames
of docs/protocol.md; docs/groups.md describes them.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class MemberInfo(TypedDict):
    id: int
    display_name: str
    company: str
    job_title: str
    role: str
    address_form: str
    avatar_url: NotRequired[str]


class GroupRef(TypedDict):
    slug: str
    name: str


class MemberJoinedFrame(TypedDict):
    type: Literal["member_joined"]
    conversation: int
    group: str
    member: MemberInfo
    member_count: int


class MemberLeftFrame(TypedDict):
    type: Literal["member_left"]
    conversation: int
    group: str
    user_id: int
    member_count: int


class MemberRoleChangedFrame(TypedDict):
    type: Literal["member_role_changed"]
    conversation: int
    group: str
    user_id: int
    role: str


class GroupUpdatedFrame(TypedDict):
    type: Literal["group_updated"]
    conversation: int
    group: str
    name: str
    visibility: str
    archived: bool
