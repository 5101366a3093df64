"""The load generator: one asyncio process of `websockets` clients speaking docs/protocol.md.

Scenarios (each prints one JSON result line on stdout; progress marks go to stdout too,
as JSON lines with a "mark" key, so bench/run.py can sample the server's CPU over
exactly the measured window):

- `fanout`: N subscribers and S senders on one conversation. The senders post at R
  messages/s through the real send path (`send` frames: stored, acked, broadcast);
  each 100-byte body carries its send time. First `--warmup` seconds of messages are
  not measured, then `--messages` are. Reports deliveries/s, lost (expected minus
  received, per subscriber by seq), duplicates, p50/p99 latency, the late share (not
  arrived 20 s after the last send), disconnects, and the senders' ack times.
- `idle`: C connections that connect, subscribe and stay silent for `--hold` seconds
  (the server's memory is read meanwhile).
- `senders`: S senders each posting K messages one after the other (the next when the
  ack of the previous one arrived): persisted messages/s and ack times.
- `stall`: K subscribers stop reading while senders post: are they disconnected, or
  does the server's memory grow?
- `catchup`: one client subscribes with `after = last_seq - missed` again and again;
  time from the `subscribe` frame to the `subscribed` frame after the backlog.
- `connect`: C token clients connect (at most `--parallel` handshakes at a time):
  time until all have their `hello`, each handshake's time, failed connections.
- `storm`: C clients spread over several server processes (`--urls`) connect and
  subscribe; then all drop at once (TCP abort), a sender posts `--missed` messages,
  and all reconnect at once with `subscribe` + `after` = the last seq each saw,
  retrying failed attempts with jitter. Time until every client has its missed
  messages, in order, and `subscribed`; failed connection attempts by reason.

Users come from `manage.py create_bench_users N --group SLUG` (JSON lines with id,
email, token, conversation). The same generator runs against bench/raw_server.py,
which ignores the token.

    python bench/loadgen.py fanout --url ws://127.0.0.1:8200/ws/v1/ \
        --users var/bench/users-bench.jsonl --subscribers 500 --rate 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import math
import random
import re
import resource
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlparse

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

T = TypeVar("T")
BODY_BYTES = 100
LATE_AFTER_SECONDS = 20.0
# A `message` frame of a measured body, and its seq (JSON key order does not matter).
MESSAGE_TYPE = b'"type":"message"'
REACTION_TYPE = b'"type":"reaction"'
PRESENCE_TYPE = b'"type":"presence"'
MEASURED_BODY = re.compile(rb'"body":"bench m \d+ ([0-9.]+) ')
SEQ = re.compile(rb'"seq":(\d+)')


def mark(name: str, **extra: Any) -> None:
    """A progress line for bench/run.py (it samples the server at these moments)."""
    print(json.dumps({"mark": name, "t": time.time(), **extra}), flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def make_body(phase: str, index: int, size: int = BODY_BYTES) -> str:
    """`bench <phase> <index> <monotonic send time> xxx...`, exactly `size` bytes."""
    head = f"bench {phase} {index:07d} {time.monotonic():.6f} "
    return head + "x" * (size - len(head))


def identity(value: T) -> T:
    return value


def load_users(path: str) -> list[dict[str, Any]]:
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip().startswith("{")]


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Connector:
    """Opens authenticated connections, spreading source addresses over `local_ips`
    (each source IP has its own ephemeral port range) and capping concurrent
    handshakes."""

    def __init__(self, url: str, local_ips: list[str], parallel: int) -> None:
        self.url = url
        self.local_ips = itertools.cycle(local_ips)
        self.gate = asyncio.Semaphore(parallel)
        self.refused = 0  # handshakes answered 503 (admission control) and retried

    async def open(self, token: str) -> tuple[ClientConnection, dict[str, Any]]:
        """Connect and read `hello`; a handshake refused with 503 is retried as
        docs/protocol.md asks ("Reconnecting"): after its Retry-After plus up to a
        second of jitter, with exponential back-off (at most 10 attempts)."""
        for attempt in range(1, 11):
            try:
                return await self.open_once(token)
            except InvalidStatus as exc:
                if exc.response.status_code != 503 or attempt == 10:
                    raise
                self.refused += 1
                try:
                    retry_after = float(exc.response.headers.get("Retry-After", "1"))
                except ValueError:
                    retry_after = 1.0
                ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
                delay = max(ceiling / 2 + random.random() * ceiling / 2, retry_after)
                await asyncio.sleep(delay + random.random())
        raise AssertionError("unreachable")

    async def open_once(self, token: str) -> tuple[ClientConnection, dict[str, Any]]:
        async with self.gate:
            ws = await connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {token}"},
                compression=None,
                ping_interval=None,
                open_timeout=120,
                close_timeout=2,
                max_size=2**20,
                max_queue=None,
                local_addr=(next(self.local_ips), 0),
            )
            hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        return ws, hello


async def subscribe(
    ws: ClientConnection, conversation: int, after: int | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send `subscribe`; return the `subscribed` frame and the frames before it."""
    frame: dict[str, Any] = {"type": "subscribe", "conversation": conversation}
    if after is not None:
        frame["after"] = after
    await ws.send(json.dumps(frame))
    before: list[dict[str, Any]] = []
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("type") == "subscribed" and reply.get("conversation") == conversation:
            return reply, before
        if reply.get("type") == "error":
            raise RuntimeError(f"subscribe refused: {reply}")
        before.append(reply)


# --- fanout ---------------------------------------------------------------------------


class TokenSocket(asyncio.Protocol):
    """A client socket on websockets' Sans-I/O protocol that opens the handshake with a
    Bearer token: subclasses set `protocol`, `token` and `transport` and handle frames
    in `data_received`."""

    protocol: ClientProtocol
    token: str
    transport: asyncio.Transport | None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        request = self.protocol.connect()
        request.headers["Authorization"] = f"Bearer {self.token}"
        self.protocol.send_request(request)
        self.flush()

    def flush(self) -> None:
        assert self.transport is not None
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()


