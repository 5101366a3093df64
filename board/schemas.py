"""Request and response bodies of the board API (docs/board.md); the building blocks
are in `realtime/schemas.py`.

What a schema cannot say is checked by the actions with a German message per field
(400): a postcode must exist (the register in `board/postcodes.py`), an occupation must
be a recognised one (`GET /occupations`), a date lies between today and about a year
ahead (Europe/Berlin), and a category takes only its own `fields`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, JsonValue, WithJsonSchema

from board.actions import CONTACT_MESSAGE_MAX, SEARCH_NAME_MAX
from board.filters import NEAR_KM_MAX, Q_MAX
from board.validation import (
    BODY_MAX,
    CITY_MAX,
    LOADING_METRES,
    PLACES,
    SCHOOL_LEAVING,
    TITLE_MAX,
    VEHICLES,
    WEIGHT_T,
)
from chat.schemas import CLIENT_ID_MAX_CHARS
from groups.schemas import GroupRef
from realtime.schemas import NOT_BLANK, In, Out

Kind = Literal["offer", "request"]
Category = Literal["freight", "apprenticeship", "other"]
Alert = Literal["immediate", "daily", "off"]
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
Day = Annotated[
    str, Field(pattern=ISO_DATE, description="JJJJ-MM-TT, from today to about a year ahead.")
]
Postcode = (
    Annotated[str, Field(pattern=r"^[0-9]{5}$", description="A German postcode that exists.")]
    | Annotated[int, Field(ge=10000, le=99999)]
)
CityName = Annotated[str, Field(min_length=1, max_length=CITY_MAX, pattern=NOT_BLANK)]
DECIMAL = r"^[0-9]{1,3}([.,][0-9]{1,3})?$"


def measure(bounds: tuple[object, object], unit: str) -> object:
    low, high = (float(str(value)) for value in bounds)
    return (
        Annotated[float, Field(ge=low, le=high, description=f"{low} to {high} {unit}")]
        | Annotated[str, Field(pattern=DECIMAL, description=f"{low} to {high} {unit}, e.g. 6,5")]
    )


class FreightFields(In):
    from_postcode: Postcode
    from_city: CityName
    to_postcode: Postcode
    to_city: CityName
    earliest: Day
    latest: Day
    loading_metres: measure(LOADING_METRES, "m")  # type: ignore[valid-type]
    weight_t: measure(WEIGHT_T, "t")  # type: ignore[valid-type]
    vehicle: Literal[tuple(VEHICLES)]  # type: ignore[valid-type]
    adr: bool = False


class ApprenticeshipFields(In):
    occupation: str = Field(max_length=200, description="A recognised occupation.")
    start: Day
    places: (
        Annotated[int, Field(ge=PLACES[0], le=PLACES[1])]
        | Annotated[str, Field(pattern=r"^[0-9]+$")]
        | None
    ) = Field(default=None, description="Required for an offer; a request defaults to 1.")
    postcode: Postcode
    city: CityName
    school_leaving: Literal[tuple(SCHOOL_LEAVING)]  # type: ignore[valid-type]


class NoFields(In):
    """The category "other" has no fields of its own."""


def one_of(*models: type[In]) -> dict[str, Any]:
    """The JSON schema of an object that is one of `models`, or null."""
    return {
        "anyOf": [
            *(model.model_json_schema(mode="validation") for model in models),
            {"type": "null"},
        ]
    }


# A JSON object the action checks field by field, with a German message per field
# (`fields.from_postcode`, ...), described in the schema as one of the models.
CategoryFields = Annotated[
    dict[str, JsonValue] | None,
    WithJsonSchema(one_of(FreightFields, ApprenticeshipFields, NoFields)),
]


class PostIn(In):
    kind: Kind
    category: Category
    title: str = Field(min_length=1, max_length=TITLE_MAX, pattern=NOT_BLANK)
    body: str = Field(default="", max_length=BODY_MAX)
    fields: CategoryFields = Field(
        default=None, description="The category's own fields (freight, apprenticeship)."
    )
    valid_until: Day | None = None


class PostPatch(In):
    status: Literal["filled", "withdrawn"]


class ContactIn(In):
    message: str = Field(
        default="", max_length=CONTACT_MESSAGE_MAX, description="Blank: a friendly default."
    )
    client_id: str | None = Field(
        default=None, min_length=1, max_length=CLIENT_ID_MAX_CHARS, pattern=NOT_BLANK
    )


class SavedFilters(In):
    """The filters a saved search keeps (the board's own, without status and dates)."""

    kind: Kind | Literal[""] | None = None
    category: Category | Literal[""] | None = None
    group: str | None = Field(default=None, max_length=80, description="A group I may read.")
    city: str | None = Field(default=None, max_length=100)
    postcode: (
        Annotated[str, Field(pattern=r"^\s*[0-9]{0,5}\s*$")]
        | Annotated[int, Field(ge=0, le=99999)]
        | None
    ) = None
    q: str | None = Field(default=None, max_length=Q_MAX)
    occupation: str | None = Field(default=None, max_length=200)


Filters = Annotated[dict[str, JsonValue] | None, WithJsonSchema(one_of(SavedFilters))]


def described(schema: dict[str, object]) -> object:
    """A value the action checks (so every wrong field of the body is named at once),
    described in the schema by `schema`."""
    return Annotated[JsonValue, WithJsonSchema(schema)]


class SavedSearchIn(In):
    """Checked as a whole by the action: every wrong field is named in one answer."""

    name: described(  # type: ignore[valid-type]
        {"type": "string", "minLength": 1, "maxLength": SEARCH_NAME_MAX, "pattern": NOT_BLANK}
    )
    filters: Filters = None
    alert: described(  # type: ignore[valid-type]
        {
            "anyOf": [{"enum": ["immediate", "daily", "off"]}, {"type": "null"}],
            "description": "Default: immediate.",
        }
    ) = None


# A post's category fields as stored: texts, numbers, yes/no.
StoredFields = dict[str, str | int | float | bool | None]


class AuthorRef(Out):
    id: int | None
    display_name: str


class PostOut(Out):
    id: int
    kind: str
    category: str
    title: str
    body: str
    fields: StoredFields
    author: AuthorRef
    company: str
    group: GroupRef
    status: str
    valid_until: str | None
    expires_on: str | None
    created_at: str
    message_id: int | None
    conversation_id: int
    kind_label: str
    summary: str
    url: str
    mine: bool


class CreatedPostOut(PostOut):
    matches: list[PostOut] = Field(description="Open posts of the other kind it fits.")


class PostPage(Out):
    results: list[PostOut]
    next: str | None


class ContactOut(Out):
    conversation_id: int
    message_id: int
    seq: int
    url: str


class OccupationOut(Out):
    name: str


class OccupationPage(Out):
    results: list[OccupationOut]
    next: str | None


class SavedSearchOut(Out):
    id: int
    name: str
    filters: dict[str, str]
    alert: str
    created_at: str


class SavedSearchPage(Out):
    results: list[SavedSearchOut]
    next: str | None


class BoardQuery(Schema):
    """The board's filters (a wrong one is a 400 naming it)."""

    kind: Kind | None = None
    category: Category | None = None
    group: str | None = Field(default=None, max_length=80)
    city: str | None = Field(default=None, max_length=100)
    postcode: str | None = Field(default=None, pattern=r"^\s*[0-9]{0,5}\s*$")
    q: str | None = Field(default=None, max_length=Q_MAX)
    occupation: str | None = Field(default=None, max_length=200)
    status: Literal["open", "filled", "withdrawn", "expired", "all", ""] | None = None
    date: str | None = Field(default=None, pattern=r"^\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\s*$")
    near: str | None = Field(default=None, pattern=r"^\s*([0-9]{5})?\s*$")
    km: str | None = Field(
        default=None,
        pattern=r"^\s*([1-9][0-9]?|[1-4][0-9]{2}|500)?\s*$",
        description=f"1 to {NEAR_KM_MAX} (default 50)",
    )
