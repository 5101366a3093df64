"""The German HTML pages of the groups app: parse, call an action or access function,
answer (a page, or a redirect with a flash message). Every page needs a sign-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.directory import sort_key
from chat.models import NotificationLevel
from groups import access
from groups.actions import (
    REQUEST_COOLDOWN,
    do_accept_invitation,
    do_approve_join_request,
    do_archive_group,
    do_change_member_role,
    do_create_group,
    do_decide_report,
    do_decline_invitation,
    do_decline_join_request,
    do_invite_to_group,
    do_join_group,
    do_leave_group,
    do_remove_member,
    do_revoke_invitation,
    do_set_group_notification_level,
    do_transfer_ownership,
    do_update_group,
    do_withdraw_join_request,
)
from groups.models import Group, Invitation, JoinRequest, Membership
from realtime.errors import ClientError

GROUPS_PER_PAGE = 24


class GroupForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    description = forms.CharField(
        label="Beschreibung", required=False, max_length=4000, widget=forms.Textarea
    )
    visibility = forms.ChoiceField(
        label="Sichtbarkeit",
        choices=[
            ("open", "Offen: alle Angemeldeten können beitreten und mitlesen"),
            ("closed", "Geschlossen: Beitritt nach Anfrage, nur Mitglieder lesen mit"),
        ],
        initial="open",
        widget=forms.RadioSelect,
    )
    topics = forms.CharField(
        label="Themen",
        required=False,
        help_text="Durch Kommas getrennt, z. B. Ausbildung, Fachkräfte",
    )
    city = forms.CharField(label="Ort oder Region", required=False, max_length=100)

    def action_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "visibility": data["visibility"],
            "topics": data["topics"].split(","),
            "city": data["city"],
        }

    def take_error(self, error: ClientError) -> None:
        """Show an action's error at its field (or above the form)."""
        known = set(self.fields)
        for field, details in (error.fields or {}).items():
            for detail in details:
                self.add_error(field if field in known else None, detail)
        if not error.fields:
            self.add_error(None, error.detail)


