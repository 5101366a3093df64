"""Bad input on every accounts endpoint: the error shape of PROTOCOL.md, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.actions import do_create_company
from server.api import api
from tests.accounts.conftest import JsonClient, anonymous, as_user, error_of

pytestmark = pytest.mark.django_db

OPEN = {
    ("post", "/auth/signup"),
    ("post", "/auth/login"),
    ("post", "/auth/tokens"),
    ("post", "/auth/confirm-email"),
    ("post", "/auth/confirm-email-change"),
    ("post", "/auth/confirm-company"),
}
# method, path (with {person}, {slug}, {user}), takes a JSON body
ENDPOINTS = [
    ("post", "/auth/signup", True),
    ("post", "/auth/login", True),
    ("post", "/auth/logout", False),
    ("post", "/auth/tokens", True),
    ("get", "/auth/tokens", False),
    ("delete", "/auth/tokens/1", False),
    ("get", "/me", False),
    ("patch", "/me", True),
    ("get", "/me/blocked", False),
    ("post", "/auth/confirm-email", True),
    ("post", "/auth/confirm-email-change", True),
    ("post", "/me/email/confirmation", False),
    ("post", "/me/email", True),
    ("post", "/me/password", True),
    ("get", "/me/sessions", False),
    ("post", "/me/two-factor", False),
    ("post", "/me/two-factor/confirm", True),
    ("delete", "/me/two-factor", True),
    ("delete", "/me/sessions/{session}", False),
    ("get", "/me/export", False),
    ("delete", "/me", True),
    ("get", "/people", False),
    ("get", "/people/{person}", False),
    ("post", "/people/{person}/block", False),
    ("delete", "/people/{person}/block", False),
    ("get", "/companies", False),
    ("post", "/companies", True),
    ("get", "/companies/{slug}", False),
    ("patch", "/companies/{slug}", True),
    ("post", "/companies/{slug}/claim", True),
    ("post", "/companies/{slug}/verify", True),
    ("post", "/companies/{slug}/domain-proof", True),
    ("post", "/auth/confirm-company", True),
    ("post", "/companies/{slug}/members/{user}/confirm", False),
    ("patch", "/companies/{slug}/members/{user}", True),
    ("delete", "/companies/{slug}/members/{user}", False),
]


def test_the_list_covers_every_accounts_endpoint() -> None:
    schema = api.get_openapi_schema()
    documented = {
        (method, path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "accounts" in operation.get("tags", [])
    }
    listed = {
        (
            method,
            path.replace("{person}", "{person_id}")
            .replace("{session}", "{session_id}")
            .replace("{user}", "{user_id}")
            .replace("/tokens/1", "/tokens/{token_id}"),
        )
        for method, path, _ in ENDPOINTS
    }
    assert documented == listed


@pytest.fixture
def targets(anna: Any, bernd: Any) -> dict[str, Any]:
    company = do_create_company(actor=anna, fields={"name": "Elektro Schäfer"}, slug="elektro")
    return {"person": bernd.pk, "slug": company.slug, "user": anna.pk, "session": 1}


def fill(path: str, targets: dict[str, Any]) -> str:
    return path.format(**targets)


@pytest.mark.parametrize(("method", "path", "has_body"), ENDPOINTS)
def test_anonymous_gets_401_except_on_the_open_endpoints(
    targets: dict[str, Any], method: str, path: str, has_body: bool
) -> None:
    response = anonymous().call(method, fill(path, targets), {} if has_body else None)
    if (method, path) in OPEN:
        assert response.status_code == 400
    else:
        assert response.status_code == 401
        assert error_of(response) == {"code": "unauthorized", "detail": "Anmeldung erforderlich."}


WRONG_TYPES = '{"name": {}, "email": [], "display_name": 1, "city": [], "responsibility": {}}'


@pytest.mark.parametrize(("method", "path", "has_body"), [e for e in ENDPOINTS if e[2]])
@pytest.mark.parametrize("body", ["{kaputt", "[1, 2]", "null", '"text"', WRONG_TYPES])
def test_malformed_bodies_are_400(
    anna: Any, targets: dict[str, Any], method: str, path: str, has_body: bool, body: str
) -> None:
    response = as_user(anna).call(method, fill(path, targets), body)
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "bad_request"


@pytest.mark.parametrize(
    ("method", "path", "has_body"),
    [e for e in ENDPOINTS if e[0] != "get" and e[1:2] != ("/auth/signup",)],
)
def test_session_writes_need_the_csrf_token(
    anna: Any, targets: dict[str, Any], method: str, path: str, has_body: bool
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(anna)
    response = JsonClient(client).call(method, fill(path, targets), {} if has_body else None)
    if (method, path) in OPEN:
        assert response.status_code != 403
    else:
        assert response.status_code == 403
        assert error_of(response)["detail"] == "CSRF-Prüfung fehlgeschlagen."


@pytest.mark.parametrize(
    "path",
    [
        "/people/0",
        "/people/-1",
        "/people/99999999999999999999999",
        "/companies/%C3%BC-nicht-da",
        "/companies/x/members/1/confirm",
    ],
)
def test_odd_ids_and_slugs_are_404_or_400(anna: Any, path: str) -> None:
    method = "post" if path.endswith("confirm") else "get"
    response = as_user(anna).call(method, path)
    assert response.status_code in (400, 404)
    assert error_of(response)["code"] in ("bad_request", "not_found")
