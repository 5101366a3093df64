"""Searching the messages a person may read (`GET /api/v1/search`, the page `/suche/`).

- PostgreSQL: German full text (`to_tsvector('german', body)`, the expression the GIN
  index of migration 0001 covers; `websearch_to_tsquery`, so "Ausbildungsplätze" finds
  "Ausbildungsplatz", quotes make phrases, `-wort` excludes), and the hit marked by
  `ts_headline` with the same query.
- Elsewhere (SQLite, local runs): the query as a case-insensitive substring, marked
  where it occurs.

The highlight is a list of segments `{"text", "hit"}` of plain text, never HTML: the
browser builds text nodes from it and the page's template escapes it, so a message
with markup cannot inject any. Results are newest first; `next` is an opaque cursor
(the last hit's time and id) for the following page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVectorField
from django.db.models import Case, F, Func, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Length

from chat.access import access_conversation, readable_conversations
from chat.attachments import with_attachments
from chat.models import Message
from realtime.errors import ClientError

QUERY_MAX_CHARS = 200
PAGE_MAX = 50
EXCERPT_CHARS = 120  # around the first hit, each side (SQLite)
WHOLE_BELOW_CHARS = 400  # shorter messages come back whole, the hits marked
# Private-use characters as ts_headline's markers: removed from the text first, so a
# message cannot fake a hit.
HIT_START = "\ue000"
HIT_END = "\ue001"
CURSOR = re.compile(r"^(\d{1,20})\.(\d{1,19})$")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class GermanBodyVector(Func):
    """`to_tsvector('german', body)`: the exact expression of the search index."""

    template = "to_tsvector('german'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


def without_markers(column: str) -> Func:
    inner = Func(
        F(column), Value(HIT_START), Value(""), function="replace", output_field=TextField()
    )
    return Func(inner, Value(HIT_END), Value(""), function="replace", output_field=TextField())


@dataclass
class Hit:
    message: Message
    highlight: list[dict[str, Any]]


def clean_query(q: Any) -> str:
    if not isinstance(q, str) or not q.strip():
        raise ClientError(
            "bad_request", "Bitte einen Suchbegriff angeben.", fields={"q": ["Erforderlich."]}
        )
    query = q.strip()
    if len(query) > QUERY_MAX_CHARS:
        raise ClientError(
            "bad_request",
            f"Der Suchbegriff ist zu lang (höchstens {QUERY_MAX_CHARS} Zeichen).",
            fields={"q": [f"Höchstens {QUERY_MAX_CHARS} Zeichen."]},
        )
    if "\x00" in query:
        raise ClientError(
            "bad_request",
            "Der Suchbegriff enthält ein ungültiges Zeichen.",
            fields={"q": ["Ungültig."]},
        )
    return query


def encode_cursor(message: Message) -> str:
    micros = (message.created_at - EPOCH) // dt.timedelta(microseconds=1)
    return f"{micros}.{message.pk}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    match = CURSOR.match(cursor)
    if match is None:
        raise ClientError(
            "bad_request",
            "Ungültiger Cursor: bitte den Wert von „next“ unverändert übergeben.",
            fields={"cursor": ["Ungültig."]},
        )
    try:
        when = EPOCH + dt.timedelta(microseconds=int(match.group(1)))
    except OverflowError as exc:
        raise ClientError(
            "bad_request", "Ungültiger Cursor.", fields={"cursor": ["Ungültig."]}
        ) from exc
    return when, int(match.group(2))


def parse_limit(limit: Any) -> int:
    if limit is None:
        return PAGE_MAX
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= PAGE_MAX:
        raise ClientError(
            "bad_request",
            f"limit muss zwischen 1 und {PAGE_MAX} liegen.",
            fields={"limit": ["Ungültig."]},
        )
    return limit


def search_messages(
    user: Any,
    q: Any,
    *,
    conversation: int | None = None,
    cursor: str | None = None,
    limit: Any = None,
) -> tuple[list[Hit], str | None]:
    """One page of the messages `user` may read that match `q`, newest first, and the
    cursor of the next page (None at the end). `conversation` narrows it to one (403
    or 404 like every access to it). Bad input: `ClientError` (400)."""
    query = clean_query(q)
    size = parse_limit(limit)
    messages: QuerySet[Message] = Message.objects.filter(
        deleted_at__isnull=True, hidden_at__isnull=True
    )
    if conversation is not None:
        messages = messages.filter(
            conversation=access_conversation(user, conversation).conversation
        )
    else:
        messages = messages.filter(conversation_id__in=readable_conversations(user).values("pk"))
    if cursor:
        when, last_id = decode_cursor(cursor)
        messages = messages.filter(Q(created_at__lt=when) | Q(created_at=when, id__lt=last_id))
    if settings.IS_POSTGRES:
        tsquery = SearchQuery(query, config="german", search_type="websearch")
        messages = messages.annotate(document=GermanBodyVector("body")).filter(document=tsquery)
        marks: dict[str, Any] = {"config": "german", "start_sel": HIT_START, "stop_sel": HIT_END}
        text = without_markers("body")
        messages = messages.annotate(body_length=Length("body")).annotate(
            headline=Case(
                # A short message whole, a long one as the fragments around its hits.
                When(
                    body_length__lte=WHOLE_BELOW_CHARS,
                    then=SearchHeadline(text, tsquery, highlight_all=True, **marks),
                ),
                default=SearchHeadline(
                    text,
                    tsquery,
                    max_words=35,
                    min_words=15,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                    **marks,
                ),
                output_field=TextField(),
            )
        )
    else:
        messages = messages.filter(body__icontains=query)
    rows = list(
        with_attachments(
            messages.select_related("author", "conversation", "reply_to__author")
        ).order_by("-created_at", "-id")[: size + 1]
    )
    following = encode_cursor(rows[size - 1]) if len(rows) > size else None
    hits = [
        Hit(
            message,
            segments_of_headline(message.headline)  # type: ignore[attr-defined]
            if settings.IS_POSTGRES
            else segments_of_substring(message.body, query),
        )
        for message in rows[:size]
    ]
    return hits, following


def segments_of_headline(headline: str) -> list[dict[str, Any]]:
    """ts_headline's text with our markers -> plain segments."""
    segments: list[dict[str, Any]] = []
    for number, part in enumerate(headline.split(HIT_START)):
        if number == 0:
            add_segment(segments, part.replace(HIT_END, ""), hit=False)
            continue
        marked, _, rest = part.partition(HIT_END)
        add_segment(segments, marked, hit=True)
        add_segment(segments, rest, hit=False)
    return segments


