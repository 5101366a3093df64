"""JSON endpoints of engagement (docs/protocol.md 1.1 "Staying in touch").

`GET /me/suggestions` answers the caller's own suggestions; `GET /network/health`
answers the network's figures to site staff only (403 for everyone else signed in).
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from accounts.access import signed_in
from engagement.health import MAX_DAYS, health
from engagement.suggestions import suggestions_for
from realtime.errors import ClientError
from realtime.schemas import Out, errors

router = Router(tags=["engagement"])


class SuggestedGroup(Out):
    slug: str
    name: str
    description: str
    visibility: str
    topics: list[str]
    city: str
    member_count: int
    reason: str
    url: str


class SuggestedPerson(Out):
    id: int
    display_name: str
    city: str
    topics: list[str]
    reason: str
    url: str


class SuggestedPostGroup(Out):
    slug: str
    name: str


class SuggestedPost(Out):
    id: int
    kind: str
    category: str
    title: str
    summary: str
    group: SuggestedPostGroup
    url: str
    reason: str


class Suggestions(Out):
    groups: list[SuggestedGroup]
    people: list[SuggestedPerson]
    posts: list[SuggestedPost]


class Health(Out):
    days: int
    active_people: int
    new_people: int
    messages: int
    questions: int
    questions_answered_pct: float | None
    median_first_reply_minutes: float | None
    posts: int
    matches: int
    groups_active: int
    groups_quiet: int


@router.get("/me/suggestions", response=Suggestions)
def my_suggestions(request: HttpRequest) -> dict[str, Any]:
    return suggestions_for(signed_in(request))


@router.get("/network/health", response={200: Health, **errors(403)})
def network_health(
    request: HttpRequest, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30
) -> dict[str, Any]:
    """The network's figures of the last `days` days (1 to 365, default 30)."""
    if not signed_in(request).is_staff:
        raise ClientError("forbidden", "Nur für die Betreiber des Netzwerks.")
    return health(days=days, now=timezone.now())
