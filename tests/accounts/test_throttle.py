"""Login attempts are throttled per e-mail address and per IP, for every password check."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.throttle import IP_FACTOR
from tests.accounts.conftest import JsonClient, error_of, html_client
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_three_attempts")]


@pytest.fixture
def _three_attempts() -> Any:
    with override_settings(NETZN_LOGIN_ATTEMPTS=3, NETZN_LOGIN_WINDOW_SECONDS=900):
        yield


def from_ip(ip: str) -> JsonClient:
    return JsonClient(Client(REMOTE_ADDR=ip))


def login(ip: str, email: str, password: str) -> Any:
    return from_ip(ip).post("/auth/login", {"email": email, "password": password})


def test_after_the_limit_even_the_right_password_is_refused(anna: Any) -> None:
    for _ in range(3):
        assert login("10.0.0.1", anna.email, "falsch").status_code == 401
    response = login("10.0.0.1", anna.email, PASSWORD)
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "rate_limited"
    assert 0 < error["retry_after"] <= 900
    assert 1 <= int(response["Retry-After"]) <= 900
    assert "Zu viele Anmeldeversuche" in error["detail"]
    # The count belongs to the address: from another IP it is throttled as well.
    assert login("10.0.0.2", anna.email, PASSWORD).status_code == 429


def test_the_count_is_per_email(anna: Any, bernd: Any) -> None:
    for _ in range(3):
        login("10.0.0.1", anna.email, "falsch")
    assert login("10.0.0.1", bernd.email, PASSWORD).status_code == 200


def test_a_successful_login_clears_the_count(anna: Any) -> None:
    for _ in range(2):
        login("10.0.0.1", anna.email, "falsch")
    assert login("10.0.0.1", anna.email, PASSWORD).status_code == 200
    for _ in range(2):
        assert login("10.0.0.1", anna.email, "falsch").status_code == 401
    assert login("10.0.0.1", anna.email, PASSWORD).status_code == 200


def test_one_ip_trying_many_addresses_is_throttled(bernd: Any) -> None:
    for number in range(3 * IP_FACTOR):
        assert login("10.0.0.9", f"raten{number}@example.de", "x").status_code == 401
    assert login("10.0.0.9", bernd.email, PASSWORD).status_code == 429
    assert login("10.0.0.10", bernd.email, PASSWORD).status_code == 200


def test_token_creation_counts_and_is_throttled_too(anna: Any) -> None:
    client = from_ip("10.0.0.1")
    for _ in range(3):
        response = client.post(
            "/auth/tokens", {"email": anna.email, "password": "falsch", "name": "Skript"}
        )
        assert response.status_code == 401
    response = client.post(
        "/auth/tokens", {"email": anna.email, "password": PASSWORD, "name": "Skript"}
    )
    assert response.status_code == 429
    assert not anna.tokens.exists()


def test_login_page_is_throttled_with_a_german_message(anna: Any) -> None:
    client = html_client()
    for _ in range(3):
        client.post("/anmelden/", {"email": anna.email, "password": "falsch"})
    response = client.post("/anmelden/", {"email": anna.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Zu viele Anmeldeversuche. Bitte in" in response.content.decode()
    assert "_auth_user_id" not in client.session
