"""Bad input on every accounts endpoint: the error shape of docs/protocol.md, never a 500."""

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


# Text no database can store: NUL (PostgreSQL refuses it) and lone surrogates (valid
# JSON escapes, not UTF-8). Each must be a 400 naming the field, with nothing stored.
UNSTORABLE = ["a\x00b", "\ud800", "Müller \udfff"]


@pytest.mark.parametrize("bad", UNSTORABLE)
@pytest.mark.parametrize("field", ["display_name", "job_title", "city", "bio", "phone"])
def test_unstorable_text_in_the_profile_is_400_and_changes_nothing(
    anna: Any, bad: str, field: str
) -> None:
    before = {"display_name": anna.display_name, "city": anna.city, "bio": anna.bio}
    # A valid change beside the bad one is not stored either.
    other = "bio" if field == "city" else "city"
    response = as_user(anna).patch("/me", {other: "Hattingen", field: bad})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert list(error["fields"]) == [field]
    anna.refresh_from_db()
    assert {"display_name": anna.display_name, "city": anna.city, "bio": anna.bio} == before


@pytest.mark.parametrize("bad", UNSTORABLE)
def test_unstorable_text_at_signup_and_for_companies_stores_nothing(anna: Any, bad: str) -> None:
    from accounts.models import Company, User

    people = User.objects.count()
    signup = anonymous().post(
        "/auth/signup",
        {"email": "neu@example.de", "password": "Ruhrpott-2026!x", "display_name": bad},
    )
    assert signup.status_code == 400
    assert error_of(signup)["fields"] == {"display_name": [ANY_TEXT]}
    assert User.objects.count() == people
    company = as_user(anna).post("/companies", {"name": f"Elektro {bad}", "city": "Herne"})
    assert company.status_code == 400
    assert list(error_of(company)["fields"]) == ["name"]
    assert not Company.objects.filter(city="Herne").exists()
    nested = as_user(anna).patch("/me", {"topics": ["Ausbildung", bad]})
    assert nested.status_code == 400
    assert list(error_of(nested)["fields"]) == ["topics"]


class AnyText:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


ANY_TEXT = AnyText()


@pytest.mark.parametrize(
    "path",
    [
        "/people?q=a%00b",
        "/people?city=%00",
        "/companies?q=%00",
        "/companies/a%00b",
        "/groups?q=%00",
    ],
)
def test_nul_in_a_search_term_or_a_path_is_400_with_fields(anna: Any, path: str) -> None:
    response = as_user(anna).get(path)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert error["fields"]


def test_a_body_over_the_upload_limit_is_413_json(anna: Any) -> None:
    response = as_user(anna).patch("/me", '{"bio": "' + "x" * (10 * 2**20) + '"}')
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    anna.refresh_from_db()
    assert anna.bio == ""


@pytest.mark.parametrize("depth", [20_000, 1_000])
def test_deeply_nested_json_is_400(anna: Any, depth: int) -> None:
    for body in ("[" * depth + "]" * depth, '{"bio": ' + "[" * depth + "]" * depth + "}"):
        response = as_user(anna).patch("/me", body)
        assert response.status_code == 400
        assert error_of(response)["code"] == "bad_request"


def test_unknown_api_paths_and_methods_answer_the_json_error(anna: Any) -> None:
    for path in ("/gibt-es-nicht", "/people/1/gibt-es-nicht", "/"):
        response = as_user(anna).get(path)
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "detail": "Nicht gefunden."}
    response = as_user(anna).call("put", "/me", {})
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_bodies_parsed_outside_the_schema_are_checked_the_same(anna: Any) -> None:
    """The join call reads an optional body itself: deep JSON and a lone surrogate are
    400 there too, and nobody joins."""
    from groups.actions import do_create_group
    from groups.models import Membership

    group = do_create_group(actor=anna, name="Ausbildung Ruhr")
    bernd_client = as_user(
        anna.__class__.objects.create_user(email="b@example.de", display_name="B")
    )
    for body in ("[" * 20_000 + "]" * 20_000, '{"message": "\\ud800"}', '{"message": "a\\u0000"}'):
        response = bernd_client.post(f"/groups/{group.slug}/join", body)
        assert response.status_code == 400, response.content
        assert error_of(response)["code"] == "bad_request"
    assert Membership.objects.filter(group=group).count() == 1