class LeanSubscriber(TokenSocket):
    """A subscriber socket on websockets' Sans-I/O protocol, without a task per socket.

    Thousands of subscribers share one core with the generator: the high-level client
    costs a future, a task wake-up and a JSON parse per frame, which made the
    generator, not the server, the bottleneck at 20,000 deliveries/s. Here frames are
    handled inside `data_received`: handshake and framing by websockets, the measured
    fields picked out with two regular expressions."""

    def __init__(self, run: FanoutRun, url: str, token: str) -> None:
        self.run = run
        self.protocol = ClientProtocol(parse_uri(url), max_size=2**20)
        self.token = token
        self.transport: asyncio.Transport | None = None
        self.setup: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.live = False
        self.seqs: dict[int, int] = {}  # measured seq -> times received
        self.closed: str | None = None

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    if self.live:
                        self.run.on_message(self, event.data, now)
                    else:
                        self.setup.put_nowait(json.loads(event.data))
                elif event.opcode is Opcode.CLOSE:
                    self.closed = str(self.protocol.close_code)
            elif isinstance(event, Response) and event.status_code != 101:
                self.setup.put_nowait(None)
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed is None:
            self.closed = str(self.protocol.close_code or "lost")
        self.setup.put_nowait(None)

    async def next_frame(self) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.setup.get(), 120)
        if frame is None:
            raise RuntimeError(f"connection refused or closed ({self.closed})")
        return frame

    async def start(self, conversation: int, watched: list[int] | None = None) -> None:
        hello = await self.next_frame()
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        subscribe_frame = {"type": "subscribe", "conversation": conversation}
        self.protocol.send_text(json.dumps(subscribe_frame).encode())
        if watched:
            presence_frame = {"type": "presence_subscribe", "users": watched}
            self.protocol.send_text(json.dumps(presence_frame).encode())
        self.flush()
        while True:
            reply = await self.next_frame()
            if reply.get("type") == "subscribed":
                self.live = True
                return
            if reply.get("type") == "error":
                raise RuntimeError(f"subscribe refused: {reply}")

    def close(self) -> None:
        """Close frame first (a clean close for the server), then the TCP connection."""
        if self.transport is not None and not self.transport.is_closing():
            self.protocol.send_close(1000)
            self.flush()
            self.transport.close()


@dataclass
class Sender:
    ws: ClientConnection
    sent_at: dict[str, float] = field(default_factory=dict)  # client_id -> monotonic
    acks: dict[str, tuple[int, float]] = field(default_factory=dict)  # -> (seq, monotonic)
    errors: dict[str, int] = field(default_factory=dict)
    reactions_acked: int = 0


