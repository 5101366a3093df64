"""JSON endpoints of the accounts app (PROTOCOL.md; shapes in docs/accounts.md).

Signup, login and token creation take no authentication and no CSRF token; every
other endpoint needs a session (CSRF-checked for writes) or a Bearer token, through
the API root's `SessionOrToken`.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from accounts import actions, privacy, sessions, throttle, twofactor
from accounts.access import (
    access_company,
    access_person,
    blocked_people,
    company_contact,
    company_profile,
    company_summary,
    has_blocked,
    own_profile,
    person_summary,
    public_profile,
    signed_in,
)
from accounts.directory import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_of
from accounts.directory import search_companies as find_companies
from accounts.directory import search_people as find_people
from accounts.models import AccessToken, User

router = Router(tags=["accounts"])

JSON = dict[str, Any]


class Body(BaseModel):
    """Request bodies are plain pydantic models: Ninja's `Schema` reads any value
    (`[1, 2]`, `null`) as an object with every field left out, which would turn a bad
    PATCH into a silent no-op. A pydantic model wants a JSON object."""


class SignupIn(Body):
    email: str
    password: str
    display_name: str


class LoginIn(Body):
    email: str
    password: str
    otp: str | None = None  # the app's code, for people with two-factor sign-in


class TokenIn(Body):
    email: str
    password: str
    name: str
    otp: str | None = None


class CodeIn(Body):
    code: str


class PasswordIn(Body):
    password: str


class TokenProof(Body):
    token: str


class PasswordChangeIn(Body):
    current_password: str
    new_password: str


class EmailChangeIn(Body):
    password: str
    email: str


class DeleteMeIn(Body):
    password: str
    delete_messages: Any = False  # checked by the action: true or false only


class UserOut(Schema):
    id: int
    email: str
    display_name: str


class TokenOut(Schema):
    id: int
    name: str
    token: str


class ProfilePatch(Body):
    display_name: str | None = None
    job_title: str | None = None
    company_name: str | None = None
    city: str | None = None
    phone: str | None = None
    bio: str | None = None
    topics: list[Any] | None = None  # items checked by the action, with a German message
    email_visibility: str | None = None
    phone_visibility: str | None = None
    address_form: str | None = None  # "frau", "herr" or "" (role labels follow it)
    show_presence: bool | None = None  # others see whether I am online (docs/presence.md)


class CompanyIn(Body):
    name: str
    slug: str | None = None
    industry: str = ""
    city: str = ""
    address: str = ""
    website: str = ""
    domain: str = ""
    register_number: str = ""
    description: str = ""


class CompanyPatch(Body):
    name: str | None = None
    industry: str | None = None
    city: str | None = None
    address: str | None = None
    website: str | None = None
    domain: str | None = None
    register_number: str | None = None
    description: str | None = None


class VerifyIn(Body):
    verified: bool


class DomainProofIn(Body):
    email: str


class ClaimIn(Body):
    responsibility: str = ""


class MemberPatch(Body):
    responsibility: str | None = None
    role: str | None = None


class PeopleQuery(Schema):
    q: str = Field("", max_length=200)
    city: str = ""
    company: str = ""
    topic: str = ""
    responsibility: str = Field("", max_length=160)
    cursor: str = Field("", max_length=100)
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class CompaniesQuery(Schema):
    q: str = Field("", max_length=200)
    city: str = ""
    industry: str = ""
    cursor: str = Field("", max_length=100)
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


def set_fields(body: BaseModel) -> JSON:
    """Only the fields the client sent (an explicit null is not a change)."""
    return {
        key: value
        for key, value in body.model_dump(exclude_unset=True).items()
        if value is not None
    }


@router.post("/auth/signup", auth=None, response={201: UserOut})
def signup(request: HttpRequest, payload: SignupIn) -> Status[User]:
    throttle.limit_action("signup", throttle.client_ip(request))
    user = actions.do_signup_person(
        email=payload.email, password=payload.password, display_name=payload.display_name
    )
    return Status(201, user)


@router.post("/auth/login", auth=None, response=UserOut)
def login_session(request: HttpRequest, payload: LoginIn) -> User:
    """Session login for the browser; the answer sets the session and CSRF cookies."""
    user = throttle.check_password(
        request, email=payload.email, password=payload.password, ip=throttle.client_ip(request)
    )
    twofactor.check_code(user, payload.otp)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    get_token(request)
    return user


@router.post("/auth/logout", response={204: None})
def logout_session(request: HttpRequest) -> Status[None]:
    logout(request)
    return Status(204, None)


@router.post("/auth/tokens", auth=None, response={201: TokenOut})
def create_token(request: HttpRequest, payload: TokenIn) -> Status[JSON]:
    user = throttle.check_password(
        request, email=payload.email, password=payload.password, ip=throttle.client_ip(request)
    )
    twofactor.check_code(user, payload.otp)
    token, raw = actions.do_create_token(actor=user, name=payload.name)
    return Status(201, {"id": token.pk, "name": token.name, "token": raw})


@router.get("/auth/tokens", response=JSON)
def list_tokens(request: HttpRequest) -> JSON:
    tokens = AccessToken.objects.filter(user=signed_in(request), revoked_at__isnull=True).order_by(
        "-created_at", "-pk"
    )
    return {
        "results": [
            {
                "id": token.pk,
                "name": token.name,
                "prefix": token.prefix,
                "created_at": token.created_at.isoformat(),
                "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            }
            for token in tokens
        ],
        "next": None,
    }


@router.delete("/auth/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    actions.do_revoke_token(actor=signed_in(request), token_id=token_id)
    return Status(204, None)


@router.post("/auth/confirm-email", auth=None, response=JSON)
def confirm_email(request: HttpRequest, payload: TokenProof) -> JSON:
    """The link of the confirmation mail, for programs: the signed token is the proof."""
    user = actions.do_confirm_email(token=payload.token)
    return {"id": user.pk, "email": user.email, "email_confirmed": True}


@router.post("/auth/confirm-email-change", auth=None, response=JSON)
def confirm_email_change(request: HttpRequest, payload: TokenProof) -> JSON:
    user = actions.do_confirm_email_change(
        token=payload.token, current_session=sessions.current_session_key(request)
    )
    return {"id": user.pk, "email": user.email, "email_confirmed": True}


@router.post("/me/email/confirmation", response={202: JSON})
def resend_confirmation(request: HttpRequest) -> Status[JSON]:
    actions.do_resend_confirmation(actor=signed_in(request))
    return Status(202, {"sent_to": signed_in(request).email})


@router.post("/me/email", response={202: JSON})
def change_email(request: HttpRequest, payload: EmailChangeIn) -> Status[JSON]:
    """A link goes to the new address; the change takes effect when it is used."""
    email = actions.do_request_email_change(
        actor=signed_in(request),
        password=payload.password,
        email=payload.email,
        ip=throttle.client_ip(request),
    )
    return Status(202, {"sent_to": email})


@router.post("/me/password", response={204: None})
def change_password(request: HttpRequest, payload: PasswordChangeIn) -> Status[None]:
    """Every other session and every token end (their sockets close); a browser that
    asks stays signed in, a token that asks is revoked like the others."""
    user = signed_in(request)
    current = sessions.current_session_key(request)
    actions.do_change_password(
        actor=user,
        current_password=payload.current_password,
        new_password=payload.new_password,
        ip=throttle.client_ip(request),
        current_session=current,
    )
    if current is not None:
        sessions.keep_signed_in(request, user)
    return Status(204, None)


@router.post("/me/two-factor", response={201: JSON})
def start_two_factor(request: HttpRequest) -> Status[JSON]:
    """A new secret for the TOTP app, shown once; confirm with a first code."""
    device = twofactor.start_enrolment(signed_in(request))
    return Status(201, {"secret": twofactor.secret_of(device), "otpauth_url": device.config_url})


@router.post("/me/two-factor/confirm", response=JSON)
def confirm_two_factor(request: HttpRequest, payload: CodeIn) -> JSON:
    twofactor.do_confirm_enrolment(actor=signed_in(request), code=payload.code)
    return {"two_factor": True}


@router.delete("/me/two-factor", response={204: None})
def disable_two_factor(request: HttpRequest, payload: PasswordIn) -> Status[None]:
    twofactor.do_disable(
        actor=signed_in(request), password=payload.password, ip=throttle.client_ip(request)
    )
    return Status(204, None)


@router.get("/me/sessions", response=JSON)
def list_sessions(request: HttpRequest) -> JSON:
    current = sessions.current_session_key(request)
    return {
        "results": [
            {
                "id": row.pk,
                "current": row.session_key == current,
                "user_agent": row.user_agent,
                "created_at": row.created_at.isoformat(),
            }
            for row in sessions.active_sessions(signed_in(request))
        ],
        "next": None,
    }


@router.delete("/me/sessions/{session_id}", response={204: None})
def end_session(request: HttpRequest, session_id: int) -> Status[None]:
    actions.do_end_session(actor=signed_in(request), session_id=session_id)
    return Status(204, None)


@router.get("/me", response=JSON)
def me(request: HttpRequest) -> JSON:
    return own_profile(signed_in(request))


@router.patch("/me", response=JSON)
def update_me(request: HttpRequest, payload: ProfilePatch) -> JSON:
    user = actions.do_update_profile(actor=signed_in(request), changes=set_fields(payload))
    return own_profile(user)


@router.get("/me/export", response=JSON)
def export_me(request: HttpRequest) -> HttpResponse:
    """Everything stored about me as one JSON download (docs/privacy.md)."""
    user = signed_in(request)
    response = HttpResponse(
        json.dumps(privacy.export_person(user), ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="netzn-daten-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@router.delete("/me", response={204: None})
def delete_me(request: HttpRequest, payload: DeleteMeIn) -> Status[None]:
    """Delete my account (DSGVO Art. 17): see docs/privacy.md for what goes and what
    stays. Every session and token ends; open sockets close with 4001."""
    user = signed_in(request)
    privacy.do_delete_person(
        actor=user,
        person=user,
        password=payload.password,
        delete_messages=payload.delete_messages,
        ip=throttle.client_ip(request),
    )
    if sessions.current_session_key(request) is not None:
        logout(request)
    return Status(204, None)


@router.get("/me/blocked", response=JSON)
def my_blocked(request: HttpRequest) -> JSON:
    people = blocked_people(signed_in(request))
    return {"results": [person_summary(person) for person in people], "next": None}


@router.get("/people", response=JSON)
def list_people(request: HttpRequest, filters: Query[PeopleQuery]) -> JSON:
    queryset = find_people(
        q=filters.q,
        city=filters.city,
        company=filters.company,
        topic=filters.topic,
        responsibility=filters.responsibility,
    )
    rows, next_cursor = page_of(queryset, cursor=filters.cursor, limit=filters.limit)
    return {
        "results": [public_profile(request.user, person) for person in rows],
        "next": next_cursor,
    }


@router.get("/people/{person_id}", response=JSON)
def get_person(request: HttpRequest, person_id: int) -> JSON:
    person = access_person(request.user, person_id)
    profile = public_profile(request.user, person)
    if person.pk != request.user.pk:
        profile["blocked"] = has_blocked(request.user, person)
    return profile


@router.post("/people/{person_id}/block", response={204: None})
def block_person(request: HttpRequest, person_id: int) -> Status[None]:
    person = access_person(request.user, person_id)
    actions.do_block_person(actor=signed_in(request), person=person)
    return Status(204, None)


@router.delete("/people/{person_id}/block", response={204: None})
def unblock_person(request: HttpRequest, person_id: int) -> Status[None]:
    person = access_person(request.user, person_id)
    actions.do_unblock_person(actor=signed_in(request), person=person)
    return Status(204, None)


@router.get("/companies", response=JSON)
def list_companies(request: HttpRequest, filters: Query[CompaniesQuery]) -> JSON:
    queryset = find_companies(q=filters.q, city=filters.city, industry=filters.industry)
    rows, next_cursor = page_of(queryset, cursor=filters.cursor, limit=filters.limit)
    return {"results": [company_summary(company) for company in rows], "next": next_cursor}


@router.post("/companies", response={201: JSON})
def create_company(request: HttpRequest, payload: CompanyIn) -> Status[JSON]:
    fields = payload.model_dump(exclude={"slug"})
    company = actions.do_create_company(actor=signed_in(request), fields=fields, slug=payload.slug)
    return Status(201, company_profile(request.user, company))


@router.get("/companies/{slug}", response=JSON)
def get_company(request: HttpRequest, slug: str) -> JSON:
    return company_profile(request.user, access_company(slug))


@router.patch("/companies/{slug}", response=JSON)
def update_company(request: HttpRequest, slug: str, payload: CompanyPatch) -> JSON:
    company = access_company(slug)
    actions.do_update_company(
        actor=signed_in(request), company=company, changes=set_fields(payload)
    )
    return company_profile(request.user, company)


@router.post("/companies/{slug}/verify", response=JSON)
def verify_company(request: HttpRequest, slug: str, payload: VerifyIn) -> JSON:
    """The chamber's staff confirm a company page (or take it back)."""
    company = access_company(slug)
    actions.do_verify_company(actor=signed_in(request), company=company, verified=payload.verified)
    return company_profile(request.user, company)


