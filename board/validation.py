"""Cleaning a post's input: every field checked, a German message per field.

`clean_post` raises one `ClientError("bad_request", ..., fields={...})` naming every
wrong field at once (field names as in the API: `title`, `fields.from_postcode`, ...),
so a form can show each message beside its field. Nothing is stored before this passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from board import occupations, postcodes
from board.models import Category, Kind
from realtime.errors import ClientError

TITLE_MAX = 120
BODY_MAX = 3000
CITY_MAX = 100
MAX_DAYS_AHEAD = 400
LOADING_METRES = (Decimal("0.1"), Decimal("13.6"))
WEIGHT_T = (Decimal("0.01"), Decimal("40"))
PLACES = (1, 50)

VEHICLES = {
    "plane": "Plane",
    "koffer": "Koffer",
    "kuehl": "Kühlkoffer",
    "kipper": "Kipper",
    "tank": "Tank",
    "container": "Container",
    "sonstige": "Sonstiges Fahrzeug",
}
SCHOOL_LEAVING = {
    "keiner": "Kein Abschluss nötig",
    "hauptschule": "Hauptschulabschluss",
    "realschule": "Mittlerer Schulabschluss",
    "abitur": "Abitur oder Fachabitur",
    "egal": "Abschluss egal",
}
FIELDS_OF = {
    Category.FREIGHT: (
        "from_postcode",
        "from_city",
        "to_postcode",
        "to_city",
        "earliest",
        "latest",
        "loading_metres",
        "weight_t",
        "vehicle",
        "adr",
    ),
    Category.APPRENTICESHIP: (
        "occupation",
        "start",
        "places",
        "postcode",
        "city",
        "school_leaving",
    ),
    Category.OTHER: (),
}


@dataclass
class CleanPost:
    kind: str
    category: str
    title: str
    body: str
    fields: dict[str, Any]
    valid_until: dt.date | None


@dataclass
class Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ClientError(
                "bad_request", "Bitte prüfen Sie die markierten Angaben.", fields=self.fields
            )


def today() -> dt.date:
    """Today in Europe/Berlin: a post is open through its last day there."""
    return timezone.localdate()


def text(errors: Errors, name: str, value: Any, *, required: bool, limit: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:
        errors.add(name, "Bitte Text angeben.")
        return ""
    value = value.strip()
    if required and not value:
        errors.add(name, "Bitte ausfüllen.")
    elif len(value) > limit:
        errors.add(name, f"Höchstens {limit} Zeichen.")
    return value


def date(errors: Errors, name: str, value: Any, *, required: bool) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors.add(name, "Bitte ein Datum angeben.")
        return None
    if not isinstance(value, str):
        errors.add(name, "Bitte ein Datum im Format JJJJ-MM-TT angeben.")
        return None
    try:
        parsed = dt.date.fromisoformat(value.strip())
    except ValueError:
        errors.add(name, "Bitte ein gültiges Datum im Format JJJJ-MM-TT angeben.")
        return None
    if parsed < today():
        errors.add(name, "Das Datum liegt in der Vergangenheit.")
    elif parsed > today() + dt.timedelta(days=MAX_DAYS_AHEAD):
        errors.add(name, "Das Datum liegt zu weit in der Zukunft (höchstens gut ein Jahr).")
    return parsed


def number(
    errors: Errors, name: str, value: Any, bounds: tuple[Decimal, Decimal], unit: str
) -> Decimal | None:
    if value is None or value == "":
        errors.add(name, "Bitte eine Zahl angeben.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.add(name, "Bitte eine Zahl angeben.")
        return None
    try:
        parsed = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        errors.add(name, "Bitte eine Zahl angeben.")
        return None
    if not parsed.is_finite():
        errors.add(name, "Bitte eine Zahl angeben.")
        return None
    low, high = bounds
    if parsed < low or parsed > high:
        errors.add(name, f"Erlaubt sind {german(low)} bis {german(high)} {unit}.")
        return None
    return parsed


def german(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")


def postcode(errors: Errors, name: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        errors.add(name, "Bitte eine deutsche Postleitzahl mit fünf Ziffern angeben.")
        return ""
    value = value.strip()
    problem = postcodes.problem(value)
    if problem:
        errors.add(name, problem)
    return value


def choice(errors: Errors, name: str, value: Any, options: dict[str, str]) -> str:
    if not isinstance(value, str) or value not in options:
        errors.add(name, "Bitte eine der angebotenen Möglichkeiten wählen.")
        return ""
    return value


def clean_freight(errors: Errors, raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["from_postcode"] = postcode(errors, "fields.from_postcode", raw.get("from_postcode"))
    out["from_city"] = text(
        errors, "fields.from_city", raw.get("from_city"), required=True, limit=CITY_MAX
    )
    out["to_postcode"] = postcode(errors, "fields.to_postcode", raw.get("to_postcode"))
    out["to_city"] = text(
        errors, "fields.to_city", raw.get("to_city"), required=True, limit=CITY_MAX
    )
    earliest = date(errors, "fields.earliest", raw.get("earliest"), required=True)
    latest = date(errors, "fields.latest", raw.get("latest"), required=True)
    if earliest and latest and earliest > latest:
        errors.add("fields.latest", "Das späteste Datum liegt vor dem frühesten.")
    out["earliest"] = earliest.isoformat() if earliest else None
    out["latest"] = latest.isoformat() if latest else None
    metres = number(errors, "fields.loading_metres", raw.get("loading_metres"), LOADING_METRES, "m")
    out["loading_metres"] = (
        float(metres.quantize(Decimal("0.1"), ROUND_HALF_UP)) if metres is not None else None
    )
    weight = number(errors, "fields.weight_t", raw.get("weight_t"), WEIGHT_T, "t")
    out["weight_t"] = (
        float(weight.quantize(Decimal("0.01"), ROUND_HALF_UP)) if weight is not None else None
    )
    out["vehicle"] = choice(errors, "fields.vehicle", raw.get("vehicle"), VEHICLES)
    adr = raw.get("adr", False)
    if not isinstance(adr, bool):
        errors.add("fields.adr", "Bitte ja oder nein angeben.")
        adr = False
    out["adr"] = adr
    return out


def clean_apprenticeship(errors: Errors, kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    value = raw.get("occupation")
    name = occupations.canonical(value) if isinstance(value, str) else None
    if name is None:
        suggestions = occupations.search(value, limit=3) if isinstance(value, str) else []
        hint = f" Meinten Sie: {', '.join(suggestions)}?" if value and suggestions else ""
        errors.add(
            "fields.occupation",
            "Bitte einen anerkannten Ausbildungsberuf aus der Liste wählen." + hint,
        )
    out["occupation"] = name or ""
    start = date(errors, "fields.start", raw.get("start"), required=True)
    out["start"] = start.isoformat() if start else None
    places = raw.get("places", 1 if kind == Kind.REQUEST else None)
    if isinstance(places, str) and places.strip().isdigit():
        places = int(places.strip())
    if not isinstance(places, int) or isinstance(places, bool):
        errors.add("fields.places", "Bitte eine ganze Zahl angeben.")
        places = None
    elif not PLACES[0] <= places <= PLACES[1]:
        errors.add("fields.places", f"Erlaubt sind {PLACES[0]} bis {PLACES[1]} Plätze.")
    out["places"] = places
    out["postcode"] = postcode(errors, "fields.postcode", raw.get("postcode"))
    out["city"] = text(errors, "fields.city", raw.get("city"), required=True, limit=CITY_MAX)
    out["school_leaving"] = choice(
        errors, "fields.school_leaving", raw.get("school_leaving"), SCHOOL_LEAVING
    )
    return out


def clean_post(
    *, kind: Any, category: Any, title: Any, body: Any, fields: Any, valid_until: Any
) -> CleanPost:
    errors = Errors()
    if kind not in Kind.values:
        errors.add("kind", "Bitte „Angebot“ oder „Gesuch“ wählen.")
    if category not in Category.values:
        errors.add("category", "Bitte eine Kategorie wählen.")
    clean_title = text(errors, "title", title, required=True, limit=TITLE_MAX)
    clean_body = text(errors, "body", body, required=False, limit=BODY_MAX)
    until = date(errors, "valid_until", valid_until, required=False)
    if fields is None:
        fields = {}
    clean_fields: dict[str, Any] = {}
    if not isinstance(fields, dict):
        errors.add("fields", "Erwartet wird ein Objekt mit den Angaben der Kategorie.")
    elif category in Category.values:
        unknown = sorted(set(fields) - set(FIELDS_OF[Category(category)]))
        for name in unknown:
            errors.add(f"fields.{name}", "Dieses Feld gibt es in dieser Kategorie nicht.")
        if category == Category.FREIGHT:
            clean_fields = clean_freight(errors, fields)
        elif category == Category.APPRENTICESHIP:
            clean_fields = clean_apprenticeship(errors, str(kind), fields)
    errors.raise_if_any()
    return CleanPost(
        kind=str(kind),
        category=str(category),
        title=clean_title,
        body=clean_body,
        fields=clean_fields,
        valid_until=until,
    )