class FanoutRun:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.latencies: list[float] = []
        self.received_measured = 0
        self.received_by_deadline: int | None = None
        self.last_receive = 0.0
        self.all_received = asyncio.Event()
        self.expected = args.messages * args.subscribers
        # Mixed traffic (--reactions): reaction frames the subscribers received, and
        # the newest acknowledged message, which the reactors toggle a 👍 on.
        self.reactions_received = 0
        self.newest_message_id = 0
        # Mixed traffic (--presence-watch): presence frames in the measured window.
        self.presence_received = 0
        self.measuring = False

    def on_message(self, sub: LeanSubscriber, data: bytes, now: float) -> None:
        if PRESENCE_TYPE in data:
            self.presence_received += self.measuring
            return
        if REACTION_TYPE in data:
            self.reactions_received += 1
            return
        body = MEASURED_BODY.search(data) if MESSAGE_TYPE in data else None
        if body is None:
            return
        seq_match = SEQ.search(data)
        if seq_match is None:
            return
        seq = int(seq_match.group(1))
        count = sub.seqs.get(seq, 0)
        sub.seqs[seq] = count + 1
        if count:
            return
        self.received_measured += 1
        self.latencies.append(now - float(body.group(1)))
        self.last_receive = now
        if self.received_measured >= self.expected:
            self.all_received.set()

    async def read_sender(self, sender: Sender) -> None:
        try:
            async for raw in sender.ws:
                now = time.monotonic()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ack" and "emoji" in frame:
                    sender.reactions_acked += 1
                elif kind == "ack":
                    sender.acks[frame["client_id"]] = (frame["seq"], now)
                    self.newest_message_id = max(self.newest_message_id, int(frame["id"]))
                elif kind == "error":
                    code = str(frame.get("code"))
                    sender.errors[code] = sender.errors.get(code, 0) + 1
        except ConnectionClosed:
            pass

    async def react(self, senders: list[Sender], t0: float, seconds: float) -> int:
        """`--reactions` a second beside the messages: the senders in turn toggle their
        👍 on the newest acknowledged message (every subscriber gets each `reaction`)."""
        sent = 0
        tick = 0
        mine_on: dict[int, bool] = {}
        while tick / self.args.reactions < seconds:
            delay = t0 + tick / self.args.reactions - time.monotonic()
            tick += 1
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.newest_message_id:
                continue
            index = sent % len(senders)
            on = not mine_on.get(index, False)
            mine_on[index] = on
            frame = {"type": "react", "message": self.newest_message_id, "emoji": "👍", "on": on}
            await senders[index].ws.send(json.dumps(frame))
            sent += 1
        return sent

    def watch_lists(
        self, subscribers: list[dict[str, Any]], away: list[dict[str, Any]]
    ) -> list[list[int]]:
        """`--presence-watch` W people for each subscriber: a tenth of them from the
        people who come and go (`away`, each watched by about N x W/10 / len(away)
        subscribers), the rest the next subscribers (who stay online)."""
        watch = self.args.presence_watch
        if not watch:
            return [[] for _ in subscribers]
        of_away = max(1, watch // 10) if away else 0
        lists = []
        for index in range(len(subscribers)):
            coming_and_going = [
                away[(index * of_away + k) % len(away)]["id"] for k in range(of_away)
            ]
            staying = [
                subscribers[(index + 1 + k) % len(subscribers)]["id"]
                for k in range(watch - of_away)
            ]
            lists.append(coming_and_going + staying)
        return lists

    async def come_and_go(
        self, connector: Connector, away: list[dict[str, Any]], seconds: float
    ) -> int:
        """`--presence-reconnect-pct` % of N a minute: one of the `away` people closes
        their connection and opens a new one (offline, then online for their
        watchers), as the presence scenario's people do."""
        sockets = [(await connector.open(user["token"]))[0] for user in away]
        per_second = self.args.subscribers * self.args.presence_reconnect_pct / 100 / 60
        chooser = random.Random(17)
        reconnects = 0
        started = time.monotonic()
        while per_second and (reconnects + 1) / per_second < seconds:
            await asyncio.sleep(
                max(0.0, started + (reconnects + 1) / per_second - time.monotonic())
            )
            index = chooser.randrange(len(away))
            await sockets[index].close()
            sockets[index] = (await connector.open(away[index]["token"]))[0]
            reconnects += 1
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        return reconnects

    async def run(self) -> dict[str, Any]:
        args = self.args
        users = load_users(args.users)
        needed = args.subscribers + args.senders
        if len(users) < needed:
            raise SystemExit(f"{args.users} holds {len(users)} users, {needed} needed")
        conversation = args.conversation or int(users[0]["conversation"])
        connector = Connector(args.url, args.local_ips.split(","), args.parallel)

        started = time.monotonic()

        loop = asyncio.get_running_loop()
        target = urlparse(args.url)
        local_ips = itertools.cycle(args.local_ips.split(","))

        async def open_subscriber(user: dict[str, Any], watched: list[int]) -> LeanSubscriber:
            async with connector.gate:
                _, sub = await loop.create_connection(
                    lambda: LeanSubscriber(self, args.url, user["token"]),
                    target.hostname,
                    target.port,
                    local_addr=(next(local_ips), 0),
                )
                await sub.start(conversation, watched)
            return sub

        away = users[needed:] if args.presence_watch else []
        if args.presence_watch and not away:
            raise SystemExit(f"{args.users}: no people left over to come and go")
        watch_lists = self.watch_lists(users[: args.subscribers], away)
        subscribers = await asyncio.gather(
            *(
                open_subscriber(user, watched)
                for user, watched in zip(users[: args.subscribers], watch_lists, strict=True)
            )
        )
        connect_seconds = time.monotonic() - started
        senders = [
            Sender((await connector.open(user["token"]))[0])
            for user in users[args.subscribers : needed]
        ]
        readers = [asyncio.create_task(self.read_sender(sender)) for sender in senders]

        warmup_count = round(args.warmup * args.rate)
        total = warmup_count + args.messages
        measured_ids: list[tuple[Sender, str]] = []
        run_id = uuid.uuid4().hex[:8]
        t0 = time.monotonic()
        first_measured_send = 0.0
        reacting = (
            asyncio.create_task(self.react(senders, t0, total / args.rate))
            if args.reactions > 0
            else None
        )
        coming_and_going = (
            asyncio.create_task(self.come_and_go(connector, away, total / args.rate))
            if away
            else None
        )
        for index in range(total):
            target = t0 + index / args.rate
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            measured = index >= warmup_count
            if measured and not first_measured_send:
                first_measured_send = time.monotonic()
                self.measuring = True
                mark("measure_start")
            sender = senders[index % len(senders)]
            client_id = f"{run_id}-{index}"
            body = make_body("m" if measured else "w", index)
            sender.sent_at[client_id] = time.monotonic()
            await sender.ws.send(
                json.dumps(
                    {
                        "type": "send",
                        "conversation": conversation,
                        "body": body,
                        "client_id": client_id,
                        "ref": client_id,
                    }
                )
            )
            if measured:
                measured_ids.append((sender, client_id))
        last_send = time.monotonic()
        send_seconds = last_send - first_measured_send
        reactions_sent = await reacting if reacting is not None else 0
        presence_reconnects = await coming_and_going if coming_and_going is not None else 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_received.wait(), timeout=LATE_AFTER_SECONDS)
        received_at_deadline = self.received_measured
        self.measuring = False
        mark("measure_end")
        if received_at_deadline < self.expected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.all_received.wait(), timeout=args.grace)

        acked_seqs = {sender.acks[cid][0] for sender, cid in measured_ids if cid in sender.acks}
        ack_times = [
            sender.acks[cid][1] - sender.sent_at[cid]
            for sender, cid in measured_ids
            if cid in sender.acks
        ]
        # Expected per subscriber: every measured message the server acknowledged.
        lost = 0
        duplicates = 0
        for sub in subscribers:
            lost += len(acked_seqs - set(sub.seqs))
            duplicates += sum(count - 1 for count in sub.seqs.values())
        errors: dict[str, int] = {}
        for sender in senders:
            for code, count in sender.errors.items():
                errors[code] = errors.get(code, 0) + count
        closed = [sub.closed for sub in subscribers if sub.closed]
        span = (self.last_receive or time.monotonic()) - first_measured_send
        for task in readers:
            task.cancel()
        for sub in subscribers:
            sub.close()
        await asyncio.gather(
            *(asyncio.wait_for(sender.ws.close(), 5) for sender in senders),
            return_exceptions=True,
        )
        return {
            "scenario": "fanout",
            "subscribers": args.subscribers,
            "senders": args.senders,
            "rate": args.rate,
            "messages": args.messages,
            "connect_seconds": round(connect_seconds, 2),
            "offered_rate": round(args.messages / send_seconds, 1) if send_seconds else None,
            "acked": len(ack_times),
            "expected_deliveries": self.expected,
            "received": self.received_measured,
            "deliveries_per_s": round(self.received_measured / span, 1) if span > 0 else None,
            "lost": lost,
            "duplicates": duplicates,
            "received_at_deadline": received_at_deadline,
            "late_share": round(1 - received_at_deadline / self.expected, 4),
            "p50_ms": ms(percentile(self.latencies, 50)),
            "p99_ms": ms(percentile(self.latencies, 99)),
            "max_ms": ms(max(self.latencies) if self.latencies else None),
            "ack_p50_ms": ms(percentile(ack_times, 50)),
            "ack_p99_ms": ms(percentile(ack_times, 99)),
            "send_errors": errors,
            "reactions_per_s": args.reactions,
            "reactions_sent": reactions_sent,
            "reactions_acked": sum(sender.reactions_acked for sender in senders),
            "reactions_received": self.reactions_received,
            "presence_watch": args.presence_watch,
            "presence_reconnects": presence_reconnects,
            "presence_frames_per_s": round(self.presence_received / span, 1) if span > 0 else None,
            "disconnected": len(closed),
            "close_codes": sorted(set(closed)),
        }


