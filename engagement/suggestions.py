"""Suggestions for a person: groups to join, people to meet, open posts
(docs/protocol.md 1.1 "Staying in touch", docs/engagement.md).

Chosen by the person's topics and city and the industry of their confirmed companies,
each with a German `reason`. Only public facts take part: a group's name,
description, topics, city and size (groups are discoverable), a person's directory
entry (never a contact field), never a message of any group. Nobody who blocked the
person, or whom the person blocked, is suggested. A newcomer without topics still gets
the liveliest open groups, so the start page is never empty while groups exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from accounts.access import people, person_summary
from accounts.models import Block, CompanyMember
from board.access import suggested_posts
from chat.models import Conversation, Participant
from groups.models import Group, JoinRequest, Membership

GROUPS_SHOWN = 6
PEOPLE_SHOWN = 6
DESCRIPTION_CHARS = 160


def _folded(values: Any) -> dict[str, str]:
    return {str(v).casefold(): str(v) for v in values or [] if str(v).strip()}


def topic_reason(shared: list[str]) -> str:
    if len(shared) == 1:
        return f"Thema {shared[0]}"
    return "Themen " + ", ".join(shared[:-1]) + " und " + shared[-1]


def my_industries(user: Any) -> dict[str, str]:
    industries = CompanyMember.objects.filter(user=user, confirmed=True).values_list(
        "company__industry", flat=True
    )
    return _folded(i for i in industries if i)


def suggested_groups(user: Any, *, limit: int = GROUPS_SHOWN) -> list[dict[str, Any]]:
    """Live groups the person is not in and has not asked to join: matching topics and
    city first, then the liveliest open groups."""
    mine = _folded(user.topics)
    city = (user.city or "").strip().casefold()
    candidates = (
        Group.objects.filter(archived_at__isnull=True)
        .exclude(memberships__user=user)
        .exclude(
            Exists(
                JoinRequest.objects.filter(
                    group=OuterRef("pk"), user=user, status=JoinRequest.Status.PENDING
                )
            )
        )
        .annotate(member_total=Count("memberships", distinct=True))
        .order_by("-member_total", "name")
    )
    scored = []
    for group in candidates[:500]:
        shared = [mine[t] for t in _folded(group.topics) if t in mine]
        same_city = bool(city) and group.city.strip().casefold() == city
        score = 2 * len(shared) + (1 if same_city else 0)
        is_open = group.visibility == Group.Visibility.OPEN
        if score == 0 and not is_open:
            continue
        parts = []
        if shared:
            parts.append(topic_reason(shared))
        if same_city:
            parts.append(group.city)
        if not parts:
            parts.append(
                f"Lebhafte offene Gruppe mit {group.member_total} "
                f"{'Mitglied' if group.member_total == 1 else 'Mitgliedern'}"
            )
        scored.append((score, group, ", ".join(parts)))
    scored.sort(key=lambda item: (-item[0], -item[1].member_total, item[1].name))
    return [group_item(group, reason) for _, group, reason in scored[:limit]]


def group_item(group: Group, reason: str) -> dict[str, Any]:
    description = " ".join(group.description.split())
    if len(description) > DESCRIPTION_CHARS:
        description = description[: DESCRIPTION_CHARS - 1].rstrip() + "…"
    return {
        "slug": group.slug,
        "name": group.name,
        "description": description,
        "visibility": group.visibility,
        "topics": list(group.topics or []),
        "city": group.city,
        "member_count": getattr(group, "member_total", 0),
        "reason": reason,
        "url": f"/gruppen/{group.slug}/",
    }


def suggested_people(user: Any, *, limit: int = PEOPLE_SHOWN) -> list[dict[str, Any]]:
    """People the person has no direct conversation with, sharing topics, or at a
    company in the same city and industry."""
    mine = _folded(user.topics)
    city = (user.city or "").strip().casefold()
    industries = my_industries(user)
    if not mine and not city and not industries:
        return []
    talked = Participant.objects.filter(
        conversation__kind=Conversation.Kind.DIRECT,
        conversation__participants__user=user,
        user=OuterRef("pk"),
    )
    blocked = Block.objects.filter(
        Q(blocker=user, blocked=OuterRef("pk")) | Q(blocker=OuterRef("pk"), blocked=user)
    )
    candidates = (
        people()
        .exclude(pk=user.pk)
        .exclude(Exists(talked))
        .exclude(Exists(blocked))
        .order_by("display_name", "pk")
    )
    scored = []
    for person in candidates[:1000]:
        shared = [mine[t] for t in _folded(person.topics) if t in mine]
        same_city = bool(city) and (person.city or "").strip().casefold() == city
        companies = list(getattr(person, "confirmed_memberships", []))
        industry_match = next(
            (m.company for m in companies if m.company.industry.casefold() in industries), None
        )
        score = 2 * len(shared) + (2 if industry_match and same_city else 0)
        if score == 0:
            continue
        parts = []
        if shared:
            parts.append(topic_reason(shared))
        if industry_match is not None and same_city:
            parts.append(f"{industry_match.industry} in {person.city}")
        elif same_city:
            parts.append(person.city)
        scored.append((score, person, ", ".join(parts)))
    scored.sort(key=lambda item: (-item[0], item[1].display_name))
    return [
        {
            **person_summary(person),
            "city": person.city,
            "topics": list(person.topics or []),
            "reason": reason,
            "url": f"/personen/{person.pk}/",
        }
        for _, person, reason in scored[:limit]
    ]


def suggestions_for(user: Any) -> dict[str, list[dict[str, Any]]]:
    """`GET /me/suggestions`; `posts` come from the board (`board.access`)."""
    return {
        "groups": suggested_groups(user),
        "people": suggested_people(user),
        "posts": suggested_posts(user),
    }


def people_for_group(group: Group, *, limit: int = 3) -> list[dict[str, Any]]:
    """People outside the group whose topics or city fit it (for a quiet group's
    owners: whom to invite)."""
    topics = _folded(group.topics)
    city = group.city.strip().casefold()
    if not topics and not city:
        return []
    members = Membership.objects.filter(group=group, user=OuterRef("pk"))
    found = []
    for person in people().exclude(Exists(members)).order_by("display_name", "pk")[:1000]:
        shared = [topics[t] for t in _folded(person.topics) if t in topics]
        same_city = bool(city) and (person.city or "").strip().casefold() == city
        if not shared and not same_city:
            continue
        reason = topic_reason(shared) if shared else person.city
        found.append((len(shared), {**person_summary(person), "reason": reason}))
    found.sort(key=lambda item: -item[0])
    return [item for _, item in found[:limit]]
