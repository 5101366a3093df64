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
or whom the author blocked. Both lookups are indexed, and on PostgreSQL they run as
one statement that also stores the `Match` rows and links the post to its message
(`store_matches`), so the cost does not grow with the number of posts (pinned in
tests/board/test_query_counts.py).

The statements are written out here rather than built by the ORM: composing and
compiling the two querysets was most of a create's CPU (about 10 of 30 ms on a
quiet machine, docs/performance.md, "Board"), and their shape is fixed. They are
plain SQL that PostgreSQL and SQLite both run, except the German full text
(PostgreSQL; elsewhere every word as a substring, checked here).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection

from board.models import Category, Kind, Match, Post, SavedSearch, Status
from board.occupations import fold
from board.validation import today

# A popular route could fit hundreds of posts: the newest this many are told.
MAX_POST_MATCHES = 100
MAX_SEARCH_MATCHES = 500


def opposite(kind: str) -> str:
    return Kind.REQUEST if kind == Kind.OFFER else Kind.OFFER


class PostHit(NamedTuple):
    """An open post the new post fits, with what telling its author needs."""

    id: int
    title: str
    author_id: int
    email: str
    email_frequency: str
    is_active: bool

    @property
    def pk(self) -> int:  # the author, as `do_notify_all` reads a recipient
        return self.author_id


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


def readers_sql(post: Post, person: str) -> tuple[str, list[Any]]:
    """People (`person`: the column of their id, joined to `accounts_user u`) who may
    read the post's group (active; members only for a closed group) and have no
    block with its author either way."""
    sql = (
        f"u.is_active = %s AND {person} NOT IN "  # noqa: S608 (columns named here only)
        "(SELECT blocked_id FROM accounts_block WHERE blocker_id = %s) "
        f"AND {person} NOT IN (SELECT blocker_id FROM accounts_block WHERE blocked_id = %s)"
    )
    params: list[Any] = [True, post.author_id, post.author_id]
    conversation = post.group.conversation
    if not conversation.readable_by_all:
        members = "SELECT user_id FROM chat_participant WHERE conversation_id = %s"
        sql += f" AND {person} IN ({members})"
        params.append(conversation.pk)
    return sql, params


def same_areas_sql(post: Post) -> tuple[str, list[Any]]:
    """Same loading area and same unloading area, each by region or city, spelled out
    as up to four conjunctions so PostgreSQL can combine two partial indexes (by
    regions, by cities) instead of scanning every open post of the category."""
    loading = [("p.place_region", post.place_region), ("p.place_city", post.place_city)]
    unloading = [("p.dest_region", post.dest_region), ("p.dest_city", post.dest_city)]
    arms, params = [], []
    for load_column, load_value in loading:
        for unload_column, unload_value in unloading:
            if load_value and unload_value:
                arms.append(f"({load_column} = %s AND {unload_column} = %s)")
                params += [load_value, unload_value]
    return " OR ".join(arms), params


