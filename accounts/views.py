"""German HTML pages: sign-up, login, directory, profiles, companies, settings.

Each page parses a form, calls an action or an access function, and renders. An
action's `ClientError` becomes German messages next to the form fields.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import actions, privacy, sessions, throttle, twofactor
from accounts.access import (
    access_company,
    access_person,
    blocked_people,
    company_profile,
    has_blocked,
    own_profile,
    public_profile,
    signed_in,
)
from accounts.directory import DEFAULT_PAGE_SIZE, Ordered, page_of
from accounts.directory import search_companies as find_companies
from accounts.directory import search_people as find_people
from accounts.forms import (
    ClaimForm,
    CodeForm,
    CompanyForm,
    CompanySearchForm,
    DeleteAccountForm,
    DomainProofForm,
    EmailChangeForm,
    LoginForm,
    MemberForm,
    PasswordChangeForm,
    PeopleSearchForm,
    ProfileForm,
    SignupForm,
    TokenForm,
    apply_client_error,
)
from accounts.models import AccessToken, Company, User, UserSession, Verification
from realtime.errors import ClientError


class AnotherMember:
    """A signed-in member who is not the person looked at (for the profile preview)."""

    is_authenticated = True
    pk = None


def _company_or_404(slug: str) -> Company:
    try:
        return access_company(slug)
    except ClientError as error:
        raise Http404(error.detail) from error


def _person_or_404(viewer: Any, person_id: int) -> User:
    try:
        return access_person(viewer, person_id)
    except ClientError as error:
        raise Http404(error.detail) from error


def _page_links(request: HttpRequest, next_cursor: str | None) -> dict[str, str | None]:
    """Links to the next and the first page, keeping the search parameters."""
    params = {key: value for key, value in request.GET.items() if key != "cursor" and value}
    return {
        "next_url": f"?{urlencode({**params, 'cursor': next_cursor})}" if next_cursor else None,
        "first_url": f"?{urlencode(params)}" if request.GET.get("cursor") else None,
    }


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("settings_profile")
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            throttle.limit_action("signup", throttle.client_ip(request))
            user = actions.do_signup_person(**form.cleaned_data)
        except ClientError as error:
            apply_client_error(form, error)
            status = error.status
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                "Willkommen bei netzn! Wir haben Ihnen einen Link zur Bestätigung Ihrer "
                "E-Mail-Adresse geschickt. Ergänzen Sie jetzt Ihr Profil.",
            )
            return redirect("engagement:welcome")
    if form.errors and status == 200:
        status = 400
    return render(request, "accounts/signup.html", {"form": form}, status=status)


def logout_page(request: HttpRequest) -> HttpResponse:
    """GET asks, POST (CSRF-protected) signs out."""
    if request.method == "POST":
        logout(request)
        messages.success(request, "Sie haben sich abgemeldet.")
        return redirect("home")
    return render(request, "accounts/logout.html")


def _search_page(
    request: HttpRequest, form: forms.Form, find: Callable[..., QuerySet[Any] | Ordered[Any]]
) -> tuple[list[Any], dict[str, str | None]]:
    """One page of a directory search and its links; a bad form or cursor shows its
    error on the form (and the page answers 400)."""
    if not form.is_valid():
        return [], {}
    try:
        rows, next_cursor = page_of(
            find(**form.cleaned_data), cursor=request.GET.get("cursor", ""), limit=DEFAULT_PAGE_SIZE
        )
    except ClientError as error:
        form.add_error(None, error.detail)
        return [], {}
    return rows, _page_links(request, next_cursor)


@login_required
def people_list(request: HttpRequest) -> HttpResponse:
    form = PeopleSearchForm(request.GET)
    rows, links = _search_page(request, form, find_people)
    # "Person hinzufügen" of a direct conversation: its other people (`mit=3,9`) stay
    # in the set the "Gruppennachricht" form sends; the chat action checks them all.
    joining = _people_by_ids(request.GET.get("mit", ""), exclude=signed_in(request).pk)
    joining_ids = {person.pk for person in joining}
    profiles = [
        public_profile(request.user, person) for person in rows if person.pk not in joining_ids
    ]
    return render(
        request,
        "accounts/people_list.html",
        {
            "form": form,
            "profiles": profiles,
            "joining": joining,
            "joining_param": ",".join(str(person.pk) for person in joining),
            **links,
        },
        status=400 if form.errors else 200,
    )


GROUP_DIRECT_MAX_OTHERS = 8


def _people_by_ids(value: str, *, exclude: int) -> list[User]:
    ids = [int(part) for part in value.split(",")[:GROUP_DIRECT_MAX_OTHERS] if part.isdigit()]
    ids = [i for i in ids if 0 < i < 2**63 and i != exclude]
    if not ids:
        return []
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("display_name"))


@login_required
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person_or_404(request.user, person_id)
    is_me = person.pk == request.user.pk
    # One's own page is the preview "So sehen andere Ihr Profil": what another signed-in
    # member sees, so a field set to "Nur ich" is missing here as it is for them.
    context = {
        "profile": public_profile(AnotherMember() if is_me else request.user, person),
        "is_me": is_me,
        "blocked": has_blocked(request.user, person),
    }
    return render(request, "accounts/person_detail.html", context)


@login_required
@require_POST
def person_block(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person_or_404(request.user, person_id)
    actor = signed_in(request)
    try:
        if request.POST.get("action") == "unblock":
            actions.do_unblock_person(actor=actor, person=person)
            messages.success(request, f"Die Blockierung von {person.display_name} ist aufgehoben.")
        else:
            actions.do_block_person(actor=actor, person=person)
            messages.success(request, f"Sie haben {person.display_name} blockiert.")
    except ClientError as error:
        messages.error(request, error.detail)
    if request.POST.get("back") == "settings":
        return redirect("settings_blocked")
    return redirect("person_detail", person_id=person.pk)


def company_list(request: HttpRequest) -> HttpResponse:
    form = CompanySearchForm(request.GET)
    rows, links = _search_page(request, form, find_companies)
    return render(
        request,
        "accounts/company_list.html",
        {"form": form, "companies": rows, **links},
        status=400 if form.errors else 200,
    )


@login_required
def company_create(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company = actions.do_create_company(
                actor=signed_in(request),
                fields=form.cleaned_data,
            )
        except ClientError as error:
            apply_client_error(form, error)
        else:
            messages.success(request, f"{company.name} ist angelegt. Sie verwalten das Profil.")
            return redirect("company_detail", slug=company.slug)
    return render(
        request,
        "accounts/company_form.html",
        {"form": form, "company": None},
        status=400 if form.errors else 200,
    )


def company_detail(request: HttpRequest, slug: str) -> HttpResponse:
    company = _company_or_404(slug)
    context = {
        "company": company_profile(request.user, company),
        "claim_form": ClaimForm(),
        "proof_form": DomainProofForm(),
        "verification_label": VERIFIED_BY.get(company.verification, ""),
        "verified_at": company.verified_at,
    }
    return render(request, "accounts/company_detail.html", context)


VERIFIED_BY: dict[str, str] = {
    Verification.STAFF: "von der Kammer",
    Verification.DOMAIN: "über eine E-Mail-Adresse der Firmen-Domain",
    Verification.REGISTER: "aus dem Mitgliederverzeichnis der Kammer",
}


@login_required
@require_POST
def company_verify(request: HttpRequest, slug: str) -> HttpResponse:
    company = _company_or_404(slug)
    verified = request.POST.get("verified") != "0"
    try:
        actions.do_verify_company(actor=signed_in(request), company=company, verified=verified)
    except ClientError as error:
        messages.error(request, error.detail)
    else:
        messages.success(
            request, "Das Profil ist bestätigt." if verified else "Die Bestätigung ist entfernt."
        )
    return redirect("company_detail", slug=slug)


@login_required
@require_POST
def company_domain_proof(request: HttpRequest, slug: str) -> HttpResponse:
    company = _company_or_404(slug)
    form = DomainProofForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Bitte eine gültige E-Mail-Adresse angeben.")
        return redirect("company_detail", slug=slug)
    try:
        address = actions.do_request_domain_proof(
            actor=signed_in(request), company=company, email=form.cleaned_data["email"]
        )
    except ClientError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"Der Bestätigungslink ist an {address} unterwegs.")
    return redirect("company_detail", slug=slug)


def company_proof_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the domain proof: GET asks, POST confirms (no sign-in needed)."""
    if request.method == "POST":
        try:
            company = actions.do_confirm_domain_proof(token=token)
        except ClientError as error:
            return render(request, "accounts/email_link.html", {"error": error.detail}, status=400)
        messages.success(request, f"{company.name} ist jetzt bestätigt. Danke!")
        return redirect("company_detail", slug=company.slug)
    return render(request, "accounts/email_link.html", {"kind": "company"})


