"""The start page: my groups, direct messages and notifications, or, signed out, what
netzn is with a few open groups and companies."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Company
from board.access import recent_matches
from board.views import card
from chat.access import conversations_of
from engagement.home import home_context
from groups.models import Group, Membership
from notifications import presentation
from notifications.models import Notification

LATEST_NOTIFICATIONS = 5
DIRECT_SHOWN = 6
PUBLIC_SHOWN = 6


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return render(request, "server/home.html", signed_in_context(request.user))
    return render(request, "server/home.html", public_context())


def signed_in_context(user: Any) -> dict[str, Any]:
    conversations = conversations_of(user)
    unread_by_conversation = {c["id"]: c["unread_count"] for c in conversations}
    memberships = (
        Membership.objects.filter(user=user, group__archived_at__isnull=True)
        .select_related("group")
        .order_by("-group__conversation__last_message_at", "group__name")
    )
    groups = [
        {
            "group": membership.group,
            "role": membership.role,
            "unread": unread_by_conversation.get(membership.group.conversation_id, 0),
        }
        for membership in memberships
    ]
    direct = [c for c in conversations if c["kind"] == "direct"][:DIRECT_SHOWN]
    latest = list(Notification.objects.filter(recipient=user)[:LATEST_NOTIFICATIONS])
    notifications = [
        {
            "notification": notification,
            "summary": presentation.summary(notification),
            "unread": notification.read_at is None,
        }
        for notification in latest
    ]
    return {
        "my_groups": groups,
        "direct_conversations": direct,
        "direct_unread": sum(c["unread_count"] for c in conversations if c["kind"] == "direct"),
        "latest_notifications": notifications,
        "board_matches": [card(post, user) for post in recent_matches(user)],
        **home_context(user),
    }


def public_context() -> dict[str, Any]:
    public_groups = (
        Group.objects.filter(visibility=Group.Visibility.OPEN, archived_at__isnull=True)
        .annotate(member_count=Count("memberships"))
        .order_by("-member_count", "name")[:PUBLIC_SHOWN]
    )
    companies = Company.objects.order_by("-created_at")[:PUBLIC_SHOWN]
    return {"public_groups": public_groups, "companies": companies}
