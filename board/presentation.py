"""How a post reads in German: labels, the one-line summary of its key fields, dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from board.models import Category, Kind, Status
from board.validation import SCHOOL_LEAVING, VEHICLES

KIND_LABELS: dict[tuple[str, str], str] = {
    (Category.FREIGHT, Kind.OFFER): "Freier Laderaum",
    (Category.FREIGHT, Kind.REQUEST): "Ladung sucht Fahrzeug",
    (Category.APPRENTICESHIP, Kind.OFFER): "Ausbildungsplatz",
    (Category.APPRENTICESHIP, Kind.REQUEST): "Sucht Ausbildungsplatz",
    (Category.OTHER, Kind.OFFER): "Angebot",
    (Category.OTHER, Kind.REQUEST): "Gesuch",
}


def kind_label(category: str, kind: str) -> str:
    label = KIND_LABELS.get((category, kind))
    if label is not None:
        return label
    return Kind(kind).label if kind in Kind.values else kind


def status_label(status: str) -> str:
    return Status(status).label if status in Status.values else status


def day(value: Any) -> str:
    if not value:
        return ""
    parsed = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return parsed.strftime("%d.%m.%Y")


def window(earliest: Any, latest: Any) -> str:
    if not earliest:
        return ""
    if not latest or earliest == latest:
        return day(earliest)
    return f"{day(earliest)} bis {day(latest)}"


def number(value: Any, decimals: int) -> str:
    text = f"{float(value):.{decimals}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def place(city: str, postcode: str) -> str:
    return f"{postcode} {city}".strip()


def summary(category: str, fields: dict[str, Any]) -> str:
    """The key fields in one line, e.g. "44787 Bochum → 80331 München · 12.12.2026 bis
    14.12.2026 · 6,5 m · 12 t · Plane · ADR"."""
    if category == Category.FREIGHT:
        parts = [
            f"{place(fields.get('from_city', ''), fields.get('from_postcode', ''))} → "
            f"{place(fields.get('to_city', ''), fields.get('to_postcode', ''))}",
            window(fields.get("earliest"), fields.get("latest")),
        ]
        if fields.get("loading_metres") is not None:
            parts.append(f"{number(fields['loading_metres'], 1)} m")
        if fields.get("weight_t") is not None:
            parts.append(f"{number(fields['weight_t'], 2)} t")
        parts.append(VEHICLES.get(fields.get("vehicle", ""), ""))
        if fields.get("adr"):
            parts.append("ADR")
        return " · ".join(part for part in parts if part)
    if category == Category.APPRENTICESHIP:
        places = fields.get("places") or 1
        parts = [
            fields.get("occupation", ""),
            place(fields.get("city", ""), fields.get("postcode", "")),
            f"ab {day(fields.get('start'))}" if fields.get("start") else "",
            f"{places} {'Platz' if places == 1 else 'Plätze'}",
            SCHOOL_LEAVING.get(fields.get("school_leaving", ""), ""),
        ]
        return " · ".join(part for part in parts if part)
    return ""


def summary_of(post: Any) -> str:
    """A post's summary line: the one stored with it (`Post.summary`, set by the
    actions), else formatted from its fields."""
    return post.summary or summary(post.category, post.fields)


EXCERPT_CHARS = 280


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1].rstrip() + "…"