@login_required
def company_edit(request: HttpRequest, slug: str) -> HttpResponse:
    company = _company_or_404(slug)
    profile = company_profile(request.user, company)
    if not profile["is_admin"]:
        messages.error(request, "Nur die Profil-Admins des Unternehmens dürfen das Profil ändern.")
        return redirect("company_detail", slug=slug)
    form = CompanyForm(request.POST or None, initial=profile)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_company(
                actor=signed_in(request),
                company=company,
                changes=form.cleaned_data,
            )
        except ClientError as error:
            apply_client_error(form, error)
        else:
            messages.success(request, "Das Unternehmensprofil ist gespeichert.")
            return redirect("company_detail", slug=slug)
    return render(
        request,
        "accounts/company_form.html",
        {"form": form, "company": profile},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def company_claim(request: HttpRequest, slug: str) -> HttpResponse:
    company = _company_or_404(slug)
    form = ClaimForm(request.POST)
    if form.is_valid():
        try:
            actions.do_claim_company(
                actor=signed_in(request),
                company=company,
                responsibility=form.cleaned_data["responsibility"],
            )
        except ClientError as error:
            messages.error(request, error.detail)
        else:
            messages.success(
                request,
                "Ihre Zuordnung ist gespeichert. Sie erscheinen als Ansprechperson, "
                "sobald ein Profil-Admin des Unternehmens bestätigt.",
            )
    else:
        messages.error(request, "Bitte die Zuständigkeit kürzer fassen (höchstens 160 Zeichen).")
    return redirect("company_detail", slug=slug)


@login_required
@require_POST
def company_member(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """One form target for an admin's (or the person's own) decisions on a membership."""
    company = _company_or_404(slug)
    actor = signed_in(request)
    action = request.POST.get("action")
    form = MemberForm(request.POST)
    try:
        if action == "confirm":
            actions.do_confirm_company_member(actor=actor, company=company, user_id=user_id)
            messages.success(request, "Die Ansprechperson ist bestätigt.")
        elif action == "remove":
            actions.do_remove_company_member(actor=actor, company=company, user_id=user_id)
            messages.success(request, "Die Zuordnung ist entfernt.")
        elif action == "update" and form.is_valid():
            actions.do_set_company_member(
                actor=actor,
                company=company,
                user_id=user_id,
                responsibility=form.cleaned_data["responsibility"],
                role=form.cleaned_data["role"] or None,
            )
            messages.success(request, "Die Angaben sind gespeichert.")
        else:
            messages.error(request, "Diese Änderung ist nicht möglich.")
    except ClientError as error:
        messages.error(request, error.detail)
    return redirect("company_detail", slug=slug)


@login_required
def settings_profile(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    form = ProfileForm(request.POST) if request.method == "POST" else ProfileForm.for_user(user)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_profile(actor=user, changes=form.cleaned_data)
        except ClientError as error:
            apply_client_error(form, error)
        else:
            messages.success(request, "Ihr Profil ist gespeichert.")
            return redirect("settings_profile")
    return render(
        request,
        "accounts/settings_profile.html",
        {"form": form, "profile": own_profile(user), "section": "profil"},
        status=400 if form.errors else 200,
    )


@login_required
def settings_tokens(request: HttpRequest) -> HttpResponse:
    """List tokens; POST creates one and shows its secret on this answer only."""
    user = signed_in(request)
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = actions.do_create_token(actor=user, name=form.cleaned_data["name"])
        except ClientError as error:
            apply_client_error(form, error)
        else:
            new_token = {"name": token.name, "token": raw}
            form = TokenForm()
    tokens = AccessToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
    response = render(
        request,
        "accounts/settings_tokens.html",
        {"form": form, "tokens": tokens, "new_token": new_token, "section": "zugaenge"},
        status=400 if form.errors else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        actions.do_revoke_token(actor=signed_in(request), token_id=token_id)
    except ClientError as error:
        raise Http404(error.detail) from error
    messages.success(request, "Der Zugang ist widerrufen.")
    return redirect("settings_tokens")


@login_required
def settings_blocked(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/settings_blocked.html",
        {"blocked": blocked_people(signed_in(request)), "section": "blockiert"},
    )


def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the confirmation mail: GET asks (mail scanners follow links), POST
    confirms."""
    if request.method == "POST":
        try:
            actions.do_confirm_email(token=token)
        except ClientError as error:
            return render(request, "accounts/email_link.html", {"error": error.detail}, status=400)
        messages.success(request, "Ihre E-Mail-Adresse ist bestätigt. Danke!")
        return redirect("settings_profile" if request.user.is_authenticated else "login")
    return render(request, "accounts/email_link.html", {"kind": "confirm"})


def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            user = actions.do_confirm_email_change(
                token=token, current_session=sessions.current_session_key(request)
            )
        except ClientError as error:
            return render(request, "accounts/email_link.html", {"error": error.detail}, status=400)
        messages.success(request, f"Ihr Konto läuft jetzt auf {user.email}.")
        return redirect("settings_security" if request.user.is_authenticated else "login")
    return render(request, "accounts/email_link.html", {"kind": "change"})


def _security_page(request: HttpRequest, **forms_and_status: Any) -> HttpResponse:
    user = signed_in(request)
    status = forms_and_status.pop("status", 200)
    current = sessions.current_session_key(request)
    context = {
        "section": "sicherheit",
        "password_form": PasswordChangeForm(),
        "email_form": EmailChangeForm(),
        "sessions": [
            {"row": row, "current": row.session_key == current}
            for row in sessions.active_sessions(user)
        ],
        "tokens": AccessToken.objects.filter(user=user, revoked_at__isnull=True).order_by(
            "-created_at"
        ),
        "email_confirmed": user.email_confirmed,
        "two_factor": twofactor.enabled(user),
        **forms_and_status,
    }
    return render(request, "accounts/settings_security.html", context, status=status)


@login_required
def settings_security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@login_required
@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            current = sessions.current_session_key(request)
            actions.do_change_password(
                actor=user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
                ip=throttle.client_ip(request),
                current_session=current,
            )
        except ClientError as error:
            apply_client_error(form, error)
            return _security_page(request, password_form=form, status=error.status)
        sessions.keep_signed_in(request, user)
        messages.success(
            request,
            "Ihr Passwort ist geändert. Alle anderen Sitzungen und alle Zugänge für "
            "Programme sind beendet.",
        )
        return redirect("settings_security")
    return _security_page(request, password_form=form, status=400)


@login_required
@require_POST
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            email = actions.do_request_email_change(
                actor=signed_in(request),
                password=form.cleaned_data["password"],
                email=form.cleaned_data["email"],
                ip=throttle.client_ip(request),
            )
        except ClientError as error:
            apply_client_error(form, error)
            return _security_page(request, email_form=form, status=error.status)
        messages.success(
            request,
            f"Wir haben einen Bestätigungslink an {email} geschickt. Die neue Adresse gilt, "
            "sobald Sie ihn benutzen.",
        )
        return redirect("settings_security")
    return _security_page(request, email_form=form, status=400)


@login_required
@require_POST
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    current = sessions.current_session_key(request)
    was_current = UserSession.objects.filter(pk=session_id, session_key=current).exists()
    try:
        actions.do_end_session(actor=signed_in(request), session_id=session_id)
    except ClientError as error:
        raise Http404(error.detail) from error
    if was_current:
        logout(request)
        return redirect("login")
    messages.success(request, "Die Sitzung ist abgemeldet.")
    return redirect("settings_security")


@login_required
@require_POST
def confirmation_resend(request: HttpRequest) -> HttpResponse:
    try:
        actions.do_resend_confirmation(actor=signed_in(request))
    except ClientError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "Der Bestätigungslink ist unterwegs.")
    return redirect("settings_security")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset view with a limit on mails per client IP and per address."""

    def form_valid(self, form: Any) -> HttpResponse:
        email = str(form.cleaned_data.get("email", "")).strip().lower()
        try:
            throttle.limit_action("password_reset", throttle.client_ip(self.request))
            throttle.limit_action("password_reset_address", email)
        except ClientError as error:
            form.add_error(None, error.detail)
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(int(error.retry_after or 60))
            return response
        return super().form_valid(form)


@login_required
def settings_data(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings_data.html", {"section": "daten"})


@login_required
def data_export(request: HttpRequest) -> HttpResponse:
    """The same document as `GET /api/v1/me/export`, as a download."""
    document = privacy.export_person(signed_in(request))
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="netzn-daten-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    """ "Konto löschen": the consequences in plain German, the password, and an
    optional "delete my messages too"."""
    user = signed_in(request)
    form = DeleteAccountForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            privacy.do_delete_person(
                actor=user,
                person=user,
                password=form.cleaned_data["password"],
                delete_messages=form.cleaned_data["delete_messages"],
                ip=throttle.client_ip(request),
            )
        except ClientError as error:
            apply_client_error(form, error)
            status = error.status
        else:
            logout(request)
            messages.success(request, "Ihr Konto ist gelöscht. Auf Wiedersehen!")
            return redirect("home")
    if form.errors and status == 200:
        status = 400
    owned = user.company_memberships.filter(role="admin", confirmed=True).count()
    return render(
        request,
        "accounts/account_delete.html",
        {"form": form, "section": "daten", "companies_admin": owned},
        status=status,
    )


PENDING_KEY = "netzn_otp_pending"
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """Django's login with a second step for people with two-factor sign-in: the
    password check passes, the session remembers who (five minutes), and the code
    page signs in."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not twofactor.enabled(user):
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("login_code")


def login_code(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.error(request, "Bitte melden Sie sich erneut an.")
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        return redirect("login")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            twofactor.check_code(user, form.cleaned_data["code"])
        except ClientError as error:
            form.add_error("code", error.detail)
            status = 400
        else:
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            target = str(pending.get("next") or "/")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/"
            return redirect(target)
    elif form.errors:
        status = 400
    return render(request, "accounts/login_code.html", {"form": form}, status=status)


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Switch on: show the QR code of a fresh secret, confirm with a first code.
    Switch off: with the password."""
    user = signed_in(request)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "disable":
        try:
            twofactor.do_disable(
                actor=user,
                password=request.POST.get("password", ""),
                ip=throttle.client_ip(request),
            )
        except ClientError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, "Die Zwei-Faktor-Anmeldung ist ausgeschaltet.")
        return redirect("settings_security")
    if request.method == "POST" and form.is_valid():
        try:
            twofactor.do_confirm_enrolment(actor=user, code=form.cleaned_data["code"])
        except ClientError as error:
            apply_client_error(form, error)
            status = error.status
        else:
            messages.success(
                request,
                "Die Zwei-Faktor-Anmeldung ist eingeschaltet. Ab jetzt fragen wir "
                "bei der Anmeldung nach dem Code aus Ihrer App.",
            )
            return redirect("settings_security")
    if twofactor.enabled(user):
        return redirect("settings_security")
    device = twofactor.pending_device(user) if request.method == "POST" else None
    if device is None:
        device = twofactor.start_enrolment(user)
    response = render(
        request,
        "accounts/two_factor.html",
        {
            "form": form,
            "qr": twofactor.qr_data_uri(device),
            "secret": twofactor.secret_of(device),
            "section": "sicherheit",
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _picture_response(name: str) -> FileResponse:
    """A stored picture, with its own content type and never sniffed; the URL carries
    the picture's version, so it may be cached for long (privately: photos are for
    signed-in members)."""
    if not name or not default_storage.exists(name):
        raise Http404("Kein Bild.")
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=604800"
    return response


@login_required
def person_photo(request: HttpRequest, person_id: int) -> FileResponse:
    """A person's photo for signed-in members (as their name); 404 when none."""
    person = _person_or_404(request.user, person_id)
    return _picture_response(person.avatar.name or "")


def company_logo(request: HttpRequest, slug: str) -> FileResponse:
    """A company's logo: public, as the company profile is."""
    company = _company_or_404(slug)
    return _picture_response(company.logo.name or "")


@login_required
@require_POST
def settings_photo(request: HttpRequest) -> HttpResponse:
    """Upload (field `avatar`) or remove (`action=remove`) the own profile photo."""
    user = signed_in(request)
    try:
        if request.POST.get("action") == "remove":
            actions.do_remove_avatar(actor=user)
            messages.success(request, "Ihr Foto ist entfernt.")
        else:
            upload = request.FILES.get("avatar")
            if upload is None:
                raise ClientError("bad_request", "Bitte wählen Sie eine Bilddatei aus.")
            actions.do_set_avatar(actor=user, upload=upload)
            messages.success(request, "Ihr Foto ist gespeichert.")
    except ClientError as error:
        messages.error(request, error.detail)
    return redirect("settings_profile")


@login_required
@require_POST
def company_logo_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload (field `logo`) or remove (`action=remove`) a company's logo (its admins)."""
    company = _company_or_404(slug)
    actor = signed_in(request)
    try:
        if request.POST.get("action") == "remove":
            actions.do_remove_company_logo(actor=actor, company=company)
            messages.success(request, "Das Logo ist entfernt.")
        else:
            upload = request.FILES.get("logo")
            if upload is None:
                raise ClientError("bad_request", "Bitte wählen Sie eine Bilddatei aus.")
            actions.do_set_company_logo(actor=actor, company=company, upload=upload)
            messages.success(request, "Das Logo ist gespeichert.")
    except ClientError as error:
        messages.error(request, error.detail)
    return redirect("company_edit", slug=slug)
