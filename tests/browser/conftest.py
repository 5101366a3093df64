"""Browser tests: Playwright for Python driving Debian's Chromium (`chromium` on PATH,
found as `.ci/run` finds it).

Without Chromium the tests skip with a loud message on a developer machine and fail
in CI (`CI` set), so a CI run can never pass without having driven a browser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import (
    PASSWORD,
    ServerProcess,
    chromium_path,
    free_port,
    require,
    start_server,
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    require(
        executable is not None,
        "browser tests: chromium is not on PATH; `apt-get install -y chromium` (CI does)",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shared_server(
    django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One daphne process per test module: starting one costs 1-2 s. Each test still
    gets a clean database (`transactional_db` empties the tables after it); the
    process holds no state of its own that a later test could see."""
    server = start_server(tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


@pytest.fixture
def live_server_process(transactional_db: Any, shared_server: ServerProcess) -> ServerProcess:
    """The module's server process, for a test whose data it must see (committed)."""
    return shared_server


@pytest.fixture(autouse=True)
def _orm_beside_playwright(request: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sync Playwright keeps an event loop running in the test's thread, which makes
    Django refuse ORM calls there; the test process's own setup queries are safe
    (pytest-django's documented way with Playwright). Server processes are started
    first, so they never inherit the switch."""
    if "live_server_process" in request.fixturenames:
        request.getfixturevalue("live_server_process")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class Person:
    """One person in their own browser context (own cookies, own socket)."""

    user: Any
    page: Any
    base_url: str
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        """Open the page; the HTTP response of the document."""
        return self.page.goto(f"{self.base_url}{path}")

    def login(self) -> None:
        """Sign in without the form (it is tested once, in the sign-up test): a
        session made here, its cookie handed to the browser."""
        from django.test import Client

        client = Client()
        client.force_login(self.user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": self.base_url}]
        )
        self.goto("/")

    def login_with_form(self) -> None:
        self.goto("/anmelden/")
        form = self.page.locator("main form")
        form.get_by_label("E-Mail-Adresse").fill(self.user.email)
        form.get_by_label("Passwort").fill(PASSWORD)
        form.locator("button[type=submit]").click()
        self.page.wait_for_url(lambda url: "/anmelden/" not in url)

    def open_panel(self, path: str) -> Any:
        """Open a page with the live panel and wait until its history is loaded and
        the socket subscribed."""
        self.goto(path)
        try:
            self.page.locator('#chat-panel[data-state="live"]').wait_for()
        except Exception as error:
            state = self.page.locator("#chat-panel .chat-history-state").all_inner_texts()
            raise AssertionError(f"panel not live: {state} console={self.console}") from error
        return self.page.locator("#chat-panel")

    def send(self, text: str) -> None:
        box = self.page.locator("#chat-panel textarea").first
        box.fill(text)
        box.press("Enter")


@pytest.fixture
def person_factory(browser: Any) -> Iterator[Callable[..., Person]]:
    contexts: list[Any] = []

    def make(user: Any, server: ServerProcess, **context_options: Any) -> Person:
        context = browser.new_context(
            locale="de-DE", timezone_id="Europe/Berlin", **context_options
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        person = Person(user=user, page=page, base_url=server.http_url)

        def on_dialog(dialog: Any) -> None:
            person.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: person.page_errors.append(str(error)))
        page.on("console", lambda msg: person.console.append(f"{msg.type}: {msg.text}"))
        page.on(
            "console",
            lambda msg: (
                person.csp_violations.append(msg.text)
                if "Content Security Policy" in msg.text
                else None
            ),
        )
        return person

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def restartable_server(
    transactional_db: Any, tmp_path: Path
) -> Iterator[Callable[[], ServerProcess]]:
    """Start (and later restart) a second server process on one fixed port."""
    port = free_port()
    servers: list[ServerProcess] = []

    def start() -> ServerProcess:
        server = start_server(tmp_path, port=port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
