"""The German pages of engagement: the welcome steps after sign-up and the staff page
of the network's health. Parse, call an action or access function, answer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import signed_in
from accounts.actions import do_update_profile
from engagement.chart import charts_for
from engagement.health import ALLOWED_DAYS, health, weeks
from engagement.suggestions import suggested_groups
from groups.access import access_group, all_cities, all_topics
from groups.actions import do_join_group
from groups.models import JoinRequest
from realtime.errors import ClientError

# Offered on the welcome page when the network has few topics of its own yet.
STARTER_TOPICS = [
    "Ausbildung",
    "Fachkräfte",
    "Logistik",
    "Energie",
    "Digitalisierung",
    "Nachfolge",
    "Einkauf",
    "Export",
]


def topic_choices(user: Any) -> list[str]:
    seen: dict[str, str] = {}
    for topic in [*all_topics(), *STARTER_TOPICS, *(user.topics or [])]:
        seen.setdefault(str(topic).casefold(), str(topic))
    return sorted(seen.values(), key=str.casefold)


@login_required
def welcome(request: HttpRequest) -> HttpResponse:
    """Step 1 after sign-up: topics and city (what suggestions and questions go by)."""
    user = signed_in(request)
    errors: dict[str, list[str]] = {}
    form_error = ""
    chosen = list(user.topics or [])
    city = user.city
    if request.method == "POST":
        chosen = request.POST.getlist("topics") + request.POST.get("more_topics", "").split(",")
        city = request.POST.get("city", "")
        try:
            do_update_profile(actor=user, changes={"topics": chosen, "city": city})
        except ClientError as error:
            errors = error.fields or {}
            form_error = error.detail
        else:
            return redirect("engagement:welcome_group")
    chosen_folded = {str(t).casefold() for t in chosen}
    return render(
        request,
        "engagement/welcome.html",
        {
            "choices": [(t, t.casefold() in chosen_folded) for t in topic_choices(user)],
            "city": city,
            "cities": all_cities(),
            "errors": errors,
            "form_error": form_error,
        },
        status=400 if form_error else 200,
    )


@login_required
def welcome_group(request: HttpRequest) -> HttpResponse:
    """Step 2: join a first group from the suggestions."""
    user = signed_in(request)
    if request.method == "POST":
        try:
            group = access_group(user, request.POST.get("group", ""))
            result = do_join_group(actor=user, group=group)
        except ClientError as error:
            messages.error(request, error.detail)
            return redirect("engagement:welcome_group")
        if isinstance(result, JoinRequest):
            messages.success(
                request,
                f"Ihre Anfrage an „{group.name}“ ist gestellt. Wählen Sie gern noch eine "
                "offene Gruppe dazu.",
            )
            return redirect("engagement:welcome_group")
        messages.success(
            request,
            f"Willkommen in „{group.name}“! Stellen Sie gleich Ihre erste Frage: "
            "die Mitglieder sehen sie sofort.",
        )
        return redirect("groups:detail", slug=group.slug)
    return render(request, "engagement/welcome_group.html", {"suggestions": suggested_groups(user)})


@login_required
def health_page(request: HttpRequest) -> HttpResponse:
    """The network's figures over 7, 30 or 90 days, with a plot per week (staff)."""
    user = signed_in(request)
    if not user.is_staff:
        return render(request, "engagement/health_forbidden.html", status=403)
    raw = request.GET.get("tage", "30")
    days = int(raw) if raw.isdigit() and int(raw) in ALLOWED_DAYS else 30
    now = timezone.now()
    return render(
        request,
        "engagement/health.html",
        {
            "days": days,
            "choices": ALLOWED_DAYS,
            "figures": health(days=days, now=now),
            "charts": charts_for(weeks(days=days, now=now)),
        },
    )
