"""Every state change of people, companies, tokens and blocks (CONVENTIONS.md, rule 1).

Views, API endpoints, the admin and the demo seeding all call these. Each validates its
input and raises `ClientError` ("bad_request" with `fields`, "forbidden", "not_found",
"conflict"). None of them publishes a realtime event: profiles are read on demand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts import images
from accounts.access import is_company_admin
from accounts.models import (
    AccessToken,
    AddressForm,
    Block,
    Company,
    CompanyMember,
    User,
    Visibility,
)
from accounts.signals import company_claim_settled, company_claimed
from accounts.tokens import hash_token, new_raw_token
from realtime.errors import ClientError

MAX_TOPICS = 20
MAX_TOPIC_CHARS = 40
PHONE = re.compile(r"^[0-9+()/ .-]{3,40}$")
# Page paths under /unternehmen/ that a company slug must not shadow.
RESERVED_SLUGS = {"neu"}
GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

PROFILE_LIMITS = {"display_name": 120, "job_title": 120, "company_name": 160, "city": 100}
COMPANY_LIMITS = {"name": 160, "industry": 120, "city": 100, "address": 255}


class FieldErrors:
    """Collects German messages per field; `raise_if_any` turns them into a 400."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ClientError(
                "bad_request", "Bitte die markierten Felder prüfen.", fields=self.fields
            )


def _text(
    errors: FieldErrors, field: str, value: Any, *, limit: int, required: bool = False
) -> str:
    if not isinstance(value, str):
        errors.add(field, "Bitte einen Text angeben.")
        return ""
    value = value.strip()
    if required and not value:
        errors.add(field, "Dieses Feld ist erforderlich.")
    if len(value) > limit:
        errors.add(field, f"Höchstens {limit} Zeichen.")
    return value


