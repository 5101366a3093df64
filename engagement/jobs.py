"""The periodic jobs `netzn_cron` runs (registered in `engagement/cron.py`).

Each takes the moment of the run, so tests drive them with a chosen clock, and
returns how many things it did (e-mails, notifications) and a German one-line summary
for the log and `JobRun.summary`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from board.actions import do_expire_posts
from chat.actions import author_ref, preview
from engagement.actions import do_nudge_quiet_group, do_route_question
from engagement.digest import send_digests
from engagement.models import QuietSpell
from engagement.questions import (
    ROUTING_LOOKBACK,
    is_question,
    message_path,
    recipients_for,
    unanswered_after,
    unanswered_group_messages,
)
from engagement.suggestions import people_for_group
from engagement.weekly import send_catch_ups
from groups.models import Group, Membership
from notifications.emails import send_due_emails

QUIET_AFTER = timedelta(days=14)


def send_notification_emails(now: datetime) -> tuple[int, str]:
    result = send_due_emails(now=now)
    return len(result.sent) + len(result.failed), (
        f"{len(result.sent)} E-Mails gesendet, {len(result.skipped)} übersprungen, "
        f"{len(result.failed)} fehlgeschlagen"
    )


def send_daily_digests(now: datetime) -> tuple[int, str]:
    run = send_digests(now=now)
    return (
        run.sent + run.failed,
        f"{run.sent} Zusammenfassungen, {run.quiet} ohne Neues, {run.failed} fehlgeschlagen",
    )


def send_weekly_catch_ups(now: datetime) -> tuple[int, str]:
    run = send_catch_ups(now=now)
    return (
        run.sent + run.failed,
        f"{run.sent} Wochen-E-Mails, {run.quiet} ohne Neues, {run.failed} fehlgeschlagen",
    )


def route_unanswered_questions(now: datetime) -> tuple[int, str]:
    """Questions older than `NETZN_UNANSWERED_AFTER_MINUTES` (but at most a week) that
    nobody else answered and that were not routed yet go to who can likely answer."""
    due_before = now - unanswered_after()
    candidates = (
        unanswered_group_messages(due_before - ROUTING_LOOKBACK, due_before)
        .filter(routed_question__isnull=True)
        .order_by("created_at")
    )
    routed = people = 0
    for message in candidates:
        if not is_question(message.body, message.post):
            continue
        group = message.conversation.group
        recipients = recipients_for(message, group)
        data = {
            "group": {"slug": group.slug, "name": group.name},
            "conversation": message.conversation_id,
            "message": message.pk,
            "seq": message.seq,
            "author": author_ref(message.author),
            "preview": preview(message.body),
            "asked_at": message.created_at.isoformat(),
            "url": message_path(group, message),
        }
        if do_route_question(
            message=message, group=group, recipients=recipients, data=data, at=now
        ):
            routed += 1
            people += len(recipients)
    questions = "offene Frage" if routed == 1 else "offene Fragen"
    return people, f"{routed} {questions} weitergegeben, {people} Personen gefragt"


def quiet_suggestions(group: Group) -> list[str]:
    """What an owner could do, concretely: a question, an offer, people to invite."""
    ideas = [
        "Stellen Sie eine Frage, die Ihre Mitglieder gerade beschäftigt"
        + (f", etwa zu „{group.topics[0]}“." if group.topics else "."),
        "Veröffentlichen Sie ein Angebot oder ein Gesuch Ihres Unternehmens in der Gruppe.",
    ]
    invitees = people_for_group(group)
    if invitees:
        names = ", ".join(f"{p['display_name']} ({p['reason']})" for p in invitees)
        ideas.append(f"Laden Sie passende Personen ein: {names}.")
    else:
        ideas.append("Laden Sie Kolleginnen und Kollegen aus dem Personenverzeichnis ein.")
    return ideas


def nudge_quiet_groups(now: datetime) -> tuple[int, str]:
    """Owners and admins of a group without a message for 14 days hear it once per
    quiet spell (the spell starts at the last message, or the founding)."""
    cutoff = now - QUIET_AFTER
    quiet = (
        Group.objects.filter(archived_at__isnull=True, created_at__lte=cutoff)
        .exclude(conversation__last_message_at__gt=cutoff)
        .select_related("conversation")
    )
    nudged = 0
    for group in quiet:
        since = group.conversation.last_message_at or group.created_at
        if QuietSpell.objects.filter(group=group, since=since).exists():
            continue
        managers = [
            membership.user
            for membership in Membership.objects.filter(
                group=group,
                role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
                user__is_active=True,
            ).select_related("user")
        ]
        days = (now - since).days
        data = {
            "group": {"slug": group.slug, "name": group.name},
            "quiet_days": days,
            "last_message_at": since.isoformat() if group.conversation.last_message_at else None,
            "suggestions": quiet_suggestions(group),
            "url": f"/gruppen/{group.slug}/",
        }
        if do_nudge_quiet_group(group=group, since=since, managers=managers, data=data, at=now):
            nudged += 1
    return nudged, f"{nudged} stille Gruppen angestoßen"


def expire_posts(now: datetime) -> tuple[int, str]:
    """Store "expired" on board posts past their last day (they left the open lists
    by themselves already) and refresh their cards in the discussions."""
    count = do_expire_posts()
    return count, f"{count} Gesuche und Angebote abgelaufen"
