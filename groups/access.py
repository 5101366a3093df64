"""Every read of groups, members, requests and invitations goes through here
(docs/architecture.md, rule 3).

Groups are discoverable: any signed-in person sees a group's name, description,
topics, city and member count, and an unknown slug is a plain 404. Members of an
open group are visible to every signed-in person; those of a closed group to its
members only. Join requests are visible to the group's owners and admins and to the
requester; invitations to the group's owners and admins and to the invitee.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from chat.access import ReportedMessage, can_read, open_report_count, open_reports_in
from chat.models import Conversation
from groups.models import Group, Invitation, JoinRequest, Membership
from realtime.errors import ClientError

MANAGER_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)
# A declined person may ask the same group again this long after the decision.
REQUEST_COOLDOWN = timedelta(days=7)


def not_found() -> ClientError:
    return ClientError("not_found", "Diese Gruppe gibt es nicht.")


def require_signed_in(user: Any) -> None:
    if not user.is_authenticated:
        raise ClientError("unauthorized", "Anmeldung erforderlich.")


def access_group(user: Any, slug: str) -> Group:
    """The group with this slug for any signed-in person, else 401 / 404."""
    require_signed_in(user)
    group = Group.objects.select_related("conversation").filter(slug=slug).first()
    if group is None:
        raise not_found()
    return group


def access_group_for_writing(user: Any, slug: str) -> tuple[Group, bool]:
    """`access_group` and `can_write_messages` in one query: the group with this slug
    and its conversation (401 / 404 as there) and whether `user` may write in it (a
    member, the group not archived). Written SQL, the rows turned into instances
    with the ORM's own converters: composing and compiling the queryset was a
    quarter of a board post's CPU (docs/performance.md, "Board")."""
    require_signed_in(user)
    group_fields, conversation_fields = _concrete(Group), _concrete(Conversation)
    columns = [f"g.{connection.ops.quote_name(f.column)}" for f in group_fields]
    columns += [f"c.{connection.ops.quote_name(f.column)}" for f in conversation_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)}, EXISTS (SELECT 1 FROM groups_membership m "  # noqa: S608 (columns named here only)
            "WHERE m.group_id = g.id AND m.user_id = %s) "
            "FROM groups_group g JOIN chat_conversation c ON c.id = g.conversation_id "
            "WHERE g.slug = %s",
            [user.pk, slug],
        )
        row = cursor.fetchone()
    if row is None:
        raise not_found()
    split = len(group_fields)
    group = _instance(Group, group_fields, row[:split])
    group.conversation = _instance(Conversation, conversation_fields, row[split:-1])
    return group, group.archived_at is None and bool(row[-1])


def _concrete(model: Any) -> list[Any]:
    return list(model._meta.concrete_fields)


