"""Bar charts of the weekly figures as plain numbers for an SVG template.

Drawn on the server (no chart library, no CDN, no script) and styled only by SVG
presentation attributes, which the Content-Security-Policy (`style-src 'self'`) allows,
unlike `style` attributes. A kept library would add a dependency for four bar charts
of a dozen bars each; the geometry below is the whole of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engagement.health import Week

WIDTH = 640
HEIGHT = 200
LEFT = 44
RIGHT = 8
TOP = 12
BOTTOM = 28
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    label_x: float
    value_text: str


@dataclass
class Chart:
    slug: str
    title: str
    unit: str
    bars: list[Bar]
    top_value: str
    half_value: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom_y: int = TOP + PLOT_HEIGHT
    half_y: float = TOP + PLOT_HEIGHT / 2
    right_x: int = WIDTH - RIGHT


def number(value: float | None, unit: str) -> str:
    """German figures: "1.234", "12,5 %"; a dash where there is nothing to measure."""
    if value is None:
        return "\u2013"
    if float(value).is_integer():
        text = f"{int(value):,}".replace(",", ".")
    else:
        text = f"{value:.1f}".replace(".", ",")
    return f"{text}{unit}"


def chart(
    slug: str,
    title: str,
    unit: str,
    weeks: list[Week],
    value: Callable[[Week], float | None],
    *,
    ceiling: float | None = None,
) -> Chart:
    values = [value(week) for week in weeks]
    top = ceiling or max([v for v in values if v is not None] + [1])
    slot = PLOT_WIDTH / max(1, len(weeks))
    bars = []
    for index, (week, v) in enumerate(zip(weeks, values, strict=True)):
        height = 0.0 if v is None else PLOT_HEIGHT * v / top
        x = LEFT + index * slot + slot * 0.15
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(TOP + PLOT_HEIGHT - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=week.label,
                label_x=round(LEFT + index * slot + slot / 2, 1),
                value_text=number(v, unit),
            )
        )
    return Chart(
        slug=slug,
        title=title,
        unit=unit,
        bars=bars,
        top_value=number(top, unit),
        half_value=number(top / 2, unit),
    )


def charts_for(weeks: list[Week]) -> list[Chart]:
    return [
        chart("nachrichten", "Nachrichten pro Woche", "", weeks, lambda w: w.messages),
        chart("aktive", "Aktive Personen pro Woche", "", weeks, lambda w: w.active_people),
        chart(
            "beantwortet",
            "Anteil beantworteter Fragen",
            " %",
            weeks,
            lambda w: w.answered_pct,
            ceiling=100,
        ),
        chart(
            "antwortzeit",
            "Mittlere Zeit bis zur ersten Antwort (Median, Minuten)",
            " min",
            weeks,
            lambda w: w.median_reply_minutes,
        ),
    ]
