"""Daily alerts of saved searches, for the daily digest e-mail.

A saved search with `alert == "daily"` stores its hits as `Match` rows (`daily=True`)
when a fitting post is created, and tells nobody at once. The digest
(engagement/digest.py) asks `daily_alerts` for the hits still owed and calls
`mark_digested` in the transaction that sends the e-mail. Visibility is checked again
here: a post the person can no longer read, or that is no longer open, is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from board import presentation
from board.access import visible_posts
from board.events import post_url
from board.filters import open_q
from board.models import Match
from notifications.presentation import absolute

MAX_ALERTS = 20


@dataclass
class DailyAlert:
    search: str
    kind_label: str
    title: str
    summary: str
    group: str
    link: str


def owed(user: Any) -> Any:
    return Match.objects.filter(recipient=user, daily=True, digested_at__isnull=True)


def daily_alerts(user: Any) -> list[DailyAlert]:
    """New posts for the person's daily searches since the last digest, newest first,
    one line per post (the first search it fitted names it)."""
    matches = list(owed(user).select_related("search").order_by("-created_at", "-id")[:200])
    if not matches:
        return []
    posts = {
        post.pk: post
        for post in visible_posts(user).filter(open_q(), pk__in={m.post_id for m in matches})
    }
    alerts: list[DailyAlert] = []
    seen: set[int] = set()
    for match in matches:
        post = posts.get(match.post_id)
        if post is None or post.pk in seen:
            continue
        seen.add(post.pk)
        alerts.append(
            DailyAlert(
                search=match.search.name if match.search else "",
                kind_label=presentation.kind_label(post.category, post.kind),
                title=post.title,
                summary=presentation.summary(post.category, post.fields),
                group=post.group.name,
                link=absolute(post_url(post)),
            )
        )
    return alerts[:MAX_ALERTS]


def mark_digested(user: Any, moment: datetime) -> None:
    owed(user).filter(created_at__lte=moment).update(digested_at=moment)
