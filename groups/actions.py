"""Every state change of groups, memberships, join requests and invitations
(docs/architecture.md, rule 1).

Each action runs in one transaction and first locks the group row
(`SELECT ... FOR UPDATE`), then the membership, request or invitation rows it touches:
one fixed order, so two admins deciding the same request, two joins or a leave racing
a role change are serialised per group and the loser sees the winner's result. Events
(notifications, the live member frames of `groups.events`) are queued with
`publish_on_commit`, so a rolled-back action publishes nothing.

Permissions are checked inside the lock, against the rows as they are then; the table
is in docs/groups.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Case, When
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify

from accounts.actions import BIDI_CONTROLS, shows_something
from accounts.images import avatar_url
from accounts.labels import group_role_label
from accounts.throttle import limit_action
from chat.actions import (
    do_add_participant,
    do_create_group_conversation,
    do_decide_reports,
    do_remove_participant,
    do_set_moderator,
    do_set_notification_level,
    do_update_group_conversation,
)
from chat.models import Message, MessageReport, NotificationLevel
from groups.access import REQUEST_COOLDOWN, may_ask_again_at
from groups.events import (
    GroupRef,
    GroupUpdatedFrame,
    MemberInfo,
    MemberJoinedFrame,
    MemberLeftFrame,
    MemberRoleChangedFrame,
)
from groups.models import Group, Invitation, JoinRequest, Membership
from notifications.actions import do_mark_handled, do_notify
from realtime.errors import ClientError
from realtime.frames import conversation_topic
from realtime.publish import publish_on_commit

# Paths under /gruppen/ that a slug must not shadow.
RESERVED_SLUGS = frozenset({"neu", "einladungen"})
GERMAN_LETTERS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 40
MAX_MESSAGE_CHARS = 1000
MANAGER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


# --- input ----------------------------------------------------------------------


def _bad(field: str, detail: str) -> ClientError:
    return ClientError("bad_request", detail, fields={field: [detail]})


def clean_name(name: Any) -> str:
    """A group's name as shown: bidi controls taken out (they would turn the rest of
    a list line around), runs of spaces one space; one that shows nothing refused."""
    if not isinstance(name, str):
        raise _bad("name", "Bitte geben Sie der Gruppe einen Namen.")
    name = " ".join(name.translate(BIDI_CONTROLS).split())
    if not shows_something(name):
        raise _bad("name", "Bitte geben Sie der Gruppe einen Namen.")
    if len(name) > 120:
        raise _bad("name", "Der Name darf höchstens 120 Zeichen lang sein.")
    return name


def clean_description(description: Any) -> str:
    if not isinstance(description, str):
        raise _bad("description", "Die Beschreibung muss ein Text sein.")
    description = description.strip()
    if len(description) > 4000:
        raise _bad("description", "Die Beschreibung darf höchstens 4000 Zeichen lang sein.")
    return description


def clean_visibility(visibility: Any) -> str:
    if visibility not in Group.Visibility.values:
        raise _bad("visibility", "Sichtbarkeit muss „open“ oder „closed“ sein.")
    return str(visibility)


def clean_city(city: Any) -> str:
    if not isinstance(city, str):
        raise _bad("city", "Der Ort muss ein Text sein.")
    city = " ".join(city.split())
    if len(city) > 100:
        raise _bad("city", "Der Ort darf höchstens 100 Zeichen lang sein.")
    return city


def clean_topics(topics: Any) -> list[str]:
    """A list of distinct topics (case-insensitive), in the given order."""
    if isinstance(topics, str):
        topics = topics.split(",")
    if not isinstance(topics, list | tuple) or not all(isinstance(t, str) for t in topics):
        raise _bad("topics", "Themen müssen eine Liste von Texten sein.")
    cleaned: dict[str, str] = {}
    for topic in topics:
        topic = " ".join(topic.split())
        if not topic:
            continue
        if len(topic) > MAX_TOPIC_CHARS:
            raise _bad("topics", f"Ein Thema darf höchstens {MAX_TOPIC_CHARS} Zeichen lang sein.")
        cleaned.setdefault(topic.casefold(), topic)
    if len(cleaned) > MAX_TOPICS:
        raise _bad("topics", f"Höchstens {MAX_TOPICS} Themen pro Gruppe.")
    return list(cleaned.values())


def clean_message(message: Any, field: str = "message") -> str:
    if message is None:
        return ""
    if not isinstance(message, str):
        raise _bad(field, "Bitte einen Text angeben.")
    message = message.strip()
    if len(message) > MAX_MESSAGE_CHARS:
        raise _bad(field, f"Höchstens {MAX_MESSAGE_CHARS} Zeichen.")
    return message


def clean_user_id(user_id: Any) -> int:
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise _bad("user_id", "Bitte eine Person angeben.")
    return user_id


def clean_role(role: Any) -> str:
    if role not in Membership.Role.values:
        raise _bad("role", "Rolle muss „owner“, „admin“ oder „member“ sein.")
    return str(role)


def _slug_base(name: str) -> str:
    german = name.translate(GERMAN_LETTERS)
    base = slugify(re.sub(r"[/&+]", " ", german))[:70].strip("-")
    return base or "gruppe"


def _unique_slug(name: str) -> str:
    base = _slug_base(name)
    candidate = base
    number = 2
    while candidate in RESERVED_SLUGS or Group.objects.filter(slug=candidate).exists():
        candidate = f"{base}-{number}"
        number += 1
    return candidate


def _name_taken(name: str, *, exclude_pk: int | None = None) -> bool:
    groups = Group.objects.annotate(lower_name=Lower("name")).filter(lower_name=name.lower())
    if exclude_pk is not None:
        groups = groups.exclude(pk=exclude_pk)
    return groups.exists()


def _name_conflict() -> ClientError:
    detail = "Eine Gruppe mit diesem Namen gibt es schon."
    return ClientError("conflict", detail, fields={"name": [detail]})


# --- payloads -------------------------------------------------------------------


def group_ref(group: Group) -> GroupRef:
    return {"slug": group.slug, "name": group.name}


def person_info(user: Any) -> dict[str, Any]:
    return {
        "id": user.pk,
        "display_name": user.display_name,
        "company": user.company_name,
        "job_title": user.job_title,
    }


def member_info(membership: Membership) -> MemberInfo:
    user = membership.user
    info: MemberInfo = {
        "id": user.pk,
        "display_name": user.display_name,
        "company": user.company_name,
        "job_title": user.job_title,
        "role": membership.role,
        "address_form": user.address_form,
    }
    photo = avatar_url(user)
    if photo:
        info["avatar_url"] = photo
    return info


def _member_count(group: Group) -> int:
    return Membership.objects.filter(group=group).count()


# --- locking helpers ------------------------------------------------------------


def _lock_group(group: Group) -> Group:
    """Re-read and lock the group row: the first lock of every action."""
    locked = (
        Group.objects.select_for_update(of=("self",))
        .select_related("conversation")
        .filter(pk=group.pk)
        .first()
    )
    if locked is None:
        raise ClientError("not_found", "Diese Gruppe gibt es nicht.")
    return locked


def _locked_membership(group: Group, user_id: Any) -> Membership | None:
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(group=group, user_id=user_id)
        .first()
    )


def _require_role(membership: Membership | None, roles: Iterable[str], detail: str) -> Membership:
    if membership is None or membership.role not in roles:
        raise ClientError("forbidden", detail)
    return membership


def _require_not_archived(group: Group) -> None:
    if group.archived_at is not None:
        raise ClientError("conflict", "Die Gruppe ist archiviert.")


def _owner_count(group: Group) -> int:
    return Membership.objects.filter(group=group, role=Membership.Role.OWNER).count()


def _managers(group: Group) -> list[Any]:
    memberships = Membership.objects.filter(group=group, role__in=MANAGER_ROLES).select_related(
        "user"
    )
    return [membership.user for membership in memberships]


# --- shared steps ---------------------------------------------------------------


def _admit(group: Group, user: Any) -> Membership:
    """Make `user` a member (the group row is locked) and tell the live member list.
    Whatever else was open between them is settled: a pending request counts as
    approved, a pending invitation as accepted (e.g. joining a group that was closed
    when they asked and is open now)."""
    now = timezone.now()
    requests = JoinRequest.objects.filter(group=group, user=user, status=JoinRequest.Status.PENDING)
    invitations = Invitation.objects.filter(
        group=group, user=user, status=Invitation.Status.PENDING
    )
    settled = [f"join_request:{pk}" for pk in requests.values_list("pk", flat=True)]
    settled += [f"invitation:{pk}" for pk in invitations.values_list("pk", flat=True)]
    requests.update(status=JoinRequest.Status.APPROVED, decided_at=now)
    invitations.update(status=Invitation.Status.ACCEPTED, decided_at=now)
    do_mark_handled(dedupe_keys=settled)
    membership = Membership.objects.create(group=group, user=user, role=Membership.Role.MEMBER)
    do_add_participant(conversation=group.conversation, user=user)
    frame: MemberJoinedFrame = {
        "type": "member_joined",
        "conversation": group.conversation_id,
        "group": group.slug,
        "member": member_info(membership),
        "member_count": _member_count(group),
    }
    publish_on_commit(conversation_topic(group.conversation_id), frame)
    return membership


def _drop(group: Group, membership: Membership) -> None:
    user = membership.user
    membership.delete()
    do_remove_participant(conversation=group.conversation, user=user)
    frame: MemberLeftFrame = {
        "type": "member_left",
        "conversation": group.conversation_id,
        "group": group.slug,
        "user_id": user.pk,
        "member_count": _member_count(group),
    }
    publish_on_commit(conversation_topic(group.conversation_id), frame)


def _set_role(group: Group, membership: Membership, role: str, *, actor: Any) -> None:
    membership.role = role
    membership.save(update_fields=["role"])
    do_set_moderator(
        conversation=group.conversation,
        user=membership.user,
        can_moderate=role in MANAGER_ROLES,
    )
    frame: MemberRoleChangedFrame = {
        "type": "member_role_changed",
        "conversation": group.conversation_id,
        "group": group.slug,
        "user_id": membership.user_id,
        "role": role,
    }
    publish_on_commit(conversation_topic(group.conversation_id), frame)
    if membership.user_id == actor.pk:
        return
    do_notify(
        recipient=membership.user,
        kind="role_changed",
        data={
            "group": group_ref(group),
            "role": role,
            "role_label": group_role_label(role, membership.user.address_form),
            "changed_by": person_info(actor),
            "url": f"/gruppen/{group.slug}/",
        },
        dedupe_key=f"role_changed:{membership.pk}:{timezone.now().timestamp()}",
    )


def _approve(group: Group, request: JoinRequest, *, actor: Any) -> Membership:
    """Mark a locked pending request approved, admit the requester, notify them."""
    request.status = JoinRequest.Status.APPROVED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    do_mark_handled(dedupe_keys=[f"join_request:{request.pk}"])
    # Admitting settles a pending request, so a pending requester is never a member.
    membership = _admit(group, request.user)
    do_notify(
        recipient=request.user,
        kind="join_approved",
        data={
            "group": group_ref(group),
            "request_id": request.pk,
            "decided_by": person_info(actor),
            "url": f"/gruppen/{group.slug}/",
        },
        dedupe_key=f"join_approved:{request.pk}",
    )
    return membership


def _publish_group_updated(group: Group) -> None:
    frame: GroupUpdatedFrame = {
        "type": "group_updated",
        "conversation": group.conversation_id,
        "group": group.slug,
        "name": group.name,
        "visibility": group.visibility,
        "archived": group.archived_at is not None,
    }
    publish_on_commit(conversation_topic(group.conversation_id), frame)


def _sync_conversation(group: Group) -> None:
    do_update_group_conversation(
        conversation=group.conversation,
        title=group.name,
        readable_by_all=group.visibility == Group.Visibility.OPEN and group.archived_at is None,
        read_only=group.archived_at is not None,
    )


# --- actions --------------------------------------------------------------------


def do_create_group(
    *,
    actor: Any,
    name: Any,
    description: Any = "",
    visibility: Any = Group.Visibility.OPEN,
    topics: Any = (),
    city: Any = "",
) -> Group:
    """Found a group. Any signed-in person may; the founder becomes its owner and the
    group gets its conversation. Emits nothing (nobody listens to a new group yet).
    Errors: 400 with fields for bad input, 409 for a name in use (case-insensitive)."""
    name = clean_name(name)
    description = clean_description(description)
    visibility = clean_visibility(visibility)
    topics = clean_topics(topics)
    city = clean_city(city)
    limit_action("group_create", actor.pk)
    try:
        with transaction.atomic():
            if _name_taken(name):
                raise _name_conflict()
            conversation = do_create_group_conversation(
                title=name, readable_by_all=visibility == Group.Visibility.OPEN
            )
            group = Group.objects.create(
                name=name,
                slug=_unique_slug(name),
                description=description,
                visibility=visibility,
                topics=topics,
                city=city,
                conversation=conversation,
                created_by=actor,
            )
            Membership.objects.create(group=group, user=actor, role=Membership.Role.OWNER)
            do_add_participant(conversation=conversation, user=actor)
            do_set_moderator(conversation=conversation, user=actor, can_moderate=True)
    except IntegrityError as exc:
        # A parallel founder took the name (or its slug) between our check and insert.
        raise _name_conflict() from exc
    return group


def do_update_group(
    *,
    actor: Any,
    group: Group,
    name: Any = None,
    description: Any = None,
    visibility: Any = None,
    topics: Any = None,
    city: Any = None,
) -> Group:
    """Edit a group's name, description, visibility, topics or city (fields left None
    stay). Owners and admins; not while archived. The slug stays, so links keep
    working. Emits `group_updated` on the group's conversation topic; closing a group
    makes chat drop non-members' subscriptions."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = clean_name(name)
    if description is not None:
        changes["description"] = clean_description(description)
    if visibility is not None:
        changes["visibility"] = clean_visibility(visibility)
    if topics is not None:
        changes["topics"] = clean_topics(topics)
    if city is not None:
        changes["city"] = clean_city(city)
    try:
        with transaction.atomic():
            group = _lock_group(group)
            _require_role(
                _locked_membership(group, actor.pk),
                MANAGER_ROLES,
                "Nur Inhaber und Admins dürfen die Gruppe bearbeiten.",
            )
            _require_not_archived(group)
            if "name" in changes and _name_taken(changes["name"], exclude_pk=group.pk):
                raise _name_conflict()
            for field, value in changes.items():
                setattr(group, field, value)
            group.save(update_fields=list(changes) or None)
            _sync_conversation(group)
            _publish_group_updated(group)
    except IntegrityError as exc:
        raise _name_conflict() from exc
    return group