@router.post("/companies/{slug}/domain-proof", response={202: JSON})
def domain_proof(request: HttpRequest, slug: str, payload: DomainProofIn) -> Status[JSON]:
    """A confirmed person of the company asks for the link to an address on its domain."""
    address = actions.do_request_domain_proof(
        actor=signed_in(request), company=access_company(slug), email=payload.email
    )
    return Status(202, {"sent_to": address})


@router.post("/auth/confirm-company", auth=None, response=JSON)
def confirm_company(request: HttpRequest, payload: TokenProof) -> JSON:
    """The link of the domain proof: the signed token is the proof."""
    company = actions.do_confirm_domain_proof(token=payload.token)
    return company_profile(request.user, company)


@router.post("/companies/{slug}/claim", response={202: JSON})
def claim_company(request: HttpRequest, slug: str, payload: ClaimIn) -> Status[JSON]:
    company = access_company(slug)
    membership = actions.do_claim_company(
        actor=signed_in(request),
        company=company,
        responsibility=payload.responsibility,
    )
    claim = {"confirmed": membership.confirmed, "responsibility": membership.responsibility}
    return Status(202, claim)


@router.post("/companies/{slug}/members/{user_id}/confirm", response=JSON)
def confirm_member(request: HttpRequest, slug: str, user_id: int) -> JSON:
    company = access_company(slug)
    membership = actions.do_confirm_company_member(
        actor=signed_in(request),
        company=company,
        user_id=user_id,
    )
    return company_contact(request.user, membership)


@router.patch("/companies/{slug}/members/{user_id}", response=JSON)
def update_member(request: HttpRequest, slug: str, user_id: int, payload: MemberPatch) -> JSON:
    company = access_company(slug)
    membership = actions.do_set_company_member(
        actor=signed_in(request),
        company=company,
        user_id=user_id,
        responsibility=payload.responsibility,
        role=payload.role,
    )
    return company_contact(request.user, membership)


@router.delete("/companies/{slug}/members/{user_id}", response={204: None})
def remove_member(request: HttpRequest, slug: str, user_id: int) -> Status[None]:
    company = access_company(slug)
    actions.do_remove_company_member(actor=signed_in(request), company=company, user_id=user_id)
    return Status(204, None)
