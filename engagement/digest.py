"""The daily digest: a German summary of what happened in a person's groups.

It reads groups, chat and notifications, so it lives at the top layer (engagement/).
`netzn_cron` runs it once a day (docs/engagement.md); `python manage.py send_digests`
runs it by hand (docs/notifications.md). For each person
with `email_frequency == "digest"` it reports, since their last digest:

- new, unread messages per group (count, the last few lines with author names, link),
  for groups they did not set to "mentions" or "muted";
- open join requests in groups they own or administer;
- new members of their groups;
- unread direct messages (count and who wrote);
- other unread notifications since then (mentions, invitations, decisions on their
  requests, role changes): a digest reader gets no single e-mails, so these go here.

People with nothing new get no e-mail. Sending and recording it (`digest_sent_at` of
the person's `PersonRhythm`, through `do_record_digest_sent`) happen in one
transaction that holds that row's lock, so two runs never send the same
digest twice; a crash after the mail server accepted the e-mail and before the commit
is the one window in which the next run repeats it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts.models import EmailFrequency, User
from board.alerts import DailyAlert, daily_alerts, mark_digested
from chat.events import FORMER_MEMBER
from chat.formatting import plain_text
from chat.models import Conversation, Message, NotificationLevel, Participant
from engagement.actions import do_record_digest_sent, locked_rhythm
from groups.models import Group, JoinRequest, Membership
from notifications import presentation
from notifications.emails import build_message
from notifications.models import Notification
from notifications.presentation import absolute

logger = logging.getLogger(__name__)

# The first digest of a person looks back this far.
FIRST_DIGEST_LOOKBACK = timedelta(days=1)
LINES_PER_GROUP = 3
MAX_GROUPS = 20
MAX_NAMES = 10
LINE_CHARS = 160


@dataclass
class Line:
    author: str
    text: str
    created_at: datetime


@dataclass
class GroupActivity:
    name: str
    link: str
    count: int
    lines: list[Line]


@dataclass
class PendingRequests:
    group: str
    link: str
    names: list[str]
    new: int


@dataclass
class NewMembers:
    group: str
    link: str
    names: list[str]


@dataclass
class Item:
    summary: str
    detail: str
    link: str


@dataclass
class Digest:
    recipient: Any
    since: datetime
    groups: list[GroupActivity] = field(default_factory=list)
    requests: list[PendingRequests] = field(default_factory=list)
    members: list[NewMembers] = field(default_factory=list)
    direct_unread: int = 0
    direct_authors: list[str] = field(default_factory=list)
    direct_new: bool = False
    notifications: list[Item] = field(default_factory=list)
    board_alerts: list[DailyAlert] = field(default_factory=list)

    @property
    def worth_sending(self) -> bool:
        """Something new since the last digest. Requests still open from before are
        listed as reminders, but alone they do not cause another e-mail every day."""
        return bool(
            self.groups
            or self.members
            or self.direct_new
            or self.notifications
            or self.board_alerts
            or any(requests.new for requests in self.requests)
        )

    @property
    def subject(self) -> str:
        parts = []
        total = sum(group.count for group in self.groups)
        if total:
            parts.append(f"{total} neue {'Nachricht' if total == 1 else 'Nachrichten'}")
        open_requests = sum(len(requests.names) for requests in self.requests)
        if open_requests:
            parts.append(
                f"{open_requests} offene {'Anfrage' if open_requests == 1 else 'Anfragen'}"
            )
        joined = sum(len(members.names) for members in self.members)
        if joined:
            parts.append(f"{joined} {'neues Mitglied' if joined == 1 else 'neue Mitglieder'}")
        if self.notifications:
            count = len(self.notifications)
            parts.append(f"{count} {'Benachrichtigung' if count == 1 else 'Benachrichtigungen'}")
        if self.board_alerts:
            hits = len(self.board_alerts)
            parts.append(f"{hits} {'neuer Treffer' if hits == 1 else 'neue Treffer'}")
        if self.direct_unread:
            parts.append(
                f"{self.direct_unread} ungelesene "
                f"{'Direktnachricht' if self.direct_unread == 1 else 'Direktnachrichten'}"
            )
        return "netzn: Ihre Zusammenfassung (" + ", ".join(parts) + ")"


def one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1].rstrip() + "…"


def group_activity(user: Any, since: datetime) -> list[GroupActivity]:
    """New unread messages by others in the person's groups (level "all" only)."""
    participations = list(
        Participant.objects.filter(
            user=user,
            conversation__kind=Conversation.Kind.GROUP,
            notification_level=NotificationLevel.ALL,
            conversation__last_message_at__gt=since,
        ).select_related("conversation", "conversation__group")
    )
    result = []
    for participation in participations:
        conversation = participation.conversation
        group: Group | None = getattr(conversation, "group", None)
        if group is None or group.archived_at is not None:
            continue
        new = Message.objects.filter(
            conversation=conversation,
            seq__gt=participation.last_read_seq,
            created_at__gt=since,
            deleted_at__isnull=True,
            hidden_at__isnull=True,
        ).exclude(author=user)
        count = new.count()
        if not count:
            continue
        latest = list(new.select_related("author").order_by("-seq")[:LINES_PER_GROUP])
        result.append(
            GroupActivity(
                name=group.name,
                link=absolute(f"/gruppen/{group.slug}/"),
                count=count,
                lines=[
                    Line(
                        author=m.author.display_name if m.author else FORMER_MEMBER,
                        text=one_line(plain_text(m.body)),
                        created_at=m.created_at,
                    )
                    for m in reversed(latest)
                ],
            )
        )
    result.sort(key=lambda activity: -activity.count)
    return result[:MAX_GROUPS]


