"""JSON endpoints of the accounts app (docs/protocol.md; shapes in docs/accounts.md).

Signup, login and token creation take no authentication and no CSRF token; every
other endpoint needs a session (CSRF-checked for writes) or a Bearer token, through
the API root's `SessionOrToken`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
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
from accounts.schemas import (
    ClaimOut,
    CompanyContact,
    CompanyPage,
    CompanyProfile,
    ConfirmedOut,
    ExportOut,
    OwnProfile,
    PersonPage,
    ProfilePage,
    PublicProfile,
    SentOut,
    SessionPage,
    TokenOut,
    TokenPage,
    TwoFactorOut,
    TwoFactorSecret,
    UserOut,
)
from realtime.schemas import MAX_ID, NOT_BLANK, In, beyond_schema, errors

router = Router(tags=["accounts"])

JSON = dict[str, Any]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Slug = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")]
PASSWORD = beyond_schema("The password is checked against the account (401 when wrong).")
NEW_PASSWORD = beyond_schema(
    "A new password must pass Django's password validators (length, not common, not "
    "like the name or e-mail): 400 naming the field."
)
TOKEN = beyond_schema("The signed token of the e-mail's link must be valid and fresh (400).")
FORMATS = beyond_schema(
    "E-mail addresses, phone numbers, web sites and domains are checked by Django's "
    "validators, topics and names by the action (400 naming the field)."
)
OPAQUE = beyond_schema("`cursor` is opaque: only one the server made (a `next`) is valid.")
OTP = beyond_schema("The code must be the current one of the person's TOTP app (400).")


class Body(In):
    """Request bodies are plain pydantic models (`realtime.schemas.In`): Ninja's
    `Schema` reads any value (`[1, 2]`, `null`) as an object with every field left out,
    which would turn a bad PATCH into a silent no-op. A pydantic model wants a JSON
    object."""


Text = Annotated[str, Field(min_length=1, pattern=NOT_BLANK)]
# Surrounding spaces are trimmed (and the address lower-cased) by the action.
Email = Annotated[str, Field(min_length=3, max_length=300, pattern=r"^\s*[^@\s]+@[^@\s]+\s*$")]
Password = Annotated[str, Field(min_length=1, max_length=4096)]
Name = Annotated[str, Field(min_length=1, max_length=120, pattern=NOT_BLANK)]
Visibility = Literal["private", "members"]


class SignupIn(Body):
    email: Email
    password: Password
    display_name: Name


class LoginIn(Body):
    email: Email
    password: Password
    otp: str | None = Field(default=None, max_length=16)  # the app's code (two-factor)


class TokenIn(Body):
    email: Email
    password: Password
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=NOT_BLANK)]
    otp: str | None = Field(default=None, max_length=16)


class CodeIn(Body):
    code: str = Field(min_length=1, max_length=16)


class PasswordIn(Body):
    password: Password


class TokenProof(Body):
    token: str = Field(min_length=1, max_length=1000)


class PasswordChangeIn(Body):
    current_password: Password
    new_password: Password


class EmailChangeIn(Body):
    password: Password
    email: Email


class DeleteMeIn(Body):
    password: Password
    delete_messages: bool = False


class ProfilePatch(Body):
    display_name: Name | None = None
    job_title: str | None = Field(default=None, max_length=120)
    company_name: str | None = Field(default=None, max_length=160)
    city: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    bio: str | None = Field(default=None, max_length=2000)
    topics: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=10)
    email_visibility: Visibility | None = None
    phone_visibility: Visibility | None = None
    # Role labels follow it ("Inhaberin", "Inhaber"; neutral without).
    address_form: Literal["frau", "herr", ""] | None = None
    show_presence: bool | None = None  # others see whether I am online (docs/presence.md)


class CompanyIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=160, pattern=NOT_BLANK)]
    slug: str | None = Field(
        default=None, min_length=1, max_length=80, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"
    )
    industry: str = Field(default="", max_length=120)
    city: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=255)
    website: str = Field(default="", max_length=200)
    domain: str = Field(default="", max_length=253)
    register_number: str = Field(default="", max_length=60)
    description: str = Field(default="", max_length=4000)


class CompanyPatch(Body):
    name: Annotated[str, Field(min_length=1, max_length=160, pattern=NOT_BLANK)] | None = None
    industry: str | None = Field(default=None, max_length=120)
    city: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=255)
    website: str | None = Field(default=None, max_length=200)
    domain: str | None = Field(default=None, max_length=253)
    register_number: str | None = Field(default=None, max_length=60)
    description: str | None = Field(default=None, max_length=4000)


class VerifyIn(Body):
    verified: bool


class DomainProofIn(Body):
    email: Email


class ClaimIn(Body):
    responsibility: str = Field(default="", max_length=160)


class MemberPatch(Body):
    responsibility: str | None = Field(default=None, max_length=160)
    role: Literal["admin", "contact"] | None = None


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


@router.post(
    "/auth/signup",
    auth=None,
    response={201: UserOut, **errors(409, 429)},
    openapi_extra=beyond_schema("E-mail format and password strength (400)."),
)
def signup(request: HttpRequest, payload: SignupIn) -> Status[User]:
    throttle.limit_action("signup", throttle.client_ip(request))
    user = actions.do_signup_person(
        email=payload.email, password=payload.password, display_name=payload.display_name
    )
    return Status(201, user)


@router.post(
    "/auth/login", auth=None, response={200: UserOut, **errors(401, 429)}, openapi_extra=OTP
)
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


@router.post(
    "/auth/tokens", auth=None, response={201: TokenOut, **errors(401, 429)}, openapi_extra=OTP
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status[JSON]:
    user = throttle.check_password(
        request, email=payload.email, password=payload.password, ip=throttle.client_ip(request)
    )
    twofactor.check_code(user, payload.otp)
    token, raw = actions.do_create_token(actor=user, name=payload.name)
    return Status(201, {"id": token.pk, "name": token.name, "token": raw})


@router.get("/auth/tokens", response=TokenPage)
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


@router.delete("/auth/tokens/{token_id}", response={204: None, **errors(404)})
def revoke_token(request: HttpRequest, token_id: Id) -> Status[None]:
    actions.do_revoke_token(actor=signed_in(request), token_id=token_id)
    return Status(204, None)


@router.post("/auth/confirm-email", auth=None, response=ConfirmedOut, openapi_extra=TOKEN)
def confirm_email(request: HttpRequest, payload: TokenProof) -> JSON:
    """The link of the confirmation mail, for programs: the signed token is the proof."""
    user = actions.do_confirm_email(token=payload.token)
    return {"id": user.pk, "email": user.email, "email_confirmed": True}


@router.post(
    "/auth/confirm-email-change",
    auth=None,
    response={200: ConfirmedOut, **errors(409)},
    openapi_extra=TOKEN,
)
def confirm_email_change(request: HttpRequest, payload: TokenProof) -> JSON:
    user = actions.do_confirm_email_change(
        token=payload.token, current_session=sessions.current_session_key(request)
    )
    return {"id": user.pk, "email": user.email, "email_confirmed": True}


@router.post("/me/email/confirmation", response={202: SentOut, **errors(409, 429)})
def resend_confirmation(request: HttpRequest) -> Status[JSON]:
    actions.do_resend_confirmation(actor=signed_in(request))
    return Status(202, {"sent_to": signed_in(request).email})


@router.post("/me/email", response={202: SentOut, **errors(403, 409, 429)}, openapi_extra=FORMATS)
def change_email(request: HttpRequest, payload: EmailChangeIn) -> Status[JSON]:
    """A link goes to the new address; the change takes effect when it is used."""
    email = actions.do_request_email_change(
        actor=signed_in(request),
        password=payload.password,
        email=payload.email,
        ip=throttle.client_ip(request),
    )
    return Status(202, {"sent_to": email})


@router.post("/me/password", response={204: None, **errors(403, 429)}, openapi_extra=NEW_PASSWORD)
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


@router.post("/me/two-factor", response={201: TwoFactorSecret, **errors(409)})
def start_two_factor(request: HttpRequest) -> Status[JSON]:
    """A new secret for the TOTP app, shown once; confirm with a first code."""
    device = twofactor.start_enrolment(signed_in(request))
    return Status(201, {"secret": twofactor.secret_of(device), "otpauth_url": device.config_url})


@router.post(
    "/me/two-factor/confirm", response={200: TwoFactorOut, **errors(409)}, openapi_extra=OTP
)
def confirm_two_factor(request: HttpRequest, payload: CodeIn) -> JSON:
    twofactor.do_confirm_enrolment(actor=signed_in(request), code=payload.code)
    return {"two_factor": True}


@router.delete(
    "/me/two-factor", response={204: None, **errors(403, 409, 429)}, openapi_extra=PASSWORD
)
def disable_two_factor(request: HttpRequest, payload: PasswordIn) -> Status[None]:
    twofactor.do_disable(
        actor=signed_in(request), password=payload.password, ip=throttle.client_ip(request)
    )
    return Status(204, None)


@router.get("/me/sessions", response=SessionPage)
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


@router.delete("/me/sessions/{session_id}", response={204: None, **errors(404)})
def end_session(request: HttpRequest, session_id: Id) -> Status[None]:
    actions.do_end_session(actor=signed_in(request), session_id=session_id)
    return Status(204, None)


@router.get("/me", response=OwnProfile)
def me(request: HttpRequest) -> JSON:
    return own_profile(signed_in(request))


@router.patch("/me", response=OwnProfile, openapi_extra=FORMATS)
def update_me(request: HttpRequest, payload: ProfilePatch) -> JSON:
    user = actions.do_update_profile(actor=signed_in(request), changes=set_fields(payload))
    return own_profile(user)


@router.get("/me/export", response=ExportOut)
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


@router.delete("/me", response={204: None, **errors(403, 409, 429)}, openapi_extra=PASSWORD)
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


@router.get("/me/blocked", response=PersonPage)
def my_blocked(request: HttpRequest) -> JSON:
    people = blocked_people(signed_in(request))
    return {"results": [person_summary(person) for person in people], "next": None}


@router.get("/people", response=ProfilePage, openapi_extra=OPAQUE)
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


@router.get("/people/{person_id}", response={200: PublicProfile, **errors(404)})
def get_person(request: HttpRequest, person_id: Id) -> JSON:
    person = access_person(request.user, person_id)
    profile = public_profile(request.user, person)
    if person.pk != request.user.pk:
        profile["blocked"] = has_blocked(request.user, person)
    return profile


@router.post("/people/{person_id}/block", response={204: None, **errors(400, 404)})
def block_person(request: HttpRequest, person_id: Id) -> Status[None]:
    person = access_person(request.user, person_id)
    actions.do_block_person(actor=signed_in(request), person=person)
    return Status(204, None)


@router.delete("/people/{person_id}/block", response={204: None, **errors(404)})
def unblock_person(request: HttpRequest, person_id: Id) -> Status[None]:
    person = access_person(request.user, person_id)
    actions.do_unblock_person(actor=signed_in(request), person=person)
    return Status(204, None)


@router.get("/companies", response=CompanyPage, openapi_extra=OPAQUE)
def list_companies(request: HttpRequest, filters: Query[CompaniesQuery]) -> JSON:
    queryset = find_companies(q=filters.q, city=filters.city, industry=filters.industry)
    rows, next_cursor = page_of(queryset, cursor=filters.cursor, limit=filters.limit)
    return {"results": [company_summary(company) for company in rows], "next": next_cursor}


@router.post(
    "/companies",
    response={201: CompanyProfile, **errors(403, 409, 429)},
    openapi_extra=FORMATS,
)
def create_company(request: HttpRequest, payload: CompanyIn) -> Status[JSON]:
    fields = payload.model_dump(exclude={"slug"})
    company = actions.do_create_company(actor=signed_in(request), fields=fields, slug=payload.slug)
    return Status(201, company_profile(request.user, company))


@router.get("/companies/{slug}", response={200: CompanyProfile, **errors(404)})
def get_company(request: HttpRequest, slug: Slug) -> JSON:
    return company_profile(request.user, access_company(slug))


@router.patch(
    "/companies/{slug}",
    response={200: CompanyProfile, **errors(403, 404, 409)},
    openapi_extra=FORMATS,
)
def update_company(request: HttpRequest, slug: Slug, payload: CompanyPatch) -> JSON:
    company = access_company(slug)
    actions.do_update_company(
        actor=signed_in(request), company=company, changes=set_fields(payload)
    )
    return company_profile(request.user, company)


@router.post("/companies/{slug}/verify", response={200: CompanyProfile, **errors(403, 404, 409)})
def verify_company(request: HttpRequest, slug: Slug, payload: VerifyIn) -> JSON:
    """The chamber's staff confirm a company page (or take it back)."""
    company = access_company(slug)
    actions.do_verify_company(actor=signed_in(request), company=company, verified=payload.verified)
    return company_profile(request.user, company)


