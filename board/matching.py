"""Which open posts and saved searches fit a new post (docs/protocol.md 1.1, "Board").

- freight: a capacity (offer) and a load (request) fit when their loading areas and
  their unloading areas are the same (same postcode region, the first two digits,
  or the same city), their date windows overlap (touching days count) and the load
  fits the capacity (loading metres and weight, both inclusive; an ADR load needs
  an ADR vehicle).
- apprenticeship: a place (offer) and a person looking (request) fit on the same
  occupation and the same postcode region.
- other: no post-to-post matching; saved searches only.

Only people who may read the new post's group are matched (a closed group's post
reaches its members only), never its author, never someone who blocked the author
or whom the author blocked. Each runs as one or two indexed queries, so the cost
does not grow with the number of posts (pinned in tests/board/test_query_counts.py).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import Block
from board.filters import open_q
from board.models import Category, Kind, Match, Post, SavedSearch
from board.occupations import fold
from chat.models import Participant

# A popular route could fit hundreds of posts: the newest this many are told.
MAX_POST_MATCHES = 100
MAX_SEARCH_MATCHES = 500


def opposite(kind: str) -> str:
    return Kind.REQUEST if kind == Kind.OFFER else Kind.OFFER


def may_read_group_q(post: Post, prefix: str) -> Q:
    """People (`<prefix>` = the path to the user) who may read the post's group."""
    conversation = post.group.conversation
    active = Q(**{f"{prefix}is_active": True})
    if conversation.readable_by_all:
        return active
    members = Participant.objects.filter(conversation=conversation).values("user_id")
    return active & Q(**{f"{prefix}id__in": members})


def not_blocked_q(post: Post, prefix: str) -> Q:
    blocked = Block.objects.filter(blocker=post.author_id).values("blocked_id")
    blockers = Block.objects.filter(blocked=post.author_id).values("blocker_id")
    return ~Q(**{f"{prefix}id__in": blocked}) & ~Q(**{f"{prefix}id__in": blockers})


def same_areas_q(post: Post) -> Q:
    """Same loading area and same unloading area, each by region or city, spelled out
    as four conjunctions so PostgreSQL can combine two partial indexes (by regions,
    by cities) instead of scanning every open post of the category."""
    loading = [("place_region", post.place_region), ("place_city", post.place_city)]
    unloading = [("dest_region", post.dest_region), ("dest_city", post.dest_city)]
    combined = Q(pk__in=[])
    for load_field, load_value in loading:
        for unload_field, unload_value in unloading:
            if load_value and unload_value:
                combined |= Q(**{load_field: load_value, unload_field: unload_value})
    return combined


def matching_posts(post: Post) -> list[Post]:
    if post.category == Category.OTHER:
        return []
    candidates: QuerySet[Post] = Post.objects.filter(
        open_q(), category=post.category, kind=opposite(post.kind)
    ).exclude(author_id=post.author_id)
    if post.category == Category.FREIGHT:
        candidates = candidates.filter(
            same_areas_q(post),
            earliest__lte=post.latest,
            latest__gte=post.earliest,
        )
        if post.kind == Kind.REQUEST:  # a load: find trucks big enough
            candidates = candidates.filter(
                loading_metres__gte=post.loading_metres, weight_t__gte=post.weight_t
            )
            if post.adr:
                candidates = candidates.filter(adr=True)
        else:  # free capacity: find loads that fit
            candidates = candidates.filter(
                loading_metres__lte=post.loading_metres, weight_t__lte=post.weight_t
            )
            if not post.adr:
                candidates = candidates.filter(adr=False)
    else:
        candidates = candidates.filter(occupation=post.occupation, place_region=post.place_region)
    candidates = candidates.filter(
        may_read_group_q(post, "author__"), not_blocked_q(post, "author__")
    )
    return list(
        candidates.select_related("author")
        .only(*MATCHED_POST_COLUMNS)
        .order_by("-created_at", "-id")[:MAX_POST_MATCHES]
    )


class SearchHit(NamedTuple):
    """A saved search a new post fits, with what telling its owner needs (read as one
    row, not as a search and a user instance)."""

    id: int
    name: str
    alert: str
    user_id: int
    email: str
    email_frequency: str
    is_active: bool

    @property
    def pk(self) -> int:  # the owner, as `do_notify_all` reads a recipient
        return self.user_id


