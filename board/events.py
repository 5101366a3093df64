"""Typed payloads of what the board publishes (docs/architecture.md, rule 7).

The board publishes through chat (a post's card rides on its message: `message`
frames and history items carry `post`, `post_updated` frames carry the new card) and
through notifications (`match`). See docs/board.md and docs/protocol.md.
"""

from __future__ import annotations

from typing import Any, TypedDict

from board import presentation
from board.models import Post


class PostCard(TypedDict):
    id: int
    kind: str
    category: str
    title: str
    status: str
    kind_label: str
    summary: str
    excerpt: str
    expires_on: str | None
    group: str
    author_id: int
    url: str


class MatchedThing(TypedDict, total=False):
    type: str  # "post" or "search"
    id: int
    title: str
    name: str


class MatchData(TypedDict):
    """`data` of a `match` notification."""

    post: dict[str, Any]
    matched: MatchedThing
    count: int
    url: str


def post_url(post: Post) -> str:
    return post_path(post.pk)


def post_path(post_id: int) -> str:
    return f"/brett/{post_id}/"


def post_card(post: Post) -> PostCard:
    """The card a message shows. `status` is the stored one; a client shows an open
    card as expired after `expires_on` (the last open day, Europe/Berlin)."""
    return {
        "id": post.pk,
        "kind": post.kind,
        "category": post.category,
        "title": post.title,
        "status": post.status,
        "kind_label": presentation.kind_label(post.category, post.kind),
        "summary": presentation.summary_of(post),
        "excerpt": presentation.excerpt(post.body),
        "expires_on": post.expires_on.isoformat() if post.expires_on else None,
        "group": post.group.slug,
        "author_id": post.author_id,
        "url": post_url(post),
    }
