"""Every read of people and companies that could expose data (docs/architecture.md, rule 3).

The contact fields of a person (e-mail, phone) leave the server only through
`public_profile`: the owner sees them always, a signed-in member only when the owner
opened the field to members, an anonymous visitor never. `person_summary` is the
small payload other apps put into their frames (message authors, group members); it
carries no contact field at all.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.images import avatar_url, logo_url
from accounts.models import Block, Company, CompanyMember, User, Visibility
from realtime.errors import ClientError


class PersonSummary(TypedDict):
    id: int
    display_name: str
    company_name: str
    job_title: str


def signed_in(request: HttpRequest) -> User:
    """The signed-in person of a request that passed authentication (API auth or
    `login_required`)."""
    user = request.user
    assert isinstance(user, User)
    return user


def not_found() -> ClientError:
    return ClientError("not_found", "Nicht gefunden.")


def is_self(viewer: Any, person: User) -> bool:
    return bool(viewer.is_authenticated) and viewer.pk == person.pk


def may_see_contact_field(viewer: Any, person: User, visibility: str) -> bool:
    """The owner always; a signed-in member if the owner opened the field; else nobody."""
    if is_self(viewer, person):
        return True
    if not viewer.is_authenticated:
        return False
    return visibility == Visibility.MEMBERS


def person_summary(person: User) -> PersonSummary:
    """Who someone is, for author and member payloads: never a contact field."""
    return {
        "id": person.pk,
        "display_name": person.display_name,
        "company_name": person.company_name,
        "job_title": person.job_title,
    }


def confirmed_memberships(person: User) -> list[CompanyMember]:
    prefetched = getattr(person, "confirmed_memberships", None)
    if prefetched is not None:
        return list(prefetched)
    return list(
        CompanyMember.objects.filter(user=person, confirmed=True)
        .select_related("company")
        .order_by("company__name")
    )


def public_profile(viewer: Any, person: User) -> dict[str, Any]:
    """`person`'s profile as `viewer` may see it. A hidden contact field is absent
    from the result (not null), so no page or payload built from it can show it."""
    profile: dict[str, Any] = {
        "id": person.pk,
        "display_name": person.display_name,
        "job_title": person.job_title,
        "company_name": person.company_name,
        "city": person.city,
        "bio": person.bio,
        "topics": list(person.topics or []),
        "address_form": person.address_form,
        "avatar_url": avatar_url(person),
        "company_verified": person.company_verified,
        "companies": [
            {
                "slug": membership.company.slug,
                "name": membership.company.name,
                "responsibility": membership.responsibility,
                "verified": membership.company.verified,
            }
            for membership in confirmed_memberships(person)
        ],
    }
    profile.update(contact_fields(viewer, person))
    return profile


def own_profile(user: User) -> dict[str, Any]:
    """The profile as its owner sees it, with the visibility settings."""
    profile = public_profile(user, user)
    profile["email"] = user.email
    profile["phone"] = user.phone
    profile["email_confirmed"] = user.email_confirmed
    profile["two_factor"] = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    profile["email_visibility"] = user.email_visibility
    profile["phone_visibility"] = user.phone_visibility
    profile["show_presence"] = user.show_presence
    return profile


def people() -> QuerySet[User]:
    """Active people, with their confirmed companies prefetched for `public_profile`."""
    return User.objects.filter(is_active=True).prefetch_related(
        Prefetch(
            "company_memberships",
            queryset=CompanyMember.objects.filter(confirmed=True)
            .select_related("company")
            .order_by("company__name"),
            to_attr="confirmed_memberships",
        )
    )


def access_person(viewer: Any, person_id: Any) -> User:
    """An active person for a signed-in viewer; `not_found` otherwise. A person who
    blocked the viewer stays visible: blocking reveals nothing to the blocked one."""
    if not viewer.is_authenticated:
        raise ClientError("unauthorized", "Anmeldung erforderlich.")
    if not isinstance(person_id, int) or isinstance(person_id, bool):
        raise not_found()
    person = people().filter(pk=person_id).first()
    if person is None:
        raise not_found()
    return person


def access_company(slug: str) -> Company:
    """Companies are public business profiles: any visitor may read one."""
    company = Company.objects.filter(slug=slug).first()
    if company is None:
        raise not_found()
    return company


def is_company_admin(user: Any, company: Company) -> bool:
    if not user.is_authenticated:
        return False
    return CompanyMember.objects.filter(
        company=company, user=user, role=CompanyMember.Role.ADMIN, confirmed=True
    ).exists()


def contact_persons(company: Company) -> list[CompanyMember]:
    """Confirmed people of a company, admins first."""
    return list(
        CompanyMember.objects.filter(
            company=company,
            confirmed=True,
            user__is_active=True,
            user__email_confirmed_at__isnull=False,
        )
        .select_related("user")
        .order_by("role", "user__display_name")
    )


def pending_claims(viewer: Any, company: Company) -> list[CompanyMember]:
    """Unconfirmed claims, for the company's admins only (empty for everyone else)."""
    if not is_company_admin(viewer, company):
        return []
    return list(
        CompanyMember.objects.filter(company=company, confirmed=False)
        .select_related("user")
        .order_by("created_at")
    )


