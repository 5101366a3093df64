"""Every read of posts, matches and saved searches goes through here (docs/architecture.md,
rule 3).

A post is visible exactly to those who may read its group's conversation: any
signed-in person for an open group, members only for a closed (or archived) one.
chat decides that (`chat.access.readable_conversations` / `can_read`); the board
only follows. A missing post and one the person may not see get the same 404.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When

from accounts.models import Block
from board import presentation
from board.events import post_url
from board.filters import BoardFilters, open_q
from board.models import Match, Post, SavedSearch, Status
from board.occupations import fold
from board.validation import today
from chat.access import can_read, is_id, readable_conversations
from chat.models import Conversation
from groups.access import is_manager, require_signed_in
from groups.models import Group
from realtime.errors import ClientError


def post_not_found() -> ClientError:
    return ClientError("not_found", "Diesen Eintrag gibt es nicht (mehr).")


def readable_groups(user: Any) -> QuerySet[Group]:
    return Group.objects.filter(conversation__in=readable_conversations(user).values("pk"))


def readable_posts(user: Any) -> QuerySet[Post]:
    """Every post `user` may see (plain: no related rows, no annotation)."""
    require_signed_in(user)
    if not user.is_active:
        return Post.objects.none()
    return Post.objects.filter(group__conversation__in=readable_conversations(user).values("pk"))


def visible_posts(user: Any) -> QuerySet[Post]:
    """Every post `user` may see, with `effective_status` annotated."""
    return with_effective_status(readable_posts(user).select_related("author", "group"))


def with_effective_status(posts: QuerySet[Post]) -> QuerySet[Post]:
    return posts.annotate(
        effective_status=Case(
            When(Q(status=Status.OPEN, expires_on__lt=today()), then=Value(Status.EXPIRED.value)),
            default=F("status"),
            output_field=CharField(),
        )
    )


def effective_status(post: Post) -> str:
    annotated = getattr(post, "effective_status", None)
    if annotated:
        return str(annotated)
    if post.status == Status.OPEN and post.expires_on and post.expires_on < today():
        return Status.EXPIRED
    return post.status


def access_post(user: Any, post_id: Any) -> Post:
    """A post `user` may see, else 404 (also when it does not exist)."""
    require_signed_in(user)
    if not is_id(post_id):
        raise post_not_found()
    post = (
        with_effective_status(Post.objects.select_related("author", "group__conversation"))
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        raise post_not_found()
    if not can_read(user, post.group.conversation):
        raise post_not_found()
    return post


def may_change(user: Any, post: Post) -> bool:
    """The author, or the group's owners and admins."""
    if post.author_id == user.pk:
        return True
    return is_manager(user, post.group)


# What a board list shows of a post (the API's `post_out`, the pages' cards): the
# rest (matching columns, the author's profile) stays in the database.
LISTED_COLUMNS = (
    "id",
    "group_id",
    "author_id",
    "company",
    "kind",
    "category",
    "title",
    "body",
    "fields",
    "status",
    "valid_until",
    "expires_on",
    "message_id",
    "created_at",
    "summary",
    "author__display_name",
    "group__slug",
    "group__name",
    "group__conversation_id",
)


def board(user: Any, filters: BoardFilters) -> QuerySet[Post]:
    """The board: posts of groups `user` may read, filtered, newest first."""
    listed = filters.apply(visible_posts(user)).only(*LISTED_COLUMNS)
    return listed.order_by("-created_at", "-id")


def board_rows(user: Any, filters: BoardFilters) -> Any:
    """The board as plain rows of `LISTED_COLUMNS` and `effective_status` (for a list
    that only reads them: no model instances), newest first; slice it for a page.
    Written SQL (`BoardFilters.where_sql`, one statement per slice) except with a
    `near` filter, which stays a queryset."""
    where = filters.where_sql()
    if where is None:
        listed = filters.apply(with_effective_status(readable_posts(user)))
        return listed.order_by("-created_at", "-id").values(*LISTED_COLUMNS, "effective_status")
    require_signed_in(user)
    return BoardRows(user, *where)


# `LISTED_COLUMNS` as the statement of `BoardRows` selects them.
_LISTED_SQL = ", ".join(
    f"p.{name}" if "__" not in name else name.replace("author__", "u.").replace("group__", "g.")
    for name in LISTED_COLUMNS
)


