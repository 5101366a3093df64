"""The board's endpoints are in the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_board_endpoints_are_documented() -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/groups/{slug}/posts",
        "/api/v1/board",
        "/api/v1/posts/{post_id}",
        "/api/v1/posts/{post_id}/contact",
        "/api/v1/occupations",
        "/api/v1/searches",
        "/api/v1/searches/{search_id}",
    ):
        assert path in paths, path
