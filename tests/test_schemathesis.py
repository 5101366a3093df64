"""The API and its OpenAPI schema agree both ways (docs/architecture.md, "Typed API").

schemathesis reads `/api/v1/openapi.json` from the ASGI application itself (no server
process) and sends every operation generated requests, valid and invalid, signed in
with a Bearer token of a person who has a group, a conversation, messages and a board
post. Every check runs: no 5xx, only statuses and content types the schema declares,
bodies that match the declared response schema, invalid input refused with a 4xx,
valid input never refused as invalid (400), operations without auth refused (401).

It runs in the full suite only (`NOT_CONTRACT_MODULES` in tests/conftest.py): the
embedded run speaks the same API, and one pass over it costs a minute or two.
Examples are derandomised, so a run is repeatable; `NETZN_SCHEMATHESIS_EXAMPLES`
raises the number per operation for a deeper run by hand.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from realtime.schemas import BEYOND_SCHEMA
from tests.chat.helpers import token_for

pytestmark = pytest.mark.postgres("German full-text search answers on PostgreSQL only")


EXAMPLES = int(os.environ.get("NETZN_SCHEMATHESIS_EXAMPLES", "8"))
# A file to append one line per generated case to (to count them), when set.
CASE_LOG = os.environ.get("NETZN_SCHEMATHESIS_CASE_LOG", "")


@pytest.fixture
def signed_in(transactional_db: Any, make_user: Any) -> dict[str, str]:
    """A person with some data: a group (its conversation has messages), a direct
    conversation, a board post; the Authorization header of their token."""
    from board.actions import do_create_post
    from chat.actions import do_get_or_create_direct_conversation, do_send_message
    from groups.actions import do_create_group

    anna = make_user("Anna Becker", company_name="Stahlbau Witten", city="Bochum")
    ben = make_user("Ben Öztürk")
    group = do_create_group(actor=anna, name="Handwerk Bochum", topics=["Handwerk"])
    for n in range(3):
        do_send_message(
            actor=anna,
            conversation_id=group.conversation_id,
            body=f"Guten Morgen {n}",
            client_id=f"m{n}",
        )
    direct, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    do_send_message(actor=anna, conversation_id=direct.pk, body="Hallo Ben", client_id="d1")
    do_create_post(
        actor=anna,
        group_slug=group.slug,
        kind="offer",
        category="other",
        title="Gerüst zu verleihen",
        body="Ab Montag frei.",
    )
    return {"Authorization": f"Bearer {token_for(anna)}"}


def load_schema() -> Any:
    """The schema `/api/v1/openapi.json` serves, built without a request (collection
    may not touch the database); requests go to the ASGI application."""
    from asgi import application
    from server.api import api

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = application
    # Invalid input may also be refused with 413: a message body over the limit is
    # `too_large`, as on the WebSocket (docs/protocol.md, "Errors").
    rejection = loaded.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return loaded


schema = load_schema()


def probes_missing_auth(case: Any) -> bool:
    """A negative case whose headers leave out the Authorization the schema requires:
    it goes out without the token, and the server must refuse it (401)."""
    meta = case.meta
    headers = meta.components.get(ParameterLocation.HEADER) if meta is not None else None
    return (
        headers is not None
        and headers.mode.is_negative
        and "Authorization" not in (case.headers or {})
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_schema(case: Any, signed_in: dict[str, str]) -> None:
    """An operation whose valid input also depends on what no schema can say (a
    password, a signed token, today's date, the postcode register) names the reason in
    `x-checked-beyond-schema`; only there may input the schema allows get a 400."""
    excluded = []
    if BEYOND_SCHEMA in case.operation.definition.raw:
        excluded.append(positive_data_acceptance)
    if CASE_LOG:
        with open(CASE_LOG, "a") as log:
            log.write(f"{case.operation.label}\n")
    headers = {} if probes_missing_auth(case) else signed_in
    case.call_and_validate(headers=headers, excluded_checks=excluded)