def _topics(errors: FieldErrors, value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors.add("topics", "Bitte eine Liste von Themen angeben.")
        return []
    topics: list[str] = []
    for item in value:
        topic = " ".join(item.split())
        if not topic or topic.lower() in {t.lower() for t in topics}:
            continue
        if len(topic) > MAX_TOPIC_CHARS:
            errors.add("topics", f"Ein Thema hat höchstens {MAX_TOPIC_CHARS} Zeichen.")
            continue
        topics.append(topic)
    if len(topics) > MAX_TOPICS:
        errors.add("topics", f"Höchstens {MAX_TOPICS} Themen.")
    return topics


def _visibility(errors: FieldErrors, field: str, value: Any) -> str:
    if value not in Visibility.values:
        errors.add(field, "Erlaubt sind „private“ (nur ich) oder „members“ (Mitglieder).")
        return Visibility.PRIVATE
    return str(value)


def _email(errors: FieldErrors, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.add("email", "Bitte eine E-Mail-Adresse angeben.")
        return ""
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors.add("email", "Bitte eine gültige E-Mail-Adresse angeben.")
    return email


def do_signup_person(*, email: Any, password: Any, display_name: Any) -> User:
    """Create a person (anyone may sign up). Contact fields start private.

    Raises `bad_request` with `fields` for invalid input (password rules from Django's
    validators) and `conflict` (409) for an e-mail address that is taken."""
    errors = FieldErrors()
    email = _email(errors, email)
    name = _text(errors, "display_name", display_name, limit=120, required=True)
    if not isinstance(password, str) or not password:
        errors.add("password", "Bitte ein Passwort angeben.")
    else:
        candidate = User(email=email, display_name=name)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add("password", message)
    errors.raise_if_any()
    taken = ClientError(
        "conflict",
        "Diese E-Mail-Adresse ist bereits registriert.",
        fields={"email": ["Diese E-Mail-Adresse ist bereits registriert."]},
    )
    if User.objects.filter(email=email).exists():
        raise taken
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, display_name=name)
    except IntegrityError as exc:
        raise taken from exc


def do_update_profile(*, actor: User, changes: Mapping[str, Any]) -> User:
    """Change the actor's own profile (only the owner may). `changes` holds any of
    display_name, job_title, company_name, city, phone, bio, topics, email_visibility,
    phone_visibility, address_form ("frau", "herr" or ""); everything is validated
    before anything is stored."""
    errors = FieldErrors()
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field in PROFILE_LIMITS:
            values[field] = _text(
                errors, field, value, limit=PROFILE_LIMITS[field], required=field == "display_name"
            )
        elif field == "bio":
            values[field] = _text(errors, field, value, limit=2000)
        elif field == "phone":
            phone = _text(errors, field, value, limit=40)
            if phone and not PHONE.match(phone):
                errors.add("phone", "Bitte nur Ziffern, Leerzeichen und + ( ) / - . verwenden.")
            values[field] = phone
        elif field == "topics":
            values[field] = _topics(errors, value)
        elif field in ("email_visibility", "phone_visibility"):
            values[field] = _visibility(errors, field, value)
        elif field == "address_form":
            if value not in AddressForm.values:
                errors.add(field, "Erlaubt sind „frau“, „herr“ oder keine Angabe.")
            values[field] = value
        else:
            errors.add(field, "Dieses Feld gibt es nicht.")
    errors.raise_if_any()
    if values:
        User.objects.filter(pk=actor.pk).update(**values)
        for field, value in values.items():
            setattr(actor, field, value)
    return actor


def do_create_token(*, actor: User, name: Any) -> tuple[AccessToken, str]:
    """Create a personal access token for the actor; returns it with the raw secret,
    which exists only in this return value (the table holds its SHA-256 hash)."""
    errors = FieldErrors()
    name = _text(errors, "name", name, limit=100, required=True)
    errors.raise_if_any()
    raw = new_raw_token()
    token = AccessToken.objects.create(
        user=actor, name=name, token_hash=hash_token(raw), prefix=raw[:12]
    )
    return token, raw


def do_revoke_token(*, actor: User, token_id: int) -> None:
    """Revoke one of the actor's own tokens. Someone else's token and a missing or
    already revoked one are all `not_found`, so nobody learns which ids exist."""
    revoked = AccessToken.objects.filter(pk=token_id, user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not revoked:
        raise ClientError("not_found", "Nicht gefunden.")


def _website(errors: FieldErrors, value: Any) -> str:
    website = _text(errors, "website", value, limit=200)
    if website and "://" not in website:
        website = f"https://{website}"
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            errors.add("website", "Bitte eine gültige Adresse angeben, z. B. https://beispiel.de.")
    return website


def _company_values(errors: FieldErrors, changes: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field in COMPANY_LIMITS:
            values[field] = _text(
                errors, field, value, limit=COMPANY_LIMITS[field], required=field == "name"
            )
        elif field == "description":
            values[field] = _text(errors, field, value, limit=4000)
        elif field == "website":
            values[field] = _website(errors, value)
        else:
            errors.add(field, "Dieses Feld gibt es nicht.")
    return values


def slug_for(name: str) -> str:
    return slugify(name.lower().translate(GERMAN_LETTERS))[:70].strip("-") or "unternehmen"


def do_create_company(*, actor: User, fields: Mapping[str, Any], slug: Any = None) -> Company:
    """Create a company profile (any signed-in person). The creator becomes its
    confirmed admin (and gets it as company name if the profile has none yet).
    Without `slug` one is made from the name (made unique); an explicit slug that is
    taken is a `conflict`."""
    errors = FieldErrors()
    values = _company_values(errors, {"name": fields.get("name", ""), **fields})
    wanted = None
    if slug not in (None, ""):
        if not isinstance(slug, str) or slugify(slug) != slug or len(slug) > 80:
            errors.add("slug", "Nur Kleinbuchstaben, Ziffern und Bindestriche.")
        elif slug in RESERVED_SLUGS:
            errors.add("slug", "Dieses Kürzel ist reserviert.")
        else:
            wanted = slug
    errors.raise_if_any()
    with transaction.atomic():
        if wanted is not None:
            if Company.objects.filter(slug=wanted).exists():
                raise ClientError(
                    "conflict",
                    "Dieses Kürzel ist schon vergeben.",
                    fields={"slug": ["Dieses Kürzel ist schon vergeben."]},
                )
            final = wanted
        else:
            base = slug_for(values["name"])
            final, number = base, 1
            while final in RESERVED_SLUGS or Company.objects.filter(slug=final).exists():
                number += 1
                final = f"{base}-{number}"
        try:
            with transaction.atomic():
                company = Company.objects.create(slug=final, created_by=actor, **values)
        except IntegrityError as exc:
            raise ClientError("conflict", "Dieses Kürzel ist schon vergeben.") from exc
        CompanyMember.objects.create(
            company=company, user=actor, role=CompanyMember.Role.ADMIN, confirmed=True
        )
        User.objects.filter(pk=actor.pk, company_name="").update(company_name=company.name)
    return company


def _require_admin(actor: User, company: Company) -> None:
    if not is_company_admin(actor, company):
        raise ClientError("forbidden", "Nur die Profil-Admins des Unternehmens dürfen das.")


def do_update_company(*, actor: User, company: Company, changes: Mapping[str, Any]) -> Company:
    """Change a company profile: its confirmed admins only. The slug stays."""
    _require_admin(actor, company)
    errors = FieldErrors()
    values = _company_values(errors, changes)
    errors.raise_if_any()
    if values:
        Company.objects.filter(pk=company.pk).update(**values)
        for field, value in values.items():
            setattr(company, field, value)
    return company


def do_claim_company(*, actor: User, company: Company, responsibility: Any = "") -> CompanyMember:
    """The actor says "I work here". The claim stays unlisted until an admin of the
    company confirms it. A second claim of the same person is a `conflict`. Sends
    `company_claimed` in the transaction: notifications tells the company's admins
    (kind `company_claim`)."""
    errors = FieldErrors()
    responsibility = _text(errors, "responsibility", responsibility, limit=160)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            claim = CompanyMember.objects.create(
                company=company, user=actor, responsibility=responsibility, confirmed=False
            )
            company_claimed.send(sender=CompanyMember, claim=claim)
            return claim
    except IntegrityError as exc:
        raise ClientError("conflict", "Sie sind diesem Unternehmen bereits zugeordnet.") from exc


def _membership(company: Company, user_id: int) -> CompanyMember:
    membership = (
        CompanyMember.objects.filter(company=company, user_id=user_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise ClientError("not_found", "Nicht gefunden.")
    return membership


def do_confirm_company_member(*, actor: User, company: Company, user_id: int) -> CompanyMember:
    """An admin of the company confirms a claim; the person is listed from now on.
    If the person has no company name in the profile yet, it is set to this one.
    Sends `company_claim_settled` (the admins' notifications stop counting)."""
    _require_admin(actor, company)
    with transaction.atomic():
        membership = _membership(company, user_id)
        if not membership.confirmed:
            CompanyMember.objects.filter(pk=membership.pk).update(confirmed=True)
            membership.confirmed = True
            company_claim_settled.send(sender=CompanyMember, claim_id=membership.pk)
            User.objects.filter(pk=user_id, company_name="").update(company_name=company.name)
    return membership


def _other_admins(company: Company, user_id: int) -> bool:
    return (
        CompanyMember.objects.filter(company=company, role=CompanyMember.Role.ADMIN, confirmed=True)
        .exclude(user_id=user_id)
        .exists()
    )


def do_remove_company_member(*, actor: User, company: Company, user_id: int) -> None:
    """Reject a claim or remove a contact person (admins), or leave (the person
    themself). The last admin cannot leave: first make someone else admin."""
    if actor.pk != user_id:
        _require_admin(actor, company)
    with transaction.atomic():
        membership = _membership(company, user_id)
        is_admin = membership.role == CompanyMember.Role.ADMIN and membership.confirmed
        if is_admin and not _other_admins(company, user_id):
            raise ClientError("conflict", "Das Unternehmen braucht mindestens einen Profil-Admin.")
        CompanyMember.objects.filter(pk=membership.pk).delete()
        if not membership.confirmed:
            company_claim_settled.send(sender=CompanyMember, claim_id=membership.pk)


def do_set_company_member(
    *, actor: User, company: Company, user_id: int, responsibility: Any = None, role: Any = None
) -> CompanyMember:
    """Set what a person is responsible for (admins, or the person for themself) and
    their role (admins only; only confirmed people can become admin)."""
    errors = FieldErrors()
    values: dict[str, Any] = {}
    if responsibility is not None:
        values["responsibility"] = _text(errors, "responsibility", responsibility, limit=160)
    if role is not None and role not in CompanyMember.Role.values:
        errors.add("role", "Erlaubt sind „admin“ oder „contact“.")
    errors.raise_if_any()
    if role is not None or actor.pk != user_id:
        _require_admin(actor, company)
    with transaction.atomic():
        membership = _membership(company, user_id)
        if role is not None and role != membership.role:
            if role == CompanyMember.Role.ADMIN and not membership.confirmed:
                raise ClientError("conflict", "Erst bestätigen, dann zum Profil-Admin machen.")
            if role == CompanyMember.Role.CONTACT and not _other_admins(company, user_id):
                raise ClientError(
                    "conflict", "Das Unternehmen braucht mindestens einen Profil-Admin."
                )
            values["role"] = role
        if values:
            CompanyMember.objects.filter(pk=membership.pk).update(**values)
            for field, value in values.items():
                setattr(membership, field, value)
    return membership


def do_block_person(*, actor: User, person: User) -> None:
    """The actor blocks `person`: no more direct messages between the two (chat asks
    `is_blocked_between`). Idempotent. `person` is not told and sees no difference."""
    if actor.pk == person.pk:
        raise ClientError("bad_request", "Sie können sich nicht selbst blockieren.")
    try:
        with transaction.atomic():
            Block.objects.get_or_create(blocker=actor, blocked=person)
    except IntegrityError:
        pass  # blocked by a concurrent request: the same outcome


def do_unblock_person(*, actor: User, person: User) -> None:
    """Lift the actor's block of `person`. Idempotent."""
    Block.objects.filter(blocker=actor, blocked=person).delete()


def _replace_picture(model: Any, pk: Any, field: str, new_name: str, old_name: str) -> None:
    """Point the row at the new file; the old file goes after the commit (a rollback
    keeps the old picture and drops the new file)."""
    try:
        with transaction.atomic():
            model.objects.filter(pk=pk).update(**{field: new_name})
            transaction.on_commit(lambda: images.discard(old_name))
    except Exception:
        images.discard(new_name)
        raise


def do_set_avatar(*, actor: User, upload: Any) -> User:
    """Set the actor's profile photo from an uploaded file (any size of picture in
    JPEG, PNG, WebP or GIF up to NETZN_IMAGE_MAX_BYTES): cut to the centre square and
    stored as a 256-pixel JPEG. `bad_request` with a German reason otherwise. No event."""
    content, extension = images.square_image(upload, field="avatar", logo=False)
    name = images.store("avatars", actor.pk, content, extension)
    _replace_picture(User, actor.pk, "avatar", name, actor.avatar.name or "")
    actor.avatar.name = name
    return actor


def do_remove_avatar(*, actor: User) -> None:
    """Remove the actor's profile photo (initials are shown again). No event."""
    old = actor.avatar.name or ""
    _replace_picture(User, actor.pk, "avatar", "", old)
    actor.avatar.name = ""


def do_set_company_logo(*, actor: User, company: Company, upload: Any) -> Company:
    """Set a company's logo: its confirmed admins only. Cut to the centre square and
    stored as a 256-pixel PNG (transparency kept). No event."""
    _require_admin(actor, company)
    content, extension = images.square_image(upload, field="logo", logo=True)
    name = images.store("logos", company.pk, content, extension)
    _replace_picture(Company, company.pk, "logo", name, company.logo.name or "")
    company.logo.name = name
    return company


def do_remove_company_logo(*, actor: User, company: Company) -> None:
    """Remove a company's logo: its confirmed admins only. No event."""
    _require_admin(actor, company)
    _replace_picture(Company, company.pk, "logo", "", company.logo.name or "")
    company.logo.name = ""
