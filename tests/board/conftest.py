"""Shared setup for the board tests: a haulier, a shipper and an outsider around an
open mobility group and a closed one, and helpers that build valid post bodies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from groups.actions import do_create_group, do_invite_to_group, do_join_group
from groups.models import Group
from tests.chat.conftest import _close_pool_connections  # noqa: F401
from tests.groups.conftest import Api


def day(offset: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=offset)).isoformat()


def freight(kind: str = "offer", **overrides: Any) -> dict[str, Any]:
    """Bochum -> München, in three to five days; overrides go into `fields`."""
    fields: dict[str, Any] = {
        "from_postcode": "44787",
        "from_city": "Bochum",
        "to_postcode": "80331",
        "to_city": "München",
        "earliest": day(3),
        "latest": day(5),
        "loading_metres": 13.6 if kind == "offer" else 6.5,
        "weight_t": 24 if kind == "offer" else 8,
        "vehicle": "plane",
        "adr": False,
    }
    fields.update(overrides)
    title = "Freier Laderaum Bochum → München" if kind == "offer" else "Ladung nach München"
    return {"kind": kind, "category": "freight", "title": title, "fields": fields}


def apprenticeship(kind: str = "offer", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "occupation": "Fachkraft für Lagerlogistik",
        "start": day(200),
        "places": 2,
        "postcode": "44623",
        "city": "Herne",
        "school_leaving": "hauptschule",
    }
    fields.update(overrides)
    title = "Ausbildung Lagerlogistik in Herne" if kind == "offer" else "Suche Ausbildungsplatz"
    return {"kind": kind, "category": "apprenticeship", "title": title, "fields": fields}


@dataclass
class Board:
    open_group: Group
    closed_group: Group
    haulier: Any
    shipper: Any
    outsider: Any
    admin: Any

    def api(self, person: Any) -> Api:
        return Api(person)


@pytest.fixture
def board(make_user: Callable[..., Any]) -> Board:
    haulier = make_user("Hans Spedition", company_name="Spedition Ruhr")
    shipper = make_user("Sabine Versand", company_name="Stahlbau Witten")
    outsider = make_user("Otto Außen", company_name="Druckerei Hattingen")
    admin = make_user("Anke Admin", company_name="IHK Mittleres Ruhrgebiet")
    open_group = do_create_group(actor=admin, name="Mobilität", visibility="open")
    closed_group = do_create_group(actor=admin, name="Logistikkreis", visibility="closed")
    for person in (haulier, shipper):
        do_join_group(actor=person, group=open_group)
        do_invite_to_group(actor=admin, group=closed_group, user_id=person.pk)
        from groups.models import Invitation

        invitation = Invitation.objects.get(group=closed_group, user=person, status="pending")
        from groups.actions import do_accept_invitation

        do_accept_invitation(actor=person, invitation_id=invitation.pk)
    return Board(open_group, closed_group, haulier, shipper, outsider, admin)