def do_archive_group(*, actor: Any, group: Group, archived: bool = True) -> Group:
    """Archive a group (or bring it back with `archived=False`). Owners only.
    An archived group keeps its members and history, takes no joins, invitations,
    decisions or edits, and its chat is read by members only. Emits `group_updated`."""
    with transaction.atomic():
        group = _lock_group(group)
        _require_role(
            _locked_membership(group, actor.pk),
            {Membership.Role.OWNER},
            "Nur Inhaber dürfen eine Gruppe archivieren.",
        )
        if (group.archived_at is not None) == archived:
            return group
        group.archived_at = timezone.now() if archived else None
        group.save(update_fields=["archived_at"])
        if archived:
            _close_pending(group)
        _sync_conversation(group)
        _publish_group_updated(group)
    return group


def _close_pending(group: Group) -> None:
    """An archived group takes no joins or decisions: its pending invitations are
    revoked and its pending join requests declined, so nobody keeps an invitation or
    a request that can neither be accepted nor decided. Brought back, the group
    invites anew."""
    now = timezone.now()
    Invitation.objects.filter(group=group, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED, decided_at=now
    )
    JoinRequest.objects.filter(group=group, status=JoinRequest.Status.PENDING).update(
        status=JoinRequest.Status.DECLINED, decided_at=now, reason="Die Gruppe wurde archiviert."
    )