# --- idle -----------------------------------------------------------------------------


async def run_idle(args: argparse.Namespace) -> dict[str, Any]:
    users = load_users(args.users)
    connector = Connector(args.url, args.local_ips.split(","), args.parallel)
    conversation = args.conversation
    started = time.monotonic()
    failures: dict[str, int] = {}

    async def open_one(index: int) -> ClientConnection | None:
        user = users[index % len(users)]
        try:
            ws, _ = await connector.open(user["token"])
            if conversation:
                await subscribe(ws, conversation)
            return ws
        except Exception as exc:
            name = type(exc).__name__
            failures[name] = failures.get(name, 0) + 1
            return None

    opened = await asyncio.gather(*(open_one(i) for i in range(args.connections)))
    sockets = [ws for ws in opened if ws is not None]
    connect_seconds = time.monotonic() - started
    mark("idle_ready", connections=len(sockets), connect_seconds=round(connect_seconds, 2))
    await asyncio.sleep(args.hold)
    alive = sum(1 for ws in sockets if ws.close_code is None)
    mark("idle_done", alive=alive)
    gate = asyncio.Semaphore(500)

    async def close(ws: ClientConnection) -> None:
        async with gate:
            await ws.close()

    await asyncio.gather(*(close(ws) for ws in sockets), return_exceptions=True)
    return {
        "scenario": "idle",
        "requested": args.connections,
        "connected": len(sockets),
        "alive_after_hold": alive,
        "connect_seconds": round(connect_seconds, 2),
        "failures": failures,
    }


# --- senders --------------------------------------------------------------------------


async def run_senders(args: argparse.Namespace) -> dict[str, Any]:
    users = load_users(args.users)[: args.senders]
    if len(users) < args.senders:
        raise SystemExit(f"{args.users} holds {len(users)} users, {args.senders} needed")
    # Each sender posts to its own user's bench group unless --conversation is given.
    conversations = [args.conversation or int(user["conversation"]) for user in users]
    connector = Connector(args.url, args.local_ips.split(","), args.parallel)
    sockets = await asyncio.gather(*(connector.open(user["token"]) for user in users))
    run_id = uuid.uuid4().hex[:8]
    ack_times: list[float] = []
    errors: dict[str, int] = {}
    seqs: list[int] = []

    async def post(
        ws: ClientConnection, conversation: int, client_id: str, phase: str, index: int
    ) -> None:
        frame = {
            "type": "send",
            "conversation": conversation,
            "body": make_body(phase, index),
            "client_id": client_id,
            "ref": client_id,
        }
        sent = time.monotonic()
        await ws.send(json.dumps(frame))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("type") == "ack" and reply.get("client_id") == client_id:
                if phase == "m":
                    ack_times.append(time.monotonic() - sent)
                    seqs.append(reply["seq"])
                return
            if reply.get("type") == "error" and reply.get("ref") == client_id:
                code = str(reply.get("code"))
                errors[code] = errors.get(code, 0) + 1
                return

    async def one_sender(number: int, ws: ClientConnection, phase: str, count: int) -> None:
        for index in range(count):
            client_id = f"{run_id}-{phase}-{number}-{index}"
            await post(ws, conversations[number], client_id, phase, index)

    await asyncio.gather(
        *(one_sender(n, ws, "w", args.warmup_messages) for n, (ws, _) in enumerate(sockets))
    )
    mark("measure_start")
    started = time.monotonic()
    await asyncio.gather(
        *(one_sender(n, ws, "m", args.per_sender) for n, (ws, _) in enumerate(sockets))
    )
    elapsed = time.monotonic() - started
    mark("measure_end")
    await asyncio.gather(*(ws.close() for ws, _ in sockets), return_exceptions=True)
    return {
        "scenario": "senders",
        "senders": args.senders,
        "conversations": len(set(conversations)),
        "per_sender": args.per_sender,
        "persisted": len(ack_times),
        "persisted_per_s": round(len(ack_times) / elapsed, 1),
        "ack_p50_ms": ms(percentile(ack_times, 50)),
        "ack_p99_ms": ms(percentile(ack_times, 99)),
        "ack_max_ms": ms(max(ack_times) if ack_times else None),
        "distinct_seqs": len(set(seqs)),
        "errors": errors,
    }


# --- catch-up -------------------------------------------------------------------------


