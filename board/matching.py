"""Which open posts and saved searches fit a new post (PROTOCOL.md 1.1, "Board").

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
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import Block
from board.filters import POST_DOCUMENT_SQL, open_q
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


def area_q(region_field: str, city_field: str, region: str, city: str) -> Q:
    same = Q(**{region_field: region}) if region else Q(pk__in=[])
    if city:
        same |= Q(**{city_field: city})
    return same


def matching_posts(post: Post) -> list[Post]:
    if post.category == Category.OTHER:
        return []
    candidates: QuerySet[Post] = Post.objects.filter(
        open_q(), category=post.category, kind=opposite(post.kind)
    ).exclude(author_id=post.author_id)
    if post.category == Category.FREIGHT:
        candidates = candidates.filter(
            area_q("place_region", "place_city", post.place_region, post.place_city),
            area_q("dest_region", "dest_city", post.dest_region, post.dest_city),
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
    """Saved searches (alert not off) whose filters all hold for the new post."""
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
    found = list(searches[:MAX_SEARCH_MATCHES])
    with_words = [search for search in found if search.q]
    if not with_words:
        return found
    fitting = words_fit(post, with_words)
    return [search for search in found if not search.q or search.pk in fitting]


def words_fit(post: Post, searches: list[SavedSearch]) -> set[int]:
    """The searches whose free text finds the post: the same German full text as the
    board on PostgreSQL (one query), every word as a substring elsewhere."""
    if settings.IS_POSTGRES:
        document = POST_DOCUMENT_SQL.replace("title || ' ' || body || ' ' || search_text", "%s")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM board_savedsearch WHERE id = ANY(%s) AND {document} "  # noqa: S608
                "@@ websearch_to_tsquery('german'::regconfig, q)",
                [[search.pk for search in searches], document_text(post)],
            )
            return {int(row[0]) for row in cursor.fetchall()}
    folded = fold(document_text(post))
    return {
        search.pk for search in searches if all(fold(word) in folded for word in search.q.split())
    }


def document_text(post: Post) -> str:
    return f"{post.title} {post.body} {post.search_text}"
