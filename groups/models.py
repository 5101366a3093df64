"""Topic groups, memberships with roles, join requests and invitations."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from chat.models import Conversation


class Group(models.Model):
    class Visibility(models.TextChoices):
        OPEN = "open", "Offen"
        CLOSED = "closed", "Geschlossen"

    name = models.CharField("Name", max_length=120)
    slug = models.SlugField("Kürzel", max_length=80, unique=True)
    description = models.TextField("Beschreibung", max_length=4000, blank=True)
    topics = models.JSONField("Themen", default=list, blank=True)
    city = models.CharField("Ort oder Region", max_length=100, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility, default=Visibility.OPEN)
    conversation = models.OneToOneField(
        Conversation, on_delete=models.PROTECT, related_name="group"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Gruppe"
        verbose_name_plural = "Gruppen"
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("name"), name="groups_group_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Inhaber"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Mitglied"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Mitgliedschaft"
        verbose_name_plural = "Mitgliedschaften"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["group", "user"], name="groups_membership_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role})"


class JoinRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Offen"
        APPROVED = "approved", "Angenommen"
        DECLINED = "declined", "Abgelehnt"
        WITHDRAWN = "withdrawn", "Zurückgezogen"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests"
    )
    message = models.TextField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(max_length=1000, blank=True)

    class Meta:
        verbose_name = "Beitrittsanfrage"
        verbose_name_plural = "Beitrittsanfragen"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=models.Q(status="pending"),
                name="groups_one_pending_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.group} ({self.status})"


class Invitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Offen"
        ACCEPTED = "accepted", "Angenommen"
        DECLINED = "declined", "Abgelehnt"
        REVOKED = "revoked", "Zurückgenommen"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Einladung"
        verbose_name_plural = "Einladungen"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=models.Q(status="pending"),
                name="groups_one_pending_invitation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ← {self.group} ({self.status})"