async def run_catchup(args: argparse.Namespace) -> dict[str, Any]:
    """Rounds run one after the other, rotating over `--connections` sockets of
    different users: the server allows each connection 20 frames/s (burst 60), and a
    round costs two (subscribe, unsubscribe)."""
    users = load_users(args.users)[: args.connections]
    conversation = args.conversation or int(users[0]["conversation"])
    connector = Connector(args.url, args.local_ips.split(","), args.parallel)
    sockets = [(await connector.open(user["token"]))[0] for user in users]
    subscribed, _ = await subscribe(sockets[0], conversation)
    last_seq = int(subscribed["last_seq"])
    if last_seq < args.missed:
        raise SystemExit(f"conversation {conversation} holds {last_seq} messages, too few")
    await sockets[0].send(json.dumps({"type": "unsubscribe", "conversation": conversation}))
    times: list[float] = []
    wrong: list[str] = []
    expected = list(range(last_seq - args.missed + 1, last_seq + 1))
    mark("measure_start")
    for index in range(args.rounds):
        ws = sockets[index % len(sockets)]
        started = time.monotonic()
        reply, backlog = await subscribe(ws, conversation, after=last_seq - args.missed)
        elapsed = time.monotonic() - started
        times.append(elapsed)
        got = [f["seq"] for f in backlog if f.get("type") == "message"]
        if got != expected or reply["truncated"]:
            wrong.append(f"{len(got)} frames, truncated={reply['truncated']}")
        await ws.send(json.dumps({"type": "unsubscribe", "conversation": conversation}))
    mark("measure_end")
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {
        "scenario": "catchup",
        "missed": args.missed,
        "rounds": args.rounds,
        "p50_ms": ms(percentile(times, 50)),
        "p99_ms": ms(percentile(times, 99)),
        "max_ms": ms(max(times)),
        "incomplete_rounds": len(wrong),
        "incomplete_examples": wrong[:3],
    }


# --- stalled clients ------------------------------------------------------------------


async def run_stall(args: argparse.Namespace) -> dict[str, Any]:
    """K subscribers that stop reading (tiny receive buffer, reading paused) while
    senders post at R messages/s for D seconds. A server that bounds what a slow
    client may hold closes them; one that does not grows its memory (run.py samples
    the server's RSS)."""
    users = load_users(args.users)
    conversation = args.conversation or int(users[0]["conversation"])
    loop = asyncio.get_running_loop()
    target = urlparse(args.url)
    local_ips = itertools.cycle(args.local_ips.split(","))
    run = FanoutRun(args)
    stalled: list[LeanSubscriber] = []
    for user in users[: args.stalled]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind((next(local_ips), 0))
        sock.setblocking(False)
        await loop.sock_connect(sock, (target.hostname, target.port))
        sub = LeanSubscriber(run, args.url, user["token"])
        await loop.create_connection(functools.partial(identity, sub), sock=sock)
        await sub.start(conversation)
        assert sub.transport is not None
        sub.transport.pause_reading()
        stalled.append(sub)
    connector = Connector(args.url, args.local_ips.split(","), args.parallel)
    sender_users = users[args.stalled : args.stalled + args.senders]
    senders = [Sender((await connector.open(user["token"]))[0]) for user in sender_users]
    readers = [asyncio.create_task(run.read_sender(sender)) for sender in senders]
    mark("measure_start")
    started = time.monotonic()
    total = int(args.rate * args.seconds)
    for index in range(total):
        delay = started + index / args.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = senders[index % len(senders)]
        frame = {
            "type": "send",
            "conversation": conversation,
            "body": make_body("s", index, args.body_bytes),
            "client_id": f"stall-{uuid.uuid4().hex}",
        }
        await sender.ws.send(json.dumps(frame))
    await asyncio.sleep(2)
    mark("measure_end")
    # A paused socket cannot notice that the server closed it: read again (what the
    # server still had queued, then its close frame) for a while.
    for sub in stalled:
        sub.live = True
        if sub.transport is not None and not sub.transport.is_closing():
            sub.transport.resume_reading()
    drain_until = time.monotonic() + args.drain
    while time.monotonic() < drain_until and any(sub.closed is None for sub in stalled):
        await asyncio.sleep(0.2)
    acked = sum(len(sender.acks) for sender in senders)
    errors: dict[str, int] = {}
    for sender in senders:
        for code, count in sender.errors.items():
            errors[code] = errors.get(code, 0) + count
    for task in readers:
        task.cancel()
    closed = [sub.closed for sub in stalled if sub.closed is not None]
    for sub in stalled:
        sub.close()
    await asyncio.gather(*(sender.ws.close() for sender in senders), return_exceptions=True)
    return {
        "scenario": "stall",
        "stalled": args.stalled,
        "rate": args.rate,
        "seconds": args.seconds,
        "body_bytes": args.body_bytes,
        "sent": total,
        "acked": acked,
        "send_errors": errors,
        "stalled_closed_by_server": len(closed),
        "close_codes": sorted(set(closed)),
    }


# --- connecting: the handshake ---------------------------------------------------------


async def run_connect(args: argparse.Namespace) -> dict[str, Any]:
    """C token clients connect, at most `--parallel` handshakes at a time (C: all at
    once): the time until every one has its `hello`, and each one's handshake time."""
    users = load_users(args.users)
    if len(users) < args.connections:
        raise SystemExit(f"{args.users} holds {len(users)} users, {args.connections} needed")
    connector = Connector(args.url, args.local_ips.split(","), args.connections)
    gate = asyncio.Semaphore(args.parallel)
    times: list[float] = []
    failures: dict[str, int] = {}

    async def open_one(user: dict[str, Any]) -> ClientConnection | None:
        # Each handshake's time counts from its start, not from waiting for the gate.
        async with gate:
            return await timed_open(user)

    async def timed_open(user: dict[str, Any]) -> ClientConnection | None:
        started = time.monotonic()
        try:
            ws, _ = await connector.open(user["token"])
        except Exception as exc:
            name = type(exc).__name__
            failures[name] = failures.get(name, 0) + 1
            return None
        times.append(time.monotonic() - started)
        return ws

    mark("measure_start")
    started = time.monotonic()
    opened = await asyncio.gather(*(open_one(user) for user in users[: args.connections]))
    connect_seconds = time.monotonic() - started
    mark("measure_end")
    sockets = [ws for ws in opened if ws is not None]
    closing = asyncio.Semaphore(200)

    async def close(ws: ClientConnection) -> None:
        async with closing:
            await ws.close()

    await asyncio.gather(*(close(ws) for ws in sockets), return_exceptions=True)
    return {
        "scenario": "connect",
        "requested": args.connections,
        "parallel": args.parallel,
        "connected": len(sockets),
        "failed": args.connections - len(sockets),
        "failures": failures,
        "refused_503_retried": connector.refused,
        "connect_seconds": round(connect_seconds, 2),
        "handshake_p50_ms": ms(percentile(times, 50)),
        "handshake_p99_ms": ms(percentile(times, 99)),
        "handshake_max_ms": ms(max(times) if times else None),
    }


