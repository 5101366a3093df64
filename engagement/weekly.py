"""The weekly "Was Sie verpasst haben" e-mail (docs/engagement.md).

Who: active people with an address and single e-mails on ("Sofort"; people who chose
the daily digest get that instead, people with "Aus" nothing) who have not been on the
site for seven days (their last visit, not their last e-mail) and got no weekly e-mail
in the last seven days. Someone who visited in that week never gets it.

What: since their last visit (or the last weekly e-mail, whichever is later) the unread
messages in their groups, unread direct messages, notifications, open questions they
could answer, and groups suggested to them. Only something new since then causes an
e-mail; nothing of a group they are not a member of appears (suggestions carry public
facts only).

Sending and recording happen in one transaction holding the person's `PersonRhythm`
row lock, like the digest: two runs never send the same week twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts.models import EmailFrequency, User
from engagement.actions import do_record_weekly_sent, locked_rhythm
from engagement.digest import (
    GroupActivity,
    Item,
    MailRun,
    direct_messages,
    group_activity,
    mail_each,
)
from engagement.digest import other_notifications as unread_notifications
from engagement.models import PersonRhythm
from engagement.questions import OpenQuestion, questions_i_can_help_with
from engagement.suggestions import suggested_groups
from groups.models import Group
from notifications.emails import build_message
from notifications.presentation import absolute

logger = logging.getLogger(__name__)

IDLE_FOR = timedelta(days=7)
SUGGESTED_GROUPS = 3


@dataclass
class CatchUp:
    recipient: Any
    since: datetime
    groups: list[GroupActivity] = field(default_factory=list)
    direct_unread: int = 0
    direct_authors: list[str] = field(default_factory=list)
    direct_new: bool = False
    notifications: list[Item] = field(default_factory=list)
    questions: list[OpenQuestion] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    new_suggestions: int = 0

    @property
    def worth_sending(self) -> bool:
        return bool(
            self.groups
            or self.direct_new
            or self.notifications
            or any(q.message.created_at > self.since for q in self.questions)
            or self.new_suggestions
        )

    @property
    def subject(self) -> str:
        parts = []
        total = sum(group.count for group in self.groups)
        if total:
            parts.append(f"{total} neue {'Nachricht' if total == 1 else 'Nachrichten'}")
        if self.direct_unread:
            parts.append(
                f"{self.direct_unread} "
                f"{'Direktnachricht' if self.direct_unread == 1 else 'Direktnachrichten'}"
            )
        if self.questions:
            count = len(self.questions)
            parts.append(f"{count} offene {'Frage' if count == 1 else 'Fragen'}")
        subject = "netzn: Was Sie verpasst haben"
        return f"{subject} ({', '.join(parts)})" if parts else subject


def last_visit(user: Any, rhythm: PersonRhythm) -> datetime:
    return rhythm.last_seen_at or user.date_joined


def compose(user: Any, rhythm: PersonRhythm, *, now: datetime) -> CatchUp:
    since = max(last_visit(user, rhythm), rhythm.weekly_sent_at or last_visit(user, rhythm))
    catch_up = CatchUp(recipient=user, since=since)
    catch_up.groups = group_activity(user, since)
    catch_up.direct_unread, catch_up.direct_authors, catch_up.direct_new = direct_messages(
        user, since
    )
    catch_up.notifications = unread_notifications(user, since)
    catch_up.questions = questions_i_can_help_with(user, now=now, limit=3)
    catch_up.suggestions = suggested_groups(user, limit=SUGGESTED_GROUPS)
    slugs = [item["slug"] for item in catch_up.suggestions]
    catch_up.new_suggestions = Group.objects.filter(slug__in=slugs, created_at__gt=since).count()
    return catch_up


def send_catch_up(user_id: int, *, now: datetime, connection: Any = None) -> bool:
    """Compose and send one person's weekly e-mail if it is owed; True if sent."""
    with transaction.atomic():
        rhythm = locked_rhythm(user_id)
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or user.email_frequency != EmailFrequency.IMMEDIATE or not user.email:
            return False
        if last_visit(user, rhythm) > now - IDLE_FOR:
            return False
        if rhythm.weekly_sent_at is not None and rhythm.weekly_sent_at > now - IDLE_FOR:
            return False
        catch_up = compose(user, rhythm, now=now)
        if not catch_up.worth_sending:
            return False
        build_message(
            to=user,
            subject=catch_up.subject,
            template="engagement/email/weekly",
            context={
                "catch_up": catch_up,
                "site": absolute("/"),
                "inbox_url": absolute("/nachrichten/"),
                "centre_url": absolute("/benachrichtigungen/"),
                "questions": [(q, absolute(q.url)) for q in catch_up.questions],
                "suggestions": [(s, absolute(s["url"])) for s in catch_up.suggestions],
            },
            connection=connection,
        ).send()
        do_record_weekly_sent(rhythm=rhythm, at=now)
    return True


def idle_people(now: datetime) -> list[int]:
    """Who may be owed a weekly e-mail: idle for a week, none sent in the last one."""
    cutoff = now - IDLE_FOR
    seen_lately = Q(rhythm__last_seen_at__gt=cutoff)
    never_seen_and_new = Q(rhythm__last_seen_at__isnull=True, date_joined__gt=cutoff)
    weekly_lately = Q(rhythm__weekly_sent_at__gt=cutoff)
    return list(
        User.objects.filter(is_active=True, email_frequency=EmailFrequency.IMMEDIATE)
        .exclude(email="")
        .exclude(seen_lately | never_seen_and_new | weekly_lately)
        .values_list("pk", flat=True)
    )


def send_catch_ups(*, now: datetime) -> MailRun:
    return mail_each(idle_people(now), send_catch_up, now=now, what="weekly e-mail")
