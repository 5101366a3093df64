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

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import Block
from board.filters import open_q
from board.models import Category, Kind, Post, SavedSearch
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
        candidates.select_related("author").order_by("-created_at", "-id")[:MAX_POST_MATCHES]
    )


def prefixes(postcode: str) -> list[str]:
    return [postcode[:length] for length in range(1, len(postcode) + 1)]


def matching_searches(post: Post) -> list[SavedSearch]:
    """Saved searches (alert not off) whose filters all hold for the new post, in one
    query: the structured filters as columns, the free text with the board's German
    full text on PostgreSQL (every word as a substring elsewhere)."""
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
        .select_related("user")
        .order_by("id")
    )
    if settings.IS_POSTGRES:
        words = RawSQL(
            "SELECT id FROM board_savedsearch WHERE q <> '' AND "
            "to_tsvector('german'::regconfig, %s) @@ websearch_to_tsquery('german'::regconfig, q)",
            [document_text(post)],
        )
        return list(searches.filter(Q(q="") | Q(pk__in=words))[:MAX_SEARCH_MATCHES])
    folded = fold(document_text(post))
    return [
        search
        for search in searches[:MAX_SEARCH_MATCHES]
        if all(fold(word) in folded for word in search.q.split())
    ]


def document_text(post: Post) -> str:
    return f"{post.title} {post.body} {post.search_text}"
