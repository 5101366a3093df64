"""Stored notifications; each row is also the outbox entry for its e-mail.

A notification is written in the same transaction as its cause. Live delivery happens
after the commit (best effort); the e-mail is owed from `email_due_at` on, unless the
person read it first, and `emailed_at` records that it went out (sent once).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    class Kind(models.TextChoices):
        JOIN_REQUEST = "join_request", "Beitrittsanfrage"
        JOIN_APPROVED = "join_approved", "Beitritt angenommen"
        JOIN_DECLINED = "join_declined", "Beitritt abgelehnt"
        DIRECT_MESSAGE = "direct_message", "Direktnachricht"
        MENTION = "mention", "Erwähnung"
        ROLE_CHANGED = "role_changed", "Rolle geändert"
        INVITATION = "invitation", "Einladung"
        COMPANY_CLAIM = "company_claim", "Neue Ansprechperson"
        MATCH = "match", "Passender Eintrag"
        UNANSWERED = "unanswered", "Unbeantwortete Frage"
        GROUP_QUIET = "group_quiet", "Stille Gruppe"
        REPLY = "reply", "Antwort"
        WARNING = "warning", "Verwarnung"
        MEMBER_REMOVED = "member_removed", "Aus der Gruppe entfernt"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    data = models.JSONField(default=dict)
    # What this is about ("join_request:17"): the same thing is never stored twice.
    dedupe_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_due_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Benachrichtigung"
        verbose_name_plural = "Benachrichtigungen"
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notifications_once_per_thing"
            )
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["email_due_at"],
                condition=models.Q(emailed_at__isnull=True, read_at__isnull=True),
                name="notifications_email_owed",
            ),
            models.Index(fields=["recipient", "read_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} für {self.recipient}"
