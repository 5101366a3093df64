"""Response bodies of the accounts API (docs/accounts.md); request bodies are in
`accounts/api.py`, the building blocks in `realtime/schemas.py`."""

from __future__ import annotations

from pydantic import Field

from realtime.schemas import Out


class UserOut(Out):
    id: int
    email: str
    display_name: str


class TokenOut(Out):
    id: int
    name: str
    token: str = Field(description="Shown once; only its hash is stored.")


class TokenInfo(Out):
    id: int
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None


class TokenPage(Out):
    results: list[TokenInfo]
    next: str | None


class ConfirmedOut(Out):
    id: int
    email: str
    email_confirmed: bool


class SentOut(Out):
    sent_to: str


class TwoFactorSecret(Out):
    secret: str
    otpauth_url: str


class TwoFactorOut(Out):
    two_factor: bool


class SessionOut(Out):
    id: int
    current: bool
    user_agent: str
    created_at: str


class SessionPage(Out):
    results: list[SessionOut]
    next: str | None


class CompanyOfPerson(Out):
    slug: str
    name: str
    responsibility: str
    verified: bool


class PublicProfile(Out):
    """A hidden contact field is absent (not null)."""

    id: int
    display_name: str
    job_title: str
    company_name: str
    city: str
    bio: str
    topics: list[str]
    address_form: str
    avatar_url: str | None
    company_verified: bool
    companies: list[CompanyOfPerson]
    email: str | None = None
    phone: str | None = None
    blocked: bool | None = Field(default=None, description="Whether I blocked this person.")


class OwnProfile(PublicProfile):
    email_confirmed: bool
    two_factor: bool
    email_visibility: str
    phone_visibility: str
    show_presence: bool


class PersonSummary(Out):
    id: int
    display_name: str
    company_name: str
    job_title: str


class PersonPage(Out):
    results: list[PersonSummary]
    next: str | None


class ProfilePage(Out):
    results: list[PublicProfile]
    next: str | None


class ContactPerson(Out):
    id: int
    display_name: str
    job_title: str
    address_form: str
    avatar_url: str | None
    email: str | None = None
    phone: str | None = None


class CompanyContact(Out):
    person: ContactPerson
    role: str
    responsibility: str


class MyClaim(Out):
    confirmed: bool
    role: str


class PendingClaim(Out):
    person: PersonSummary
    responsibility: str
    created_at: str


class CompanySummary(Out):
    slug: str
    name: str
    industry: str
    city: str
    logo_url: str | None
    verified: bool


class CompanyPage(Out):
    results: list[CompanySummary]
    next: str | None


class CompanyProfile(Out):
    slug: str
    name: str
    industry: str
    wz_code: str
    city: str
    address: str
    website: str
    domain: str
    register_number: str
    description: str
    logo_url: str | None
    verified: bool
    verification: str | None
    verified_at: str | None
    contact_persons: list[CompanyContact] | None = None
    is_admin: bool | None = None
    my_claim: MyClaim | None = None
    pending_claims: list[PendingClaim] | None = None


class ClaimOut(Out):
    confirmed: bool
    responsibility: str


class ExportOut(Out):
    """Everything stored about me (docs/privacy.md): `format`, `exported_at`, then one
    section per part of the site (profile, messages, groups, ...)."""

    format: str
    exported_at: str
