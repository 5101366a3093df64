"""Network health: the figures that say whether netzn is alive (docs/protocol.md 1.1,
`GET /network/health`, and the staff page; docs/engagement.md has the definitions).

Counts only, for site staff: no figure names a group, a person or a message, so
nothing of a closed group leaves it (its messages count in the totals like any other).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Subquery

from accounts.models import User
from board.models import Post
from chat.models import Conversation, Message
from engagement.jobs import QUIET_AFTER
from engagement.models import PersonRhythm
from engagement.questions import answers, is_question
from groups.models import Group
from notifications.models import Notification

ALLOWED_DAYS = (7, 30, 90)
MAX_DAYS = 365


@dataclass
class Question:
    asked_at: datetime
    first_reply_at: datetime | None

    @property
    def reply_minutes(self) -> float | None:
        if self.first_reply_at is None:
            return None
        return (self.first_reply_at - self.asked_at).total_seconds() / 60


def questions_between(start: datetime, end: datetime) -> list[Question]:
    """Group questions asked in [start, end) with the time of their first answer."""
    first_reply = answers().order_by("seq").values("created_at")[:1]
    rows = (
        Message.objects.filter(
            conversation__kind=Conversation.Kind.GROUP,
            created_at__gte=start,
            created_at__lt=end,
            deleted_at__isnull=True,
        )
        .annotate(first_reply_at=Subquery(first_reply))
        .values_list("body", "post", "created_at", "first_reply_at")
    )
    return [
        Question(asked_at=created_at, first_reply_at=reply)
        for body, post, created_at, reply in rows.iterator()
        if is_question(body, post)
    ]


def answered_pct(questions: list[Question]) -> float | None:
    if not questions:
        return None
    answered = sum(1 for q in questions if q.first_reply_at is not None)
    return round(100 * answered / len(questions), 1)


def median_minutes(questions: list[Question]) -> float | None:
    minutes = [m for q in questions if (m := q.reply_minutes) is not None]
    return round(median(minutes), 1) if minutes else None


def active_people(start: datetime, end: datetime) -> int:
    """People who visited or wrote in [start, end)."""
    writers = set(
        Message.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("author_id", flat=True)
        .distinct()
    )
    visitors = set(
        PersonRhythm.objects.filter(
            last_seen_at__gte=start, last_seen_at__lt=end, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    return len(writers | visitors)


def health(*, days: int, now: datetime) -> dict[str, Any]:
    """The contract's figures for the last `days` days up to `now`."""
    start = now - timedelta(days=days)
    questions = questions_between(start, now)
    messages = Message.objects.filter(created_at__gte=start, created_at__lt=now)
    live_groups = Group.objects.filter(archived_at__isnull=True)
    quiet_since = now - QUIET_AFTER
    return {
        "days": days,
        "active_people": active_people(start, now),
        "new_people": User.objects.filter(
            is_active=True, date_joined__gte=start, date_joined__lt=now
        ).count(),
        "messages": messages.filter(deleted_at__isnull=True).count(),
        "questions": len(questions),
        "questions_answered_pct": answered_pct(questions),
        "median_first_reply_minutes": median_minutes(questions),
        # Posts and matches of the board of offers and requests ("Gesuche und
        # Angebote"): matches are its `match` notifications.
        "posts": Post.objects.filter(created_at__gte=start, created_at__lt=now).count(),
        "matches": Notification.objects.filter(
            kind="match", created_at__gte=start, created_at__lt=now
        ).count(),
        "groups_active": live_groups.filter(
            conversation__messages__created_at__gte=start,
            conversation__messages__created_at__lt=now,
        )
        .distinct()
        .count(),
        "groups_quiet": live_groups.filter(created_at__lte=quiet_since)
        .exclude(conversation__last_message_at__gt=quiet_since)
        .count(),
    }


@dataclass
class Week:
    start: datetime
    messages: int
    active_people: int
    answered_pct: float | None
    median_reply_minutes: float | None

    @property
    def label(self) -> str:
        return f"{self.start:%d.%m.}"


def weeks(*, days: int, now: datetime) -> list[Week]:
    """Per calendar week (Monday, Europe/Berlin) of the period: messages, people who
    wrote, share of questions answered, median minutes to the first reply."""
    zone = ZoneInfo(settings.TIME_ZONE)
    local_start = (now - timedelta(days=days)).astimezone(zone)
    monday = datetime.combine(
        (local_start - timedelta(days=local_start.weekday())).date(), datetime.min.time(), zone
    )
    result = []
    while monday < now:
        end = min(monday + timedelta(days=7), now)
        begin = max(monday, now - timedelta(days=days))
        week_messages = Message.objects.filter(created_at__gte=begin, created_at__lt=end)
        questions = questions_between(begin, end)
        result.append(
            Week(
                start=monday,
                messages=week_messages.filter(deleted_at__isnull=True).count(),
                active_people=week_messages.values("author_id").distinct().count(),
                answered_pct=answered_pct(questions),
                median_reply_minutes=median_minutes(questions),
            )
        )
        monday = monday + timedelta(days=7)
    return result
