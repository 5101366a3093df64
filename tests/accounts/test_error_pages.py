"""With DEBUG=0 every error is a German page in the site's layout, and JSON under
/api/: 400, 403, 404, 500 and a failed CSRF check."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("server.urls")]

LAYOUT = 'class="site-header"'


def page(response: Any, status: int, heading: str) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert LAYOUT in html
    assert heading in html
    assert '<html lang="de">' in html
    assert "Traceback" not in html
    return html


@override_settings(DEBUG=False)
def test_unknown_page_is_a_german_404() -> None:
    page(Client().get("/gibt-es-nicht/"), 404, "Diese Seite gibt es nicht")


@override_settings(DEBUG=True)
def test_with_debug_on_a_missing_page_is_still_the_german_404(make_user: Any) -> None:
    """`make run` runs with DEBUG on: a dead link shows no English developer page."""
    html = page(Client().get("/gibt-es-nicht/"), 404, "Diese Seite gibt es nicht")
    assert "URLconf" not in html
    client = Client()
    client.force_login(make_user("Anna Becker"))
    html = page(client.get("/brett/987654/"), 404, "Diese Seite gibt es nicht")
    assert "URLconf" not in html


@override_settings(DEBUG=False)
def test_unknown_api_path_is_json() -> None:
    response = Client().get("/api/v1/gibt-es-nicht")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "detail": "Nicht gefunden."}}


@override_settings(DEBUG=False)
def test_a_bad_host_is_a_german_400() -> None:
    page(Client(HTTP_HOST="boese.example").get("/"), 400, "Diese Anfrage können wir nicht")


@override_settings(DEBUG=False)
def test_forbidden_is_a_german_403(monkeypatch: Any, make_user: Any) -> None:
    def refuse(user: Any) -> Any:
        raise PermissionDenied

    monkeypatch.setattr("server.views.signed_in_context", refuse)
    client = Client()
    client.force_login(make_user("Anna Becker"))
    page(client.get("/"), 403, "Kein Zugriff")


@override_settings(DEBUG=False)
def test_a_crash_is_a_german_500_without_details(monkeypatch: Any, make_user: Any) -> None:
    def crash(user: Any) -> Any:
        raise RuntimeError("geheime Einzelheit")

    monkeypatch.setattr("server.views.signed_in_context", crash)
    client = Client(raise_request_exception=False)
    client.force_login(make_user("Anna Becker"))
    html = page(client.get("/"), 500, "Da ist bei uns etwas schiefgegangen")
    assert "geheime Einzelheit" not in html


@override_settings(DEBUG=False)
def test_a_failed_csrf_check_explains_itself() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/anmelden/", {"email": "a@b.de", "password": "x"})
    page(response, 403, "Das Formular ist abgelaufen")


def test_the_api_docs_page_loads_everything_from_our_origin() -> None:
    import re

    response = Client().get("/api/v1/docs")
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/static/") for source in sources), sources
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert inline == []