# --- reconnect storm ------------------------------------------------------------------


class StormSocket(TokenSocket):
    """One connection of a storm client on websockets' Sans-I/O protocol (no task per
    socket, as `LeanSubscriber`): `message` frames are counted by seq as they arrive,
    every other frame is queued for `next_frame`."""

    def __init__(self, url: str, token: str) -> None:
        self.protocol = ClientProtocol(parse_uri(url), max_size=2**22)
        self.token = token
        self.transport: asyncio.Transport | None = None
        self.frames: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.seqs: list[int] = []
        self.status: str | None = None
        self.retry_after: float | None = None  # the refusal's Retry-After, seconds

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        self.handle_events()

    def eof_received(self) -> None:
        # A refusal without Content-Length ends with the connection: its response is
        # complete (and parsed) only at EOF.
        self.protocol.receive_eof()
        self.handle_events()

    def handle_events(self) -> None:
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT:
                    if MESSAGE_TYPE in event.data:
                        seq = SEQ.search(event.data)
                        if seq is not None:
                            self.seqs.append(int(seq.group(1)))
                    else:
                        self.frames.put_nowait(json.loads(event.data))
                elif event.opcode is Opcode.CLOSE:
                    self.status = f"closed {self.protocol.close_code}"
            elif isinstance(event, Response) and event.status_code != 101:
                self.status = f"HTTP {event.status_code}"
                with contextlib.suppress(TypeError, ValueError):
                    self.retry_after = float(event.headers.get("Retry-After") or "")
                self.frames.put_nowait(None)
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.status is None:
            self.status = f"lost ({type(exc).__name__})" if exc else "lost"
        self.frames.put_nowait(None)

    async def next_frame(self) -> dict[str, Any]:
        frame = await self.frames.get()
        if frame is None:
            raise ConnectionError(self.status or "closed")
        return frame

    def abort(self) -> None:
        """Drop the connection without a close frame: a network cut or a crashed tab."""
        if self.transport is not None:
            self.transport.abort()


@dataclass
class StormClient:
    """One person's client across reconnects: it remembers the last seq it saw."""

    url: str
    token: str
    last_seq: int = 0
    socket: StormSocket | None = None
    caught_up_at: float | None = None
    failures: list[str] = field(default_factory=list)
    wrong: str | None = None


