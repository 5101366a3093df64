"""Questions in groups: which messages ask something, whether they got an answer,
and who can likely answer them (docs/engagement.md, "Questions get answered").

A message asks something when it has a question mark, starts with a German question
word ("Wer", "Wie", "Welche" ...) or asks for someone ("Kennt jemand", "Hat jemand",
"Gibt es"). It is answered once someone else wrote in the same conversation after it, unless that
later message only asks a question of its own (has a question mark and does not
`@`-name the asker): netzn's conversations have no threads (a reply is the next
message), so that is the answer people see; we rather miss a question than nag a
group that is talking.

Only members of the group are ever chosen: the people who may read a closed group's
question are its members, and nobody else learns it exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat

from accounts.models import Block, CompanyMember
from chat.models import Conversation, Message, NotificationLevel, Participant
from engagement.models import PersonRhythm
from groups.models import Group, Membership

QUESTION_WORDS = frozenset(
    {
        "wer",
        "wen",
        "wem",
        "wessen",
        "wie",
        "was",
        "wo",
        "wann",
        "warum",
        "weshalb",
        "wieso",
        "weswegen",
        "welche",
        "welcher",
        "welches",
        "welchen",
        "welchem",
        "woher",
        "wohin",
        "womit",
        "wozu",
        "worüber",
        "wofür",
    }
)
ASKING = re.compile(
    r"\b(kennt|hat|weiß|weiss|kann|könnte|sucht|braucht|hätte)\s+(jemand|jemanden|wer|einer|eine)\b"
    r"|\bgibt\s+es\b|\bsuche[n]?\s+(ich|wir)?\s*(eine[nm]?|jemand)",
    re.IGNORECASE,
)
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
EXPERTS_PER_QUESTION = 5
# Questions older than this are not routed any more (e.g. when cron was off for days).
ROUTING_LOOKBACK = timedelta(days=7)
# How long a question counts as open on the group page and the start page.
OPEN_FOR = timedelta(days=14)


ADDRESSED = re.compile(r"@\w", re.UNICODE)


def is_question(body: str, post: dict[str, Any] | None = None) -> bool:
    """Asks the group something: a board post of kind `request` (its card, `post`,
    rides on the message), or a text that asks. A question to someone by name
    (`@Name ...`) is not for the group: the named person already got a `mention`."""
    if post and post.get("kind") == "request":
        return True
    text = body.strip()
    if not text or ADDRESSED.search(text):
        return False
    if "?" in text:
        return True
    words = WORD.findall(text.casefold())
    if words and words[0] in QUESTION_WORDS:
        return True
    return bool(ASKING.search(text))


def unanswered_after() -> timedelta:
    return timedelta(minutes=settings.NETZN_UNANSWERED_AFTER_MINUTES)


def mentions_term(text: str, term: str) -> bool:
    """`term` begins a word of `text`, case-insensitively ("Ausbildung" is in
    "Ausbildungsplatz", "IT" is not in "mit")."""
    term = term.strip().casefold()
    if len(term) < 2:
        return False
    return re.search(r"(?<!\w)" + re.escape(term), text.casefold()) is not None


def responsibility_terms(responsibility: str) -> list[str]:
    """ "Ausbildung, Personal und Einkauf" -> ["Ausbildung", "Personal", "Einkauf"]."""
    parts = re.split(r"[,;/&+]|\bund\b", responsibility)
    return [part.strip() for part in parts if len(part.strip()) >= 2]


def answers() -> QuerySet[Message]:
    """The answers to the outer message: later messages (not deleted) in the same
    conversation by someone else that do not only ask back (no question mark), or that
    name the asker (`@Name`)."""
    return (
        Message.objects.filter(
            conversation=OuterRef("conversation"), seq__gt=OuterRef("seq"), deleted_at__isnull=True
        )
        .exclude(author=OuterRef("author"))
        .filter(
            ~Q(body__contains="?")
            | Q(body__icontains=Concat(Value("@"), OuterRef("author__display_name")))
        )
    )


def answered_later() -> Exists:
    return Exists(answers().values("pk"))


def unanswered_group_messages(since: datetime, until: datetime) -> QuerySet[Message]:
    """Group messages written in [since, until) that nobody else answered yet; the
    caller applies `is_question` to the body and the post card."""
    return (
        Message.objects.filter(
            conversation__kind=Conversation.Kind.GROUP,
            conversation__group__archived_at__isnull=True,
            created_at__gte=since,
            created_at__lt=until,
            deleted_at__isnull=True,
            hidden_at__isnull=True,
            # A deleted account's question has nobody left to answer to.
            author__isnull=False,
        )
        .exclude(answered_later())
        .select_related("author", "conversation__group")
    )


@dataclass
class Candidate:
    user: Any
    score: int = 0
    reasons: list[str] = field(default_factory=list)
    last_seen_at: datetime | None = None


def _blocked_with(author_id: int) -> Q:
    return Q(
        Exists(Block.objects.filter(blocker_id=author_id, blocked_id=OuterRef("user_id")))
    ) | Q(Exists(Block.objects.filter(blocker_id=OuterRef("user_id"), blocked_id=author_id)))


def reachable_members(group: Group, *, author_id: int) -> QuerySet[Membership]:
    """Active members other than the author who did not mute the group and between
    whom and the author there is no block."""
    muted = Participant.objects.filter(
        conversation_id=group.conversation_id,
        user_id=OuterRef("user_id"),
        notification_level=NotificationLevel.MUTED,
    )
    return (
        Membership.objects.filter(group=group, user__is_active=True)
        .exclude(user_id=author_id)
        .exclude(Exists(muted))
        .exclude(_blocked_with(author_id))
        .select_related("user")
    )


def score_person(
    candidate: Candidate,
    *,
    text: str,
    group: Group,
    responsibilities: list[tuple[str, str]],
) -> None:
    """Add up why this person can likely answer `text` asked in `group`."""
    group_topics = {str(t).casefold() for t in group.topics or []}
    for company, responsibility in responsibilities:
        for term in responsibility_terms(responsibility):
            if mentions_term(text, term) or term.casefold() in group_topics:
                candidate.score += 3
                candidate.reasons.append(f"Sie bei {company} für „{term}“ zuständig sind")
                break
    for topic in candidate.user.topics or []:
        topic = str(topic)
        if mentions_term(text, topic):
            candidate.score += 2
            candidate.reasons.append(f"„{topic}“ eines Ihrer Themen ist")
        elif topic.casefold() in group_topics:
            candidate.score += 1
            candidate.reasons.append(f"„{topic}“ Ihr Thema und ein Thema der Gruppe ist")


def reason_text(reasons: list[str]) -> str:
    if not reasons:
        return ""
    unique = list(dict.fromkeys(reasons))[:2]
    return "Sie wurden gefragt, weil " + " und ".join(unique) + "."


def candidates_for(message: Message, group: Group) -> list[Candidate]:
    """Every reachable member with their score and reasons, best first (higher score,
    then the more recently active)."""
    members = list(reachable_members(group, author_id=message.author_id or 0))
    user_ids = [m.user_id for m in members]
    responsibilities: dict[int, list[tuple[str, str]]] = {}
    for row in (
        CompanyMember.objects.filter(user_id__in=user_ids, confirmed=True)
        .exclude(responsibility="")
        .select_related("company")
        .order_by("company__name")
    ):
        responsibilities.setdefault(row.user_id, []).append((row.company.name, row.responsibility))
    seen = dict(
        PersonRhythm.objects.filter(user_id__in=user_ids).values_list("user_id", "last_seen_at")
    )
    text = f"{message.body}"
    result = []
    for membership in members:
        candidate = Candidate(user=membership.user, last_seen_at=seen.get(membership.user_id))
        score_person(
            candidate,
            text=text,
            group=group,
            responsibilities=responsibilities.get(membership.user_id, []),
        )
        result.append(candidate)
    never = datetime.min.replace(tzinfo=message.created_at.tzinfo)
    result.sort(key=lambda c: (-c.score, -(c.last_seen_at or never).timestamp(), c.user.pk))
    return result


def recipients_for(message: Message, group: Group) -> list[tuple[Any, str]]:
    """At most five members who can likely answer, and the group's owners and admins,
    each with the German sentence of why they were asked."""
    candidates = candidates_for(message, group)
    managers = set(
        Membership.objects.filter(
            group=group, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
        ).values_list("user_id", flat=True)
    )
    chosen: list[tuple[Any, str]] = []
    experts = [c for c in candidates if c.score > 0][:EXPERTS_PER_QUESTION]
    for candidate in experts:
        chosen.append((candidate.user, reason_text(candidate.reasons)))
    expert_ids = {c.user.pk for c in experts}
    for candidate in candidates:
        if candidate.user.pk in managers and candidate.user.pk not in expert_ids:
            chosen.append(
                (
                    candidate.user,
                    f"Sie wurden gefragt, weil Sie die Gruppe „{group.name}“ verwalten "
                    "und noch niemand geantwortet hat.",
                )
            )
    return chosen


def message_path(group: Group, message: Message) -> str:
    """The group page, scrolled to the message (the panel's element id)."""
    return f"/gruppen/{group.slug}/#nachricht-{message.conversation_id}-{message.seq}"


@dataclass
class OpenQuestion:
    message: Message
    group: Group
    reason: str

    @property
    def url(self) -> str:
        return message_path(self.group, self.message)


def waiting_text(message: Message, now: datetime) -> str:
    hours = int((now - message.created_at).total_seconds() // 3600)
    if hours < 1:
        return "Noch ohne Antwort"
    if hours < 48:
        return f"Seit {hours} {'Stunde' if hours == 1 else 'Stunden'} ohne Antwort"
    return f"Seit {hours // 24} Tagen ohne Antwort"


def open_questions_in(group: Group, *, now: datetime, limit: int = 5) -> list[OpenQuestion]:
    """The group's questions of the last two weeks nobody else answered yet, newest
    first. The caller checks that the viewer may read the group."""
    rows = (
        unanswered_group_messages(now - OPEN_FOR, now)
        .filter(conversation_id=group.conversation_id)
        .order_by("-seq")[:50]
    )
    found = []
    for message in rows:
        if is_question(message.body, message.post):
            found.append(OpenQuestion(message, group, waiting_text(message, now)))
        if len(found) >= limit:
            break
    return found


def questions_i_can_help_with(user: Any, *, now: datetime, limit: int = 5) -> list[OpenQuestion]:
    """Open questions in the person's groups (not muted, not their own, not from
    someone blocked either way): the ones that match their topics or responsibility
    first, with the reason; then the ones waiting longest."""
    memberships = Membership.objects.filter(user=user, group__archived_at__isnull=True).exclude(
        Exists(
            Participant.objects.filter(
                conversation_id=OuterRef("group__conversation_id"),
                user=user,
                notification_level=NotificationLevel.MUTED,
            )
        )
    )
    conversation_ids = list(memberships.values_list("group__conversation_id", flat=True))
    if not conversation_ids:
        return []
    blocked = Block.objects.filter(
        Q(blocker=user, blocked=OuterRef("author")) | Q(blocker=OuterRef("author"), blocked=user)
    )
    rows = (
        unanswered_group_messages(now - OPEN_FOR, now)
        .filter(conversation_id__in=conversation_ids)
        .exclude(author=user)
        .exclude(Exists(blocked))
        .order_by("-created_at")[:200]
    )
    responsibilities = [
        (row.company.name, row.responsibility)
        for row in CompanyMember.objects.filter(user=user, confirmed=True)
        .exclude(responsibility="")
        .select_related("company")
    ]
    scored = []
    for message in rows:
        if not is_question(message.body, message.post):
            continue
        group = message.conversation.group
        candidate = Candidate(user=user)
        score_person(candidate, text=message.body, group=group, responsibilities=responsibilities)
        if candidate.reasons:
            reason = "Passt zu Ihnen, weil " + " und ".join(
                list(dict.fromkeys(candidate.reasons))[:2]
            )
        else:
            reason = waiting_text(message, now)
        scored.append((candidate.score, message, OpenQuestion(message, group, reason)))
    scored.sort(key=lambda item: (-item[0], item[1].created_at))
    return [question for _, _, question in scored[:limit]]
