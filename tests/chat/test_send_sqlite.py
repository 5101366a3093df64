"""The embedded default (SQLite, no Redis) under concurrent senders, against a real
daphne started with `make run`'s command line: every send acknowledged, seqs gapless,
no "database is locked" (issue 9, section 4).

The suite's own database is PostgreSQL, so this starts its server on a fresh SQLite
file and sets it up with `manage.py migrate` and `manage.py shell`, as a person
trying the demo would have it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.conftest import ROOT, ServerProcess, start_server

SENDERS = 50
PER_SENDER = 20

SETUP = """
import json
from accounts.models import AccessToken, User
from accounts.tokens import hash_token, new_raw_token
from chat.actions import do_add_participant, do_create_group_conversation

conversation = do_create_group_conversation(title="Handwerk Bochum", readable_by_all=False)
tokens = []
for n in range({people}):
    user = User.objects.create_user(email=f"p{{n}}@example.de", display_name=f"Person {{n}}")
    do_add_participant(conversation=conversation, user=user)
    raw = new_raw_token()
    AccessToken.objects.create(user=user, name="t", token_hash=hash_token(raw), prefix=raw[:8])
    tokens.append(raw)
print(json.dumps({{"conversation": conversation.pk, "tokens": tokens}}))
"""


def embedded_env(database: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)},
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": "",
    }


def manage(database: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=embedded_env(database),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, Any]]]:
    database = tmp_path / "netzn.sqlite3"
    manage(database, "migrate", "--noinput")
    setup = json.loads(
        manage(database, "shell", "-c", SETUP.format(people=SENDERS + 1)).splitlines()[-1]
    )
    # start_server's DATABASE_URL and REDIS_URL are the suite's: replace them.
    server = start_server(tmp_path, extra_env=embedded_env(database))
    yield server, setup
    server.stop()


async def send_all(url: str, token: str, conversation: int, sender: int) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, additional_headers=headers, open_timeout=30) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        for n in range(PER_SENDER):
            frame = {
                "type": "send",
                "conversation": conversation,
                "body": f"Nachricht {n} von {sender}",
                "client_id": f"s{sender}-{n}",
                "ref": f"{n}",
            }
            await ws.send(json.dumps(frame))
        replies: list[dict[str, Any]] = []
        while len(replies) < PER_SENDER:
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            if reply.get("ref") is not None:
                replies.append(reply)
        return replies


async def listen(url: str, token: str, conversation: int, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, additional_headers=headers, open_timeout=30) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(json.dumps({"type": "subscribe", "conversation": conversation, "after": 0}))
        seqs: list[int] = []
        while len(seqs) < count:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            if frame["type"] == "message":
                seqs.append(frame["seq"])
        return seqs


async def test_fifty_concurrent_senders_on_sqlite_are_all_acked_gaplessly(
    embedded: tuple[ServerProcess, dict[str, Any]],
) -> None:
    server, setup = embedded
    conversation, tokens = setup["conversation"], setup["tokens"]
    total = SENDERS * PER_SENDER
    listener = asyncio.ensure_future(listen(server.ws_url, tokens[-1], conversation, total))
    results = await asyncio.gather(
        *(send_all(server.ws_url, tokens[i], conversation, i) for i in range(SENDERS))
    )
    replies = [reply for sender in results for reply in sender]
    errors = [reply for reply in replies if reply["type"] != "ack"]
    assert errors == []
    assert sorted(reply["seq"] for reply in replies) == list(range(1, total + 1))
    for sender in results:
        # One socket's sends are stored in the order it sent them.
        seqs = [reply["seq"] for reply in sorted(sender, key=lambda r: int(r["ref"]))]
        assert seqs == sorted(seqs)
    received = await asyncio.wait_for(listener, timeout=60)
    assert sorted(received) == list(range(1, total + 1))
    log = server.log.read_text()
    assert "database is locked" not in log
    assert "Traceback" not in log


async def test_a_retried_send_on_sqlite_gets_the_same_ack(
    embedded: tuple[ServerProcess, dict[str, Any]],
) -> None:
    server, setup = embedded
    headers = {"Authorization": f"Bearer {setup['tokens'][0]}"}
    frame = {
        "type": "send",
        "conversation": setup["conversation"],
        "body": "Einmal, auch wenn zweimal gesendet",
        "client_id": "retry-1",
    }
    async with websockets.connect(server.ws_url, additional_headers=headers) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        acks = []
        for ref in ("a", "b"):
            await ws.send(json.dumps({**frame, "ref": ref}))
            acks.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))
    assert [ack["type"] for ack in acks] == ["ack", "ack"]
    assert acks[0]["id"] == acks[1]["id"]
    assert acks[0]["seq"] == acks[1]["seq"] == 1
