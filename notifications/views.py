"""HTML pages: the notification centre and the unsubscribe link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import EmailFrequency, User
from notifications import presentation
from notifications.actions import (
    do_mark_all_read,
    do_mark_read,
    do_set_email_frequency,
    unread_count,
)
from notifications.emails import user_id_from_token
from notifications.models import Notification

PAGE_SIZE = 30


def entry(notification: Notification) -> dict[str, Any]:
    return {
        "notification": notification,
        "summary": presentation.summary(notification),
        "detail": presentation.detail(notification),
        "explanation": presentation.explanation(notification),
        "action_label": presentation.action_label(notification),
        "unread": notification.read_at is None,
    }


@login_required
def centre(request: HttpRequest) -> HttpResponse:
    only_unread = request.GET.get("ungelesen") == "1"
    notifications = Notification.objects.filter(recipient_id=request.user.pk)
    if only_unread:
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("seite"))
    return render(
        request,
        "notifications/centre.html",
        {
            "page": page,
            "entries": [entry(n) for n in page.object_list],
            "only_unread": only_unread,
            "unread_total": unread_count(request.user),
            # What a notification that arrives live is labelled with (static/js/notify.js).
            "kind_labels": {kind: str(label) for kind, label in Notification.Kind.choices},
        },
    )


def own_notification(request: HttpRequest, notification_id: int) -> Notification:
    notification = Notification.objects.filter(
        pk=notification_id, recipient_id=request.user.pk
    ).first()
    if notification is None:
        raise Http404("Benachrichtigung nicht gefunden.")
    return notification


@login_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Following a notification marks it read and leads to its thing."""
    notification = own_notification(request, notification_id)
    do_mark_read(actor=request.user, ids=[notification.pk])
    return HttpResponseRedirect(presentation.target_path(notification))


def back_to_centre(request: HttpRequest) -> HttpResponse:
    target = "/benachrichtigungen/"
    page = request.POST.get("seite", "")
    if page.isdigit():
        target += f"?seite={page}"
    return redirect(target)


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = own_notification(request, notification_id)
    do_mark_read(actor=request.user, ids=[notification.pk])
    return back_to_centre(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = do_mark_all_read(actor=request.user)
    if count:
        messages.success(request, "Alle Benachrichtigungen sind als gelesen markiert.")
    return back_to_centre(request)


@csrf_exempt  # the signed token is the credential; mail clients POST it (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for confirmation (mail clients prefetch links); POST unsubscribes."""
    user_id = user_id_from_token(token)
    person = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if person is None:
        return render(request, "notifications/unsubscribe_invalid.html", status=400)
    done = False
    if request.method == "POST":
        do_set_email_frequency(actor=person, frequency=EmailFrequency.OFF)
        done = True
    return render(
        request,
        "notifications/unsubscribe.html",
        {"person": person, "done": done, "token": token},
    )