def fitting_posts_sql(post: Post) -> tuple[str, list[Any]] | None:
    """The open posts of the opposite kind the new post fits (newest first, at most
    `MAX_POST_MATCHES`), as a statement; None when none can fit."""
    if post.category == Category.OTHER:
        return None
    where = [
        "p.status = %s",
        "(p.expires_on IS NULL OR p.expires_on >= %s)",
        "p.category = %s",
        "p.kind = %s",
        "p.author_id <> %s",
    ]
    params: list[Any] = [Status.OPEN, today(), post.category, opposite(post.kind), post.author_id]
    if post.category == Category.FREIGHT:
        areas, area_params = same_areas_sql(post)
        if not areas:
            return None
        where += [f"({areas})", "p.earliest <= %s", "p.latest >= %s"]
        params += [*area_params, post.latest, post.earliest]
        if post.kind == Kind.REQUEST:  # a load: find trucks big enough
            where += ["p.loading_metres >= %s", "p.weight_t >= %s"]
            if post.adr:
                where.append("p.adr = %s")
                params += [post.loading_metres, post.weight_t, True]
            else:
                params += [post.loading_metres, post.weight_t]
        else:  # free capacity: find loads that fit
            where += ["p.loading_metres <= %s", "p.weight_t <= %s"]
            params += [post.loading_metres, post.weight_t]
            if not post.adr:
                where.append("p.adr = %s")
                params.append(False)
    else:
        where += ["p.occupation = %s", "p.place_region = %s"]
        params += [post.occupation, post.place_region]
    readers, reader_params = readers_sql(post, "p.author_id")
    where.append(readers)
    params += reader_params
    sql = (
        "SELECT p.id, p.title, p.author_id, u.email, u.email_frequency, u.is_active, "  # noqa: S608 (values are parameters)
        "p.created_at FROM board_post p JOIN accounts_user u ON u.id = p.author_id "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY p.created_at DESC, p.id DESC LIMIT {MAX_POST_MATCHES}"
    )
    return sql, params


def _store_post_matches_elsewhere(post: Post, created_at: dt.datetime) -> list[PostHit]:
    """Without PostgreSQL: read the open posts the new post fits, then store one
    `Match` each (its author the recipient)."""
    statement = fitting_posts_sql(post)
    if statement is None:
        return []
    select, params = statement
    hits = [PostHit(*row[:-1]) for row in _rows(select, params)]
    Match.objects.bulk_create(
        [
            Match(post=post, other_id=hit.id, recipient_id=hit.author_id, created_at=created_at)
            for hit in hits
        ]
    )
    return hits


def prefixes(postcode: str) -> list[str]:
    return [postcode[:length] for length in range(1, len(postcode) + 1)]


def one_of(column: str, values: list[str]) -> tuple[str, list[Any]]:
    """`column IN (values)`, or never true for no values."""
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def fitting_searches_sql(post: Post) -> tuple[str, list[Any]]:
    """Saved searches (alert not off) whose structured filters all hold for the new
    post, and on PostgreSQL its free text too (the board's German full text); the
    first `MAX_SEARCH_MATCHES` by id. Elsewhere the last column is the search's
    words, for the caller to check."""
    cities = [city for city in (post.place_city, post.dest_city) if city]
    codes = prefixes(post.place_postcode) + prefixes(post.dest_postcode)
    in_cities, city_params = one_of("s.city", cities)
    in_codes, code_params = one_of("s.postcode", codes)
    where = [
        "s.alert <> %s",
        "s.user_id <> %s",
        "(s.kind = '' OR s.kind = %s)",
        "(s.category = '' OR s.category = %s)",
        "(s.group_id IS NULL OR s.group_id = %s)",
        f"(s.city = '' OR {in_cities})",
        f"(s.postcode = '' OR {in_codes})",
        "(s.occupation = '' OR s.occupation = %s)",
    ]
    params: list[Any] = [
        SavedSearch.Alert.OFF,
        post.author_id,
        post.kind,
        post.category,
        post.group_id,
        *city_params,
        *code_params,
        post.occupation,
    ]
    readers, reader_params = readers_sql(post, "s.user_id")
    where.append(readers)
    params += reader_params
    words = ""
    if settings.IS_POSTGRES:
        # Checked on the rows the other filters leave, not by a scan of every
        # search with words (the document is one constant tsvector).
        where.append(
            "(s.q = '' OR to_tsvector('german'::regconfig, %s) @@ "
            "websearch_to_tsquery('german'::regconfig, s.q))"
        )
        params.append(document_text(post))
    else:
        words = ", s.q"
    # Implied by the filters above (a search fits through its city, its postcode,
    # its occupation, its words, or has none of them), spelled out so that partial
    # indexes on each serve the query instead of every search of the category.
    arms = [in_cities, in_codes, "s.q <> ''"]
    params += [*city_params, *code_params]
    if post.occupation:
        arms.append("s.occupation = %s")
        params.append(post.occupation)
    arms.append("(s.city = '' AND s.postcode = '' AND s.occupation = '' AND s.q = '')")
    where.append(f"({' OR '.join(arms)})")
    sql = (
        "SELECT s.id, s.name, s.alert, s.user_id, u.email, u.email_frequency, u.is_active"  # noqa: S608 (values are parameters)
        f"{words} FROM board_savedsearch s JOIN accounts_user u ON u.id = s.user_id "
        f"WHERE {' AND '.join(where)} ORDER BY s.id LIMIT {MAX_SEARCH_MATCHES}"
    )
    return sql, params


