"""A person's data: the export (DSGVO Art. 15/20) and the deletion (Art. 17).

`accounts` is the lowest app that knows people, so it cannot import the apps above it
(chat, groups, notifications, ...). Each part of the export and of the erasure is
therefore a `Section`: it names the models it covers, builds its part of the export
and erases its part of a deleted person. This app registers its own sections here;
`server/privacy.py`, which composes every app, registers the others at start-up.
`tests/accounts/test_privacy_census.py` fails when a model with a foreign key to a
person is neither covered by a section nor listed in `EXCLUDED` with a reason
(docs/privacy.md carries the same list for readers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import images, sessions
from accounts.access import own_profile
from accounts.models import AccessToken, Block, Company, CompanyMember, User, UserSession
from accounts.throttle import verify_current_password
from realtime.errors import ClientError
from realtime.publish import disconnect_user

EXPORT_FORMAT = "netzn-export-1"


@dataclass(frozen=True)
class Section:
    """One part of a person's data. `erase(person, delete_messages)` runs inside the
    deletion's transaction, before the person's row goes; None: the rows go with it
    (their foreign key cascades or is set null, and they hold nothing else of theirs)."""

    name: str
    covers: tuple[str, ...]  # model labels, "app_label.ModelName"
    export: Callable[[User], Any]
    erase: Callable[[User, bool], None] | None = None
    # Lower numbers erase first: the apps above (groups before chat before
    # notifications) settle their part before the rows below them go.
    order: int = 100
    notes: dict[str, str] = field(default_factory=dict)


SECTIONS: dict[str, Section] = {}

# Models with a foreign key to a person that the export leaves out, and why.
EXCLUDED: dict[str, str] = {
    "admin.LogEntry": (
        "The operators' audit trail of the Django admin, about what staff did; for a "
        "deleted person the deletion entry names only the account number."
    ),
}


def register(section: Section) -> None:
    SECTIONS[section.name] = section


def covered_models() -> set[str]:
    return {label for section in SECTIONS.values() for label in section.covers}


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --- the export ------------------------------------------------------------------


def export_person(person: User) -> dict[str, Any]:
    """Everything stored about `person`, section by section, as one JSON document.
    Other people appear only as id and name (never their contact fields)."""
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
    }
    for name, section in sorted(SECTIONS.items(), key=lambda item: item[1].order):
        document[name] = section.export(person)
    return document


def _export_profile(person: User) -> dict[str, Any]:
    profile = own_profile(person)
    profile.update(
        {
            "email_frequency": person.email_frequency,
            "date_joined": iso(person.date_joined),
            "last_login": iso(person.last_login),
            "email_confirmed_at": iso(person.email_confirmed_at),
            "show_presence": person.show_presence,
            "is_staff": person.is_staff,
        }
    )
    return profile


def _export_companies(person: User) -> list[dict[str, Any]]:
    return [
        {
            "company": {"slug": m.company.slug, "name": m.company.name},
            "role": m.role,
            "responsibility": m.responsibility,
            "confirmed": m.confirmed,
            "created_at": iso(m.created_at),
        }
        for m in CompanyMember.objects.filter(user=person).select_related("company")
    ]


def _export_companies_created(person: User) -> list[dict[str, Any]]:
    return [
        {"slug": c.slug, "name": c.name, "created_at": iso(c.created_at)}
        for c in Company.objects.filter(created_by=person)
    ]


def _export_tokens(person: User) -> list[dict[str, Any]]:
    return [
        {
            "id": t.pk,
            "name": t.name,
            "prefix": t.prefix,
            "created_at": iso(t.created_at),
            "last_used_at": iso(t.last_used_at),
            "revoked_at": iso(t.revoked_at),
        }
        for t in AccessToken.objects.filter(user=person).order_by("created_at")
    ]


def _export_sessions(person: User) -> list[dict[str, Any]]:
    return [
        {"user_agent": row.user_agent, "created_at": iso(row.created_at)}
        for row in UserSession.objects.filter(user=person).order_by("created_at")
    ]


def _export_two_factor(person: User) -> list[dict[str, Any]]:
    """Whether and since when; never the secret."""
    return [
        {
            "name": d.name,
            "confirmed": d.confirmed,
            "created_at": iso(d.created_at),
            "last_used_at": iso(d.last_used_at),
        }
        for d in TOTPDevice.objects.filter(user=person)
    ]


def _export_blocks(person: User) -> list[dict[str, Any]]:
    return [
        {
            "person": {"id": b.blocked_id, "display_name": b.blocked.display_name},
            "created_at": iso(b.created_at),
        }
        for b in Block.objects.filter(blocker=person).select_related("blocked")
    ]


register(
    Section(
        "profile",
        ("accounts.User",),
        _export_profile,
        order=0,
    )
)
register(
    Section(
        "companies",
        ("accounts.CompanyMember",),
        _export_companies,
        erase=lambda person, _: _leave_companies(person),
    )
)
register(Section("companies_created", ("accounts.Company",), _export_companies_created))
register(Section("tokens", ("accounts.AccessToken",), _export_tokens))
register(Section("sessions", ("accounts.UserSession",), _export_sessions))
register(Section("two_factor", ("otp_totp.TOTPDevice",), _export_two_factor))
# Blocks by others of this person are theirs, not the person's: they go with the row.
register(Section("blocks", ("accounts.Block",), _export_blocks))


# --- the deletion ----------------------------------------------------------------


def _leave_companies(person: User) -> None:
    """A company whose only admin leaves gets its longest confirmed contact person as
    admin, so the page keeps someone who can edit it (else the chamber's staff)."""
    for membership in CompanyMember.objects.filter(
        user=person, role=CompanyMember.Role.ADMIN, confirmed=True
    ):
        others = CompanyMember.objects.filter(company_id=membership.company_id).exclude(user=person)
        if not others.filter(role=CompanyMember.Role.ADMIN, confirmed=True).exists():
            successor = others.filter(confirmed=True).order_by("created_at", "pk").first()
            if successor is not None:
                CompanyMember.objects.filter(pk=successor.pk).update(role=CompanyMember.Role.ADMIN)
    CompanyMember.objects.filter(user=person).delete()


def do_delete_person(
    *,
    actor: User,
    person: User,
    password: Any = None,
    delete_messages: Any = False,
    ip: str = "unknown",
) -> None:
    """Delete `person`'s account. The person themself (proving the password) or site
    staff (the admin, no password). Every section erases its part (groups handed over
    or archived, messages anonymised or erased, notifications, company links); then
    the row goes, and with it every session and token. After the commit every socket
    of the person closes with 4001 on every process. The e-mail address is free again
    at once."""
    if not isinstance(delete_messages, bool):
        raise ClientError(
            "bad_request",
            "delete_messages muss true oder false sein.",
            fields={"delete_messages": ["Bitte true oder false."]},
        )
    if actor.pk == person.pk:
        verify_current_password(person, password, ip)
    elif not actor.is_staff:
        raise ClientError("forbidden", "Nur die Person selbst oder das Team der Kammer.")
    pk = person.pk
    with transaction.atomic():
        locked = User.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise ClientError("not_found", "Nicht gefunden.")
        for section in sorted(SECTIONS.values(), key=lambda item: item.order):
            if section.erase is not None:
                section.erase(locked, delete_messages)
        sessions.end_sessions(locked, sessions.session_keys(locked))
        # Earlier admin entries about the person keep the account number only.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(pk)
        ).update(object_repr=f"Person #{pk}", change_message="")
        # The profile photo's file goes with the row (after the commit: a rollback keeps it).
        photo = locked.avatar.name or ""
        transaction.on_commit(lambda: images.discard(photo))
        locked.delete()
        disconnect_user(pk)


def referencing_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields of `model` that point at a person (for the census)."""
    return [
        f
        for f in model._meta.get_fields()
        if isinstance(f, models.ForeignKey | models.OneToOneField | models.ManyToManyField)
        and f.related_model is User
        and not f.auto_created
    ]