def pending_requests(user: Any, since: datetime) -> list[PendingRequests]:
    """Open join requests in groups the person owns or administers."""
    managed = Membership.objects.filter(
        user=user, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
    ).values("group_id")
    requests = (
        JoinRequest.objects.filter(group_id__in=managed, status=JoinRequest.Status.PENDING)
        .select_related("group", "user")
        .order_by("group__name", "created_at")
    )
    by_group: dict[int, PendingRequests] = {}
    for request in requests:
        entry = by_group.setdefault(
            request.group_id,
            PendingRequests(
                group=request.group.name,
                link=absolute(f"/gruppen/{request.group.slug}/anfragen/"),
                names=[],
                new=0,
            ),
        )
        entry.names.append(request.user.display_name)
        if request.created_at > since:
            entry.new += 1
    return list(by_group.values())[:MAX_GROUPS]


def new_members(user: Any, since: datetime) -> list[NewMembers]:
    """People who joined the person's groups since the last digest."""
    my_groups = Membership.objects.filter(user=user).values("group_id")
    joined = (
        Membership.objects.filter(group_id__in=my_groups, joined_at__gt=since)
        .exclude(user=user)
        .filter(group__archived_at__isnull=True)
        .select_related("group", "user")
        .order_by("group__name", "joined_at")
    )
    by_group: dict[int, NewMembers] = {}
    for membership in joined:
        entry = by_group.setdefault(
            membership.group_id,
            NewMembers(
                group=membership.group.name,
                link=absolute(f"/gruppen/{membership.group.slug}/"),
                names=[],
            ),
        )
        if len(entry.names) < MAX_NAMES:
            entry.names.append(membership.user.display_name)
    return list(by_group.values())[:MAX_GROUPS]


