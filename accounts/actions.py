"""Every state change of people, companies, tokens and blocks (docs/architecture.md, rule 1).

Views, API endpoints, the admin and the demo seeding all call these. Each validates its
input and raises `ClientError` ("bad_request" with `fields`, "forbidden", "not_found",
"conflict"). None of them publishes a realtime event: profiles are read on demand.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts import images, sessions
from accounts.access import is_company_admin
from accounts.models import (
    AccessToken,
    AddressForm,
    Block,
    Company,
    CompanyMember,
    User,
    UserSession,
    Verification,
    Visibility,
)
from accounts.signals import company_claim_settled, company_claimed
from accounts.throttle import limit_action, verify_current_password
from accounts.tokens import hash_token, new_raw_token
from realtime.errors import ClientError
from realtime.presence import HIDDEN_CONTROL, SHOWN_CONTROL, presence_topic
from realtime.publish import disconnect_user, publish_on_commit

MAX_TOPICS = 20
MAX_TOPIC_CHARS = 40
PHONE = re.compile(r"^[0-9+()/ .-]{3,40}$")
# Page paths under /unternehmen/ that a company slug must not shadow.
RESERVED_SLUGS = {"neu"}
GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

PROFILE_LIMITS = {"display_name": 120, "job_title": 120, "company_name": 160, "city": 100}
COMPANY_LIMITS = {"name": 160, "industry": 120, "city": 100, "address": 255, "wz_code": 8}


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


# Bidi overrides, embeddings and isolates: they turn how a text reads around
# ("\u202eAnna" shown mirrored, a name posing as another) and no name or profile
# text needs them; they are removed.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# Letters that show as nothing (Hangul fillers), beside format characters and spaces.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def shows_something(text: str) -> bool:
    """Whether `text` shows anything: not only spaces, format characters (bidi
    controls, zero-width joiners) or letters that render as nothing."""
    return any(
        unicodedata.category(char) not in {"Cf", "Zs", "Zl", "Zp", "Cc"}
        and char not in INVISIBLE_LETTERS
        for char in text
    )


def _text(
    errors: FieldErrors, field: str, value: Any, *, limit: int, required: bool = False
) -> str:
    if not isinstance(value, str):
        errors.add(field, "Bitte einen Text angeben.")
        return ""
    value = value.translate(BIDI_CONTROLS).strip()
    if required and not shows_something(value):
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


def do_signup_person(
    *, email: Any, password: Any, display_name: Any, confirmed: bool = False
) -> User:
    """Create a person (anyone may sign up). Contact fields start private; the
    e-mail address is unconfirmed until the link of the mail sent here is used.

    Raises `bad_request` with `fields` for invalid input (password rules from Django's
    validators) and `conflict` (409) for an e-mail address that is taken.
    `confirmed=True` is for trusted callers that vouch for the address (the demo
    data): no mail, confirmed at once."""
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
            user = User.objects.create_user(
                email=email,
                password=password,
                display_name=name,
                email_confirmed_at=timezone.now() if confirmed else None,
            )
    except IntegrityError as exc:
        raise taken from exc
    send_confirmation_mail(user)
    return user


EMAIL_CONFIRM_SALT = "netzn.accounts.email-confirm"
EMAIL_CHANGE_SALT = "netzn.accounts.email-change"
EMAIL_LINK_MAX_AGE = 3 * 86400


def _link(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, kwargs={"token": token})


def send_confirmation_mail(user: User) -> None:
    """Mail the link that confirms `user`'s current address (nothing if confirmed)."""
    if user.email_confirmed:
        return
    token = signing.dumps({"u": user.pk, "e": user.email}, salt=EMAIL_CONFIRM_SALT)
    send_mail(
        "netzn: Bitte bestätigen Sie Ihre E-Mail-Adresse",
        f"Guten Tag {user.display_name},\n\n"
        "bitte bestätigen Sie Ihre E-Mail-Adresse mit diesem Link (drei Tage gültig):\n"
        f"{_link('email_confirm', token)}\n\n"
        "Erst danach erscheinen Sie im Personenverzeichnis und können Ansprechperson "
        "eines Unternehmens werden. Schreiben in Gruppen können Sie schon jetzt.\n\n"
        "Wenn Sie sich nicht bei netzn registriert haben, ignorieren Sie diese E-Mail.",
        None,
        [user.email],
    )


