"""What every text a client sends must be before it reaches the database.

PostgreSQL refuses NUL (`\\x00`) in text, and a lone surrogate (`"\\ud800"`, valid in
JSON, not in UTF-8) cannot be encoded for any database at all: both would otherwise
surface deep inside a statement as a `DataError` or `UnicodeEncodeError`. Every text
field of the API, the WebSocket and the HTML forms is checked here first, so such
input is a 400 naming the field and nothing else fails with it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from realtime.errors import ClientError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """True unless `text` holds NUL or a surrogate code point (an unpaired half of a
    UTF-16 pair: Python keeps it, UTF-8 cannot carry it)."""
    return _UNSTORABLE.search(text) is None


def unstorable_fields(values: object, prefix: str = "") -> list[str]:
    """The dotted names of every string inside `values` (a parsed JSON value: dicts,
    lists, strings) that `is_storable` refuses; keys count as text too."""
    found: list[str] = []
    stack: list[tuple[str, object]] = [(prefix, values)]
    while stack:
        name, value = stack.pop()
        if isinstance(value, str):
            if not is_storable(value):
                found.append(name or "__all__")
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{name}.{key}" if name else str(key)
                if isinstance(key, str) and not is_storable(key):
                    found.append(name or "__all__")
                    continue
                stack.append((child, item))
        elif isinstance(value, list | tuple):
            stack.extend((name, item) for item in value)
    return sorted(set(found))


INVALID_CHARACTER = "Ungültiges Zeichen (NUL oder ein einzelnes Surrogat)."


def parse_json_body(raw: bytes | str) -> Any:
    """A request body as JSON, checked: malformed or too deeply nested JSON, and any
    string in it (keys too) that `is_storable` refuses, are a `bad_request` naming
    the fields, before any of it reaches an action."""
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise ClientError("bad_request", "Das JSON ist zu tief verschachtelt.") from exc
    except ValueError as exc:
        raise ClientError("bad_request", "Kein gültiges JSON.") from exc
    bad = unstorable_fields(data)
    if bad:
        raise ClientError(
            "bad_request",
            "Ungültiges Zeichen im Text.",
            fields={name: [INVALID_CHARACTER] for name in bad},
        )
    return data