@router.post(
    "/companies/{slug}/domain-proof",
    response={202: SentOut, **errors(403, 404, 409, 429)},
    openapi_extra=beyond_schema("The address must be on the company's own domain (400)."),
)
def domain_proof(request: HttpRequest, slug: Slug, payload: DomainProofIn) -> Status[JSON]:
    """A confirmed person of the company asks for the link to an address on its domain."""
    address = actions.do_request_domain_proof(
        actor=signed_in(request), company=access_company(slug), email=payload.email
    )
    return Status(202, {"sent_to": address})


@router.post(
    "/auth/confirm-company",
    auth=None,
    response={200: CompanyProfile, **errors(403, 404, 409)},
    openapi_extra=TOKEN,
)
def confirm_company(request: HttpRequest, payload: TokenProof) -> JSON:
    """The link of the domain proof: the signed token is the proof."""
    company = actions.do_confirm_domain_proof(token=payload.token)
    return company_profile(request.user, company)


@router.post("/companies/{slug}/claim", response={202: ClaimOut, **errors(403, 404, 409, 429)})
def claim_company(request: HttpRequest, slug: Slug, payload: ClaimIn) -> Status[JSON]:
    company = access_company(slug)
    membership = actions.do_claim_company(
        actor=signed_in(request),
        company=company,
        responsibility=payload.responsibility,
    )
    claim = {"confirmed": membership.confirmed, "responsibility": membership.responsibility}
    return Status(202, claim)


@router.post(
    "/companies/{slug}/members/{user_id}/confirm",
    response={200: CompanyContact, **errors(403, 404, 409)},
)
def confirm_member(request: HttpRequest, slug: Slug, user_id: Id) -> JSON:
    company = access_company(slug)
    membership = actions.do_confirm_company_member(
        actor=signed_in(request),
        company=company,
        user_id=user_id,
    )
    return company_contact(request.user, membership)


@router.patch(
    "/companies/{slug}/members/{user_id}",
    response={200: CompanyContact, **errors(403, 404, 409)},
)
def update_member(request: HttpRequest, slug: Slug, user_id: Id, payload: MemberPatch) -> JSON:
    company = access_company(slug)
    membership = actions.do_set_company_member(
        actor=signed_in(request),
        company=company,
        user_id=user_id,
        responsibility=payload.responsibility,
        role=payload.role,
    )
    return company_contact(request.user, membership)


@router.delete("/companies/{slug}/members/{user_id}", response={204: None, **errors(403, 404, 409)})
def remove_member(request: HttpRequest, slug: Slug, user_id: Id) -> Status[None]:
    company = access_company(slug)
    actions.do_remove_company_member(actor=signed_in(request), company=company, user_id=user_id)
    return Status(204, None)
