"""The embedded default (`make run`: SQLite, no Redis) under concurrent senders
(issue 9, section 4): every send acknowledged, seqs gapless, nothing lost for a
listener, no "database is locked".

50 people would cost 100 password hashes over HTTP, so they and their tokens are made
with `manage.py shell` in the server's own SQLite file (WAL: beside the running
server), as an operator's script would."""

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

from tests.conftest import ROOT, ServerProcess
from tests.live.client import Person, Socket, send_frame
from tests.live.conftest import EMBEDDED_ENV, start_embedded

SENDERS = 50
PER_SENDER = 20
# Handshakes at once: the sends are under test here, not a connection storm
# (issue 9, section 7).
CONNECTING_AT_ONCE = 10

MAKE_PEOPLE = """
import json
from accounts.models import AccessToken, User
from accounts.tokens import hash_token, new_raw_token
from chat.actions import do_add_participant, do_create_group_conversation

conversation = do_create_group_conversation(title="Handwerk Bochum", readable_by_all=False)
people = []
for n in range({count}):
    user = User.objects.create_user(email=f"p{{n}}@example.de", display_name=f"Person {{n}}")
    do_add_participant(conversation=conversation, user=user)
    raw = new_raw_token()
    AccessToken.objects.create(user=user, name="t", token_hash=hash_token(raw), prefix=raw[:8])
    people.append([user.pk, user.email, user.display_name, raw])
print(json.dumps({{"conversation": conversation.pk, "people": people}}))
"""


@pytest.fixture(scope="module")
def crowd(
    tmp_path_factory: pytest.TempPathFactory, embedded_template: Path
) -> Iterator[tuple[ServerProcess, int, list[Person]]]:
    tmp_path = tmp_path_factory.mktemp("embedded-sends")
    server = start_embedded(tmp_path, embedded_template)
    env = {**os.environ, **EMBEDDED_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'netzn.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", MAKE_PEOPLE.format(count=SENDERS + 1)],
        cwd=ROOT,
        env={key: value for key, value in env.items() if value is not None},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    made = json.loads(result.stdout.splitlines()[-1])
    people = [Person(id=p[0], email=p[1], display_name=p[2], token=p[3]) for p in made["people"]]
    try:
        yield server, made["conversation"], people
    finally:
        server.stop()


async def open_all(url: str, people: list[Person]) -> list[Socket]:
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def one(person: Person) -> Socket:
        async with gate:
            return await Socket.open(url, person)

    return list(await asyncio.gather(*(one(person) for person in people)))


async def send_burst(socket: Socket, conversation: int, sender: int) -> list[dict[str, Any]]:
    """All of one socket's sends at once (each with its own ref), then their replies."""
    for n in range(PER_SENDER):
        frame = send_frame(conversation, f"Nachricht {n} von {sender}", f"s{sender}-{n}")
        await socket.send({**frame, "ref": str(n)})
    replies: list[dict[str, Any]] = []
    while len(replies) < PER_SENDER:
        reply = await socket.receive_new(timeout=60)
        if reply.get("ref") is not None:
            replies.append(reply)
    return replies


async def test_fifty_concurrent_senders_on_sqlite_are_all_acked_gaplessly(
    crowd: tuple[ServerProcess, int, list[Person]],
) -> None:
    server, conversation, people = crowd
    total = SENDERS * PER_SENDER
    listener = await Socket.open(server.ws_url, people[-1])
    backlog, subscribed = await listener.subscribe(conversation, after=0)
    assert (backlog, subscribed["last_seq"]) == ([], 0)
    senders = await open_all(server.ws_url, people[:SENDERS])

    results = await asyncio.gather(
        *(send_burst(socket, conversation, index) for index, socket in enumerate(senders))
    )

    replies = [reply for sender in results for reply in sender]
    assert [reply for reply in replies if reply["type"] != "ack"] == []
    assert sorted(reply["seq"] for reply in replies) == list(range(1, total + 1))
    for sender in results:
        # One socket's sends are stored in the order it sent them.
        seqs = [reply["seq"] for reply in sorted(sender, key=lambda r: int(r["ref"]))]
        assert seqs == sorted(seqs)
    received = await listener.messages(total, timeout=60)
    assert sorted(frame["seq"] for frame in received) == list(range(1, total + 1))
    # A reconnecting client catches up on all of it, in order.
    late = await Socket.open(server.ws_url, people[0])
    backlog, subscribed = await late.subscribe(conversation, after=total - 300)
    assert [frame["seq"] for frame in backlog] == list(range(total - 299, total + 1))
    for socket in [listener, late, *senders]:
        await socket.close()
    log = server.log.read_text()
    assert "database is locked" not in log
    assert "Traceback" not in log


async def test_a_retried_send_on_sqlite_gets_the_same_ack(
    crowd: tuple[ServerProcess, int, list[Person]],
) -> None:
    server, conversation, people = crowd
    socket = await Socket.open(server.ws_url, people[1])
    frame = send_frame(conversation, "Einmal, auch wenn zweimal gesendet", "retry-1")
    first = await socket.request(frame)
    again = await socket.request(frame)
    assert (first["type"], again["type"]) == ("ack", "ack")
    assert (first["id"], first["seq"]) == (again["id"], again["seq"])
    await socket.close()
