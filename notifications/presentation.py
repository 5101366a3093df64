"""How a notification reads to a person: its German sentence and the link to its thing.

The data shapes are documented in docs/notifications.md. The caller may put the
relative `url` of the thing into `data`; otherwise it is derived from the ids, with the
paths of the browser UI (`/nachrichten/<conversation>/`, `/gruppen/<slug>/`,
`/gruppen/<slug>/anfragen/`). Missing fields degrade to neutral words, never an error:
a notification stored by an older version must still render.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from accounts.labels import group_role_label
from notifications.models import Notification

EXCERPT_CHARS = 300


def field(data: dict[str, Any], *paths: str, default: str = "") -> str:
    """The first present, non-empty value among dotted paths ("author.display_name")."""
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value not in (None, "") and not isinstance(value, dict | list):
            return str(value)
    return default


def actor_name(data: dict[str, Any]) -> str:
    return field(
        data,
        "author_name",
        "author.display_name",
        "user_name",
        "user.display_name",
        "requester_name",
        "requester.display_name",
        "invited_by_name",
        "invited_by.display_name",
        "changed_by.display_name",
        "decided_by.display_name",
        default="Jemand",
    )


def group_name(data: dict[str, Any]) -> str:
    return field(
        data,
        "group_name",
        "group.name",
        "conversation_title",
        "conversation.title",
        default="einer Gruppe",
    )


def group_slug(data: dict[str, Any]) -> str:
    return field(data, "group_slug", "group.slug")


def conversation_id(data: dict[str, Any]) -> str:
    return field(data, "conversation_id", "conversation.id", "conversation")


def excerpt(data: dict[str, Any]) -> str:
    text = " ".join(field(data, "excerpt", "preview", "body", "message.body").split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1].rstrip() + "…"
    return text


def target_path(notification: Notification) -> str:
    """The relative link to what the notification is about."""
    data = notification.data if isinstance(notification.data, dict) else {}
    explicit = field(data, "url")
    if explicit.startswith("/") and not explicit.startswith("//"):
        return explicit
    kind = notification.kind
    conversation = conversation_id(data)
    slug = group_slug(data)
    conversation_kinds = (
        Notification.Kind.DIRECT_MESSAGE,
        Notification.Kind.MENTION,
        Notification.Kind.REPLY,
    )
    if kind in conversation_kinds and conversation:
        return f"/nachrichten/{conversation}/"
    if kind == Notification.Kind.JOIN_REQUEST and slug:
        return f"/gruppen/{slug}/anfragen/"
    if slug:
        return f"/gruppen/{slug}/"
    return "/benachrichtigungen/"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def summary(notification: Notification) -> str:
    """One German sentence for the notification centre and the e-mail subject."""
    data = notification.data if isinstance(notification.data, dict) else {}
    kind = notification.kind
    who = actor_name(data)
    group = group_name(data)
    if kind == Notification.Kind.DIRECT_MESSAGE:
        return f"{who} hat Ihnen eine Direktnachricht geschrieben"
    if kind == Notification.Kind.MENTION:
        return f"{who} hat Sie in „{group}“ erwähnt"
    if kind == Notification.Kind.REPLY:
        return f"{who} hat in „{group}“ auf Ihre Nachricht geantwortet"
    if kind == Notification.Kind.JOIN_REQUEST:
        return f"{who} möchte der Gruppe „{group}“ beitreten"
    if kind == Notification.Kind.JOIN_APPROVED:
        return f"Ihre Beitrittsanfrage für „{group}“ wurde angenommen"
    if kind == Notification.Kind.JOIN_DECLINED:
        return f"Ihre Beitrittsanfrage für „{group}“ wurde abgelehnt"
    if kind == Notification.Kind.ROLE_CHANGED:
        role = field(data, "role", "new_role")
        role_text = field(data, "role_label", default=group_role_label(role) if role else "")
        if role_text:
            return f"Ihre Rolle in „{group}“ ist jetzt: {role_text}"
        return f"Ihre Rolle in „{group}“ wurde geändert"
    if kind == Notification.Kind.INVITATION:
        return f"{who} lädt Sie in die Gruppe „{group}“ ein"
    if kind == Notification.Kind.COMPANY_CLAIM:
        person = field(data, "person.display_name", default="Jemand")
        company = field(data, "company.name", default="Ihr Unternehmen")
        return f"{person} gibt an, bei „{company}“ zu arbeiten: bitte bestätigen oder ablehnen"
    if kind == Notification.Kind.MATCH:
        return match_summary(data)
    if kind == Notification.Kind.UNANSWERED:
        return f"Können Sie helfen? {who} wartet in „{group}“ auf eine Antwort"
    if kind == Notification.Kind.GROUP_QUIET:
        return f"In „{group}“ ist es seit {field(data, 'quiet_days', default='14')} Tagen still"
    if kind == Notification.Kind.WARNING:
        return f"Verwarnung der Moderation von „{group}“"
    if kind == Notification.Kind.MEMBER_REMOVED:
        return f"Sie wurden aus der Gruppe „{group}“ entfernt"
    return "Neue Benachrichtigung"


def match_summary(data: dict[str, Any]) -> str:
    """`data` of a board match: `post` (the new post) and `matched` (`{"type": "post"
    | "search", "title" | "name"}`), see docs/board.md."""
    title = field(data, "post.title", default="ein neuer Eintrag")
    kind = "Angebot" if field(data, "post.kind") == "offer" else "Gesuch"
    group = field(data, "post.group.name", default="einer Gruppe")
    if field(data, "matched.type") == "search":
        name = field(data, "matched.name", default="Ihre Suche")
        return f"Neu zu Ihrer Suche „{name}“: {kind} „{title}“ in „{group}“"
    mine = field(data, "matched.title", default="Ihrem Eintrag")
    return f"Passend zu „{mine}“: {kind} „{title}“ in „{group}“"


def detail(notification: Notification) -> str:
    """The quoted text that goes with it (message excerpt, request text, reason)."""
    data = notification.data if isinstance(notification.data, dict) else {}
    if notification.kind in (
        Notification.Kind.DIRECT_MESSAGE,
        Notification.Kind.MENTION,
        Notification.Kind.REPLY,
    ):
        return excerpt(data)
    if notification.kind == Notification.Kind.JOIN_REQUEST:
        return field(data, "message", "request_message")
    if notification.kind == Notification.Kind.JOIN_DECLINED:
        return field(data, "reason")
    if notification.kind == Notification.Kind.COMPANY_CLAIM:
        responsibility = field(data, "responsibility")
        return f"Zuständig für: {responsibility}" if responsibility else ""
    if notification.kind == Notification.Kind.MATCH:
        return field(data, "post.summary")
    if notification.kind == Notification.Kind.UNANSWERED:
        return excerpt(data)
    if notification.kind == Notification.Kind.WARNING:
        return field(data, "text")
    return ""


def explanation(notification: Notification) -> list[str]:
    """Why the person got it and what they could do (engagement's kinds): the German
    reason of an `unanswered` routing, the suggestions of a `group_quiet` nudge."""
    data = notification.data if isinstance(notification.data, dict) else {}
    if notification.kind == Notification.Kind.UNANSWERED:
        reason = field(data, "reason")
        return [reason] if reason else []
    if notification.kind == Notification.Kind.GROUP_QUIET:
        ideas = data.get("suggestions")
        return [idea for idea in ideas if isinstance(idea, str)] if isinstance(ideas, list) else []
    return []


def action_label(notification: Notification) -> str:
    """What the link in the e-mail and the centre invites to do."""
    kind = notification.kind
    if kind == Notification.Kind.DIRECT_MESSAGE:
        return "Unterhaltung öffnen"
    if kind in (Notification.Kind.MENTION, Notification.Kind.REPLY):
        return "Zur Nachricht"
    if kind == Notification.Kind.JOIN_REQUEST:
        return "Anfrage entscheiden"
    if kind == Notification.Kind.INVITATION:
        return "Einladung ansehen"
    if kind == Notification.Kind.COMPANY_CLAIM:
        return "Ansprechpersonen prüfen"
    if kind == Notification.Kind.MATCH:
        return "Eintrag ansehen"
    if kind == Notification.Kind.UNANSWERED:
        return "Frage beantworten"
    return "Gruppe öffnen"
