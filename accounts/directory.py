"""Searching people and companies, German sorting, and the list cursor (docs/accounts.md,
docs/ui.md "Directory search").

Both modes treat "ae", "oe", "ue" and "ss" as "ä", "ö", "ü" and "ß" ("Schaefer" finds
"Schäfer") and forgive a small typo ("Kowalsky" finds "Kowalski"):

- PostgreSQL: full-text search with the German configuration, every word a prefix query
  of its stem, a word typed without umlauts also in its folded form ("schroeder" ->
  "schroder", as the stemmer folds "ö"); names also match by strict trigram word
  similarity (pg_trgm), a person's company name as well. Ranked, names weigh most.
- SQLite (the embedded default): the same rules in Python over the filtered rows, with
  `fold` on both sides and difflib's similarity ratio for typos (a word of four or more
  letters matches a word whose ratio is at least 0.8, or whose start is that close).
  A regional directory holds thousands of rows, not millions, so this stays cheap;
  PostgreSQL is the mode for more.

Unranked lists (no search words) are sorted by `sort_key` in Python in both modes:
German alphabetical order (DIN 5007-1: "Ö" as "O", "ß" as "ss"), titles such as "Dr."
ignored, so "Dr. Karin Weiß" sorts under K and "Özlem" under O. A locale-independent
key instead of the C library's or ICU's collation: no locale needs to be installed,
and the key is the same on every machine.

Lists are paged by an opaque cursor: URL-safe base64 of the offset into the ordered
result. A search is ranked, not keyed by a unique column, so an offset is the honest
cursor; a page may repeat or skip a row if the directory changes in between.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramStrictWordSimilarity,
)
from django.db.models import BooleanField, Exists, Model, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields import TextField
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
M = TypeVar("M", bound=Model)
TYPO_RATIO = 0.8
TYPO_MIN_LETTERS = 4
TITLES = re.compile(
    r"^(?:(?:prof|dr|dipl|ing|med|rer|nat|phil|jur|mag|mba|ba|ma)\.?(?:-\w+\.?)*\s+)+",
    re.IGNORECASE,
)
DOTLESS_I = "\u0131"  # the Turkish dotless i (as in a Turkish surname): no decomposition
GERMAN_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", DOTLESS_I: "i"})
SORT_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", DOTLESS_I: "i"})


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str) -> str:
    """ "Schäfer" and "Schaefer" -> "schaefer": umlauts as their two-letter spelling,
    other accents dropped ("José" -> "jose"), case folded."""
    return _strip_marks(text.casefold().translate(GERMAN_FOLD))


def sort_key(name: str) -> tuple[str, str]:
    """German phone-book order, titles ignored: "Dr. Karin Weiß" -> ("karin weiss", ...);
    "Özlem" sorts with "O". The name itself breaks ties."""
    bare = TITLES.sub("", name.strip()) or name.strip()
    return (_strip_marks(bare.casefold().translate(SORT_FOLD)), name)


@dataclass
class Ordered(Generic[M]):
    """A result ordered in Python: the ids in order and the queryset to load a page of
    them from (with its prefetching)."""

    queryset: QuerySet[M]
    ids: list[int]


def _ordered(queryset: QuerySet[M], ids: Iterable[int]) -> Ordered[M]:
    return Ordered(queryset=queryset, ids=list(ids))


def _alphabetical(queryset: QuerySet[M], field: str) -> Ordered[M]:
    rows = queryset.values_list("pk", field)
    return _ordered(queryset, (pk for pk, _ in sorted(rows, key=lambda r: (sort_key(r[1]), r[0]))))


def _word_score(word: str, candidates: Sequence[str]) -> float:
    """1.0 when a candidate starts with `word`; a typo's similarity when close enough;
    else 0."""
    best = 0.0
    for candidate in candidates:
        if candidate.startswith(word):
            return 1.0
        if len(word) < TYPO_MIN_LETTERS:
            continue
        whole = SequenceMatcher(None, word, candidate).ratio()
        start = SequenceMatcher(None, word, candidate[: len(word)]).ratio()
        best = max(best, whole, start if len(candidate) > len(word) else 0.0)
    return best if best >= TYPO_RATIO else 0.0


def _python_search(
    queryset: QuerySet[M], q: str, weighted: Sequence[tuple[str, float]], name_field: str
) -> Ordered[M]:
    """Every search word must match (prefix or small typo) in one of the fields; the
    score sums each word's best match times its field's weight."""
    words = [fold(word) for word in words_of(q)]
    fields = [field for field, _ in weighted]
    scored: list[tuple[float, tuple[str, str], int]] = []
    for row in queryset.values_list("pk", *fields):
        pk, values = row[0], row[1:]
        per_field = [
            (WORD.findall(fold(_as_text(value))), weight)
            for value, (_, weight) in zip(values, weighted, strict=True)
        ]
        total = 0.0
        for word in words:
            best = max(
                (_word_score(word, tokens) * weight for tokens, weight in per_field), default=0
            )
            if best == 0:
                break
            total += best
        else:
            name = values[fields.index(name_field)]
            scored.append((-total, sort_key(str(name)), pk))
    return _ordered(queryset, (pk for _, _, pk in sorted(scored)))


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return "" if value is None else str(value)


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


PEOPLE_FIELDS = (
    ("display_name", 3.0),
    ("job_title", 2.0),
    ("company_name", 2.0),
    ("topics", 2.0),
    ("city", 1.0),
    ("bio", 1.0),
)
COMPANY_FIELDS = (("name", 3.0), ("industry", 2.0), ("city", 1.0), ("description", 1.0))


def search_people(
    *, q: str = "", city: str = "", company: str = "", topic: str = "", responsibility: str = ""
) -> QuerySet[User] | Ordered[User]:
    """Active people matching all given criteria, best matches first; without search
    words in German alphabetical order.

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
        return _alphabetical(queryset, "display_name")
    if not settings.IS_POSTGRES:
        return _python_search(queryset, q, PEOPLE_FIELDS, "display_name")
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
            name_similarity=Greatest(
                TrigramStrictWordSimilarity(q.strip(), "display_name"),
                TrigramStrictWordSimilarity(q.strip(), "company_name"),
            ),
        )
        .filter(Q(document=query) | Q(name_similarity__gte=NAME_SIMILARITY))
        .order_by(Greatest("rank", "name_similarity").desc(), "display_name", "pk")
    )