def do_resend_confirmation(*, actor: User) -> None:
    """Send the confirmation link again (the person, limited per hour)."""
    if actor.email_confirmed:
        raise ClientError("conflict", "Ihre E-Mail-Adresse ist bereits bestätigt.")
    limit_action("confirmation_mail", actor.pk)
    send_confirmation_mail(actor)


def _bad_link() -> ClientError:
    return ClientError("bad_request", "Der Link ist ungültig oder abgelaufen.")


def do_confirm_email(*, token: Any) -> User:
    """Use a confirmation link (no sign-in needed: the signed token is the proof). A
    link for an address the person no longer has is invalid; using it twice is fine."""
    try:
        data = signing.loads(str(token), salt=EMAIL_CONFIRM_SALT, max_age=EMAIL_LINK_MAX_AGE)
    except signing.BadSignature as exc:
        raise _bad_link() from exc
    user = User.objects.filter(pk=data.get("u"), email=data.get("e"), is_active=True).first()
    if user is None:
        raise _bad_link()
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()
        User.objects.filter(pk=user.pk).update(email_confirmed_at=user.email_confirmed_at)
    return user


def end_other_credentials(user: User, *, keep_session: str | None) -> None:
    """End every browser session of `user` except `keep_session`, revoke every
    access token, and close the sockets of both on every process (after the commit).
    Used by a password change (keeps the tab that made it) and a reset (keeps none)."""
    sessions.end_sessions(user, sessions.session_keys(user, except_key=keep_session))
    AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    disconnect_user(user.pk, except_session=keep_session)


def _new_password(errors: FieldErrors, user: User, password: Any, field: str) -> str:
    if not isinstance(password, str) or not password:
        errors.add(field, "Bitte ein neues Passwort angeben.")
        return ""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add(field, message)
    return password


def do_change_password(
    *,
    actor: User,
    current_password: Any,
    new_password: Any,
    ip: str,
    current_session: str | None,
) -> None:
    """The signed-in person sets a new password, proving the current one. Every other
    session and every token end, their sockets close; `current_session` (the browser
    that asks) stays signed in."""
    errors = FieldErrors()
    password = _new_password(errors, actor, new_password, "new_password")
    errors.raise_if_any()
    verify_current_password(actor, current_password, ip)
    with transaction.atomic():
        actor.set_password(password)
        actor.save(update_fields=["password"])
        end_other_credentials(actor, keep_session=current_session)


