# netzn: two commands to start, `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Connections the kernel queues before daphne accepts them (Twisted's default is 50: a
# reconnect storm overflowed it); capped by net.core.somaxconn.
BACKLOG ?= 2048
# Seconds a WebSocket handshake may take before daphne drops it (its default is 5): a
# handshake past NETZN_MAX_HANDSHAKES_IN_FLIGHT waits its turn inside this
# (realtime/admission.py), so a reconnect storm is queued rather than refused.
CONNECT_TIMEOUT ?= 30
# The suite runs against real PostgreSQL and Redis; it creates and drops its own
# test database (test_<name>), so these may point at a shared server.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/netzn
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# pytest-xdist workers, one per core (each with its own test database and Redis
# database, tests/conftest.py); a file's tests stay together on one worker, and the
# files go out in the order tests/conftest.py gives them (long ones first, browser
# ones last), not re-sorted by xdist.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: run install test lint fmt migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The periodic jobs of `netzn_cron` (e-mail outbox, digests, weekly e-mails, unanswered
# questions, quiet groups) run once a minute on a thread of the server and stop with it:
# e-mails go to the console as production sends them by SMTP, and notifications reach
# open sockets through the server's own hub (engagement/background.py).
run: migrate
	$(BIN)/python manage.py seed_demo
	NETZN_CRON_EVERY_SECONDS=$${NETZN_CRON_EVERY_SECONDS:-60} $(BIN)/python -m server.serve --websocket_connect_timeout $(CONNECT_TIMEOUT) -e tcp:port=$(PORT):interface=$(HOST):backlog=$(BACKLOG) asgi:application

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Twice (docs/testing.md), at the same time: the whole suite on PostgreSQL + Redis,
# and the contract tests (HTTP API, WebSocket, live servers) on the embedded default
# `make run` serves: SQLite, no Redis. Much of either run waits on server processes and
# browsers, so on two cores the two together take little longer than the first alone.
# The embedded run's output goes to a file and is shown after the first run's. The
# browser tests run last on each worker of the first run (tests/conftest.py): sync
# Playwright keeps an event loop running in its worker while a browser is open, which
# async tests and the ORM cannot share. pytest's "no tests ran" (exit 5) fails a full
# run; it is let pass only when PYTEST_ARGS narrowed a run to none of its tests.
ALLOW_NONE_WHEN_NARROWED = { [ $$1 -eq 0 ] || { [ $$1 -eq 5 ] && [ -n "$(PYTEST_ARGS)" ]; }; }
test: lint
	@set -u; embedded_log=$$(mktemp); \
	DATABASE_URL= REDIS_URL= NETZN_TEST_EMBEDDED=1 $(PYTEST) -o cache_dir=.pytest_cache/embedded \
		-m contract $(PYTEST_ARGS) >$$embedded_log 2>&1 & embedded=$$!; \
	ok() { $(ALLOW_NONE_WHEN_NARROWED); }; \
	echo "== the full run (PostgreSQL, Redis); the embedded run (SQLite, no Redis) beside it"; \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PYTEST) $(PYTEST_ARGS); full=$$?; \
	wait $$embedded; status=$$?; \
	echo "== the embedded run (SQLite, no Redis)"; cat $$embedded_log; rm -f $$embedded_log; \
	ok $$full || { echo "== the full run failed (exit $$full)"; exit $$full; }; \
	ok $$status || { echo "== the embedded run failed (exit $$status)"; exit $$status; }

clean:
	rm -rf $(VENV) var/static