def filter_topic(queryset: QuerySet[User], topic: str) -> QuerySet[User]:
    """People who carry `topic` as one of their tags: the whole tag, case and umlaut
    spelling aside ("logistik" is "Logistik", "Logis" is not)."""
    if settings.IS_POSTGRES:
        has_topic = RawSQL(
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(accounts_user.topics) AS t(v)"
            " WHERE lower(t.v) = lower(%s))",
            [topic],
            output_field=BooleanField(),
        )
        return queryset.annotate(has_topic=has_topic).filter(has_topic=True)
    # SQLite: its lower() knows ASCII only and its JSON text has escapes, so compare the
    # tags one by one in Python.
    wanted = fold(topic)
    matching = [
        pk
        for pk, topics in queryset.values_list("pk", "topics")
        if any(fold(str(item)) == wanted for item in topics or [])
    ]
    return queryset.filter(pk__in=matching)


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


def search_companies(
    *, q: str = "", city: str = "", industry: str = ""
) -> QuerySet[Company] | Ordered[Company]:
    """Companies matching all given criteria, best matches first; without search words
    in German alphabetical order."""
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
        return _alphabetical(queryset, "name")
    if not settings.IS_POSTGRES:
        return _python_search(queryset, q, COMPANY_FIELDS, "name")
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


def page_of(
    result: QuerySet[Any] | Ordered[Any], *, cursor: str, limit: int
) -> tuple[list[Any], str | None]:
    """One page of a result and the cursor of the next page (None on the last)."""
    offset = decode_cursor(cursor)
    if isinstance(result, Ordered):
        ids = result.ids[offset : offset + limit + 1]
        loaded = {row.pk: row for row in result.queryset.filter(pk__in=ids)}
        rows = [loaded[pk] for pk in ids if pk in loaded]
    else:
        rows = list(result[offset : offset + limit + 1])
    next_cursor = encode_cursor(offset + limit) if len(rows) > limit else None
    return rows[:limit], next_cursor