def _store_search_matches_elsewhere(post: Post, created_at: dt.datetime) -> list[SearchHit]:
    """Without PostgreSQL: read the saved searches that fit the new post, check their
    free text (every word a substring), then bulk-insert one `Match` each."""
    select, params = fitting_searches_sql(post)
    folded = fold(document_text(post))
    hits = [
        SearchHit(*row[:-1])
        for row in _rows(select, params)
        if all(fold(word) in folded for word in row[-1].split())
    ]
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


def store_matches(post: Post, created_at: dt.datetime) -> tuple[list[PostHit], list[SearchHit]]:
    """Link the new post to its message (`post.message_id`), find the open posts and
    saved searches it fits and store one `Match` each: on PostgreSQL all in one
    statement (one round trip instead of three: data-modifying `WITH` parts, the
    INSERTs read the hits in the database, no Match instance or parameter per row
    crosses over; the hits of both kinds come back as one list), elsewhere as an
    update, two reads and two bulk inserts."""
    if not settings.IS_POSTGRES:
        Post.objects.filter(pk=post.pk).update(message=post.message_id)
        return (
            _store_post_matches_elsewhere(post, created_at),
            _store_search_matches_elsewhere(post, created_at),
        )
    parts = ["linked AS (UPDATE board_post SET message_id = %s WHERE id = %s)"]
    params: list[Any] = [post.message_id, post.pk]
    selects = []
    posts = fitting_posts_sql(post)
    if posts is not None:
        select, post_params = posts
        parts += [
            f"post_hit AS ({select})",
            "post_stored AS (INSERT INTO board_match "
            "(post_id, recipient_id, other_id, search_id, created_at, digested_at, daily) "
            "SELECT %s, author_id, id, NULL, %s, NULL, %s FROM post_hit)",
        ]
        params += [*post_params, post.pk, created_at, False]
        selects.append(
            "SELECT 'p', id, title, NULL, author_id, email, email_frequency, is_active, "
            "created_at FROM post_hit"
        )
    select, search_params = fitting_searches_sql(post)
    parts += [
        f"search_hit AS ({select})",
        "search_stored AS (INSERT INTO board_match "
        "(post_id, recipient_id, other_id, search_id, created_at, digested_at, daily) "
        "SELECT %s, user_id, NULL, id, %s, NULL, alert = %s FROM search_hit)",
    ]
    params += [*search_params, post.pk, created_at, SavedSearch.Alert.DAILY.value]
    selects.append(
        "SELECT 's', id, name, alert, user_id, email, email_frequency, is_active, NULL "
        "FROM search_hit"
    )
    sql = f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}"
    post_hits: list[tuple[dt.datetime, PostHit]] = []
    search_hits: list[SearchHit] = []
    for source, id_, text, alert, person, email, frequency, active, at in _rows(sql, params):
        if source == "p":
            post_hits.append((at, PostHit(id_, text, person, email, frequency, active)))
        else:
            search_hits.append(SearchHit(id_, text, alert, person, email, frequency, active))
    post_hits.sort(key=lambda item: (item[0], item[1].id), reverse=True)
    search_hits.sort(key=lambda hit: hit.id)
    return [hit for _, hit in post_hits], search_hits


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def document_text(post: Post) -> str:
    return f"{post.title} {post.body} {post.search_text}"
