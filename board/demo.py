"""Demo posts: the board at work in "Innovationskreis Mobilität" and "Ausbildung".

`seed_board` runs after `seed_groups` and goes through `do_create_post`, so the posts
appear in the groups' discussions as cards and the matching runs (Björn Hübner's load
from Bochum fits Spedition Kowalski's free capacity to München: Jürgen Kowalski gets
a `match`). Dates are relative to today, so the demo never shows only expired posts.
People or groups that are missing are left out; a post whose title exists already in
its group is not created again, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from accounts.models import User
from board.actions import do_create_post
from board.models import Post
from board.validation import today
from groups.actions import do_join_group
from groups.models import Group, Membership


@dataclass(frozen=True)
class DemoPost:
    group: str
    author: str
    kind: str
    category: str
    title: str
    body: str
    fields: dict[str, Any] = field(default_factory=dict)


def in_days(days: int) -> str:
    return (today() + dt.timedelta(days=days)).isoformat()


def next_training_year() -> str:
    """1 August, when the German training year starts, of this year or the next."""
    start = dt.date(today().year, 8, 1)
    return (start if start >= today() else dt.date(today().year + 1, 8, 1)).isoformat()


def demo_posts() -> list[DemoPost]:
    return [
        DemoPost(
            group="Innovationskreis Mobilität",
            author="juergen.kowalski@example.de",
            kind="offer",
            category="freight",
            title="Rückladung frei: Bochum → München",
            body="Planensattel fährt leer zurück in den Süden. Gern auch Teilladung, "
            "Ladungssicherung an Bord.",
            fields={
                "from_postcode": "44787",
                "from_city": "Bochum",
                "to_postcode": "80331",
                "to_city": "München",
                "earliest": in_days(5),
                "latest": in_days(7),
                "loading_metres": 8.0,
                "weight_t": 12,
                "vehicle": "plane",
                "adr": False,
            },
        ),
        DemoPost(
            group="Innovationskreis Mobilität",
            author="juergen.kowalski@example.de",
            kind="offer",
            category="freight",
            title="Teilladung Herne → Hamburg",
            body="Kofferaufbau mit Ladebordwand, Zustellung im Hamburger Hafen möglich.",
            fields={
                "from_postcode": "44623",
                "from_city": "Herne",
                "to_postcode": "20095",
                "to_city": "Hamburg",
                "earliest": in_days(3),
                "latest": in_days(4),
                "loading_metres": 6.4,
                "weight_t": 10,
                "vehicle": "koffer",
                "adr": False,
            },
        ),
        DemoPost(
            group="Innovationskreis Mobilität",
            author="bjoern.huebner@example.de",
            kind="request",
            category="freight",
            title="Stahlträger nach München gesucht",
            body="Zwölf Träger für eine Hallenbaustelle in München-Freimann, "
            "bis 13 m lang, Kranentladung vor Ort.",
            fields={
                "from_postcode": "44793",
                "from_city": "Bochum",
                "to_postcode": "80939",
                "to_city": "München",
                "earliest": in_days(6),
                "latest": in_days(9),
                "loading_metres": 4.8,
                "weight_t": 9.5,
                "vehicle": "plane",
                "adr": False,
            },
        ),
        DemoPost(
            group="Ausbildung",
            author="juergen.kowalski@example.de",
            kind="offer",
            category="apprenticeship",
            title="Ausbildung zur Fachkraft für Lagerlogistik in Herne",
            body="Zwei Plätze in unserem Lager am Kanalhafen: Wareneingang, Kommissionierung, "
            "Staplerschein inklusive. Praktikum vorab jederzeit möglich.",
            fields={
                "occupation": "Fachkraft für Lagerlogistik",
                "start": next_training_year(),
                "places": 2,
                "postcode": "44623",
                "city": "Herne",
                "school_leaving": "hauptschule",
            },
        ),
        DemoPost(
            group="Ausbildung",
            author="anna.becker@example.de",
            kind="offer",
            category="apprenticeship",
            title="Industriekaufleute in Witten gesucht",
            body="Einkauf, Vertrieb, Projektabrechnung im Stahlbau: Sie lernen alle "
            "Abteilungen kennen. Bewerbung gern formlos per Nachricht.",
            fields={
                "occupation": "Industriekaufmann/-frau",
                "start": next_training_year(),
                "places": 1,
                "postcode": "58452",
                "city": "Witten",
                "school_leaving": "realschule",
            },
        ),
    ]


def seed_board() -> int:
    """Create the demo posts that are missing; returns how many were created."""
    created = 0
    for demo in demo_posts():
        group = Group.objects.filter(name=demo.group).first()
        author = User.objects.filter(email=demo.author).first()
        if group is None or author is None:
            continue
        if Post.objects.filter(group=group, title=demo.title).exists():
            continue
        if not Membership.objects.filter(group=group, user=author).exists():
            if group.visibility != Group.Visibility.OPEN:
                continue
            do_join_group(actor=author, group=group)
        do_create_post(
            actor=author,
            group_slug=group.slug,
            kind=demo.kind,
            category=demo.category,
            title=demo.title,
            body=demo.body,
            fields=demo.fields,
        )
        created += 1
    return created