def do_join_group(*, actor: Any, group: Group, message: Any = "") -> Membership | JoinRequest:
    """Join a group. Any signed-in non-member. Open group (or a pending invitation):
    member at once (`member_joined` on the conversation topic). Closed group: a pending
    `JoinRequest` with the optional message, and a `join_request` notification to every
    owner and admin. Errors: 409 when already a member, archived, a request is already
    pending, or within the cool-down after a decline (REQUEST_COOLDOWN)."""
    message = clean_message(message)
    with transaction.atomic():
        group = _lock_group(group)
        _require_not_archived(group)
        if _locked_membership(group, actor.pk) is not None:
            raise ClientError("conflict", "Sie sind bereits Mitglied dieser Gruppe.")
        invited = Invitation.objects.filter(
            group=group, user=actor, status=Invitation.Status.PENDING
        ).exists()
        if invited or group.visibility == Group.Visibility.OPEN:
            return _admit(group, actor)
        if JoinRequest.objects.filter(
            group=group, user=actor, status=JoinRequest.Status.PENDING
        ).exists():
            raise ClientError("conflict", "Ihre Beitrittsanfrage ist bereits offen.")
        may_ask_again = may_ask_again_at(actor, group)
        if may_ask_again is not None:
            when = date_format(timezone.localtime(may_ask_again), "j. F Y, H:i")
            raise ClientError(
                "conflict",
                f"Ihre letzte Anfrage wurde abgelehnt. Sie können ab {when} Uhr erneut anfragen.",
            )
        limit_action("join_request", actor.pk)
        request = JoinRequest.objects.create(group=group, user=actor, message=message)
        data = {
            "group": group_ref(group),
            "request_id": request.pk,
            "requester": person_info(actor),
            "message": message,
            "url": f"/gruppen/{group.slug}/anfragen/",
        }
        for manager in _managers(group):
            do_notify(
                recipient=manager,
                kind="join_request",
                data=data,
                dedupe_key=f"join_request:{request.pk}",
            )
    return request


