"""JSON endpoints of the accounts app (PROTOCOL.md; shapes in docs/accounts.md).

Signup, login and token creation take no authentication and no CSRF token; every
other endpoint needs a session (CSRF-checked for writes) or a Bearer token, through
the API root's `SessionOrToken`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout
from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from accounts import actions, throttle
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


class TokenIn(Body):
    email: str
    password: str
    name: str


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


class CompanyIn(Body):
    name: str
    slug: str | None = None
    industry: str = ""
    city: str = ""
    address: str = ""
    website: str = ""
    description: str = ""


class CompanyPatch(Body):
    name: str | None = None
    industry: str | None = None
    city: str | None = None
    address: str | None = None
    website: str | None = None
    description: str | None = None


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


@router.get("/me", response=JSON)
def me(request: HttpRequest) -> JSON:
    return own_profile(signed_in(request))


@router.patch("/me", response=JSON)
def update_me(request: HttpRequest, payload: ProfilePatch) -> JSON:
    user = actions.do_update_profile(actor=signed_in(request), changes=set_fields(payload))
    return own_profile(user)


@router.get("/me/blocked", response=JSON)
def my_blocked(request: HttpRequest) -> JSON:
    people = blocked_people(signed_in(request))
    return {"results": [person_summary(person) for person in people], "next": None}


@router.get("/people", response=JSON)
def list_people(request: HttpRequest, filters: Query[PeopleQuery]) -> JSON:
    queryset = find_people(
        q=filters.q, city=filters.city, company=filters.company, topic=filters.topic
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