def membership_of(user: Any, company: Company) -> CompanyMember | None:
    if not user.is_authenticated:
        return None
    return CompanyMember.objects.filter(company=company, user=user).first()


def contact_fields(viewer: Any, person: User) -> dict[str, str]:
    """The contact fields of `person` that `viewer` may see (and that are filled in)."""
    fields: dict[str, str] = {}
    if may_see_contact_field(viewer, person, person.email_visibility):
        fields["email"] = person.email
    if may_see_contact_field(viewer, person, person.phone_visibility) and person.phone:
        fields["phone"] = person.phone
    return fields


def company_contact(viewer: Any, membership: CompanyMember) -> dict[str, Any]:
    person = membership.user
    return {
        "person": {
            "id": person.pk,
            "display_name": person.display_name,
            "job_title": person.job_title,
            "address_form": person.address_form,
            "avatar_url": avatar_url(person),
            **contact_fields(viewer, person),
        },
        "role": membership.role,
        "responsibility": membership.responsibility,
    }


def verification_of(company: Company) -> dict[str, Any]:
    """Whether the page is "bestätigt" and by what: the chamber's staff (`staff`), an
    e-mail on the company's own domain (`domain`), or the chamber's register
    (`register`)."""
    return {
        "verified": company.verified,
        "verification": company.verification or None,
        "verified_at": company.verified_at.isoformat() if company.verified_at else None,
    }


def company_profile(viewer: Any, company: Company) -> dict[str, Any]:
    """A company with its contact persons. Anonymous visitors get the company only:
    the names of people are for signed-in members."""
    data: dict[str, Any] = {
        "slug": company.slug,
        "name": company.name,
        "industry": company.industry,
        "wz_code": company.wz_code,
        "city": company.city,
        "address": company.address,
        "website": company.website,
        "domain": company.domain,
        "register_number": company.register_number,
        "description": company.description,
        "logo_url": logo_url(company),
        **verification_of(company),
    }
    if viewer.is_authenticated:
        data["contact_persons"] = [
            company_contact(viewer, membership) for membership in contact_persons(company)
        ]
        data["is_admin"] = is_company_admin(viewer, company)
        mine = membership_of(viewer, company)
        data["my_claim"] = (
            None if mine is None else {"confirmed": mine.confirmed, "role": mine.role}
        )
        if data["is_admin"]:
            data["pending_claims"] = [
                {
                    "person": person_summary(claim.user),
                    "responsibility": claim.responsibility,
                    "created_at": claim.created_at.isoformat(),
                }
                for claim in pending_claims(viewer, company)
            ]
    return data


def company_summary(company: Company) -> dict[str, Any]:
    return {
        "slug": company.slug,
        "name": company.name,
        "industry": company.industry,
        "city": company.city,
        "logo_url": logo_url(company),
        "verified": company.verified,
    }


def is_blocked_between(a: Any, b: Any) -> bool:
    """True if either of the two people blocked the other (for direct messages)."""
    if a is None or b is None:
        return False
    a_id = getattr(a, "pk", a)
    b_id = getattr(b, "pk", b)
    return Block.objects.filter(
        Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id)
    ).exists()


def has_blocked(blocker: Any, person: User) -> bool:
    if not blocker.is_authenticated:
        return False
    return Block.objects.filter(blocker=blocker, blocked=person).exists()


def blocked_people(user: User) -> list[User]:
    """The people `user` blocked, by name. Only ever shown to `user`."""
    return [
        block.blocked
        for block in Block.objects.filter(blocker=user)
        .select_related("blocked")
        .order_by("blocked__display_name")
    ]