def do_withdraw_join_request(*, actor: Any, group: Group) -> JoinRequest:
    """Withdraw my pending request to a closed group. The requester only. Emits
    nothing. Error: 409 when there is no pending request."""
    with transaction.atomic():
        group = _lock_group(group)
        request = (
            JoinRequest.objects.select_for_update()
            .filter(group=group, user=actor, status=JoinRequest.Status.PENDING)
            .first()
        )
        if request is None:
            raise ClientError(
                "conflict", "Es gibt keine offene Anfrage, die Sie zurückziehen könnten."
            )
        request.status = JoinRequest.Status.WITHDRAWN
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        do_mark_handled(dedupe_keys=[f"join_request:{request.pk}"])
    return request


def _locked_pending_request(group: Group, request_id: Any) -> JoinRequest:
    request = (
        JoinRequest.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=request_id, group=group)
        .first()
    )
    if request is None:
        raise ClientError("not_found", "Diese Anfrage gibt es nicht.")
    if request.status != JoinRequest.Status.PENDING:
        raise ClientError(
            "conflict",
            f"Über diese Anfrage ist schon entschieden ({request.get_status_display()}).",
        )
    return request


def do_approve_join_request(*, actor: Any, group: Group, request_id: Any) -> JoinRequest:
    """Approve a pending join request. Owners and admins; not while archived. Emits
    `member_joined` and a `join_approved` notification to the requester. Errors: 404
    unknown request, 409 already decided (e.g. by another admin a moment earlier)."""
    with transaction.atomic():
        group = _lock_group(group)
        _require_role(
            _locked_membership(group, actor.pk),
            MANAGER_ROLES,
            "Nur Inhaber und Admins entscheiden über Anfragen.",
        )
        _require_not_archived(group)
        request = _locked_pending_request(group, request_id)
        _approve(group, request, actor=actor)
    return request