def segments_of_substring(body: str, query: str) -> list[dict[str, Any]]:
    """The excerpt around the first occurrence of `query`, every occurrence marked."""
    lower, needle = body.lower(), query.lower()
    first = lower.find(needle)
    if first < 0:  # SQLite matched in a way Python does not (non-ASCII case): no mark
        return [{"text": body[: 2 * EXCERPT_CHARS], "hit": False}]
    start = max(0, first - EXCERPT_CHARS)
    end = min(len(body), first + len(needle) + EXCERPT_CHARS)
    segments: list[dict[str, Any]] = []
    if start > 0:
        add_segment(segments, "… ", hit=False)
    position = start
    while True:
        found = lower.find(needle, position, end)
        if found < 0 or found + len(needle) > end:
            break
        add_segment(segments, body[position:found], hit=False)
        add_segment(segments, body[found : found + len(needle)], hit=True)
        position = found + len(needle)
    add_segment(segments, body[position:end], hit=False)
    if end < len(body):
        add_segment(segments, " …", hit=False)
    return segments


def add_segment(segments: list[dict[str, Any]], text: str, *, hit: bool) -> None:
    if not text:
        return
    if segments and segments[-1]["hit"] == hit:
        segments[-1]["text"] += text
    else:
        segments.append({"text": text, "hit": hit})
