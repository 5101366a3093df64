"""Offers and requests (Gesuche und Angebote) in groups, matches and saved searches.

A post belongs to a group and is visible exactly to those who may read the group's
conversation (`board/access.py`). Its typed fields are kept as JSON for the API and,
for matching and filtering, copied into plain indexed columns by the actions (place,
destination, dates, capacity, occupation). "Expired" is computed from `expires_on`
in every query; no job has to run for a post to leave the open list.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Kind(models.TextChoices):
    OFFER = "offer", "Angebot"
    REQUEST = "request", "Gesuch"


class Category(models.TextChoices):
    FREIGHT = "freight", "Fracht & Laderaum"
    APPRENTICESHIP = "apprenticeship", "Ausbildungsplatz"
    OTHER = "other", "Sonstiges"


class Status(models.TextChoices):
    OPEN = "open", "Offen"
    FILLED = "filled", "Vergeben"
    WITHDRAWN = "withdrawn", "Zurückgezogen"
    EXPIRED = "expired", "Abgelaufen"


class Post(models.Model):
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="board_posts"
    )
    # The author's company as it was when posting (shown on the card).
    company = models.CharField(max_length=160, blank=True)
    kind = models.CharField(max_length=10, choices=Kind)
    category = models.CharField(max_length=20, choices=Category)
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=4000, blank=True)
    fields = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    valid_until = models.DateField(null=True, blank=True)
    # The last day the post is open: valid_until, for freight the earlier of it and
    # `latest`. After this day (Europe/Berlin) the post is expired.
    expires_on = models.DateField(null=True, blank=True)
    message = models.ForeignKey(
        "chat.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Copies of the typed fields for matching and filters (set by the actions only).
    place_postcode = models.CharField(max_length=5, blank=True)
    place_region = models.CharField(max_length=2, blank=True)
    place_city = models.CharField(max_length=100, blank=True)  # folded: board.occupations.fold
    dest_postcode = models.CharField(max_length=5, blank=True)
    dest_region = models.CharField(max_length=2, blank=True)
    dest_city = models.CharField(max_length=100, blank=True)  # folded: board.occupations.fold
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    earliest = models.DateField(null=True, blank=True)
    latest = models.DateField(null=True, blank=True)
    loading_metres = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    weight_t = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    adr = models.BooleanField(default=False)
    occupation = models.CharField(max_length=160, blank=True)
    # What the free-text search reads besides title and body (cities, occupation,
    # category words); PostgreSQL indexes it with the German configuration
    # (migration 0001, `board.filters.POST_DOCUMENT_SQL`).
    search_text = models.TextField(blank=True)
    # The key fields in one German line (`board.presentation.summary`), stored with the
    # post (its fields never change) so a board page does not format 50 of them.
    summary = models.TextField(blank=True)

    class Meta:
        verbose_name = "Eintrag"
        verbose_name_plural = "Gesuche und Angebote"
        indexes: ClassVar = [
            models.Index(fields=["-created_at", "-id"], name="board_post_newest"),
            models.Index(fields=["group", "-created_at"], name="board_post_group_newest"),
            models.Index(
                fields=["category", "kind", "place_region", "dest_region"],
                condition=Q(status="open"),
                name="board_post_open_match",
            ),
            models.Index(
                fields=["category", "kind", "place_city", "dest_city"],
                condition=Q(status="open"),
                name="board_post_open_cities",
            ),
            models.Index(
                fields=["category", "kind", "occupation", "place_region"],
                condition=Q(status="open"),
                name="board_post_open_occupation",
            ),
            # The postcode-area filter (`LIKE '44%'` on either postcode): prefix
            # searchable whatever the collation (PostgreSQL's pattern operator class;
            # other databases ignore it).
            models.Index(
                fields=["place_postcode"],
                opclasses=["varchar_pattern_ops"],
                condition=Q(status="open"),
                name="board_post_open_place_code",
            ),
            models.Index(
                fields=["dest_postcode"],
                opclasses=["varchar_pattern_ops"],
                condition=Q(status="open"),
                name="board_post_open_dest_code",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SavedSearch(models.Model):
    class Alert(models.TextChoices):
        IMMEDIATE = "immediate", "Sofort"
        DAILY = "daily", "Täglich"
        OFF = "off", "Aus"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_searches"
    )
    name = models.CharField(max_length=120)
    filters = models.JSONField(default=dict)
    alert = models.CharField(max_length=10, choices=Alert, default=Alert.IMMEDIATE)
    created_at = models.DateTimeField(default=timezone.now)
    # Copies of the filters for matching a new post in one query ("" / null: any).
    kind = models.CharField(max_length=10, blank=True)
    category = models.CharField(max_length=20, blank=True)
    group = models.ForeignKey(
        "groups.Group", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    city = models.CharField(max_length=100, blank=True)  # folded (board.occupations.fold)
    postcode = models.CharField(max_length=5, blank=True)  # a prefix of 1-5 digits
    occupation = models.CharField(max_length=160, blank=True)
    q = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "Gespeicherte Suche"
        verbose_name_plural = "Gespeicherte Suchen"
        indexes: ClassVar = [
            models.Index(
                fields=["category", "kind"],
                condition=~Q(alert="off"),
                name="board_search_alerting",
            ),
            # Matching a new post (board.matching.fitting_searches) reads a search
            # through the one of these that names what makes it fit.
            models.Index(
                fields=["city"],
                condition=~Q(alert="off") & ~Q(city=""),
                name="board_search_by_city",
            ),
            models.Index(
                fields=["postcode"],
                condition=~Q(alert="off") & ~Q(postcode=""),
                name="board_search_by_postcode",
            ),
            models.Index(
                fields=["occupation"],
                condition=~Q(alert="off") & ~Q(occupation=""),
                name="board_search_by_occupation",
            ),
            models.Index(
                fields=["id"],
                condition=~Q(alert="off") & ~Q(q=""),
                name="board_search_with_words",
            ),
            models.Index(
                fields=["category", "kind"],
                condition=~Q(alert="off") & Q(city="", postcode="", occupation="", q=""),
                name="board_search_broad",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Match(models.Model):
    """A new post fitted an older post of the opposite kind or a saved search, and
    the older post's author or the search's owner was told (or, for a daily search,
    will be in the digest). One row per pair: the constraints make "never twice"
    hold under concurrency too."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="matches")
    # No index of its own: `board_match_recent` (recipient, -created_at) serves every
    # lookup by recipient, and a create inserts about 90 rows (one index fewer each).
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="board_matches",
        db_index=False,
    )
    other = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="matched_by"
    )
    search = models.ForeignKey(
        SavedSearch, on_delete=models.CASCADE, null=True, blank=True, related_name="matches"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # For a daily search: when the digest carried it (null: still owed).
    digested_at = models.DateTimeField(null=True, blank=True)
    daily = models.BooleanField(default=False)

    class Meta:
        verbose_name = "Treffer"
        verbose_name_plural = "Treffer"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["post", "other"],
                condition=Q(other__isnull=False),
                name="board_match_post_pair_once",
            ),
            models.UniqueConstraint(
                fields=["post", "search"],
                condition=Q(search__isnull=False),
                name="board_match_search_once",
            ),
            models.CheckConstraint(
                condition=Q(other__isnull=False) | Q(search__isnull=False),
                name="board_match_has_counterpart",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(daily=True, digested_at__isnull=True),
                name="board_match_daily_owed",
            ),
            models.Index(fields=["recipient", "-created_at"], name="board_match_recent"),
        ]

    def __str__(self) -> str:
        return f"Treffer {self.post_id} für {self.recipient_id}"


class Contact(models.Model):
    """Someone pressed "Interesse": the direct message that refers to the post (its
    card follows the post's status)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="contacts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_contacts"
    )
    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Interesse"
        verbose_name_plural = "Interessen"

    def __str__(self) -> str:
        return f"{self.user_id} → {self.post_id}"