def do_decline_join_request(
    *, actor: Any, group: Group, request_id: Any, reason: Any = ""
) -> JoinRequest:
    """Decline a pending join request, with an optional reason the requester sees.
    Owners and admins. Emits a `join_declined` notification with the reason and the
    time from which the person may ask again. Errors: 404 unknown, 409 decided."""
    reason = clean_message(reason, "reason")
    with transaction.atomic():
        group = _lock_group(group)
        _require_role(
            _locked_membership(group, actor.pk),
            MANAGER_ROLES,
            "Nur Inhaber und Admins entscheiden über Anfragen.",
        )
        request = _locked_pending_request(group, request_id)
        request.status = JoinRequest.Status.DECLINED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.reason = reason
        request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        do_mark_handled(dedupe_keys=[f"join_request:{request.pk}"])
        do_notify(
            recipient=request.user,
            kind="join_declined",
            data={
                "group": group_ref(group),
                "request_id": request.pk,
                "reason": reason,
                "may_ask_again_at": (request.decided_at + REQUEST_COOLDOWN).isoformat(),
                "url": f"/gruppen/{group.slug}/",
            },
            dedupe_key=f"join_declined:{request.pk}",
        )
    return request


def do_invite_to_group(*, actor: Any, group: Group, user_id: Any) -> Invitation | Membership:
    """Invite a person. Owners and admins; not while archived. Someone with a pending
    join request is admitted at once (returns the Membership; `member_joined` and
    `join_approved`); otherwise a pending Invitation and an `invitation` notification.
    Errors: 404 unknown person, 409 already a member or already invited."""
    invitee = get_user_model().objects.filter(pk=clean_user_id(user_id), is_active=True).first()
    if invitee is None:
        raise ClientError("not_found", "Diese Person gibt es nicht.")
    with transaction.atomic():
        group = _lock_group(group)
        _require_role(
            _locked_membership(group, actor.pk),
            MANAGER_ROLES,
            "Nur Inhaber und Admins dürfen einladen.",
        )
        _require_not_archived(group)
        if _locked_membership(group, invitee.pk) is not None:
            raise ClientError("conflict", f"{invitee.display_name} ist bereits Mitglied.")
        limit_action("invitation", actor.pk)
        pending = (
            JoinRequest.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(group=group, user=invitee, status=JoinRequest.Status.PENDING)
            .first()
        )
        if pending is not None:
            return _approve(group, pending, actor=actor)
        if Invitation.objects.filter(
            group=group, user=invitee, status=Invitation.Status.PENDING
        ).exists():
            raise ClientError("conflict", f"{invitee.display_name} ist bereits eingeladen.")
        invitation = Invitation.objects.create(group=group, user=invitee, invited_by=actor)
        do_notify(
            recipient=invitee,
            kind="invitation",
            data={
                "group": group_ref(group),
                "invitation_id": invitation.pk,
                "invited_by": person_info(actor),
                "url": "/gruppen/einladungen/",
            },
            dedupe_key=f"invitation:{invitation.pk}",
        )
    return invitation


