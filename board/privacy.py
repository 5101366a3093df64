"""The board's part of a person's data export and account deletion (docs/privacy.md,
docs/board.md). Registered with `accounts.privacy` when the app is ready.

Export: the person's posts (with their fields), saved searches, the matches they were
told of (post ids and titles only: nobody else's contact data) and the posts they
showed interest in. Deletion: their posts are withdrawn (so every card in the
discussions says "Zurückgezogen" live) and then deleted with their matches and
interest records; saved searches and the matches they were told of go with them.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.privacy import Section, iso, register
from board.actions import withdraw_all_posts_on_deletion
from board.models import Contact, Match, Post, SavedSearch


def export_board(person: User) -> dict[str, Any]:
    return {
        "posts": [
            {
                "id": post.pk,
                "group": {"slug": post.group.slug, "name": post.group.name},
                "kind": post.kind,
                "category": post.category,
                "title": post.title,
                "body": post.body,
                "fields": post.fields,
                "company": post.company,
                "status": post.status,
                "valid_until": iso(post.valid_until),
                "created_at": iso(post.created_at),
                "closed_at": iso(post.closed_at),
            }
            for post in Post.objects.filter(author=person).select_related("group").order_by("pk")
        ],
        "saved_searches": [
            {
                "name": search.name,
                "filters": search.filters,
                "alert": search.alert,
                "created_at": iso(search.created_at),
            }
            for search in SavedSearch.objects.filter(user=person).order_by("pk")
        ],
        "matches_received": [
            {
                "post": {"id": match.post_id, "title": match.post.title},
                "created_at": iso(match.created_at),
                "daily": match.daily,
            }
            for match in Match.objects.filter(recipient=person).select_related("post")
        ],
        "interest_shown": [
            {"post": {"id": c.post_id, "title": c.post.title}, "created_at": iso(c.created_at)}
            for c in Contact.objects.filter(user=person).select_related("post")
        ],
    }


def connect() -> None:
    register(
        Section(
            "board",
            ("board.Post", "board.SavedSearch", "board.Match", "board.Contact"),
            export_board,
            erase=lambda person, _: withdraw_all_posts_on_deletion(person),
            order=15,
        )
    )