def _instance(model: Any, fields: list[Any], values: Any) -> Any:
    """A model instance from raw column values, converted as a queryset would."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for converter in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def membership_of(user: Any, group: Group) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(group=group, user=user).first()


def role_of(user: Any, group: Group) -> str | None:
    membership = membership_of(user, group)
    return membership.role if membership else None


def is_manager(user: Any, group: Group) -> bool:
    """Owners and admins manage requests, invitations and members."""
    return role_of(user, group) in MANAGER_ROLES


def can_see_members(user: Any, group: Group) -> bool:
    if not user.is_authenticated:
        return False
    if group.visibility == Group.Visibility.OPEN:
        return True
    return membership_of(user, group) is not None


def can_read_messages(user: Any, group: Group) -> bool:
    """The chat decides; the group only keeps the conversation in step."""
    return can_read(user, group.conversation)


def can_write_messages(user: Any, group: Group) -> bool:
    if group.archived_at is not None:
        return False
    return membership_of(user, group) is not None


def access_group_members(user: Any, slug: str) -> tuple[Group, QuerySet[Membership]]:
    """The group and its memberships (owners first), if `user` may see them (403)."""
    group = access_group(user, slug)
    if not can_see_members(user, group):
        raise ClientError("forbidden", "Nur Mitglieder sehen die Mitglieder dieser Gruppe.")
    return group, members_of(group)


def members_of(group: Group) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(group=group)
        .select_related("user")
        .alias(role_rank=_role_rank())
        .order_by("role_rank", "user__display_name", "user_id")
    )


def _role_rank() -> Case:
    return Case(
        When(role=Membership.Role.OWNER, then=Value(0)),
        When(role=Membership.Role.ADMIN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def access_group_for_managing(user: Any, slug: str) -> Group:
    """The group if `user` is one of its owners or admins, else 403 (404 if unknown)."""
    group = access_group(user, slug)
    if not is_manager(user, group):
        raise ClientError("forbidden", "Nur Inhaber und Admins der Gruppe dürfen das.")
    return group


def pending_requests(group: Group) -> QuerySet[JoinRequest]:
    return (
        JoinRequest.objects.filter(group=group, status=JoinRequest.Status.PENDING)
        .select_related("user")
        .order_by("created_at", "id")
    )


def access_pending_requests(user: Any, slug: str) -> tuple[Group, QuerySet[JoinRequest]]:
    group = access_group_for_managing(user, slug)
    return group, pending_requests(group)


def pending_invitations(group: Group) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(group=group, status=Invitation.Status.PENDING)
        .select_related("user", "invited_by")
        .order_by("created_at", "id")
    )


def my_pending_request(user: Any, group: Group) -> JoinRequest | None:
    if not user.is_authenticated:
        return None
    return JoinRequest.objects.filter(
        group=group, user=user, status=JoinRequest.Status.PENDING
    ).first()


def may_ask_again_at(user: Any, group: Group) -> datetime | None:
    """While the cool-down after the person's last declined request lasts: when it
    ends (REQUEST_COOLDOWN after the decision); otherwise None."""
    if not user.is_authenticated:
        return None
    last_decline = (
        JoinRequest.objects.filter(group=group, user=user, status=JoinRequest.Status.DECLINED)
        .order_by("-decided_at")
        .first()
    )
    if last_decline is None or last_decline.decided_at is None:
        return None
    until: datetime = last_decline.decided_at + REQUEST_COOLDOWN
    return until if until > timezone.now() else None


def my_pending_invitation(user: Any, group: Group) -> Invitation | None:
    if not user.is_authenticated:
        return None
    return Invitation.objects.filter(
        group=group, user=user, status=Invitation.Status.PENDING
    ).first()


def my_invitations(user: Any) -> QuerySet[Invitation]:
    """My pending invitations, newest first."""
    require_signed_in(user)
    return (
        Invitation.objects.filter(user=user, status=Invitation.Status.PENDING)
        .select_related("group", "invited_by")
        .order_by("-created_at", "-id")
    )


def list_groups(
    user: Any,
    *,
    q: str = "",
    mine: bool = False,
    topic: str = "",
    city: str = "",
) -> QuerySet[Group]:
    """Groups a signed-in person can discover, with `member_total` annotated.

    Archived groups are listed only under `mine`."""
    require_signed_in(user)
    groups = Group.objects.annotate(member_total=Count("memberships", distinct=True))
    if mine:
        groups = groups.filter(memberships__user=user)
    else:
        groups = groups.filter(archived_at__isnull=True)
    q = q.strip()
    if q:
        groups = groups.filter(Q(name__icontains=q) | Q(description__icontains=q))
    topic = topic.strip()
    if topic and connection.vendor == "postgresql":
        groups = groups.filter(topics__contains=[topic])
    elif topic:  # SQLite (local runs without DATABASE_URL) has no JSON containment
        groups = groups.filter(topics__icontains=topic)
    city = city.strip()
    if city:
        groups = groups.filter(city__iexact=city)
    return groups.order_by("name", "id")


def all_topics() -> list[str]:
    """Every topic used by a live group, for the filter menu."""
    seen: dict[str, str] = {}
    for topics in Group.objects.filter(archived_at__isnull=True).values_list("topics", flat=True):
        for topic in topics or []:
            seen.setdefault(str(topic).casefold(), str(topic))
    return sorted(seen.values(), key=str.casefold)


def all_cities() -> list[str]:
    cities = (
        Group.objects.filter(archived_at__isnull=True)
        .exclude(city="")
        .values_list("city", flat=True)
        .distinct()
    )
    return sorted(set(cities), key=str.casefold)


def access_invitation(user: Any, invitation_id: int) -> Invitation:
    """An invitation addressed to `user`; someone else's or a missing one: 404."""
    require_signed_in(user)
    invitation = (
        Invitation.objects.select_related("group").filter(pk=invitation_id, user=user).first()
    )
    if invitation is None:
        raise ClientError("not_found", "Diese Einladung gibt es nicht.")
    return invitation


def access_group_reports(user: Any, slug: str) -> tuple[Group, list[ReportedMessage]]:
    """The open reports of a group's conversation: its owners and admins only (403 for
    members, 404 for a closed group one cannot see), docs/formatting-moderation.md."""
    group = access_group_for_managing(user, slug)
    return group, open_reports_in(group.conversation_id)


def open_report_count_of(group: Group) -> int:
    return open_report_count(group.conversation_id)