def do_revoke_invitation(*, actor: Any, group: Group, invitation_id: Any) -> Invitation:
    """Take back a pending invitation of this group. Owners and admins. Emits nothing;
    the invitee's answer then gets 409. Errors: 403, 404 unknown, 409 not pending."""
    with transaction.atomic():
        group = _lock_group(group)
        _require_role(
            _locked_membership(group, actor.pk),
            MANAGER_ROLES,
            "Nur Inhaber und Admins dürfen Einladungen zurücknehmen.",
        )
        invitation = (
            Invitation.objects.select_for_update().filter(pk=invitation_id, group=group).first()
        )
        if invitation is None:
            raise ClientError("not_found", "Diese Einladung gibt es nicht.")
        if invitation.status != Invitation.Status.PENDING:
            raise ClientError(
                "conflict",
                f"Diese Einladung ist nicht mehr offen ({invitation.get_status_display()}).",
            )
        invitation.status = Invitation.Status.REVOKED
        invitation.decided_at = timezone.now()
        invitation.save(update_fields=["status", "decided_at"])
        do_mark_handled(dedupe_keys=[f"invitation:{invitation.pk}"])
    return invitation


def _locked_pending_invitation(actor: Any, invitation_id: Any) -> tuple[Group, Invitation]:
    """Lock the invitation's group, then the invitation (addressed to `actor`)."""
    found = Invitation.objects.filter(pk=invitation_id, user=actor).select_related("group").first()
    if found is None:
        raise ClientError("not_found", "Diese Einladung gibt es nicht.")
    group = _lock_group(found.group)
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ClientError(
            "conflict",
            f"Diese Einladung ist nicht mehr offen ({invitation.get_status_display()}).",
        )
    return group, invitation


def do_accept_invitation(*, actor: Any, invitation_id: Any) -> Membership:
    """Accept an invitation addressed to me: I become a member (a pending request of
    mine counts as approved). Emits `member_joined`. Errors: 404 not mine or unknown,
    409 no longer pending or group archived."""
    with transaction.atomic():
        group, _invitation = _locked_pending_invitation(actor, invitation_id)
        _require_not_archived(group)
        # Invitations go to non-members only, and admitting settles them, so the
        # invitee is not a member yet.
        return _admit(group, actor)


def do_decline_invitation(*, actor: Any, invitation_id: Any) -> Invitation:
    """Decline an invitation addressed to me. Emits nothing. Errors as accepting."""
    with transaction.atomic():
        _group, invitation = _locked_pending_invitation(actor, invitation_id)
        invitation.status = Invitation.Status.DECLINED
        invitation.decided_at = timezone.now()
        invitation.save(update_fields=["status", "decided_at"])
        do_mark_handled(dedupe_keys=[f"invitation:{invitation.pk}"])
    return invitation


def do_leave_group(*, actor: Any, group: Group) -> None:
    """Leave a group. Any member; the last owner must first hand over (409). Emits
    `member_left`; chat drops the conversation from the leaver's sockets unless the
    group is open (then they may still read)."""
    with transaction.atomic():
        group = _lock_group(group)
        membership = _locked_membership(group, actor.pk)
        if membership is None:
            raise ClientError("conflict", "Sie sind kein Mitglied dieser Gruppe.")
        if membership.role == Membership.Role.OWNER and _owner_count(group) == 1:
            raise ClientError(
                "conflict",
                "Niemand außer Ihnen hat die Inhaberrolle. "
                "Übertragen Sie die Gruppe zuerst an ein anderes Mitglied.",
            )
        _drop(group, membership)


