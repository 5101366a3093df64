"""Helpers for the accounts tests: JSON calls through Django's test client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

API = "/api/v1"


class JsonClient:
    """Django's test client speaking JSON to /api/v1/."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def call(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"headers": {**self.headers, **extra.pop("headers", {})}}
        if body is not None:
            kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        response = getattr(self.client, method)(f"{API}{path}", **kwargs, **extra)
        assert response.status_code != 500, response.content
        return response

    def get(self, path: str, **extra: Any) -> Any:
        return self.call("get", path, **extra)

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.call("post", path, body, **extra)

    def patch(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.call("patch", path, body, **extra)

    def delete(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.call("delete", path, body, **extra)


def as_user(user: Any) -> JsonClient:
    client = Client()
    client.force_login(user)
    return JsonClient(client)


def anonymous() -> JsonClient:
    return JsonClient(Client())


def html_client(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


@pytest.fixture
def anna(make_user: Any) -> Any:
    return make_user(
        "Anna Becker",
        email="anna@example.de",
        job_title="Ausbildungsleiterin",
        company_name="Stahlbau Rüther",
        city="Witten",
        phone="02302 555 0101",
        topics=["Ausbildung", "Stahlbau"],
    )


@pytest.fixture
def bernd(make_user: Any) -> Any:
    return make_user("Bernd Schütte", email="bernd@example.de", city="Bochum")


# The consumer's database threads must close their connections at the end (see there).
from tests.chat.conftest import _close_pool_connections  # noqa: E402, F401