class Storm:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.loop = asyncio.get_running_loop()
        self.local_ips = itertools.cycle(args.local_ips.split(","))

    async def attempt(self, client: StormClient, conversation: int, after: int | None) -> int:
        """Connect, read hello, subscribe (with `after`); answers `subscribed`'s last_seq
        once the backlog has arrived. Raises on any failure."""
        target = urlparse(client.url)
        _, sock = await self.loop.create_connection(
            functools.partial(StormSocket, client.url, client.token),
            target.hostname or "127.0.0.1",
            target.port or 80,
            local_addr=(next(self.local_ips), 0),
        )
        client.socket = sock
        hello = await sock.next_frame()
        if hello.get("type") != "hello":
            raise ConnectionError(f"expected hello, got {hello.get('type')}")
        frame: dict[str, Any] = {"type": "subscribe", "conversation": conversation}
        if after is not None:
            frame["after"] = after
        sock.protocol.send_text(json.dumps(frame).encode())
        sock.flush()
        while True:
            reply = await sock.next_frame()
            if reply.get("type") == "subscribed" and reply.get("conversation") == conversation:
                if reply.get("truncated"):
                    client.wrong = "truncated"
                return int(reply["last_seq"])
            if reply.get("type") == "error":
                raise ConnectionError(f"error {reply.get('code')}")

    async def connect_until_done(
        self, client: StormClient, conversation: int, after: int | None, deadline: float
    ) -> int | None:
        """Retry failed attempts until the deadline as docs/protocol.md asks a client
        to ("Reconnecting"): jittered exponential back-off, and never sooner than a
        refusal's `Retry-After` (plus up to a second of jitter)."""
        failed = 0
        while time.monotonic() < deadline:
            try:
                return await asyncio.wait_for(
                    self.attempt(client, conversation, after),
                    max(0.1, min(self.args.attempt_timeout, deadline - time.monotonic())),
                )
            except (OSError, ConnectionError, TimeoutError, ValueError) as exc:
                reason = str(exc) if isinstance(exc, ConnectionError) else type(exc).__name__
                client.failures.append(reason[:60])
                retry_after = None
                if client.socket is not None:
                    retry_after = client.socket.retry_after
                    client.socket.abort()
                    client.socket = None
                failed += 1
                await asyncio.sleep(self.backoff(failed, retry_after))
        return None

    def backoff(self, failed: int, retry_after: float | None) -> float:
        """Seconds before the next attempt after `failed` failures in a row."""
        ceiling = min(self.args.retry_cap, self.args.retry_base * 2 ** (failed - 1))
        delay = ceiling / 2 + random.random() * ceiling / 2
        if retry_after is not None:
            delay = max(delay, retry_after + random.random())
        return delay

    async def run(self) -> dict[str, Any]:
        args = self.args
        users = load_users(args.users)
        if len(users) < args.clients:
            raise SystemExit(f"{args.users} holds {len(users)} users, {args.clients} needed")
        urls = args.urls.split(",")
        sender_user = load_users(args.sender_users)[0]
        conversation = args.conversation or int(sender_user["conversation"])
        clients = [
            StormClient(urls[index % len(urls)], user["token"])
            for index, user in enumerate(users[: args.clients])
        ]
        connector = Connector(urls[0], args.local_ips.split(","), 1)
        sender, _ = await connector.open(sender_user["token"])

        # Set-up, not measured: every client connected and subscribed (live only).
        started = time.monotonic()
        gate = asyncio.Semaphore(args.parallel)

        async def establish(client: StormClient) -> None:
            async with gate:
                last = await self.connect_until_done(
                    client, conversation, None, time.monotonic() + args.timeout
                )
            if last is None:
                raise SystemExit(f"set-up failed: {client.failures[-3:]}")
            client.last_seq = last

        await asyncio.gather(*(establish(client) for client in clients))
        setup_seconds = time.monotonic() - started
        setup_failures = sum(len(client.failures) for client in clients)
        for client in clients:
            client.failures.clear()

        # Everyone drops at once; while they are away the conversation moves on.
        for client in clients:
            if client.socket is not None:
                client.last_seq = max([client.last_seq, *client.socket.seqs])
                client.socket.abort()
                client.socket = None
        await asyncio.sleep(args.pause)
        run_id = uuid.uuid4().hex[:8]
        target_seq = 0
        for index in range(args.missed):
            client_id = f"storm-{run_id}-{index}"
            frame = {
                "type": "send",
                "conversation": conversation,
                "body": make_body("s", index),
                "client_id": client_id,
                "ref": client_id,
            }
            await sender.send(json.dumps(frame))
            while True:
                reply = json.loads(await sender.recv())
                if reply.get("ref") == client_id:
                    if reply.get("type") != "ack":
                        raise SystemExit(f"sender refused: {reply}")
                    target_seq = int(reply["seq"])
                    break

        # The storm: every client reconnects at once and subscribes with `after`.
        mark("measure_start")
        storm_started = time.monotonic()
        deadline = storm_started + args.timeout

        async def come_back(client: StormClient) -> None:
            after = client.last_seq
            last = await self.connect_until_done(client, conversation, after, deadline)
            if last is None:
                return
            client.caught_up_at = time.monotonic() - storm_started
            assert client.socket is not None
            seqs = client.socket.seqs
            expected = list(range(after + 1, target_seq + 1))
            if seqs[: len(expected)] != expected or last < target_seq:
                client.wrong = client.wrong or f"{len(seqs)} of {len(expected)} missed seqs"

        await asyncio.gather(*(come_back(client) for client in clients))
        mark("measure_end")
        for client in clients:
            if client.socket is not None:
                client.socket.abort()
        await sender.close()

        done = [c for c in clients if c.caught_up_at is not None and c.wrong is None]
        times = [c.caught_up_at for c in done if c.caught_up_at is not None]
        reasons: dict[str, int] = {}
        for client in clients:
            for reason in client.failures:
                reasons[reason] = reasons.get(reason, 0) + 1
        return {
            "scenario": "storm",
            "clients": args.clients,
            "processes": len(urls),
            "missed": args.missed,
            "setup_seconds": round(setup_seconds, 2),
            "setup_failed_connections": setup_failures,
            "caught_up": len(done),
            "not_caught_up": args.clients - len(done),
            "incomplete": sum(1 for c in clients if c.wrong is not None),
            "incomplete_examples": [c.wrong for c in clients if c.wrong][:3],
            "caught_up_seconds": round(max(times), 2) if len(done) == args.clients else None,
            "client_p50_s": round(percentile(times, 50) or 0, 2) if times else None,
            "client_p99_s": round(percentile(times, 99) or 0, 2) if times else None,
            # A 503 (admission control) is a refusal the client was told to retry
            # later, counted apart from attempts that failed (reset, timed out, ...).
            "refused_503": reasons.get("HTTP 503", 0),
            "failed_connections": sum(n for r, n in reasons.items() if r != "HTTP 503"),
            "clients_with_failures": sum(1 for c in clients if c.failures),
            "failure_reasons": reasons,
        }


# --- command line ---------------------------------------------------------------------


# --- presence -------------------------------------------------------------------------


