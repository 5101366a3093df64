"""What engagement keeps for itself: when a person was last here and last e-mailed,
which questions were brought to someone, and when each periodic job last ran.

These rows are bookkeeping of the jobs (docs/engagement.md); the content they talk
about stays in the apps below (messages in chat, groups in groups, people in accounts).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class PersonRhythm(models.Model):
    """Per person: the last visit (HTTP page or WebSocket hello, written at most every
    few minutes) and when the daily digest and the weekly catch-up last went out."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rhythm"
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    digest_sent_at = models.DateTimeField(null=True, blank=True)
    weekly_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Aktivität einer Person"
        verbose_name_plural = "Aktivität der Personen"
        indexes: ClassVar = [models.Index(fields=["last_seen_at"])]

    def __str__(self) -> str:
        return f"Aktivität von {self.user}"


class RoutedQuestion(models.Model):
    """A group message that asked something and got no reply in time: brought to the
    people who can likely answer, once (the unique message is the guarantee)."""

    message = models.OneToOneField(
        "chat.Message", on_delete=models.CASCADE, related_name="routed_question"
    )
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+")
    routed_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "Weitergeleitete Frage"
        verbose_name_plural = "Weitergeleitete Fragen"

    def __str__(self) -> str:
        return f"Frage {self.message_id} ({self.recipients} gefragt)"


class QuietSpell(models.Model):
    """A group without messages since `since`: its owners and admins were nudged once
    for this spell; the next message ends the spell, the next silence is a new one."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()
    nudged_at = models.DateTimeField()

    class Meta:
        verbose_name = "Stille Phase einer Gruppe"
        verbose_name_plural = "Stille Phasen der Gruppen"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["group", "since"], name="engagement_quiet_once")
        ]

    def __str__(self) -> str:
        return f"{self.group} still seit {self.since:%Y-%m-%d}"


class JobRun(models.Model):
    """When a periodic job of `netzn_cron` last started and finished."""

    name = models.CharField(max_length=60, primary_key=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "Periodische Aufgabe"
        verbose_name_plural = "Periodische Aufgaben"

    def __str__(self) -> str:
        return self.name