def do_reset_password(*, user: User, new_password: str) -> None:
    """A password set through the reset link (Django's view checked the token and the
    password rules): every session and every token end, all sockets close."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        end_other_credentials(user, keep_session=None)


def do_request_email_change(*, actor: User, password: Any, email: Any, ip: str) -> str:
    """Ask to move the account to another address: a link goes to the new address
    and takes effect only when used; the old address is told. Returns the address."""
    errors = FieldErrors()
    new_email = _email(errors, email)
    errors.raise_if_any()
    if new_email == actor.email:
        raise ClientError(
            "bad_request",
            "Das ist schon Ihre Adresse.",
            fields={"email": ["Das ist schon Ihre Adresse."]},
        )
    verify_current_password(actor, password, ip)
    if User.objects.filter(email=new_email).exists():
        message = "Diese E-Mail-Adresse ist bereits registriert."
        raise ClientError("conflict", message, fields={"email": [message]})
    limit_action("confirmation_mail", actor.pk)
    token = signing.dumps({"u": actor.pk, "o": actor.email, "e": new_email}, salt=EMAIL_CHANGE_SALT)
    send_mail(
        "netzn: Neue E-Mail-Adresse bestätigen",
        f"Guten Tag {actor.display_name},\n\n"
        "Sie möchten Ihr netzn-Konto auf diese Adresse umstellen. Bitte bestätigen Sie "
        f"das mit diesem Link (drei Tage gültig):\n{_link('email_change_confirm', token)}\n\n"
        "Danach melden Sie sich mit der neuen Adresse an; Ihre anderen Sitzungen enden.",
        None,
        [new_email],
    )
    send_mail(
        "netzn: Änderung Ihrer E-Mail-Adresse angefragt",
        f"Guten Tag {actor.display_name},\n\n"
        f"für Ihr netzn-Konto wurde die Umstellung auf {new_email} angefragt. Sie wird "
        "erst wirksam, wenn der Link an die neue Adresse benutzt wird. Waren Sie das "
        "nicht, ändern Sie bitte sofort Ihr Passwort.",
        None,
        [actor.email],
    )
    return new_email


def do_confirm_email_change(*, token: Any, current_session: str | None) -> User:
    """Use the link sent to the new address: the account moves to it (confirmed), and
    every other session ends with its sockets (tokens stay: they do not carry the
    address). A link for an address taken meanwhile, or used twice, is invalid."""
    try:
        data = signing.loads(str(token), salt=EMAIL_CHANGE_SALT, max_age=EMAIL_LINK_MAX_AGE)
    except signing.BadSignature as exc:
        raise _bad_link() from exc
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(pk=data.get("u"), email=data.get("o"), is_active=True)
            .first()
        )
        if user is None or User.objects.filter(email=data.get("e")).exists():
            raise _bad_link()
        user.email = str(data["e"])
        user.email_confirmed_at = timezone.now()
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "email_confirmed_at"])
        except IntegrityError as exc:
            raise _bad_link() from exc
        keep = (
            current_session
            if UserSession.objects.filter(user=user, session_key=current_session).exists()
            else None
        )
        sessions.end_sessions(user, sessions.session_keys(user, except_key=keep))
        # Tokens stay (they do not carry the address), and so do their sockets.
        disconnect_user(user.pk, except_session=keep, sessions_only=True)
    return user


def do_end_session(*, actor: User, session_id: Any) -> None:
    """End one of the actor's own browser sessions ("abmelden") and close its
    sockets. Someone else's session or a missing one is `not_found`."""
    row = UserSession.objects.filter(pk=session_id, user=actor).first()
    if row is None:
        raise ClientError("not_found", "Nicht gefunden.")
    with transaction.atomic():
        sessions.end_sessions(actor, [row.session_key])
        disconnect_user(actor.pk, session_key=row.session_key)


