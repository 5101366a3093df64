"""HTML pages under /nachrichten/: the inbox, one conversation, starting a direct one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from chat.access import access_conversation, conversation_title, conversations_of
from chat.actions import (
    do_get_or_create_direct_conversation,
    do_get_or_create_group_direct_conversation,
)
from chat.models import Conversation, Participant
from realtime.errors import ClientError

FORBIDDEN_TEXT = "Diese Unterhaltung gibt es nicht, oder Sie haben keinen Zugriff darauf."


MEMBER_NAMES_MAX = 200


def forbidden_page(
    request: HttpRequest, detail: str = FORBIDDEN_TEXT, status: int = 403
) -> HttpResponse:
    """One answer for missing and forbidden alike (docs/protocol.md: nobody can probe)."""
    return render(request, "chat/forbidden.html", {"detail": detail}, status=status)


def activity_label(iso: str | None) -> str:
    """ "14:05" today, "Gestern", else "23.11.2026" (Europe/Berlin)."""
    if not iso:
        return ""
    moment = timezone.localtime(datetime.fromisoformat(iso))
    today = timezone.localdate()
    if moment.date() == today:
        return moment.strftime("%H:%M")
    if moment.date() == today - timedelta(days=1):
        return "Gestern"
    return moment.strftime("%d.%m.%Y")


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    # Newest activity first; conversations without any message yet go last.
    conversations = sorted(
        conversations_of(request.user), key=lambda c: c["last_message_at"] or "", reverse=True
    )
    for conversation in conversations:
        conversation["activity"] = activity_label(conversation.get("last_message_at"))
    return render(
        request,
        "chat/inbox.html",
        {
            "conversations": conversations,
            "unread_total": sum(c["unread_count"] for c in conversations),
        },
    )


@login_required
def conversation_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    user: Any = request.user
    try:
        access = access_conversation(user, conversation_id)
    except ClientError:
        return forbidden_page(request)
    conversation, participant = access.conversation, access.participant
    # The names for @-mention suggestions (chat knows nothing of groups: for a group
    # conversation its participants are the group's members).
    names = list(
        Participant.objects.filter(conversation=conversation, user__is_active=True)
        .exclude(user_id=user.pk)
        .order_by("user__display_name")
        .values_list("user__display_name", flat=True)[:MEMBER_NAMES_MAX]
    )
    is_direct = conversation.kind == Conversation.Kind.DIRECT
    others = (
        list(
            Participant.objects.filter(conversation=conversation)
            .exclude(user_id=user.pk)
            .order_by("user__display_name")
            .values("user_id", "user__display_name")
        )
        if is_direct
        else []
    )
    return render(
        request,
        "chat/conversation.html",
        {
            "conversation": conversation,
            "others": others,
            "others_param": ",".join(str(other["user_id"]) for other in others),
            "can_add_person": is_direct and participant is not None and len(others) < 8,
            "title": conversation_title(conversation, user),
            "is_direct": is_direct,
            "member_names": json.dumps(names, ensure_ascii=False),
            "can_write": participant is not None,
            "can_moderate": bool(participant and participant.can_moderate),
            "last_read_seq": participant.last_read_seq if participant else None,
        },
    )


@login_required
@require_POST
def start_direct(request: HttpRequest, user_id: int) -> HttpResponse:
    """The "Nachricht senden" button of profiles, companies and member lists.

    A refusal (a block in either direction, a deactivated or unknown person) gets one
    neutral page that names no reason: a blocked person is never told (docs/ui.md)."""
    try:
        conversation, _ = do_get_or_create_direct_conversation(
            actor=request.user, other_user_id=user_id
        )
    except ClientError as error:
        if error.code == "forbidden":
            return render(request, "chat/direct_unavailable.html", status=403)
        return forbidden_page(request, error.detail, status=error.status)
    return redirect("chat:conversation", conversation_id=conversation.pk)


@login_required
@require_POST
def start_group_direct(request: HttpRequest) -> HttpResponse:
    """ "Gruppennachricht" of the people directory and "Person hinzufügen" of a direct
    conversation: the people ticked (`user`, repeated) and the ones already in the
    conversation (hidden fields) are one set; its one conversation opens.

    A block between any of them gets the neutral page of `start_direct`; a list the
    action refuses (nobody ticked, more than eight, someone gone) says why (400)."""
    ticked = request.POST.getlist("user")
    joining = request.POST.getlist("mit")
    raw = joining + ticked
    ids: list[Any] = [int(v) if v.isascii() and v.isdigit() and len(v) < 19 else v for v in raw]
    ids = [i for i in dict.fromkeys(ids) if i != request.user.pk]
    known = ",".join(v for v in joining if v.isascii() and v.isdigit() and len(v) < 19)
    back = reverse("people_list") + (f"?mit={known}" if known else "")
    nobody_ticked = "Bitte wählen Sie mindestens eine Person aus."
    if not ticked:
        # "Person hinzufügen" with nobody ticked would open the conversation it came
        # from; it says what is missing, as "Gruppennachricht" does.
        context = {"detail": nobody_ticked, "back": back}
        return render(request, "chat/group_direct_refused.html", context, status=400)
    try:
        conversation, _ = do_get_or_create_group_direct_conversation(
            actor=request.user, user_ids=ids
        )
    except ClientError as error:
        if error.code == "forbidden":
            return render(request, "chat/direct_unavailable.html", status=403)
        detail = nobody_ticked if not ids else error.detail
        context = {"detail": detail, "back": back}
        return render(request, "chat/group_direct_refused.html", context, status=error.status)
    return redirect("chat:conversation", conversation_id=conversation.pk)
