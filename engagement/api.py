"""JSON endpoints of engagement (PROTOCOL.md 1.1 "Staying in touch").

`GET /me/suggestions` answers the caller's own suggestions; `GET /network/health`
answers the network's figures to site staff only (403 for everyone else signed in).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from accounts.access import signed_in
from engagement.health import MAX_DAYS, health
from engagement.suggestions import suggestions_for
from realtime.errors import ClientError

router = Router(tags=["engagement"])


@router.get("/me/suggestions", response=dict[str, Any])
def my_suggestions(request: HttpRequest) -> dict[str, Any]:
    return suggestions_for(signed_in(request))


def parse_days(raw: str | None) -> int:
    """`days` is a whole number of days from 1 to 365 (default 30)."""
    if raw is None or raw == "":
        return 30
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise ClientError(
            "bad_request",
            "Ungültiger Zeitraum.",
            fields={"days": [f"Eine ganze Zahl von 1 bis {MAX_DAYS}."]},
        )
    return int(raw)


@router.get("/network/health", response=dict[str, Any])
def network_health(request: HttpRequest, days: str | None = None) -> dict[str, Any]:
    if not signed_in(request).is_staff:
        raise ClientError("forbidden", "Nur für die Betreiber des Netzwerks.")
    return health(days=parse_days(days), now=timezone.now())
