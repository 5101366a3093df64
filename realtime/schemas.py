"""The building blocks of the typed API (docs/architecture.md, "Typed API").

Every request and response body of `/api/v1/` is one of these models, so
`/api/v1/openapi.json` describes every field and every status an operation answers:

- `In`: a request body. A pydantic model (not Ninja's `Schema`, which reads any JSON
  value, `[1, 2]` or `null`, as an object with every field left out); an unknown key
  is refused (400, "Unbekanntes Feld."), as the schema says. Its field constraints
  (lengths, patterns, ranges, enums) are what the server enforces first, so a body
  the schema refuses is refused with a 400.
- `Out`: a response body. Keys another part adds later (a reply's `reply_to` on a
  message) pass through instead of being dropped silently.
- `ErrorOut`: the one error body, `{"error": {"code", "detail", "fields"}}`, and
  `errors(403, 404)`, the error statuses an operation declares beside its success.
  The statuses every operation shares (400 for bad input, 401 without sign-in, 413 and
  415 for bodies, 503 during an outage) are added to the schema by the API root
  (`server/api.py`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from ninja import Schema
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

ErrorCode = Literal[
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "too_large",
    "unsupported_media_type",
    "rate_limited",
    "internal",
    "unavailable",
]


def whole_number(value: Any) -> Any:
    """JSON knows numbers, not integers: `2.0` is the integer 2 (as JSON Schema says);
    `2.5`, `"2"` and `true` stay wrong (the models are strict)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer in a JSON body.
Integer = Annotated[int, BeforeValidator(whole_number)]
# Ids are PostgreSQL bigints; a larger number can name nothing (400, not a 500).
MAX_ID = 2**63 - 1
Id = Annotated[int, Ge(1), Le(MAX_ID), BeforeValidator(whole_number)]
# Text that must hold more than whitespace (the server trims it).
NOT_BLANK = r"\S"


class In(BaseModel):
    """A request body: a JSON object."""

    # Strict: "5" is no number and false no 0, as in the schema.
    model_config = ConfigDict(extra="forbid", strict=True)


class Out(Schema):
    """A response body."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(Schema):
    code: ErrorCode
    detail: str = Field(description="What went wrong, in German, for people.")
    fields: dict[str, list[str]] | None = Field(
        default=None, description="Per input field (`__all__`: the request as a whole)."
    )
    retry_after: float | None = Field(
        default=None, description="Seconds to wait (also the `Retry-After` header)."
    )


class ErrorOut(Schema):
    error: ErrorBody


def errors(*statuses: int) -> dict[int, Any]:
    """The error statuses an operation answers beside the shared ones."""
    return dict.fromkeys(statuses, ErrorOut)


BEYOND_SCHEMA = "x-checked-beyond-schema"


def beyond_schema(reason: str) -> dict[str, Any]:
    """`openapi_extra` of an operation whose valid input also depends on what no schema
    can say (a password's strength, a signed token, today's date, a register): the
    reason, in the schema, for a 400 on input the schema allows."""
    return {BEYOND_SCHEMA: reason}
