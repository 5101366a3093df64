"""Searching people and companies, and the list cursor (docs/accounts.md).

On PostgreSQL the free text `q` runs through full-text search with the German
configuration: every word becomes a prefix query of its stem, so "Ausbildung" (stem
"ausbild") finds "Ausbildungsleiterin", and "Beck" finds "Becker". A word typed without
umlauts ("Schroeder") also tries its folded form ("schroder", as the stemmer folds
"ö"). Names also match by strict trigram word similarity (pg_trgm), which forgives a small
typo ("Beker"). Results are ranked,
names weigh most. On SQLite every word must occur (icontains) in one of the fields.

Lists are paged by an opaque cursor: URL-safe base64 of the offset into the ordered
result. A search is ranked, not keyed by a unique column, so an offset is the honest
cursor; a page may repeat or skip a row if the directory changes in between.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramStrictWordSimilarity,
)
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Greatest

from accounts.access import people
from accounts.models import Company, CompanyMember, User
from realtime.errors import ClientError

MAX_WORDS = 8
NAME_SIMILARITY = 0.4
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
WORD = re.compile(r"[^\W_]+")

T = TypeVar("T")


def words_of(q: str) -> list[str]:
    return WORD.findall(q.lower())[:MAX_WORDS]


def folded(word: str) -> str:
    """ "schroeder" -> "schroder": the German stemmer maps "ö" to "o", so a name typed
    without umlauts still meets its stem."""
    return word.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def prefix_tsquery(words: Sequence[str]) -> SearchQuery:
    """`ausbildung:* & (schroeder:* | schroder:*)`: every word a prefix of a stem. Safe
    to build as raw text, since every word is letters and digits only."""
    terms = []
    for word in words:
        alternative = folded(word)
        terms.append(f"({word}:* | {alternative}:*)" if alternative != word else f"{word}:*")
    return SearchQuery(" & ".join(terms), config="german", search_type="raw")


def _text_filter(fields: Sequence[str], words: Sequence[str]) -> Q:
    condition = Q()
    for word in words:
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": word})
        condition &= any_field
    return condition


def search_people(
    *, q: str = "", city: str = "", company: str = "", topic: str = "", responsibility: str = ""
) -> QuerySet[User]:
    """Active people matching all given criteria, best matches first.

    `responsibility` ("Zuständig für") matches a confirmed contact person whose
    responsibility contains it; with `company` too, at that very company, so "who
    handles Ausbildung at Stahlbau Witten" is one query. A trigram index on PostgreSQL
    (migration 0005) serves the substring match."""
    # Unconfirmed addresses stay out of the directory until the link is used.
    queryset = people().filter(email_confirmed_at__isnull=False)
    if city.strip():
        queryset = queryset.filter(city__istartswith=city.strip())
    if responsibility.strip():
        responsible = CompanyMember.objects.filter(
            user=OuterRef("pk"), confirmed=True, responsibility__icontains=responsibility.strip()
        )
        if company.strip():
            value = company.strip()
            responsible = responsible.filter(
                Q(company__slug=value) | Q(company__name__icontains=value)
            )
        queryset = queryset.filter(Exists(responsible))
    elif company.strip():
        value = company.strip()
        confirmed_at = CompanyMember.objects.filter(
            user=OuterRef("pk"), confirmed=True, company__slug=value
        )
        queryset = queryset.filter(Q(company_name__icontains=value) | Exists(confirmed_at))
    if topic.strip():
        queryset = filter_topic(queryset, topic.strip())
    words = words_of(q)
    if not words:
        return queryset.order_by("display_name", "pk")
    if not settings.IS_POSTGRES:
        fields = ["display_name", "job_title", "company_name", "city", "bio", "topics_text"]
        return (
            queryset.annotate(topics_text=Cast("topics", TextField()))
            .filter(_text_filter(fields, words))
            .order_by("display_name", "pk")
        )
    vector = (
        SearchVector("display_name", weight="A", config="german")
        + SearchVector(
            "job_title", "company_name", Cast("topics", TextField()), weight="B", config="german"
        )
        + SearchVector("city", "bio", weight="C", config="german")
    )
    query = prefix_tsquery(words)
    return (
        queryset.annotate(
            document=vector,
            rank=SearchRank(vector, query),
            name_similarity=TrigramStrictWordSimilarity(q.strip(), "display_name"),
        )
        .filter(Q(document=query) | Q(name_similarity__gte=NAME_SIMILARITY))
        .order_by(Greatest("rank", "name_similarity").desc(), "display_name", "pk")
    )


def filter_topic(queryset: QuerySet[User], topic: str) -> QuerySet[User]:
    """People who carry `topic` as one of their tags (case-insensitive, whole tag)."""
    if settings.IS_POSTGRES:
        has_topic = RawSQL(
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(accounts_user.topics) AS t(v)"
            " WHERE lower(t.v) = lower(%s))",
            [topic],
            output_field=BooleanField(),
        )
        return queryset.annotate(has_topic=has_topic).filter(has_topic=True)
    escaped = json.dumps(topic)[1:-1]
    return queryset.annotate(topics_text=Cast("topics", TextField())).filter(
        Q(topics_text__icontains=topic) | Q(topics_text__icontains=escaped)
    )


WZ_PREFIX = re.compile(r"^\d{2}(\.\d{0,2}(\.\d?)?)?$")


def wz_industries() -> list[tuple[str, str]]:
    """The WZ 2008 titles of the companies listed (code order), for the filter."""
    rows = (
        Company.objects.exclude(wz_code="")
        .values_list("wz_code", "industry")
        .distinct()
        .order_by("wz_code", "industry")
    )
    return [(title, f"{title} ({code})") for code, title in rows]


def search_companies(*, q: str = "", city: str = "", industry: str = "") -> QuerySet[Company]:
    """Companies matching all given criteria, best matches first."""
    queryset = Company.objects.all()
    if city.strip():
        queryset = queryset.filter(city__istartswith=city.strip())
    industry = industry.strip()
    if WZ_PREFIX.match(industry):
        queryset = queryset.filter(wz_code__startswith=industry)
    elif industry:
        queryset = queryset.filter(industry__icontains=industry)
    words = words_of(q)
    if not words:
        return queryset.order_by("name", "pk")
    if not settings.IS_POSTGRES:
        fields = ["name", "industry", "city", "description"]
        return queryset.filter(_text_filter(fields, words)).order_by("name", "pk")
    vector = (
        SearchVector("name", weight="A", config="german")
        + SearchVector("industry", weight="B", config="german")
        + SearchVector("city", "description", weight="C", config="german")
    )
    query = prefix_tsquery(words)
    return (
        queryset.annotate(
            document=vector,
            rank=SearchRank(vector, query),
            name_similarity=TrigramStrictWordSimilarity(q.strip(), "name"),
        )
        .filter(Q(document=query) | Q(name_similarity__gte=NAME_SIMILARITY))
        .order_by(Greatest("rank", "name_similarity").desc(), "name", "pk")
    )


def encode_cursor(offset: int) -> str:
    raw = json.dumps({"o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset in a cursor; a cursor that we did not make is a `bad_request`."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode()))["o"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ClientError(
            "bad_request", "Ungültiger Cursor.", fields={"cursor": ["Ungültiger Cursor."]}
        ) from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ClientError(
            "bad_request", "Ungültiger Cursor.", fields={"cursor": ["Ungültiger Cursor."]}
        )
    return offset


def page_of(queryset: QuerySet[Any], *, cursor: str, limit: int) -> tuple[list[Any], str | None]:
    """One page of `queryset` and the cursor of the next page (None on the last)."""
    offset = decode_cursor(cursor)
    rows = list(queryset[offset : offset + limit + 1])
    next_cursor = encode_cursor(offset + limit) if len(rows) > limit else None
    return rows[:limit], next_cursor