def do_update_profile(*, actor: User, changes: Mapping[str, Any]) -> User:
    """Change the actor's own profile (only the owner may). `changes` holds any of
    display_name, job_title, company_name, city, phone, bio, topics, email_visibility,
    phone_visibility, address_form ("frau", "herr" or ""), show_presence (bool:
    switching it off emits the presence topic's hide control after the commit, which
    hides this person from every watch, switching it on the show control, which sends
    each watcher the current state); everything is validated
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
        elif field == "show_presence":
            if not isinstance(value, bool):
                errors.add(field, "Erlaubt sind true oder false.")
            values[field] = value
        elif field == "address_form":
            if value not in AddressForm.values:
                errors.add(field, "Erlaubt sind „frau“, „herr“ oder keine Angabe.")
            values[field] = value
        else:
            errors.add(field, "Dieses Feld gibt es nicht.")
    errors.raise_if_any()
    if values:
        hides = values.get("show_presence") is False and actor.show_presence
        shows = values.get("show_presence") is True and not actor.show_presence
        with transaction.atomic():
            User.objects.filter(pk=actor.pk).update(**values)
            if hides:
                # Whoever watches this person's dot sees it go out at once.
                publish_on_commit(presence_topic(actor.pk), HIDDEN_CONTROL)
            if shows:
                # ... and, switched on again, come back with the current state.
                publish_on_commit(presence_topic(actor.pk), SHOWN_CONTROL)
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
    already revoked one are all `not_found`, so nobody learns which ids exist. The
    sockets opened with the token close (4001) on every process."""
    revoked = AccessToken.objects.filter(pk=token_id, user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not revoked:
        raise ClientError("not_found", "Nicht gefunden.")
    disconnect_user(actor.pk, token_id=token_id)


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
        elif field == "domain":
            values[field] = _domain(errors, value)
        elif field == "register_number":
            values[field] = " ".join(_text(errors, field, value, limit=60).split())
        else:
            errors.add(field, "Dieses Feld gibt es nicht.")
    if values.get("website") and not values.get("domain"):
        values["domain"] = domain_of(values["website"])
    return values


DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def domain_of(website: str) -> str:
    """The web domain of a website address: "https://www.ruether.de/kontakt" ->
    "ruether.de"."""
    host = urlsplit(website if "://" in website else f"https://{website}").hostname or ""
    host = host.lower().rstrip(".")
    return host.removeprefix("www.")


def _domain(errors: FieldErrors, value: Any) -> str:
    domain = domain_of(_text(errors, "domain", value, limit=253)) if value else ""
    if domain and not DOMAIN.match(domain):
        errors.add("domain", "Bitte eine Web-Domain angeben, z. B. beispiel-gmbh.de.")
    return domain


def _refuse_duplicates(values: Mapping[str, Any], *, exclude_pk: int | None) -> None:
    """A second page for the same web domain or register number is refused (409)."""
    others = Company.objects.exclude(pk=exclude_pk) if exclude_pk else Company.objects.all()
    if values.get("domain") and others.filter(domain__iexact=values["domain"]).exists():
        message = "Für diese Web-Domain gibt es schon ein Unternehmensprofil."
        raise ClientError("conflict", message, fields={"domain": [message]})
    register = values.get("register_number")
    if register and others.filter(register_number__iexact=register).exists():
        message = "Für diese Registernummer gibt es schon ein Unternehmensprofil."
        raise ClientError("conflict", message, fields={"register_number": [message]})


def slug_for(name: str) -> str:
    return slugify(name.lower().translate(GERMAN_LETTERS))[:70].strip("-") or "unternehmen"


def do_create_company(*, actor: User, fields: Mapping[str, Any], slug: Any = None) -> Company:
    """Create a company profile (any signed-in person). The creator becomes its
    confirmed admin (and gets it as company name if the profile has none yet).
    Without `slug` one is made from the name (made unique); an explicit slug that is
    taken is a `conflict`."""
    _require_confirmed_email(actor)
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
        _refuse_duplicates(values, exclude_pk=None)
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


def _require_confirmed_email(actor: User) -> None:
    if not actor.email_confirmed:
        raise ClientError(
            "forbidden",
            "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse (Link in der Willkommens-E-Mail).",
        )


def _require_admin(actor: User, company: Company) -> None:
    if not is_company_admin(actor, company):
        raise ClientError("forbidden", "Nur die Profil-Admins des Unternehmens dürfen das.")


def do_update_company(*, actor: User, company: Company, changes: Mapping[str, Any]) -> Company:
    """Change a company profile: its confirmed admins only. The slug stays."""
    _require_admin(actor, company)
    errors = FieldErrors()
    values = _company_values(errors, changes)
    errors.raise_if_any()
    moved = any(
        field in values and values[field].lower() != getattr(company, field).lower()
        for field in ("domain", "register_number")
    )
    if moved and company.verification in (Verification.DOMAIN, Verification.REGISTER):
        # The proof was for the old domain or register entry.
        values["verification"] = ""
        values["verified_at"] = None
    with transaction.atomic():
        _refuse_duplicates(values, exclude_pk=company.pk)
        if values:
            try:
                with transaction.atomic():
                    Company.objects.filter(pk=company.pk).update(**values)
            except IntegrityError as exc:
                taken = "Diese Angaben hat schon ein anderes Profil."
                raise ClientError("conflict", taken) from exc
            for field, value in values.items():
                setattr(company, field, value)
        if "verification" in values:
            sync_company_verified(company_id=company.pk)
    return company


def do_claim_company(*, actor: User, company: Company, responsibility: Any = "") -> CompanyMember:
    """The actor says "I work here". The claim stays unlisted until an admin of the
    company confirms it. A second claim of the same person is a `conflict`. Sends
    `company_claimed` in the transaction: notifications tells the company's admins
    (kind `company_claim`)."""
    _require_confirmed_email(actor)
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
            sync_company_verified(user_ids=[user_id])
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
        sync_company_verified(user_ids=[user_id])


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


def sync_company_verified(
    *, user_ids: list[int] | None = None, company_id: int | None = None
) -> None:
    """Recompute `User.company_verified` (the badge in message frames) for these
    people, or for every person of this company."""
    if company_id is not None:
        user_ids = list(
            CompanyMember.objects.filter(company_id=company_id).values_list("user_id", flat=True)
        )
    ids = list(user_ids or [])
    at_verified = set(
        CompanyMember.objects.filter(user_id__in=ids, confirmed=True)
        .exclude(company__verification="")
        .values_list("user_id", flat=True)
    )
    User.objects.filter(pk__in=at_verified).update(company_verified=True)
    User.objects.filter(pk__in=set(ids) - at_verified).update(company_verified=False)


def do_verify_company(*, actor: User, company: Company, verified: bool = True) -> Company:
    """The chamber (site staff) confirms a company page, or takes the confirmation
    back. Its confirmed people get the badge."""
    if not actor.is_staff:
        raise ClientError("forbidden", "Nur das Team der Kammer bestätigt Unternehmen.")
    values: dict[str, Any] = (
        {"verification": Verification.STAFF, "verified_at": timezone.now()}
        if verified
        else {"verification": "", "verified_at": None}
    )
    with transaction.atomic():
        Company.objects.filter(pk=company.pk).update(**values)
        for field, value in values.items():
            setattr(company, field, value)
        sync_company_verified(company_id=company.pk)
    return company


COMPANY_PROOF_SALT = "netzn.accounts.company-domain"


def do_request_domain_proof(*, actor: User, company: Company, email: Any) -> str:
    """A confirmed person of the company proves the company's web domain: a link goes
    to an address on that domain (the company's own, e.g. info@ruether.de). Using it
    marks the company "bestätigt". Returns the address."""
    membership = CompanyMember.objects.filter(company=company, user=actor, confirmed=True).first()
    if membership is None:
        raise ClientError(
            "forbidden", "Nur bestätigte Ansprechpersonen des Unternehmens können das."
        )
    _require_confirmed_email(actor)
    if not company.domain:
        message = "Tragen Sie zuerst die Website oder Web-Domain des Unternehmens ein."
        raise ClientError("conflict", message, fields={"domain": [message]})
    errors = FieldErrors()
    address = _email(errors, email)
    errors.raise_if_any()
    host = address.rpartition("@")[2]
    if host != company.domain and not host.endswith(f".{company.domain}"):
        message = f"Die Adresse muss auf @{company.domain} enden."
        raise ClientError("bad_request", message, fields={"email": [message]})
    limit_action("confirmation_mail", actor.pk)
    token = signing.dumps(
        {"c": company.pk, "u": actor.pk, "d": company.domain}, salt=COMPANY_PROOF_SALT
    )
    send_mail(
        f"netzn: {company.name} bestätigen",
        f"Guten Tag,\n\n{actor.display_name} möchte das Profil von {company.name} bei "
        "netzn als bestätigt kennzeichnen und hat dafür diese Adresse angegeben. "
        f"Wenn das in Ordnung ist, öffnen Sie diesen Link (drei Tage gültig):\n"
        f"{_link('company_proof', token)}\n\n"
        "Andernfalls ignorieren Sie diese E-Mail; dann ändert sich nichts.",
        None,
        [address],
    )
    return address


def do_confirm_domain_proof(*, token: Any) -> Company:
    """Use the link of the domain proof: the company is "bestätigt" (by its domain)
    if the domain is still the same and the person still works there."""
    try:
        data = signing.loads(str(token), salt=COMPANY_PROOF_SALT, max_age=EMAIL_LINK_MAX_AGE)
    except signing.BadSignature as exc:
        raise _bad_link() from exc
    with transaction.atomic():
        company = (
            Company.objects.select_for_update().filter(pk=data.get("c"), domain=data.get("d"))
        ).first()
        works_there = CompanyMember.objects.filter(
            company_id=data.get("c"), user_id=data.get("u"), confirmed=True
        ).exists()
        if company is None or not works_there:
            raise _bad_link()
        if not company.verification:
            company.verification = Verification.DOMAIN
            company.verified_at = timezone.now()
            Company.objects.filter(pk=company.pk).update(
                verification=company.verification, verified_at=company.verified_at
            )
            sync_company_verified(company_id=company.pk)
    return company


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
