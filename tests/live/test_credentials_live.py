"""Credentials against real daphne processes (embedded and production): a password
change, a reset and an account deletion end the other sessions and every token, and
their sockets on every process close with 4001 within 5 s (issue 9, section 3)."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.live.client import PASSWORD, Socket, api, expect, refused_status
from tests.live.conftest import Deployment
from tests.live.test_contract import cookie_header, cookies_set_by, session_of

NEW_PASSWORD = "Zeche-Zollverein-1986"


def csrf_headers(live: Deployment, cookies: dict[str, str]) -> dict[str, str]:
    return {**cookie_header(cookies), "X-CSRFToken": cookies["csrftoken"], "Origin": live.http_url}


async def test_a_password_change_closes_every_other_socket_on_every_process(
    live: Deployment,
) -> None:
    anna = live.person("Anna Becker")
    here = session_of(live, anna.email, PASSWORD)
    elsewhere = session_of(live, anna.email, PASSWORD)
    program = await live.socket(anna, live.second)
    other_browser = await Socket.open(
        live.second.ws_url, headers=cookie_header(elsewhere), origin=live.second.http_url
    )
    this_tab = await Socket.open(
        live.first.ws_url, headers=cookie_header(here), origin=live.first.http_url
    )
    with api(live.http_url) as client:
        changed = client.post(
            "/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=csrf_headers(live, here),
        )
        expect(changed, 204)
    assert await program.wait_closed(timeout=5) == 4001
    assert await other_browser.wait_closed(timeout=5) == 4001
    with api(live.http_url, anna) as client:
        expect(client.get("/me"), 401)  # the old token is revoked
    with pytest.raises(InvalidStatus) as refused:
        await Socket.open(live.second.ws_url, anna)
    assert refused_status(refused.value) == 403
    await this_tab.ping()  # the tab that changed the password stays connected
    # ... under the session's new key: signing that browser out later closes it too.
    renewed = {**here, **cookies_set_by(changed)}
    assert renewed["sessionid"] != here["sessionid"]
    with api(live.http_url) as client:
        expect(client.post("/auth/logout", headers=csrf_headers(live, renewed)), 204)
    assert await this_tab.wait_closed(timeout=5) == 4001


async def test_deleting_the_account_closes_its_sockets_on_every_process(
    live: Deployment,
) -> None:
    anna = live.person("Anna Becker")
    first = await live.socket(anna, live.first)
    second = await live.socket(anna, live.second)
    with api(live.http_url, anna) as client:
        response = client.request("DELETE", "/me", json={"password": PASSWORD})
        expect(response, 204)
    assert await first.wait_closed(timeout=5) == 4001
    assert await second.wait_closed(timeout=5) == 4001
    with api(live.http_url) as client:
        again = client.post(
            "/auth/signup",
            json={"email": anna.email, "password": NEW_PASSWORD, "display_name": "Anna Neu"},
        )
        expect(again, 201)


async def test_the_error_pages_are_german_with_debug_off(live: Deployment) -> None:
    with api(live.http_url) as client:
        missing = client.get("/gibt-es-nicht")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    if live.mode != "production":
        return  # embedded runs with DEBUG=1: Django's own debug page
    page = httpx.get(f"{live.http_url}/gibt-es-nicht/", timeout=30)
    assert page.status_code == 404
    assert '<html lang="de">' in page.text
    assert "Diese Seite gibt es nicht" in page.text