def direct_messages(user: Any, since: datetime) -> tuple[int, list[str], bool]:
    """Unread direct messages: how many, from whom, and whether any is new."""
    participations = Participant.objects.filter(
        user=user, conversation__kind=Conversation.Kind.DIRECT
    ).values("conversation_id", "last_read_seq")
    unread = Q()
    for participation in participations:
        unread |= Q(
            conversation_id=participation["conversation_id"],
            seq__gt=participation["last_read_seq"],
        )
    if not unread:
        return 0, [], False
    messages = Message.objects.filter(
        unread, deleted_at__isnull=True, hidden_at__isnull=True
    ).exclude(author=user)
    summary = messages.aggregate(count=Count("pk"), newest=Max("created_at"))
    authors = list(
        messages.order_by().values_list("author__display_name", flat=True).distinct()[:MAX_NAMES]
    )
    authors = [name or FORMER_MEMBER for name in authors]
    newest = summary["newest"]
    return summary["count"] or 0, sorted(authors), bool(newest and newest > since)


# Covered by their own sections above.
SECTION_KINDS = (Notification.Kind.DIRECT_MESSAGE, Notification.Kind.JOIN_REQUEST)
MAX_ITEMS = 20


def other_notifications(user: Any, since: datetime) -> list[Item]:
    """Unread notifications since the last digest that no section above covers."""
    notifications = list(
        Notification.objects.filter(recipient=user, read_at__isnull=True, created_at__gt=since)
        .exclude(kind__in=SECTION_KINDS)
        .order_by("created_at")[:MAX_ITEMS]
    )
    return [
        Item(
            summary=presentation.summary(n),
            detail=presentation.detail(n),
            link=absolute(presentation.target_path(n)),
        )
        for n in notifications
    ]


def compose(user: Any, *, since: datetime | None, now: datetime) -> Digest:
    since = since or (now - FIRST_DIGEST_LOOKBACK)
    digest = Digest(recipient=user, since=since)
    digest.groups = group_activity(user, since)
    digest.requests = pending_requests(user, since)
    digest.members = new_members(user, since)
    digest.direct_unread, digest.direct_authors, digest.direct_new = direct_messages(user, since)
    digest.notifications = other_notifications(user, since)
    digest.board_alerts = daily_alerts(user)
    return digest


def send_digest(user_id: int, *, now: datetime | None = None, connection: Any = None) -> bool:
    """Compose and send one person's digest; True if an e-mail went out.

    Runs in one transaction that locks the person's row: it re-checks the preference,
    sends, and records the sending (`do_record_digest_sent`)."""
    moment = now or timezone.now()
    with transaction.atomic():
        rhythm = locked_rhythm(user_id)
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or user.email_frequency != EmailFrequency.DIGEST or not user.email:
            return False
        if rhythm.digest_sent_at is not None and rhythm.digest_sent_at >= moment:
            return False
        digest = compose(user, since=rhythm.digest_sent_at, now=moment)
        if not digest.worth_sending:
            return False
        build_message(
            to=user,
            subject=digest.subject,
            template="digest",
            context={
                "digest": digest,
                "centre_url": absolute("/benachrichtigungen/"),
                "inbox_url": absolute("/nachrichten/"),
            },
            connection=connection,
        ).send()
        do_record_digest_sent(rhythm=rhythm, at=moment)
        mark_digested(user, moment)
    return True


@dataclass
class MailRun:
    """What one run of a per-person e-mail job did."""

    sent: int = 0
    quiet: int = 0
    failed: int = 0


def mail_each(
    user_ids: Iterable[int], send_one: Callable[..., bool], *, now: datetime, what: str
) -> MailRun:
    """`send_one(user_id, now=, connection=)` for each person over one SMTP connection;
    one person's failure stops no one."""
    run = MailRun()
    connection = get_connection()
    try:
        for user_id in user_ids:
            try:
                sent = send_one(user_id, now=now, connection=connection)
            except Exception:
                logger.exception("the %s for person %s failed", what, user_id)
                run.failed += 1
                continue
            if sent:
                run.sent += 1
            else:
                run.quiet += 1
    finally:
        connection.close()
    return run


def send_digests(*, now: datetime | None = None) -> MailRun:
    """Send the digest to everyone who wants it."""
    people = User.objects.filter(is_active=True, email_frequency=EmailFrequency.DIGEST).values_list(
        "pk", flat=True
    )
    return mail_each(list(people), send_digest, now=now or timezone.now(), what="digest")