def do_remove_member(*, actor: Any, group: Group, user_id: Any) -> None:
    """Remove another member. Owners may remove anyone but themselves (they leave);
    admins may remove plain members only. Emits `member_left` and a `member_removed`
    notification to the removed person (their sockets drop the conversation, as on
    leaving). Errors: 403 not allowed, 404 not a member, 400 removing oneself."""
    user_id = clean_user_id(user_id)
    with transaction.atomic():
        group = _lock_group(group)
        mine = _require_role(
            _locked_membership(group, actor.pk),
            MANAGER_ROLES,
            "Nur Inhaber und Admins dürfen Mitglieder entfernen.",
        )
        if user_id == actor.pk:
            raise ClientError("bad_request", "Um selbst auszutreten, verlassen Sie die Gruppe.")
        target = _locked_membership(group, user_id)
        if target is None:
            raise ClientError("not_found", "Diese Person ist kein Mitglied.")
        if mine.role == Membership.Role.ADMIN and target.role != Membership.Role.MEMBER:
            raise ClientError("forbidden", "Admins dürfen nur Mitglieder entfernen.")
        membership_id = target.pk
        removed = target.user
        _drop(group, target)
        # Who removed them is left out, as in a moderator's warning: a removal is
        # often the answer to a report (docs/notifications.md).
        do_notify(
            recipient=removed,
            kind="member_removed",
            data={"group": group_ref(group), "url": f"/gruppen/{group.slug}/"},
            dedupe_key=f"member_removed:{membership_id}",
        )


def do_change_member_role(*, actor: Any, group: Group, user_id: Any, role: Any) -> Membership:
    """Change a member's role. Owners may set any role for anyone (an owner stepping
    down must leave another owner); admins may switch others between member and admin.
    Emits `member_role_changed` and a `role_changed` notification to the member (not
    when changing one's own role). Errors: 400 bad role, 403, 404, 409 last owner."""
    user_id = clean_user_id(user_id)
    role = clean_role(role)
    with transaction.atomic():
        group = _lock_group(group)
        mine = _require_role(
            _locked_membership(group, actor.pk),
            MANAGER_ROLES,
            "Nur Inhaber und Admins dürfen Rollen ändern.",
        )
        target = _locked_membership(group, user_id)
        if target is None:
            raise ClientError("not_found", "Diese Person ist kein Mitglied.")
        if mine.role == Membership.Role.ADMIN and (
            target.role == Membership.Role.OWNER or role == Membership.Role.OWNER
        ):
            raise ClientError("forbidden", "Nur Inhaber vergeben oder entziehen die Inhaberrolle.")
        if target.role == role:
            return target
        if target.role == Membership.Role.OWNER and _owner_count(group) == 1:
            raise ClientError("conflict", "Mindestens ein Mitglied muss die Inhaberrolle behalten.")
        _set_role(group, target, role, actor=actor)
    return target


def do_transfer_ownership(*, actor: Any, group: Group, user_id: Any) -> Membership:
    """Hand the group over: the member `user_id` becomes owner, the acting owner
    becomes admin. Owners only. Emits `member_role_changed` for both and a
    `role_changed` notification to the new owner. Errors: 403, 404 not a member, 400
    transferring to oneself."""
    user_id = clean_user_id(user_id)
    with transaction.atomic():
        group = _lock_group(group)
        mine = _require_role(
            _locked_membership(group, actor.pk),
            {Membership.Role.OWNER},
            "Nur Inhaber dürfen die Gruppe übertragen.",
        )
        if user_id == actor.pk:
            raise ClientError("bad_request", "Sie haben die Inhaberrolle bereits.")
        target = _locked_membership(group, user_id)
        if target is None:
            raise ClientError("not_found", "Diese Person ist kein Mitglied.")
        if target.role != Membership.Role.OWNER:
            _set_role(group, target, Membership.Role.OWNER, actor=actor)
        _set_role(group, mine, Membership.Role.ADMIN, actor=actor)
    return target


