"""Subscriptions hold under churn (issue 9, section 1), against two production
processes sharing Redis.

While senders on both processes post to 80 conversations, sockets on both processes
subscribe and unsubscribe hundreds of times to half of them (each a real Redis
SUBSCRIBE / UNSUBSCRIBE, nobody else holds those topics), and steady sockets on both
processes hold the other half throughout. Every steady subscriber must receive every
message of its conversations, in order, exactly once; every churned subscription must
receive a gapless run from the `last_seq` its `subscribed` frame named. The old hub
subscribed while its reader waited on the same connection and lost subscriptions
silently under exactly this load.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from typing import Any

from tests.live.client import Person, Socket, make_group
from tests.live.conftest import Deployment

CONVERSATIONS = 80
# Eight owners of ten groups each: a person may found ten groups a day (accounts/throttle.py).
SENDERS = 8
CHURNERS_PER_PROCESS = 4
# Each churner subscribes this often (8 churners: at least 240 real SUBSCRIBEs); the
# senders keep posting until the last churner is done, however slow the machine.
SUBSCRIBES_PER_CHURNER = 30
SENDS_PER_SECOND = 7.0  # per sender, under the per-person limit of 10 a second
CHURN_OPS_PER_SECOND = 10.0  # per socket, under the frame limit of 20 a second


class Tracker:
    """One socket's reader: answers requests by ref and checks every message frame
    against the subscription it belongs to."""

    def __init__(self, socket: Socket, name: str) -> None:
        self.socket = socket
        self.name = name
        self.counter = 0
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.next_seq: dict[int, int] = {}  # conversation -> the seq expected next
        self.leaving: set[int] = set()
        self.seen: defaultdict[int, list[int]] = defaultdict(list)
        self.errors: list[str] = []
        self.subscribes = 0
        self.reader = asyncio.ensure_future(self.read())

    async def read(self) -> None:
        while True:
            frame = await self.socket.receive_new(timeout=None)
            waiter = self.pending.pop(frame.get("ref", ""), None)
            kind = frame["type"]
            if kind == "subscribed":
                self.next_seq[frame["conversation"]] = frame["last_seq"] + 1
            elif kind == "unsubscribed":
                self.next_seq.pop(frame["conversation"], None)
                self.leaving.discard(frame["conversation"])
            elif kind == "message":
                self.check(frame["conversation"], frame["seq"])
            elif kind == "error":
                self.errors.append(f"{self.name}: {frame}")
            if waiter is not None:
                waiter.set_result(frame)

    def check(self, conversation: int, seq: int) -> None:
        if conversation in self.leaving:
            return  # sent before the server took the unsubscribe
        expected = self.next_seq.get(conversation)
        if expected is None:
            self.errors.append(f"{self.name}: message {seq} of {conversation}, not subscribed")
        elif seq != expected:
            self.errors.append(f"{self.name}: {conversation} got {seq}, expected {expected}")
        self.next_seq[conversation] = seq + 1
        self.seen[conversation].append(seq)

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        self.counter += 1
        ref = f"{self.name}-{self.counter}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[ref] = waiter
        await self.socket.send({**frame, "ref": ref})
        return await asyncio.wait_for(waiter, 20)

    async def subscribe(self, conversation: int, after: int | None = None) -> None:
        frame: dict[str, Any] = {"type": "subscribe", "conversation": conversation}
        if after is not None:
            frame["after"] = after
        reply = await self.request(frame)
        assert reply["type"] == "subscribed", reply
        self.subscribes += 1

    async def unsubscribe(self, conversation: int) -> None:
        self.leaving.add(conversation)
        reply = await self.request({"type": "unsubscribe", "conversation": conversation})
        assert reply["type"] == "unsubscribed", reply

    async def close(self) -> None:
        self.reader.cancel()
        await self.socket.close()


async def send_traffic(
    sender: Tracker, conversations: list[int], churning: asyncio.Future[Any]
) -> dict[int, int]:
    """Post to `conversations` in turn until the churn is over; the last acked seq of
    each."""
    last: dict[int, int] = {}
    n = 0
    while not churning.done():
        conversation = conversations[n % len(conversations)]
        n += 1
        ack = await sender.request(
            {
                "type": "send",
                "conversation": conversation,
                "body": f"{sender.name} {n}",
                "client_id": f"{sender.name}-{n}",
            }
        )
        assert ack["type"] == "ack", ack
        last[conversation] = ack["seq"]
        await asyncio.sleep(1 / SENDS_PER_SECOND)
    return last


async def churn(socket: Tracker, conversations: list[int], seed: int) -> None:
    """Subscribe (live only) and unsubscribe at random, holding up to four at once."""
    rng = random.Random(seed)
    held: list[int] = []
    while socket.subscribes < SUBSCRIBES_PER_CHURNER:
        if held and (len(held) >= 4 or rng.random() < 0.45):
            await socket.unsubscribe(held.pop(rng.randrange(len(held))))
        else:
            choice = rng.choice([c for c in conversations if c not in held])
            await socket.subscribe(choice)
            held.append(choice)
        await asyncio.sleep(1 / CHURN_OPS_PER_SECOND)


async def test_subscribe_churn_under_traffic_loses_nothing_on_two_processes(
    production_servers: Deployment,
) -> None:
    live = production_servers
    listener = live.person("Lena Steady")
    senders = [live.person(f"Sender {n}") for n in range(SENDERS)]
    groups: list[tuple[Person, int]] = []
    for n in range(CONVERSATIONS):
        owner = senders[n % SENDERS]
        groups.append((owner, make_group(live.http_url, owner)["conversation_id"]))
    conversations = [conversation for _, conversation in groups]
    steady_set, churn_set = conversations[::2], conversations[1::2]

    steady = [
        Tracker(await Socket.open(server.ws_url, listener), f"steady{n}")
        for n, server in enumerate(live.servers)
    ]
    for socket in steady:
        # Subscribing 40 conversations stays inside the frame burst of 60.
        await asyncio.gather(*(socket.subscribe(c, after=0) for c in steady_set))
    churners = [
        Tracker(await Socket.open(server.ws_url, listener), f"churn{p}.{n}")
        for p, server in enumerate(live.servers)
        for n in range(CHURNERS_PER_PROCESS)
    ]
    sending = [
        Tracker(await Socket.open(live.servers[n % 2].ws_url, person), f"send{n}")
        for n, person in enumerate(senders)
    ]

    churning = asyncio.gather(
        *(churn(socket, churn_set, seed) for seed, socket in enumerate(churners))
    )
    results = await asyncio.gather(
        *(
            send_traffic(sender, [c for owner, c in groups if owner == senders[n]], churning)
            for n, sender in enumerate(sending)
        )
    )
    await churning
    last_seq: dict[int, int] = {}
    for result in results:
        last_seq.update(result)
    assert sum(last_seq.values()) > 80

    # Every steady subscriber on both processes got every message of its
    # conversations, in order and once; churned subscriptions still held get the
    # rest of theirs.
    deadline = time.monotonic() + 20
    for socket in steady + churners:
        for conversation, expected_next in list(socket.next_seq.items()):
            final = last_seq.get(conversation, 0)
            while socket.next_seq.get(conversation, expected_next) <= final:
                assert time.monotonic() < deadline, (
                    f"{socket.name} stuck at {socket.next_seq[conversation]} of "
                    f"{conversation}, last is {final}"
                )
                await asyncio.sleep(0.05)
    for socket in steady:
        for conversation in steady_set:
            assert socket.seen[conversation] == list(range(1, last_seq.get(conversation, 0) + 1)), (
                socket.name,
                conversation,
            )
    errors = [error for socket in steady + churners + sending for error in socket.errors]
    assert errors == []
    for socket in steady + churners + sending:
        await socket.close()
    assert "redis pub/sub connection failed" not in live.logs()