class RequestForm(forms.Form):
    message = forms.CharField(
        label="Nachricht an die Admins der Gruppe (freiwillig)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


ROLE_ORDER = {"owner": 0, "admin": 1, "member": 2}


def _flash_result(
    request: HttpRequest, run: Callable[[], Any], success: str | Callable[[Any], str]
) -> Any:
    """Run an action; on a client error show its German detail instead."""
    try:
        result = run()
    except ClientError as error:
        messages.error(request, error.detail)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


def _group_or_404(request: HttpRequest, slug: str) -> Group:
    try:
        return access.access_group(request.user, slug)
    except ClientError as error:
        raise Http404(error.detail) from error


@login_required
def group_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    topic = request.GET.get("thema", "")
    city = request.GET.get("ort", "")
    mine = request.GET.get("meine") == "1"
    user: Any = request.user
    groups = access.list_groups(user, q=q, mine=mine, topic=topic, city=city)
    page = Paginator(groups, GROUPS_PER_PAGE).get_page(request.GET.get("seite"))
    my_roles = dict(
        Membership.objects.filter(user=user, group__in=page.object_list).values_list(
            "group_id", "role"
        )
    )
    filters = request.GET.copy()
    filters.pop("seite", None)
    return render(
        request,
        "groups/list.html",
        {
            "page": page,
            "rows": [(group, my_roles.get(group.pk)) for group in page.object_list],
            "q": q,
            "topic": topic,
            "city": city,
            "mine": mine,
            "topics": access.all_topics(),
            "cities": access.all_cities(),
            "filter_query": filters.urlencode(),
            "invitation_count": access.my_invitations(request.user).count(),
        },
    )


@login_required
def group_new(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = do_create_group(actor=request.user, **form.action_arguments())
        except ClientError as error:
            form.take_error(error)
        else:
            messages.success(request, f"Die Gruppe „{group.name}“ ist gegründet.")
            return redirect("groups:detail", slug=group.slug)
    return render(request, "groups/new.html", {"form": form})


@login_required
def group_detail(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    user: Any = request.user
    membership = access.membership_of(user, group)
    can_see_members = access.can_see_members(request.user, group)
    # Roles first (the database's order), then German alphabetical order, titles aside.
    members = (
        sorted(
            access.members_of(group),
            key=lambda m: (ROLE_ORDER.get(m.role, 9), sort_key(m.user.display_name)),
        )
        if can_see_members
        else []
    )
    participant = group.conversation.participants.filter(user=user).first() if membership else None
    return render(
        request,
        "groups/detail.html",
        {
            "group": group,
            "membership": membership,
            "is_manager": membership is not None and membership.role in access.MANAGER_ROLES,
            "member_count": Membership.objects.filter(group=group).count(),
            "members": members,
            "can_see_members": can_see_members,
            "can_read_messages": access.can_read_messages(request.user, group),
            "can_write": access.can_write_messages(request.user, group),
            "pending_request": access.my_pending_request(request.user, group),
            "invitation": access.my_pending_invitation(request.user, group),
            "may_ask_again_at": access.may_ask_again_at(request.user, group),
            "request_form": RequestForm(),
            "pending_count": access.pending_requests(group).count() if membership else 0,
            "report_count": (
                access.open_report_count_of(group)
                if membership is not None and membership.role in access.MANAGER_ROLES
                else 0
            ),
            "notification_level": participant.notification_level if participant else None,
            "last_read_seq": participant.last_read_seq if participant else None,
            "notification_levels": NotificationLevel.choices,
        },
    )


@login_required
@require_POST
def group_join(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    form = RequestForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else request.POST.get("message")
    _flash_result(
        request,
        lambda: do_join_group(actor=request.user, group=group, message=message),
        lambda result: (
            "Ihre Beitrittsanfrage ist gestellt. Die Admins der Gruppe werden benachrichtigt."
            if isinstance(result, JoinRequest)
            else f"Willkommen in „{group.name}“!"
        ),
    )
    return redirect("groups:detail", slug=group.slug)


@login_required
@require_POST
def group_withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    _flash_result(
        request,
        lambda: do_withdraw_join_request(actor=request.user, group=group),
        "Ihre Anfrage ist zurückgezogen.",
    )
    return redirect("groups:detail", slug=group.slug)


@login_required
@require_POST
def group_leave(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    _flash_result(
        request,
        lambda: do_leave_group(actor=request.user, group=group),
        f"Sie haben „{group.name}“ verlassen.",
    )
    return redirect("groups:detail", slug=group.slug)


@login_required
@require_POST
def group_notification_level(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    _flash_result(
        request,
        lambda: do_set_group_notification_level(
            actor=request.user, group=group, level=request.POST.get("level")
        ),
        "Ihre Benachrichtigungen für diese Gruppe sind gespeichert.",
    )
    return redirect("groups:detail", slug=group.slug)


@login_required
def group_settings(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    membership = access.membership_of(request.user, group)
    if membership is None or membership.role not in access.MANAGER_ROLES:
        return _forbidden(request, group)
    initial = {
        "name": group.name,
        "description": group.description,
        "visibility": group.visibility,
        "topics": ", ".join(group.topics),
        "city": group.city,
    }
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            do_update_group(actor=request.user, group=group, **form.action_arguments())
        except ClientError as error:
            form.take_error(error)
        else:
            messages.success(request, "Die Änderungen sind gespeichert.")
            return redirect("groups:settings", slug=group.slug)
    return render(
        request,
        "groups/settings.html",
        {
            "group": group,
            "form": form,
            "membership": membership,
            "is_owner": membership.role == Membership.Role.OWNER,
            "members": list(access.members_of(group)),
            "roles": Membership.Role.choices,
            "invitations": list(access.pending_invitations(group)),
        },
    )


def _forbidden(request: HttpRequest, group: Group) -> HttpResponse:
    return render(request, "groups/forbidden.html", {"group": group}, status=403)


def _managed_post(
    request: HttpRequest, slug: str, run: Callable[[Group], Any], success: str, back: str
) -> HttpResponse:
    group = _group_or_404(request, slug)
    _flash_result(request, lambda: run(group), success)
    return redirect(back, slug=group.slug)


@login_required
@require_POST
def group_archive(request: HttpRequest, slug: str) -> HttpResponse:
    archived = request.POST.get("archived", "1") == "1"
    return _managed_post(
        request,
        slug,
        lambda group: do_archive_group(actor=request.user, group=group, archived=archived),
        "Die Gruppe ist archiviert." if archived else "Die Gruppe ist wieder aktiv.",
        "groups:settings",
    )


@login_required
@require_POST
def member_role(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    return _managed_post(
        request,
        slug,
        lambda group: do_change_member_role(
            actor=request.user, group=group, user_id=user_id, role=request.POST.get("role")
        ),
        "Die Rolle ist geändert.",
        "groups:settings",
    )


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    return _managed_post(
        request,
        slug,
        lambda group: do_remove_member(actor=request.user, group=group, user_id=user_id),
        "Die Person ist aus der Gruppe entfernt.",
        "groups:settings",
    )


@login_required
@require_POST
def group_transfer(request: HttpRequest, slug: str) -> HttpResponse:
    return _managed_post(
        request,
        slug,
        lambda group: do_transfer_ownership(
            actor=request.user, group=group, user_id=_int_or_none(request.POST.get("user_id"))
        ),
        "Die Gruppe ist übertragen. Sie sind jetzt Admin.",
        "groups:settings",
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def group_invite(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    email = (request.POST.get("email") or "").strip().lower()
    invitee = get_user_model().objects.filter(email=email, is_active=True).first()
    if invitee is None:
        messages.error(request, "Unter dieser E-Mail-Adresse ist niemand bei netzn angemeldet.")
        return redirect("groups:settings", slug=group.slug)
    _flash_result(
        request,
        lambda: do_invite_to_group(actor=request.user, group=group, user_id=invitee.pk),
        lambda result: (
            f"{invitee.display_name} ist eingeladen."
            if isinstance(result, Invitation)
            else f"{invitee.display_name} hatte schon angefragt und ist jetzt Mitglied."
        ),
    )
    return redirect("groups:settings", slug=group.slug)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    return _managed_post(
        request,
        slug,
        lambda group: do_revoke_invitation(
            actor=request.user, group=group, invitation_id=invitation_id
        ),
        "Die Einladung ist zurückgenommen.",
        "groups:settings",
    )


@login_required
def group_requests(request: HttpRequest, slug: str) -> HttpResponse:
    group = _group_or_404(request, slug)
    if not access.is_manager(request.user, group):
        return _forbidden(request, group)
    return render(
        request,
        "groups/requests.html",
        {
            "group": group,
            "requests": list(access.pending_requests(group)),
            "cooldown_days": REQUEST_COOLDOWN.days,
        },
    )


@login_required
@require_POST
def request_approve(request: HttpRequest, slug: str, request_id: int) -> HttpResponse:
    return _managed_post(
        request,
        slug,
        lambda group: do_approve_join_request(
            actor=request.user, group=group, request_id=request_id
        ),
        "Die Anfrage ist angenommen.",
        "groups:requests",
    )


@login_required
@require_POST
def request_decline(request: HttpRequest, slug: str, request_id: int) -> HttpResponse:
    return _managed_post(
        request,
        slug,
        lambda group: do_decline_join_request(
            actor=request.user,
            group=group,
            request_id=request_id,
            reason=request.POST.get("reason", ""),
        ),
        "Die Anfrage ist abgelehnt.",
        "groups:requests",
    )


@login_required
def my_invitations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "groups/invitations.html",
        {"invitations": list(access.my_invitations(request.user))},
    )


@login_required
@require_POST
def invitation_accept(request: HttpRequest, invitation_id: int) -> HttpResponse:
    membership = _flash_result(
        request,
        lambda: do_accept_invitation(actor=request.user, invitation_id=invitation_id),
        lambda result: f"Willkommen in „{result.group.name}“!",
    )
    if membership is not None:
        return redirect("groups:detail", slug=membership.group.slug)
    return redirect("groups:invitations")


@login_required
@require_POST
def invitation_decline(request: HttpRequest, invitation_id: int) -> HttpResponse:
    _flash_result(
        request,
        lambda: do_decline_invitation(actor=request.user, invitation_id=invitation_id),
        "Die Einladung ist abgelehnt.",
    )
    return redirect("groups:invitations")


DECISION_DONE = {
    "hide": "Die Nachricht ist ausgeblendet.",
    "warn": "Die Verfasserin oder der Verfasser ist verwarnt.",
    "remove": "Die Person ist aus der Gruppe entfernt.",
    "dismiss": "Die Meldung ist verworfen.",
}


@login_required
def group_reports(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Meldungen": the group's reported messages, for its owners and admins."""
    group = _group_or_404(request, slug)
    if not access.is_manager(request.user, group):
        return _forbidden(request, group)
    _group, reported = access.access_group_reports(request.user, slug)
    return render(request, "groups/reports.html", {"group": group, "reported": reported})


@login_required
@require_POST
def report_decide(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    return _managed_post(
        request,
        slug,
        lambda group: do_decide_report(
            actor=request.user, group=group, message_id=message_id, decision=decision
        ),
        DECISION_DONE.get(decision, "Erledigt."),
        "groups:reports",
    )
