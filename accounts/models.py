"""People, companies, access tokens and blocks."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Visibility(models.TextChoices):
    PRIVATE = "private", "Nur ich"
    MEMBERS = "members", "Angemeldete Mitglieder"


class AddressForm(models.TextChoices):
    """How a person wants to be addressed; role labels follow it ("Inhaberin",
    "Inhaber"), and without it they take a neutral form (docs/ui.md)."""

    NONE = "", "Keine Angabe"
    FRAU = "frau", "Frau"
    HERR = "herr", "Herr"


class EmailFrequency(models.TextChoices):
    IMMEDIATE = "immediate", "Sofort"
    DIGEST = "digest", "Tägliche Zusammenfassung"
    OFF = "off", "Aus"


class Verification(models.TextChoices):
    STAFF = "staff", "Kammer"
    DOMAIN = "domain", "E-Mail-Adresse der Firmen-Domain"
    REGISTER = "register", "Mitgliederverzeichnis der Kammer"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("Eine E-Mail-Adresse ist erforderlich.")
        # People made by the operator, the demo or the bench count as confirmed; the
        # sign-up action passes `email_confirmed_at=None` and sends the link.
        extra.setdefault("email_confirmed_at", timezone.now())
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Logs in by e-mail; the profile fields live here too."""

    # Always stored lower-case (the manager and the sign-up action normalise it).
    email = models.EmailField("E-Mail", max_length=254, unique=True)
    display_name = models.CharField("Name", max_length=120)
    job_title = models.CharField("Position", max_length=120, blank=True)
    company_name = models.CharField("Unternehmen", max_length=160, blank=True)
    city = models.CharField("Ort", max_length=100, blank=True)
    phone = models.CharField("Telefon", max_length=40, blank=True)
    bio = models.TextField("Über mich", max_length=2000, blank=True)
    topics = models.JSONField("Themen", default=list, blank=True)
    address_form = models.CharField(
        "Anrede", max_length=10, choices=AddressForm, default=AddressForm.NONE, blank=True
    )
    # A square JPEG made from the upload (accounts/images.py), served by a view only.
    avatar = models.FileField("Foto", upload_to="avatars/", max_length=200, blank=True)
    email_visibility = models.CharField(
        "Sichtbarkeit der E-Mail", max_length=10, choices=Visibility, default=Visibility.PRIVATE
    )
    phone_visibility = models.CharField(
        "Sichtbarkeit der Telefonnummer",
        max_length=10,
        choices=Visibility,
        default=Visibility.PRIVATE,
    )
    email_frequency = models.CharField(
        "E-Mail-Benachrichtigungen",
        max_length=10,
        choices=EmailFrequency,
        default=EmailFrequency.IMMEDIATE,
    )
    # Off: nobody sees whether this person is online (realtime/presence.py,
    # docs/presence.md); their own presence frames are left out for everyone else.
    show_presence = models.BooleanField("Online-Status anzeigen", default=True)
    # Until the link of the confirmation e-mail is used: not in the directory, not a
    # company's contact person (docs/accounts.md, "E-mail confirmation").
    email_confirmed_at = models.DateTimeField("E-Mail bestätigt", null=True, blank=True)
    # A confirmed contact person of a verified company: the badge next to the name in
    # every message frame, kept in step by the company actions (no query per message).
    company_verified = models.BooleanField("Bei bestätigtem Unternehmen", default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    class Meta:
        verbose_name = "Person"
        verbose_name_plural = "Personen"

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class Company(models.Model):
    name = models.CharField("Name", max_length=160)
    slug = models.SlugField("Kürzel", max_length=80, unique=True)
    industry = models.CharField("Branche", max_length=120, blank=True)
    city = models.CharField("Ort", max_length=100, blank=True)
    address = models.CharField("Anschrift", max_length=255, blank=True)
    website = models.URLField("Website", blank=True)
    description = models.TextField("Beschreibung", max_length=4000, blank=True)
    # A square PNG made from the upload (accounts/images.py), served by a view only.
    logo = models.FileField("Logo", upload_to="logos/", max_length=200, blank=True)
    # The web domain ("ruether-stahlbau.de") that an e-mail proof must come from, and
    # the commercial register number ("HRB 12345 Bochum"); each at most one page.
    domain = models.CharField("Web-Domain", max_length=253, blank=True)
    register_number = models.CharField("Registernummer", max_length=60, blank=True)
    # WZ 2008 code of the industry ("25.11"); `industry` holds its German title.
    wz_code = models.CharField("WZ-2008-Schlüssel", max_length=8, blank=True)
    verification = models.CharField(
        "Bestätigt durch", max_length=10, choices=Verification, blank=True
    )
    verified_at = models.DateTimeField("Bestätigt am", null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Unternehmen"
        verbose_name_plural = "Unternehmen"
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                Lower("domain"),
                condition=~models.Q(domain=""),
                name="accounts_company_domain_once",
            ),
            models.UniqueConstraint(
                Lower("register_number"),
                condition=~models.Q(register_number=""),
                name="accounts_company_register_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def verified(self) -> bool:
        return bool(self.verification)


class CompanyMember(models.Model):
    """A person working for a company: listed as contact person once confirmed."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Verwaltung"
        CONTACT = "contact", "Ansprechperson"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="company_memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.CONTACT)
    responsibility = models.CharField("Zuständig für", max_length=160, blank=True)
    confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Ansprechperson"
        verbose_name_plural = "Ansprechpersonen"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["company", "user"], name="accounts_company_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"


class AccessToken(models.Model):
    """A personal access token; only its SHA-256 hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Zugangstoken"
        verbose_name_plural = "Zugangstoken"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Block(models.Model):
    """`blocker` no longer accepts direct messages from `blocked`."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Blockierung"
        verbose_name_plural = "Blockierungen"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="accounts_block_once")
        ]

    def __str__(self) -> str:
        return f"{self.blocker} blockiert {self.blocked}"


class UserSession(models.Model):
    """A signed-in browser: lets the person see and end their sessions, and lets a
    password change end all the others (Django's session table has no user column)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="browser_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Sitzung"
        verbose_name_plural = "Sitzungen"

    def __str__(self) -> str:
        return f"Sitzung von {self.user}"