# What telling the author of a fitting post needs (the caller reads no more of it).
MATCHED_POST_COLUMNS = (
    "id",
    "title",
    "author_id",
    "created_at",
    "author__email",
    "author__email_frequency",
    "author__is_active",
)


def prefixes(postcode: str) -> list[str]:
    return [postcode[:length] for length in range(1, len(postcode) + 1)]


def fitting_searches(post: Post) -> QuerySet[SavedSearch]:
    """Saved searches (alert not off) whose structured filters all hold for the new
    post, and on PostgreSQL its free text too (the board's German full text); the
    first `MAX_SEARCH_MATCHES` by id."""
    cities = [city for city in (post.place_city, post.dest_city) if city]
    codes = prefixes(post.place_postcode) + prefixes(post.dest_postcode)
    searches = (
        SavedSearch.objects.exclude(alert=SavedSearch.Alert.OFF)
        .exclude(user_id=post.author_id)
        .filter(
            Q(kind="") | Q(kind=post.kind),
            Q(category="") | Q(category=post.category),
            Q(group__isnull=True) | Q(group_id=post.group_id),
            Q(city="") | Q(city__in=cities),
            Q(postcode="") | Q(postcode__in=codes),
            Q(occupation="") | Q(occupation=post.occupation),
            may_read_group_q(post, "user__"),
            not_blocked_q(post, "user__"),
        )
        .order_by("id")
    )
    if settings.IS_POSTGRES:
        # Checked on the rows the other filters leave, not by a scan of every
        # search with words (the document is one constant tsvector).
        words = RawSQL(
            "to_tsvector('german'::regconfig, %s) @@ "
            "websearch_to_tsquery('german'::regconfig, board_savedsearch.q)",
            [document_text(post)],
            output_field=BooleanField(),
        )
        searches = searches.filter(Q(q="") | words)
    # Implied by the filters above (a search fits through its city, its postcode,
    # its occupation, its words, or has none of them), spelled out so that partial
    # indexes on each serve the query instead of every search of the category.
    arms = Q(city__in=cities) | Q(postcode__in=codes) | ~Q(q="")
    if post.occupation:
        arms |= Q(occupation=post.occupation)
    searches = searches.filter(arms | Q(city="", postcode="", occupation="", q=""))
    return searches[:MAX_SEARCH_MATCHES]


def matching_searches(post: Post) -> list[SearchHit]:
    """The saved searches that fit the new post, with their owners, in one query (the
    free text as every word a substring elsewhere than PostgreSQL)."""
    if settings.IS_POSTGRES:
        return [SearchHit(*row) for row in fitting_searches(post).values_list(*HIT_COLUMNS)]
    folded = fold(document_text(post))
    return [
        SearchHit(*row[:-1])
        for row in fitting_searches(post).values_list(*HIT_COLUMNS, "q")
        if all(fold(word) in folded for word in row[-1].split())
    ]


def store_search_matches(post: Post, created_at: dt.datetime) -> list[SearchHit]:
    """Find the saved searches that fit the new post and store one `Match` each: on
    PostgreSQL in one statement (the INSERT reads the query's rows in the database,
    no Match instance or parameter per row crosses over), elsewhere as a bulk insert."""
    if not settings.IS_POSTGRES:
        hits = matching_searches(post)
        Match.objects.bulk_create(
            [
                Match(
                    post=post,
                    search_id=hit.id,
                    recipient_id=hit.user_id,
                    created_at=created_at,
                    daily=hit.alert == SavedSearch.Alert.DAILY,
                )
                for hit in hits
            ]
        )
        return hits
    select, params = fitting_searches(post).values_list(*HIT_COLUMNS).query.sql_with_params()
    columns = ", ".join(SearchHit._fields)
    sql = (
        f"WITH hit ({columns}) AS ({select}), "  # noqa: S608 (Django's own SQL)
        "stored AS (INSERT INTO board_match "
        "(post_id, recipient_id, other_id, search_id, created_at, digested_at, daily) "
        "SELECT %s, user_id, NULL, id, %s, NULL, alert = %s FROM hit) "
        f"SELECT {columns} FROM hit ORDER BY id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, post.pk, created_at, SavedSearch.Alert.DAILY.value])
        return [SearchHit(*row) for row in cursor.fetchall()]


HIT_COLUMNS = (
    "id",
    "name",
    "alert",
    "user_id",
    "user__email",
    "user__email_frequency",
    "user__is_active",
)


def document_text(post: Post) -> str:
    return f"{post.title} {post.body} {post.search_text}"