class BoardRows:
    """A page of the board by slicing (`rows[offset:stop]`, as `groups.api.page`
    slices a queryset): one statement, the visibility of `readable_posts` (groups
    whose conversation the person takes part in, and open groups), rows as dicts
    with the keys of `LISTED_COLUMNS` plus `effective_status`."""

    def __init__(self, user: Any, where: list[str], params: list[Any]) -> None:
        self.where = [
            "g.conversation_id IN (SELECT c.id FROM chat_conversation c "
            "LEFT JOIN chat_participant cp ON cp.conversation_id = c.id "
            "WHERE cp.user_id = %s OR (c.kind = %s AND c.readable_by_all))",
            *where,
        ]
        self.params = [user.pk, Conversation.Kind.GROUP.value, *params]
        self.active = bool(user.is_active)

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        start, stop = window.start or 0, window.stop
        assert stop is not None and stop >= start
        if not self.active:
            return []
        sql = (
            f"SELECT {_LISTED_SQL} FROM board_post p "  # noqa: S608 (values are parameters)
            "JOIN groups_group g ON g.id = p.group_id "
            "JOIN accounts_user u ON u.id = p.author_id "
            f"WHERE {' AND '.join(self.where)} "
            "ORDER BY p.created_at DESC, p.id DESC LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, stop - start, start])
            rows = cursor.fetchall()
        day = today()
        listed = []
        for row in rows:
            item = dict(zip(LISTED_COLUMNS, row, strict=True))
            if isinstance(item["fields"], str):  # JSON text (as JSONField reads it)
                item["fields"] = json.loads(item["fields"])
            created_at = item["created_at"]
            if isinstance(created_at, str):
                created_at = dt.datetime.fromisoformat(created_at)
            if created_at.tzinfo is None:  # SQLite keeps UTC without the zone
                item["created_at"] = created_at.replace(tzinfo=dt.UTC)
            status = item["status"]
            expires_on = item["expires_on"]
            expired = status == Status.OPEN and expires_on is not None and expires_on < day
            item["effective_status"] = Status.EXPIRED.value if expired else status
            listed.append(item)
        return listed


def matches_of_post(user: Any, post: Post) -> QuerySet[Post]:
    """The posts that matched `post` (either way round) that `user` may see."""
    ids = Match.objects.filter(Q(post=post) | Q(other=post)).values_list("post_id", "other_id")
    others = {a if a != post.pk else b for a, b in ids} - {None, post.pk}
    return visible_posts(user).filter(pk__in=others).order_by("-created_at", "-id")


def recent_matches(user: Any, *, limit: int = 6) -> list[Post]:
    """New open posts that matched my posts or searches, for the start page."""
    require_signed_in(user)
    post_ids = (
        Match.objects.filter(recipient=user)
        .order_by("-created_at")
        .values_list("post_id", flat=True)
    )[: limit * 3]
    posts = visible_posts(user).filter(open_q(), pk__in=list(post_ids))
    return list(posts.order_by("-created_at", "-id")[:limit])


def my_searches(user: Any) -> QuerySet[SavedSearch]:
    require_signed_in(user)
    return SavedSearch.objects.filter(user=user).order_by("-created_at", "-id")


def access_search(user: Any, search_id: Any) -> SavedSearch:
    """One of my saved searches; anyone else's or a missing one: 404."""
    require_signed_in(user)
    search = (
        SavedSearch.objects.filter(pk=search_id, user=user).first() if is_id(search_id) else None
    )
    if search is None:
        raise ClientError("not_found", "Diese gespeicherte Suche gibt es nicht.")
    return search


SUGGESTION_CANDIDATES = 300


def suggested_posts(user: Any, *, limit: int = 5) -> list[dict[str, Any]]:
    """Open posts of others for `GET /me/suggestions`, chosen by the person's topics
    (the post's group's topics, its occupation) and city, each with a German
    `reason` ("Thema Ausbildung, Herne"). Only posts the person may see; never of
    someone they blocked or who blocked them."""
    topics = {str(t).casefold(): str(t) for t in (user.topics or []) if str(t).strip()}
    city = fold(user.city or "")
    if not topics and not city:
        return []
    blocked = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list(
        "blocker_id", "blocked_id"
    )
    hidden = {person for pair in blocked for person in pair} - {user.pk}
    candidates = (
        visible_posts(user)
        .filter(open_q())
        .exclude(author=user)
        .exclude(author_id__in=hidden)
        .order_by("-created_at", "-id")[:SUGGESTION_CANDIDATES]
    )
    scored = []
    for post in candidates:
        shared = [
            topics[t] for t in (str(x).casefold() for x in post.group.topics or []) if t in topics
        ]
        shared += [
            v for k, v in topics.items() if post.occupation and k in post.occupation.casefold()
        ]
        same_city = bool(city) and city in (post.place_city, post.dest_city)
        score = 2 * len(shared) + (1 if same_city else 0)
        if not score:
            continue
        parts = []
        if shared:
            unique = list(dict.fromkeys(shared))
            parts.append(("Thema " if len(unique) == 1 else "Themen ") + ", ".join(unique))
        if same_city:
            parts.append(user.city.strip())
        scored.append((score, post, ", ".join(parts)))
    scored.sort(key=lambda item: (-item[0], -item[1].created_at.timestamp()))
    return [
        {
            "id": post.pk,
            "kind": post.kind,
            "category": post.category,
            "title": post.title,
            "summary": presentation.summary_of(post),
            "group": {"slug": post.group.slug, "name": post.group.name},
            "url": post_url(post),
            "reason": reason,
        }
        for _, post, reason in scored[:limit]
    ]
