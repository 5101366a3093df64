"""Conversations, their participants, messages and read markers.

`chat` knows nothing of `groups`: a conversation carries its own participants and
whether every signed-in person may read it (`readable_by_all`, an open group); the
groups actions keep both in step with memberships and visibility.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class NotificationLevel(models.TextChoices):
    ALL = "all", "Alle Nachrichten"
    MENTIONS = "mentions", "Nur Erwähnungen"
    MUTED = "muted", "Stumm"


class Conversation(models.Model):
    class Kind(models.TextChoices):
        GROUP = "group", "Gruppe"
        DIRECT = "direct", "Direktnachricht"

    kind = models.CharField(max_length=10, choices=Kind)
    title = models.CharField(max_length=160, blank=True)
    readable_by_all = models.BooleanField(default=False)
    # An archived group's conversation: history stays readable, nobody writes.
    read_only = models.BooleanField(default=False)
    # A direct conversation's participant ids, sorted and joined by ":" ("3:17", or
    # "3:9:17" for a group direct conversation): one per set of two to nine people.
    direct_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Unterhaltung"
        verbose_name_plural = "Unterhaltungen"

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} {self.pk}"


class Participant(models.Model):
    """Who may write to a conversation, with the read marker and notification level."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    last_read_seq = models.PositiveBigIntegerField(default=0)
    notification_level = models.CharField(
        max_length=10, choices=NotificationLevel, default=NotificationLevel.ALL
    )
    # May delete others' messages (group owners and admins; kept in step by the
    # groups actions through `chat.actions.do_set_moderator`).
    can_moderate = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["conversation", "user"], name="chat_participant_once")
        ]
        indexes: ClassVar = [models.Index(fields=["user", "conversation"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveBigIntegerField()
    # Null once the author deleted their account: the message stays for the others,
    # shown as by "Ehemaliges Mitglied" (docs/privacy.md).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    body = models.TextField(max_length=4000)
    # `body` rendered once by chat.formatting.formatted_html when stored or edited
    # (never per reader): "" for plain text; null for rows stored before formatting
    # existed, which render on reading.
    body_html = models.TextField(null=True, blank=True)  # noqa: DJ001 - null: not rendered yet
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The card of a board post this message shows (a post in its group, or a post an
    # "Interesse" message refers to): `{"id","kind","category","title","status",...}`,
    # written by the board app through the chat actions; chat knows nothing of posts.
    post = models.JSONField(null=True, blank=True)
    # The message of the same conversation this one answers (docs/replies-reactions.md);
    # a deleted original keeps the link and shows an empty excerpt.
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    # Hidden by a moderator of the conversation after a report: gone for everyone
    # (shown like a deleted message), the text kept for the audit (docs/formatting-moderation.md).
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "Nachricht"
        verbose_name_plural = "Nachrichten"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="chat_message_seq_unique"),
            models.UniqueConstraint(
                fields=["author", "client_id"], name="chat_message_client_id_unique"
            ),
        ]
        # The engagement jobs (digests, quiet groups, network health) filter by time.
        indexes: ClassVar = [models.Index(fields=["created_at"], name="chat_message_created_at")]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.conversation}"


class Reaction(models.Model):
    """One person's emoji on a message (PROTOCOL.md 1.1, "Reactions"); the allowed set
    is `chat.reactions.ALLOWED_EMOJI`. Set twice it is still one row."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
    emoji = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Reaktion"
        verbose_name_plural = "Reaktionen"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="chat_reaction_once")
        ]

    def __str__(self) -> str:
        return f"{self.emoji} zu {self.message}"


class MessageReport(models.Model):
    """A message someone reported; the moderation queue in Django's admin."""

    class Status(models.TextChoices):
        OPEN = "open", "Offen"
        RESOLVED = "resolved", "Erledigt"
        DISMISSED = "dismissed", "Verworfen"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    reason = models.TextField(max_length=1000, blank=True)
    # The text as reported: the author may delete (and so erase) the message later.
    body_snapshot = models.TextField(max_length=4000, blank=True)

    class Decision(models.TextChoices):
        HIDE = "hide", "Nachricht ausgeblendet"
        WARN = "warn", "Verfasser verwarnt"
        REMOVE = "remove", "Aus der Gruppe entfernt"
        DISMISS = "dismiss", "Verworfen"

    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Who closed the report and how (a group's owner or admin, or site staff in the
    # admin, who set no decision): the audit of the group moderation.
    decision = models.CharField(max_length=10, choices=Decision, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "Gemeldete Nachricht"
        verbose_name_plural = "Gemeldete Nachrichten"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["message", "reporter"], name="chat_report_once")
        ]
        indexes: ClassVar = [
            models.Index(fields=["status", "message"], name="chat_report_status_idx")
        ]

    def __str__(self) -> str:
        return f"Meldung zu {self.message}"


class Attachment(models.Model):
    """A file uploaded to a conversation for a message (docs/attachments.md).

    Uploaded first (`message` null: pending, only its uploader may attach it, deleted
    by `netzn_cron` after 24 hours), then linked by the send that carries its id. The
    file and its thumbnail live in Django's default storage under names the server
    makes; `name` is the sanitised name people see, never a storage path."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="attachments"
    )
    # Null once the uploader's account is deleted (the file stays with its message).
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    # Its place among the message's files: the order of the ids in the send.
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    file = models.FileField(max_length=200)
    thumbnail = models.FileField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Anhang"
        verbose_name_plural = "Anhänge"
        ordering: ClassVar = ["position", "pk"]
        indexes: ClassVar = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(message__isnull=True),
                name="chat_attachment_pending",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
