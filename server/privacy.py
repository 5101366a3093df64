"""The export and deletion sections of the apps above `accounts` (docs/privacy.md).

`accounts.privacy` holds the registry and the people's own tables; this module, in
the layer that composes every app, adds groups, chat, notifications and engagement. It is
registered at start-up by `server.apps.ServerConfig.ready`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.models import User
from accounts.privacy import Section, iso, register
from chat.actions import erase_messages_of, erase_reactions_of
from chat.attachments import delete_pending_of, export_uploads
from chat.events import FORMER_MEMBER
from chat.models import Message, MessageReport, Participant, Reaction
from engagement.models import PersonRhythm
from groups.actions import leave_all_groups_on_deletion
from groups.models import Group, Invitation, JoinRequest, Membership
from notifications.models import Notification

# Where other people's notifications name a person ({"id", "display_name", ...}).
PERSON_KEYS = ("author", "requester", "decided_by", "invited_by", "changed_by", "user", "person")
FORMER = {"id": None, "display_name": FORMER_MEMBER}


def _group_ref(group: Group) -> dict[str, Any]:
    return {"slug": group.slug, "name": group.name}


def export_groups(person: User) -> dict[str, Any]:
    return {
        "memberships": [
            {"group": _group_ref(m.group), "role": m.role, "joined_at": iso(m.joined_at)}
            for m in Membership.objects.filter(user=person).select_related("group")
        ],
        "join_requests": [
            {
                "group": _group_ref(r.group),
                "message": r.message,
                "status": r.status,
                "reason": r.reason,
                "created_at": iso(r.created_at),
                "decided_at": iso(r.decided_at),
            }
            for r in JoinRequest.objects.filter(user=person).select_related("group")
        ],
        "invitations_received": [
            {"group": _group_ref(i.group), "status": i.status, "created_at": iso(i.created_at)}
            for i in Invitation.objects.filter(user=person).select_related("group")
        ],
        "invitations_sent": [
            {
                "group": _group_ref(i.group),
                "person": {"id": i.user_id, "display_name": i.user.display_name},
                "status": i.status,
                "created_at": iso(i.created_at),
            }
            for i in Invitation.objects.filter(invited_by=person).select_related("group", "user")
        ],
        "join_requests_decided": [
            {"group": _group_ref(r.group), "status": r.status, "decided_at": iso(r.decided_at)}
            for r in JoinRequest.objects.filter(decided_by=person).select_related("group")
        ],
        "groups_founded": [
            {**_group_ref(g), "created_at": iso(g.created_at)}
            for g in Group.objects.filter(created_by=person)
        ],
    }


def export_chat(person: User) -> dict[str, Any]:
    return {
        "conversations": [
            {
                "conversation": p.conversation_id,
                "kind": p.conversation.kind,
                "title": p.conversation.title,
                "last_read_seq": p.last_read_seq,
                "notification_level": p.notification_level,
                "joined_at": iso(p.joined_at),
            }
            for p in Participant.objects.filter(user=person).select_related("conversation")
        ],
        "messages": [
            {
                "conversation": m.conversation_id,
                "id": m.pk,
                "seq": m.seq,
                "body": m.body,
                "client_id": m.client_id,
                "created_at": iso(m.created_at),
                "edited_at": iso(m.edited_at),
                "deleted_at": iso(m.deleted_at),
            }
            for m in Message.objects.filter(author=person).order_by("conversation_id", "seq")
        ],
        # Files the person uploaded (docs/attachments.md); the file itself is at `url`.
        "uploads": export_uploads(person),
        "reports": [
            {
                "message": r.message_id,
                "reason": r.reason,
                "status": r.status,
                "created_at": iso(r.created_at),
                "resolved_at": iso(r.resolved_at),
            }
            for r in MessageReport.objects.filter(reporter=person)
        ],
        "reactions": [
            {
                "conversation": r.message.conversation_id,
                "message": r.message_id,
                "emoji": r.emoji,
                "created_at": iso(r.created_at),
            }
            for r in Reaction.objects.filter(user=person)
            .select_related("message")
            .order_by("created_at", "id")
        ],
    }


def erase_chat(person: User, delete_messages: bool) -> None:
    """Messages stay with the author set null by the row's deletion, unless the person
    asked to erase them (their files go with them). Uploads never sent go in any
    case; files of kept messages stay with them, their uploader set null.
    Participations and reports made go with the row; reactions go in any case
    (subscribers see them disappear live)."""
    erase_reactions_of(person)
    delete_pending_of(person)
    if delete_messages:
        erase_messages_of(person)


def export_notifications(person: User) -> list[dict[str, Any]]:
    return [
        {
            "kind": n.kind,
            "data": n.data,
            "created_at": iso(n.created_at),
            "read_at": iso(n.read_at),
            "emailed_at": iso(n.emailed_at),
        }
        for n in Notification.objects.filter(recipient=person)
    ]


def _scrubbed(data: dict[str, Any], person_id: int, delete_messages: bool) -> dict[str, Any]:
    cleaned = dict(data)
    for key in PERSON_KEYS:
        value = cleaned.get(key)
        if isinstance(value, dict) and value.get("id") == person_id:
            cleaned[key] = dict(FORMER)
            if key == "author" and delete_messages:
                cleaned["preview"] = ""
            if key == "requester":
                cleaned["message"] = ""
            if key == "person":  # a company claim: what they said they handle
                cleaned["responsibility"] = ""
    return cleaned


def erase_notifications(person: User, delete_messages: bool) -> None:
    """The person's own notifications go with the row. Other people's notifications
    that name the person (an author, a requester, an inviter) show "Ehemaliges
    Mitglied" instead; a join request's text goes."""
    mentions = Q()
    for key in PERSON_KEYS:
        mentions |= Q(**{f"data__{key}__id": person.pk})
    for notification in Notification.objects.filter(mentions).exclude(recipient=person):
        data = _scrubbed(notification.data, person.pk, delete_messages)
        Notification.objects.filter(pk=notification.pk).update(data=data)


def export_activity(person: User) -> dict[str, Any]:
    rhythm = PersonRhythm.objects.filter(user=person).first()
    if rhythm is None:
        return {}
    return {
        "last_seen_at": iso(rhythm.last_seen_at),
        "digest_sent_at": iso(rhythm.digest_sent_at),
        "weekly_sent_at": iso(rhythm.weekly_sent_at),
    }


def connect() -> None:
    register(
        Section(
            "groups",
            ("groups.Membership", "groups.JoinRequest", "groups.Invitation", "groups.Group"),
            export_groups,
            erase=lambda person, _: leave_all_groups_on_deletion(person),
            order=10,
        )
    )
    register(
        Section(
            "chat",
            (
                "chat.Participant",
                "chat.Message",
                "chat.MessageReport",
                "chat.Reaction",
                "chat.Attachment",
            ),
            export_chat,
            erase=erase_chat,
            order=20,
        )
    )
    register(
        Section(
            "notifications",
            ("notifications.Notification",),
            export_notifications,
            erase=erase_notifications,
            order=30,
        )
    )
    register(Section("activity", ("engagement.PersonRhythm",), export_activity, order=40))