def do_set_group_notification_level(*, actor: Any, group: Group, level: Any) -> str:
    """Set how I am notified of this group's messages: all, mentions only or muted.
    Members only (403). Stored on my chat participation, where chat decides whom a
    message notifies. Emits nothing."""
    if level not in NotificationLevel.values:
        raise _bad("notification_level", "Stufe muss „all“, „mentions“ oder „muted“ sein.")
    with transaction.atomic():
        group = _lock_group(group)
        if _locked_membership(group, actor.pk) is None:
            raise ClientError("forbidden", "Nur Mitglieder stellen Benachrichtigungen ein.")
        do_set_notification_level(conversation=group.conversation, user=actor, level=level)
    return str(level)


FORMER_OWNER = {"id": None, "display_name": "Ehemaliges Mitglied"}


def leave_all_groups_on_deletion(user: Any) -> None:
    """Account deletion: `user` leaves every group. A group they owned alone passes to
    its longest-serving admin, else its longest member (who is told, kind
    `role_changed`); a group with nobody left is archived. Called inside the deletion
    action's transaction only. Emits `member_role_changed`, `member_left` and
    `group_updated` as the single steps do."""
    group_ids = list(
        Membership.objects.filter(user=user).order_by("group_id").values_list("group_id", flat=True)
    )
    for group in Group.objects.filter(pk__in=group_ids).order_by("pk"):
        group = _lock_group(group)
        membership = _locked_membership(group, user.pk)
        if membership is None:
            continue
        if membership.role == Membership.Role.OWNER and _owner_count(group) == 1:
            successor = (
                Membership.objects.select_for_update(of=("self",))
                .select_related("user")
                .filter(group=group)
                .exclude(user=user)
                .order_by(
                    # Admins first, then by seniority.
                    Case(When(role=Membership.Role.ADMIN, then=0), default=1),
                    "joined_at",
                    "pk",
                )
                .first()
            )
            if successor is None:
                group.archived_at = group.archived_at or timezone.now()
                group.save(update_fields=["archived_at"])
                _close_pending(group)
                _sync_conversation(group)
                _publish_group_updated(group)
            else:
                _set_role(group, successor, Membership.Role.OWNER, actor=successor.user)
                do_notify(
                    recipient=successor.user,
                    kind="role_changed",
                    data={
                        "group": group_ref(group),
                        "role": Membership.Role.OWNER,
                        "role_label": group_role_label(
                            Membership.Role.OWNER, successor.user.address_form
                        ),
                        "changed_by": FORMER_OWNER,
                        "url": f"/gruppen/{group.slug}/",
                    },
                    dedupe_key=f"role_changed:{successor.pk}:{timezone.now().timestamp()}",
                )
        _drop(group, membership)


def do_decide_report(*, actor: Any, group: Group, message_id: Any, decision: Any) -> int:
    """An owner or admin decides the open reports of a message in the group's
    conversation (docs/formatting-moderation.md): `hide` it for everyone, `warn` its
    author, `remove` the author from the group (as `do_remove_member`: admins remove
    plain members only) or `dismiss`. All open reports of the message close with the
    decision, who and when. Errors: 403 not a manager, 404 no open report of this
    group's message, 400 unknown decision. Emits what `do_decide_reports` and, for
    `remove`, `do_remove_member` emit. Returns how many reports closed."""
    if decision not in MessageReport.Decision.values:
        raise ClientError(
            "bad_request",
            "Unbekannte Entscheidung.",
            fields={"decision": ["hide, warn, remove oder dismiss."]},
        )
    with transaction.atomic():
        _require_role(
            _locked_membership(group, actor.pk),
            MANAGER_ROLES,
            "Nur Inhaber und Admins der Gruppe dürfen Meldungen entscheiden.",
        )
        if decision == MessageReport.Decision.REMOVE:
            author_id = (
                Message.objects.filter(
                    pk=message_id if isinstance(message_id, int) else 0,
                    conversation_id=group.conversation_id,
                    reports__status=MessageReport.Status.OPEN,
                )
                .values_list("author_id", flat=True)
                .first()
            )
            if (
                author_id is not None
                and Membership.objects.filter(group=group, user_id=author_id).exists()
            ):
                do_remove_member(actor=actor, group=group, user_id=author_id)
        _message, closed = do_decide_reports(
            actor=actor,
            conversation_id=group.conversation_id,
            message_id=message_id,
            decision=decision,
            notice_data={
                "group_slug": group.slug,
                "group_name": group.name,
                "url": f"/gruppen/{group.slug}/",
            },
        )
    return closed
