"""The board's filters, shared by `GET /board`, the board pages and saved searches.

`BoardFilters.parse` checks every value and raises one `ClientError` with a German
message per wrong field; `apply` narrows a queryset of visible posts.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import FloatField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import ACos, Cos, Greatest, Least, Radians, Sin

from board import occupations, postcodes
from board.models import Category, Kind, Post, Status
from board.validation import Errors, today

Q_MAX = 200
NEAR_KM_MAX = 500
NEAR_KM_DEFAULT = 50
STATUS_ALL = "all"
# The document the German full-text index covers (migration 0001 builds the index on
# exactly this expression, so PostgreSQL can use it).
POST_DOCUMENT_SQL = "to_tsvector('german'::regconfig, title || ' ' || body || ' ' || search_text)"


@dataclass
class BoardFilters:
    kind: str = ""
    category: str = ""
    group: str = ""  # a group's slug
    city: str = ""
    postcode: str = ""  # 1 to 5 leading digits: the postcode area
    q: str = ""
    occupation: str = ""
    status: str = Status.OPEN
    date: dt.date | None = None  # posts whose date window contains this day
    near: str = ""  # a postcode: posts within `km` of it
    km: int = NEAR_KM_DEFAULT

    # The filters a saved search keeps (status is always "open", dates pass).
    SAVED = ("kind", "category", "group", "city", "postcode", "q", "occupation")

    @classmethod
    def parse(cls, raw: dict[str, Any], *, saved: bool = False) -> BoardFilters:
        errors = Errors()
        allowed = set(cls.SAVED) if saved else set(cls.__dataclass_fields__)
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in allowed:
                errors.add(name, "Diesen Filter gibt es nicht.")
                continue
            if value is None:
                continue
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and name in ("km", "postcode")
            ):
                value = str(value)
            if not isinstance(value, str):
                errors.add(name, "Bitte Text angeben.")
                continue
            values[name] = value.strip()
        filters = cls()
        kind = values.get("kind", "")
        if kind and kind not in Kind.values:
            errors.add("kind", "Bitte „offer“ (Angebot) oder „request“ (Gesuch) angeben.")
        filters.kind = kind
        category = values.get("category", "")
        if category and category not in Category.values:
            errors.add("category", "Unbekannte Kategorie.")
        filters.category = category
        filters.group = values.get("group", "")[:80]
        city = values.get("city", "")
        if len(city) > 100:
            errors.add("city", "Höchstens 100 Zeichen.")
        filters.city = city
        code = values.get("postcode", "")
        if code and not postcodes.PREFIX.match(code):
            errors.add("postcode", "Bitte eine bis fünf Ziffern der Postleitzahl angeben.")
        filters.postcode = code
        q = values.get("q", "")
        if len(q) > Q_MAX or "\x00" in q:
            errors.add("q", f"Höchstens {Q_MAX} Zeichen.")
        filters.q = q
        occupation = values.get("occupation", "")
        if occupation:
            found = occupations.canonical(occupation)
            if found is None:
                errors.add("occupation", "Unbekannter Ausbildungsberuf.")
            filters.occupation = found or ""
        status = values.get("status", Status.OPEN) or Status.OPEN
        if status not in (*Status.values, STATUS_ALL):
            errors.add("status", "Erlaubt: open, filled, withdrawn, expired oder all.")
        filters.status = status
        if values.get("date"):
            try:
                filters.date = dt.date.fromisoformat(values["date"])
            except ValueError:
                errors.add("date", "Bitte ein Datum im Format JJJJ-MM-TT angeben.")
        near = values.get("near", "")
        if near:
            problem = postcodes.problem(near)
            if problem:
                errors.add("near", problem)
        filters.near = near
        km = values.get("km", "")
        if km:
            if not km.isdigit() or not 1 <= int(km) <= NEAR_KM_MAX:
                errors.add("km", f"Bitte 1 bis {NEAR_KM_MAX} Kilometer angeben.")
            else:
                filters.km = int(km)
        errors.raise_if_any()
        return filters

    def saved_values(self) -> dict[str, str]:
        """The filters a saved search stores, without empty ones."""
        return {name: value for name, value in asdict(self).items() if name in self.SAVED and value}

    def apply(self, posts: QuerySet[Post]) -> QuerySet[Post]:
        if self.kind:
            posts = posts.filter(kind=self.kind)
        if self.category:
            posts = posts.filter(category=self.category)
        if self.group:
            posts = posts.filter(group__slug=self.group)
        if self.city:
            city = occupations.fold(self.city)
            posts = posts.filter(Q(place_city=city) | Q(dest_city=city))
        if self.postcode:
            posts = posts.filter(
                Q(place_postcode__startswith=self.postcode)
                | Q(dest_postcode__startswith=self.postcode)
            )
        if self.occupation:
            posts = posts.filter(occupation=self.occupation)
        if self.date:
            posts = posts.filter(
                Q(earliest__isnull=True) | Q(earliest__lte=self.date),
                Q(latest__isnull=True) | Q(latest__gte=self.date),
            )
        posts = with_status(posts, self.status)
        if self.near:
            centre = postcodes.coordinates(self.near)
            if centre is not None:
                low_lat, high_lat, low_lon, high_lon = postcodes.bounding_box(centre, self.km)
                posts = posts.filter(
                    latitude__range=(low_lat, high_lat), longitude__range=(low_lon, high_lon)
                )
                posts = posts.annotate(distance_km=great_circle_km(centre)).filter(
                    distance_km__lte=self.km
                )
        if self.q:
            posts = full_text(posts, self.q)
        return posts

    def where_sql(self) -> tuple[list[str], list[Any]] | None:
        """`apply` as written SQL conditions on `board_post p` joined to
        `groups_group g` (for `access.board_rows`, whose query the ORM took longer to
        compose and compile than the database to run): the same filters, the same
        indexes. None for `near` (the distance stays with `apply`)."""
        if self.near:
            return None
        where: list[str] = []
        params: list[Any] = []
        if self.kind:
            where.append("p.kind = %s")
            params.append(self.kind)
        if self.category:
            where.append("p.category = %s")
            params.append(self.category)
        if self.group:
            where.append("g.slug = %s")
            params.append(self.group)
        if self.city:
            city = occupations.fold(self.city)
            where.append("(p.place_city = %s OR p.dest_city = %s)")
            params += [city, city]
        if self.postcode:  # digits only (checked by `parse`): nothing to escape
            where.append("(p.place_postcode LIKE %s OR p.dest_postcode LIKE %s)")
            params += [f"{self.postcode}%", f"{self.postcode}%"]
        if self.occupation:
            where.append("p.occupation = %s")
            params.append(self.occupation)
        if self.date:
            day = connection.ops.adapt_datefield_value(self.date)
            where.append(
                "(p.earliest IS NULL OR p.earliest <= %s) AND (p.latest IS NULL OR p.latest >= %s)"
            )
            params += [day, day]
        now = connection.ops.adapt_datefield_value(today())
        if self.status == Status.OPEN:
            where.append("p.status = %s AND (p.expires_on IS NULL OR p.expires_on >= %s)")
            params += [Status.OPEN.value, now]
        elif self.status == Status.EXPIRED:
            where.append("(p.status = %s OR (p.status = %s AND p.expires_on < %s))")
            params += [Status.EXPIRED.value, Status.OPEN.value, now]
        elif self.status != STATUS_ALL:
            where.append("p.status = %s")
            params.append(self.status)
        if self.q:
            if settings.IS_POSTGRES:
                where.append(
                    f"p.id IN (SELECT id FROM board_post WHERE {POST_DOCUMENT_SQL} "  # noqa: S608
                    "@@ websearch_to_tsquery('german'::regconfig, %s))"
                )
                params.append(self.q)
            else:  # as `full_text`: every word a substring (LIKE, as Django's icontains)
                for word in self.q.split():
                    like = f"%{connection.ops.prep_for_like_query(word)}%"
                    where.append(
                        "(p.title LIKE %s ESCAPE '\\' OR p.body LIKE %s ESCAPE '\\' "
                        "OR p.search_text LIKE %s ESCAPE '\\')"
                    )
                    params += [like, like, like]
        return where, params


def open_q() -> Q:
    return Q(status=Status.OPEN) & (Q(expires_on__isnull=True) | Q(expires_on__gte=today()))


def with_status(posts: QuerySet[Post], status: str) -> QuerySet[Post]:
    """Filter by the effective status: a stored "open" past its last day is expired."""
    if status == STATUS_ALL:
        return posts
    if status == Status.OPEN:
        return posts.filter(open_q())
    if status == Status.EXPIRED:
        return posts.filter(
            Q(status=Status.EXPIRED) | Q(status=Status.OPEN, expires_on__lt=today())
        )
    return posts.filter(status=status)


def full_text(posts: QuerySet[Post], query: str) -> QuerySet[Post]:
    """German full text (stemming, `websearch` syntax) on PostgreSQL; every word as a
    case-insensitive substring elsewhere (SQLite, local runs)."""
    if settings.IS_POSTGRES:
        return posts.filter(
            pk__in=RawSQL(  # noqa: S611
                f"SELECT id FROM board_post WHERE {POST_DOCUMENT_SQL} "  # noqa: S608
                "@@ websearch_to_tsquery('german'::regconfig, %s)",
                [query],
            )
        )
    for word in query.split():
        posts = posts.filter(
            Q(title__icontains=word) | Q(body__icontains=word) | Q(search_text__icontains=word)
        )
    return posts


def great_circle_km(centre: tuple[float, float]) -> Any:
    """The distance from `centre` to a post's place in SQL (spherical law of cosines,
    clamped against rounding just above 1)."""
    lat = math.radians(centre[0])
    lon = math.radians(centre[1])
    cosine = Value(math.sin(lat)) * Sin(Radians("latitude")) + Value(math.cos(lat)) * Cos(
        Radians("latitude")
    ) * Cos(Radians("longitude") - Value(lon))
    return Value(postcodes.EARTH_RADIUS_KM) * ACos(
        Least(Value(1.0), Greatest(Value(-1.0), cosine)), output_field=FloatField()
    )