async def run_presence(args: argparse.Namespace) -> dict[str, Any]:
    """`people` people of one group connect; each subscribes to the presence of `watch`
    others (the next ones in the list, a ring); then for `seconds`, `reconnect_pct` %
    of them per minute close and reconnect (spread evenly, random people). Counts the
    `presence` frames the clients receive in the measured window."""
    users = load_users(args.users)[: args.people]
    connector = Connector(args.url, args.local_ips.split(","), args.parallel)
    ids = [user["id"] for user in users]
    received = {"presence": 0, "measuring": False}
    sockets: dict[int, ClientConnection] = {}
    readers: dict[int, asyncio.Task[None]] = {}

    async def read(ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                if received["measuring"] and '"type":"presence"' in raw:
                    received["presence"] += 1

    failures: dict[str, int] = {}

    async def open_one(index: int) -> None:
        for attempt in range(5):
            try:
                ws, _ = await connector.open(users[index]["token"])
                break
            except Exception as exc:  # a handshake the loaded server dropped: again
                name = type(exc).__name__
                failures[name] = failures.get(name, 0) + 1
                await asyncio.sleep(0.5 * (attempt + 1))
        else:
            raise RuntimeError(f"person {index} could not connect: {failures}")
        watched = [ids[(index + k) % len(ids)] for k in range(1, args.watch + 1)]
        await ws.send(json.dumps({"type": "presence_subscribe", "users": watched}))
        sockets[index] = ws
        readers[index] = asyncio.ensure_future(read(ws))

    started = time.monotonic()
    await asyncio.gather(*(open_one(i) for i in range(len(users))))
    connect_seconds = time.monotonic() - started
    await asyncio.sleep(args.warmup)
    reconnects_per_second = len(users) * args.reconnect_pct / 100 / 60
    interval = 1 / reconnects_per_second if reconnects_per_second else args.seconds
    reconnects = 0
    random_people = random.Random(13)
    mark("measure_start")
    received["measuring"] = True
    window_start = time.monotonic()
    deadline = window_start + args.seconds
    next_at = window_start
    while time.monotonic() < deadline:
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if time.monotonic() >= deadline:
            break
        index = random_people.randrange(len(users))
        await sockets[index].close()
        readers[index].cancel()
        await open_one(index)
        reconnects += 1
    await asyncio.sleep(args.settle)
    window = time.monotonic() - window_start
    received["measuring"] = False
    mark("measure_end")
    for ws in sockets.values():
        with contextlib.suppress(Exception):
            await ws.close()
    return {
        "scenario": "presence",
        "people": len(users),
        "watch": args.watch,
        "reconnect_pct_per_minute": args.reconnect_pct,
        "seconds": round(window, 1),
        "reconnects": reconnects,
        "presence_frames": received["presence"],
        "presence_frames_per_s": round(received["presence"] / window, 1),
        "connect_seconds": round(connect_seconds, 2),
        "failed_handshakes": failures,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="scenario", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--url", default="ws://127.0.0.1:8200/ws/v1/")
        p.add_argument("--users", required=True, help="JSON lines of create_bench_users")
        p.add_argument("--conversation", type=int, default=0, help="default: from --users")
        p.add_argument("--local-ips", default="127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4")
        p.add_argument("--parallel", type=int, default=50, help="concurrent handshakes")

    fanout = sub.add_parser("fanout")
    common(fanout)
    fanout.add_argument("--subscribers", type=int, default=100)
    fanout.add_argument("--senders", type=int, default=0, help="default: rate/5, at least 2")
    fanout.add_argument("--rate", type=float, default=20.0, help="messages/s, all senders")
    fanout.add_argument("--messages", type=int, default=300, help="measured messages")
    fanout.add_argument("--warmup", type=float, default=2.0, help="seconds, not measured")
    fanout.add_argument("--grace", type=float, default=10.0, help="extra wait for lost")
    fanout.add_argument("--reactions", type=float, default=0.0, help="reactions/s beside")
    fanout.add_argument("--presence-watch", type=int, default=0, help="people each watches")
    fanout.add_argument(
        "--presence-reconnect-pct", type=float, default=10.0, help="% of N a minute, beside"
    )

    idle = sub.add_parser("idle")
    common(idle)
    idle.add_argument("--connections", type=int, default=10_000)
    idle.add_argument("--hold", type=float, default=10.0)

    senders = sub.add_parser("senders")
    common(senders)
    senders.add_argument("--senders", type=int, default=100)
    senders.add_argument("--per-sender", type=int, default=20)
    senders.add_argument("--warmup-messages", type=int, default=3)

    catchup = sub.add_parser("catchup")
    common(catchup)
    catchup.add_argument("--missed", type=int, default=100)
    catchup.add_argument("--rounds", type=int, default=200)
    catchup.add_argument("--connections", type=int, default=10)

    stall = sub.add_parser("stall")
    common(stall)
    stall.add_argument("--stalled", type=int, default=20)
    stall.add_argument("--senders", type=int, default=0, help="default: rate/8")
    stall.add_argument("--rate", type=float, default=400.0)
    stall.add_argument("--seconds", type=float, default=45.0)
    # Large bodies, so the kernel's socket buffers (MBs) fill within a short run.
    stall.add_argument("--body-bytes", type=int, default=4000)
    stall.add_argument("--drain", type=float, default=15.0, help="seconds to read after")
    stall.set_defaults(subscribers=0, messages=0)  # nothing measured per delivery

    connecting = sub.add_parser("connect")
    common(connecting)
    connecting.add_argument("--connections", type=int, default=1000)

    presence = sub.add_parser("presence")
    common(presence)
    presence.add_argument("--people", type=int, default=1000)
    presence.add_argument("--watch", type=int, default=50)
    presence.add_argument("--reconnect-pct", type=float, default=10.0, help="% per minute")
    presence.add_argument("--seconds", type=float, default=60.0, help="measured window")
    presence.add_argument("--warmup", type=float, default=3.0)
    presence.add_argument("--settle", type=float, default=2.0)

    storm = sub.add_parser("storm")
    common(storm)
    storm.add_argument("--urls", required=True, help="comma-separated, clients alternate")
    storm.add_argument("--sender-users", required=True, help="a member of the conversation")
    storm.add_argument("--clients", type=int, default=5000)
    storm.add_argument("--missed", type=int, default=20, help="messages sent while away")
    storm.add_argument("--pause", type=float, default=1.0, help="seconds away before sending")
    storm.add_argument("--timeout", type=float, default=120.0, help="give up after (s)")
    storm.add_argument("--retry-base", type=float, default=0.5, help="first back-off ceiling (s)")
    storm.add_argument("--retry-cap", type=float, default=30.0, help="back-off ceiling cap (s)")
    storm.add_argument("--attempt-timeout", type=float, default=30.0, help="one attempt (s)")

    args = parser.parse_args(argv)
    if args.scenario == "stall" and not args.senders:
        args.senders = max(1, math.ceil(args.rate / 8))
    if args.scenario == "fanout" and not args.senders:
        # Each sender stays at 5 messages/s, half the per-user sustained rate limit.
        args.senders = max(2, math.ceil(args.rate / 5))
    return args


async def main(argv: list[str]) -> None:
    args = parse_args(argv)
    raise_fd_limit()
    if args.scenario == "fanout":
        result = await FanoutRun(args).run()
    elif args.scenario == "idle":
        result = await run_idle(args)
    elif args.scenario == "senders":
        result = await run_senders(args)
    elif args.scenario == "stall":
        result = await run_stall(args)
    elif args.scenario == "connect":
        result = await run_connect(args)
    elif args.scenario == "storm":
        result = await Storm(args).run()
    elif args.scenario == "presence":
        result = await run_presence(args)
    else:
        result = await run_catchup(args)
    print(json.dumps({"result": result}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
