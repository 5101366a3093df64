"""The interactive API docs page (`/api/v1/docs`, linked from the README) in Chromium:
Swagger UI from our own origin renders the operations of `/api/v1/openapi.json` under
the site's Content-Security-Policy, with no violation and no script error."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_the_api_docs_page_renders_every_operation_under_the_csp(
    live_server_process: Any, person_factory: Any, make_user: Any
) -> None:
    person = person_factory(make_user("Anna Becker"), live_server_process)
    requests: list[str] = []
    person.page.on("request", lambda request: requests.append(request.url))
    response = person.goto("/api/v1/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    operations = person.page.locator(".opblock")
    try:
        operations.first.wait_for(timeout=60_000)
    except Exception as error:
        answer = person.page.request.get(f"{person.base_url}/api/v1/openapi.json")
        raise AssertionError(
            f"no operations: {person.console} {person.page_errors} "
            f"{answer.status} {person.page.content()[:3000]!r}"
        ) from error
    paths = person.page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/conversations/{conversation_id}/messages" in paths
    assert "/api/v1/groups/{slug}/join" in paths
    # Every operation of the schema is on the page.
    schema = person.page.request.get(f"{person.base_url}/api/v1/openapi.json").json()
    expected = sum(
        1 for methods in schema["paths"].values() for method in methods if method != "parameters"
    )
    assert operations.count() == expected
    # Opening one shows its parameters and the declared answers, errors included.
    person.page.locator("#operations-chat-chat_api_send").click()
    answers = person.page.locator("#operations-chat-chat_api_send .responses-table").first
    answers.wait_for()
    for status in ("201", "400", "401", "403", "409", "429"):
        assert person.page.locator(
            f"#operations-chat-chat_api_send tr.response[data-code='{status}']"
        ).count(), status
    assert person.csp_violations == []
    assert person.page_errors == []
    assert all(url.startswith(person.base_url) for url in requests), requests
