"""The WebSocket transport of docs/protocol.md: `/ws/v1/`, one connection per tab.

A plain ASGI application rather than a Channels consumer: it needs no channel layer,
and the broadcast path must not pay Channels' per-event dispatch (a thread hop for
`aclose_old_connections` per event and recipient). The process's hub
(`realtime.hub`) calls `deliver(topic, payload)` on each local socket with the frame
already serialised once; `deliver` writes it at once: under daphne as one prebuilt
WebSocket frame straight to the socket (`realtime.wire`), elsewhere through the ASGI
`send`, stepped synchronously when it does not suspend and otherwise queued behind a
single writer task. A client that falls too far behind (`NETZN_CONNECTION_QUEUE_LIMIT`
frames queued, or the server's transport holding more than
`NETZN_CONNECTION_BUFFER_BYTES`) is disconnected and catches up by seq when it
returns; nothing is dropped silently. So is a socket whose hub subscription was lost
with the Redis connection (`frames.LOST`).

Every close the server starts goes through `close(code)` with a code from
docs/protocol.md 1.1 (4001, 4008, 4009, 4013: autobahn refuses to send 1008, 1009 and
1013), and the TCP connection ends even when the client never answers the close:
gracefully (FIN after what is written) within a second, aborted after four seconds
for a client that reads nothing (see `close`).

Database work runs in a dedicated thread pool (`database_sync_to_async` with
`thread_sensitive=False`), so concurrent sends of many sockets do not queue on one
thread. Frame types map to handlers through the `HANDLERS` table.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from accounts.ws_auth import still_signed_in
from chat.access import (
    Page,
    access_conversation,
    access_conversation_for_writing,
    backlog,
    can_read,
    conversations_of,
    is_id,
    parse_seq,
)
from chat.actions import (
    SendRequest,
    SendResult,
    do_delete_message,
    do_edit_message,
    do_mark_read,
    do_send_message,
    do_send_messages,
)
from chat.events import ack_frame, author_payload, message_frame, typing_frame
from chat.models import Message, Participant
from realtime import frames
from realtime.connections import ConnectionRegistry, get_connection_registry
from realtime.db import in_db_thread
from realtime.errors import ClientError
from realtime.hub import Hub, HubUnavailable, get_hub
from realtime.ratelimit import TokenBucket, get_rate_limiter
from realtime.text import INVALID_CHARACTER, is_storable, unstorable_fields
from realtime.wire import DirectWriter, deny, unwrap_send

logger = logging.getLogger(__name__)


REF_MAX_CHARS = 128
TYPING_INTERVAL_SECONDS = 3.0
# Every frame of a connection (typing and read included) counts against this
# in-memory bucket; sends, edits and deletes also against the per-user limit.
FRAME_BURST = 60
FRAME_PER_SECOND = 20.0
# Frames refused for rate in a row after which the connection is closed (4008).
FLOOD_CLOSE_AFTER = 100
FRAME_ERROR_CODES = frozenset(
    {"bad_request", "unknown_type", "forbidden", "too_large", "rate_limited", "unavailable"}
)
# docs/protocol.md 1.1, "Closing a connection".
CLOSE_LOGGED_OUT = 4001
CLOSE_POLICY = 4008
CLOSE_TOO_BIG = 4009
CLOSE_TRY_AGAIN_LATER = 4013
# autobahn drops a connection 1 s after its close frame went unanswered; this is the
# backstop behind it (a close that never reached autobahn, another server).
FINISH_AFTER_CLOSE_SECONDS = 1.0
ABORT_AFTER_CLOSE_SECONDS = 4.0


class _Resume:
    """Await the rest of a coroutine that was started by hand and suspended.

    `deliver` steps the ASGI `send` coroutine synchronously (it completes at once on
    daphne and in the test communicator); only when it suspends (back-pressure on
    another server) is the remainder finished by the writer task through this."""

    def __init__(self, coro: Any, first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, None, Any]:
        value = self.first
        while True:
            try:
                yield value
            except BaseException as exc:  # forwarded into the coroutine, like a Task does
                try:
                    value = self.coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = self.coro.send(None)
                except StopIteration as stop:
                    return stop.value


@dataclass
class Subscription:
    # Live frames held back while the backlog loads (or access is re-checked); None
    # when live frames go straight out.
    buffer: list[str] | None = field(default_factory=list)
    can_write: bool = False
    # The backlog is still loading: only `release` may let the held frames go.
    loading: bool = True


class BadFrame(ClientError):
    def __init__(self, detail: str) -> None:
        super().__init__("bad_request", detail)


def require_id(content: dict[str, Any], name: str) -> int:
    value = content.get(name)
    if value is None:
        raise BadFrame(f"Feld „{name}“ fehlt.")
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadFrame(f"Feld „{name}“ muss eine ganze Zahl sein.")
    return value


def require_str(content: dict[str, Any], name: str) -> str:
    value = content.get(name)
    if value is None:
        raise BadFrame(f"Feld „{name}“ fehlt.")
    if not isinstance(value, str):
        raise BadFrame(f"Feld „{name}“ muss Text sein.")
    return value


# Typing announcements, throttled per person and conversation within this process.
_typing_last: dict[tuple[int, int], float] = {}


def typing_allowed(user_id: int, conversation_id: int) -> bool:
    now = time.monotonic()
    key = (user_id, conversation_id)
    if now - _typing_last.get(key, -TYPING_INTERVAL_SECONDS) < TYPING_INTERVAL_SECONDS:
        return False
    if len(_typing_last) > 100_000:
        _typing_last.clear()
    _typing_last[key] = now
    return True


# Database steps of the handlers, each one short unit of work in a pool thread.


def load_hello(user: Any) -> list[dict[str, Any]]:
    return [
        {key: item[key] for key in ("id", "kind", "title", "last_seq", "last_read_seq")}
        for item in conversations_of(user)
    ]


def load_subscription(user: Any, conversation_id: int, after: int | None) -> tuple[Page, bool]:
    conversation = access_conversation(user, conversation_id)
    is_participant = Participant.objects.filter(conversation=conversation, user=user).exists()
    if after is None:
        return Page(messages=[], last_seq=conversation.last_seq, truncated=False), is_participant
    return backlog(conversation, after), is_participant


def still_subscribed(user: Any, conversation_id: int, from_user_topic: bool) -> bool:
    """After `_access_changed`: a change of the person's own participation (leave,
    removal) ends a subscription unless they still take part; a change of the
    conversation (a group closed) ends it unless they may still read it."""
    if from_user_topic:
        return Participant.objects.filter(conversation_id=conversation_id, user=user).exists()
    conversation = access_conversation(user, conversation_id)
    return can_read(user, conversation)


def mark_read(user: Any, conversation_id: int, seq: int) -> int:
    conversation = access_conversation(user, conversation_id)
    return do_mark_read(actor=user, conversation=conversation, seq=seq)


def check_typing(user: Any, conversation_id: int) -> None:
    access_conversation_for_writing(user, conversation_id)


class ChatConsumer:
    """One WebSocket connection. Created per connection by `as_asgi()`."""

    def __init__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        self.receive = receive
        # Accept and close go through the middleware stack; frames skip Channels'
        # session wrapper (it only acts on HTTP responses) straight to the server.
        self.send_control = send
        self.send_raw = unwrap_send(send)
        self.user = scope["user"]
        session = scope.get("session")
        self.session_key: str | None = (
            getattr(session, "session_key", None) if scope.get("auth") == "session" else None
        )
        self.token_id: int | None = scope.get("token_id")
        self.hub: Hub | None = None
        self.topics: set[str] = set()
        self.subscriptions: dict[int, Subscription] = {}
        self.outbox: deque[str] = deque()
        self.writing = False
        self.writer: asyncio.Task[None] | None = None
        self.closed = False
        self.queue_limit = settings.NETZN_CONNECTION_QUEUE_LIMIT
        self.buffer_limit = settings.NETZN_CONNECTION_BUFFER_BYTES
        self.direct = DirectWriter.find(self.send_raw)
        self.frames = TokenBucket(FRAME_BURST, FRAME_PER_SECOND)
        self.refused_in_a_row = 0
        self.typing_prefix = f'{{"type":"typing","user":{{"id":{self.user.pk},'
        self.control_tasks: set[asyncio.Task[None]] = set()
        self.close_task: asyncio.Future[None] | None = None
        self.release_place: tuple[ConnectionRegistry, str]

    @classmethod
    def as_asgi(cls) -> Callable[..., Awaitable[None]]:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await cls(scope, receive, send).run()

        return app

    # -- lifecycle ------------------------------------------------------------------

    async def run(self) -> None:
        event = await self.receive()
        if event["type"] != "websocket.connect":
            return
        self.hub = get_hub()
        registry = get_connection_registry()
        connection_id = registry.new_id()
        if not await registry.take(self.user.pk, connection_id):
            logger.info("user %s is at the connection cap", self.user.pk)
            await self.refuse(429, "Too Many Connections")
            return
        self.release_place = (registry, connection_id)
        try:
            # The personal topic holds before `hello`: whatever is published for this
            # person after the client saw `hello` (a sign-out, an access change)
            # reaches this socket.
            conversations, _ = await asyncio.gather(
                in_db_thread(load_hello)(self.user), self.listen_personal()
            )
        except DatabaseError:
            logger.warning("hello failed: database unavailable")
            await self.cleanup()
            await registry.give_back(self.user.pk, connection_id)
            await self.refuse(503, "Service Unavailable")
            return
        await self.send_control({"type": "websocket.accept"})
        self.push_frame(self.hello_frame(conversations))
        try:
            while True:
                event = await self.receive()
                kind = event["type"]
                if kind == "websocket.receive":
                    await self.on_frame(event.get("text"), event.get("bytes"))
                elif kind == "websocket.disconnect":
                    break
        finally:
            self.closed = True
            await self.cleanup()
            registry, connection_id = self.release_place
            await registry.give_back(self.user.pk, connection_id)

    async def cleanup(self) -> None:
        for task in list(self.control_tasks):
            task.cancel()
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()
        self.outbox.clear()
        if self.hub is not None:
            for topic in list(self.topics):
                await self.hub.unsubscribe(topic, self)
        self.topics.clear()
        self.subscriptions.clear()

    def hello_frame(self, conversations: list[dict[str, Any]]) -> dict[str, Any]:
        limiter = get_rate_limiter()
        return {
            "type": "hello",
            "user": author_payload(self.user),
            "conversations": conversations,
            "limits": {
                "message_max_chars": settings.NETZN_MESSAGE_MAX_CHARS,
                "frame_max_bytes": settings.NETZN_FRAME_MAX_BYTES,
                "messages_burst": limiter.burst,
                "messages_per_second": limiter.rate,
                "frames_burst": FRAME_BURST,
                "frames_per_second": FRAME_PER_SECOND,
                "backlog_limit": settings.NETZN_BACKLOG_LIMIT,
                "typing_interval_seconds": TYPING_INTERVAL_SECONDS,
                "connections_per_person": settings.NETZN_MAX_CONNECTIONS_PER_USER,
            },
        }

    async def refuse(self, status: int, reason: str) -> None:
        """Refuse the handshake with HTTP `status` (403 where the server cannot)."""
        if not deny(self.send_raw, status, reason):
            await self.send_control({"type": "websocket.close"})

    async def listen_personal(self) -> None:
        """The personal topic; while Redis is away the hub subscribes it on its
        return (and says so with `frames.RESUMED`), so this socket is not refused."""
        try:
            await self.listen(frames.user_topic(self.user.pk))
        except HubUnavailable as exc:
            logger.warning("personal topic not subscribed yet: %s", exc)

    async def listen(self, topic: str) -> None:
        if topic in self.topics or self.hub is None:
            return
        self.topics.add(topic)
        await self.hub.subscribe(topic, self)

    async def stop_listening(self, topic: str) -> None:
        if topic not in self.topics or self.hub is None:
            return
        self.topics.discard(topic)
        await self.hub.unsubscribe(topic, self)

    # -- outgoing -------------------------------------------------------------------

    def deliver(self, topic: str, payload: str) -> None:
        """Called by the hub on the event loop for every frame of a topic this socket
        listens to; never blocks."""
        if self.closed:
            return
        if frames.is_control(payload):
            if payload == frames.LOST:
                self.on_lost(topic)
                return
            if payload == frames.MISSED:
                self.on_missed(topic)
                return
            self.hold_until_rechecked(payload)
            task = asyncio.ensure_future(self.on_control(topic, payload))
            self.control_tasks.add(task)
            task.add_done_callback(self.control_tasks.discard)
            return
        if topic[0] == "c":  # conv:<id>
            if payload.startswith(self.typing_prefix):
                return
            subscription = self.subscriptions.get(int(topic[5:]))
            if subscription is None:
                return
            if subscription.buffer is not None:
                subscription.buffer.append(payload)
                return
        self.push(payload)

    def push_frame(self, frame: Any) -> None:
        self.push(frames.encode(frame))

    def push(self, text: str) -> None:
        if self.closed:
            return
        if self.writing:
            self.outbox.append(text)
            if len(self.outbox) > self.queue_limit:
                self.overflow("queue")
            return
        direct = self.direct
        if direct is not None and direct.write(text):
            if direct.pending_bytes() > self.buffer_limit:
                self.overflow("socket buffer")
            return
        coro = self.send_raw({"type": "websocket.send", "text": text})
        try:
            first = coro.send(None)
        except StopIteration:
            return
        except Exception:
            logger.debug("send to a closing socket failed", exc_info=True)
            self.closed = True
            return
        self.writing = True
        self.writer = asyncio.ensure_future(self.drain(_Resume(coro, first)))

    async def drain(self, pending: _Resume) -> None:
        try:
            await pending
            while self.outbox:
                await self.send_raw({"type": "websocket.send", "text": self.outbox.popleft()})
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.debug("send to a closing socket failed", exc_info=True)
            self.closed = True
        finally:
            self.writing = False

    def overflow(self, where: str) -> None:
        """Too far behind: close instead of growing memory; the client reconnects and
        catches up by seq (docs/protocol.md, guarantee 3)."""
        logger.info("closing a slow connection of user %s (%s)", self.user.pk, where)
        self.outbox.clear()
        self.close(CLOSE_TRY_AGAIN_LATER)

    def close(self, code: int) -> None:
        """The one way the server ends an open connection: nothing more is sent or
        handled, the close frame goes out at once, and the TCP connection ends: after
        the client's answer, or gracefully (FIN) after `FINISH_AFTER_CLOSE_SECONDS`,
        or, for a client that reads nothing, aborted after `ABORT_AFTER_CLOSE_SECONDS`
        (autobahn's close-handshake timeout, with our own call as a backstop)."""
        if self.closed:
            return
        self.closed = True
        self.outbox.clear()
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()
        if self.direct is not None:
            self.direct.wait_for_close_answer(ABORT_AFTER_CLOSE_SECONDS)
        self.close_task = asyncio.ensure_future(self._send_close(code))
        if self.direct is not None:
            loop = asyncio.get_running_loop()
            loop.call_later(FINISH_AFTER_CLOSE_SECONDS, self.direct.finish_if_connected)
            loop.call_later(ABORT_AFTER_CLOSE_SECONDS + 0.5, self.direct.abort_if_connected)

    async def _send_close(self, code: int) -> None:
        try:
            await self.send_control({"type": "websocket.close", "code": code})
        except Exception:
            logger.warning("close %s could not be sent; the connection is aborted", code)
            if self.direct is not None:
                self.direct.abort_if_connected()

    def reply(self, frame: dict[str, Any], ref: str | None) -> None:
        if ref is not None:
            frame["ref"] = ref
        self.push_frame(frame)

    def error(self, error: ClientError, ref: str | None) -> None:
        frame = error.as_frame(ref)
        if frame["code"] not in FRAME_ERROR_CODES:
            # docs/protocol.md's WebSocket codes are a closed list; HTTP's 409 is a
            # request the client must change: `bad_request` on the socket.
            frame["code"] = "bad_request"
        self.push_frame(frame)

    # -- incoming -------------------------------------------------------------------

    async def on_frame(self, text: str | None, data: bytes | None) -> None:
        if self.closed:
            return
        raw = text if text is not None else data or b""
        # Frames past the hard limit up to daphne's own (1 MiB, which it closes with
        # 1009 itself) reach us and are closed here.
        if len(raw) > settings.NETZN_FRAME_MAX_BYTES or (
            isinstance(raw, str)
            and len(raw) * 4 > settings.NETZN_FRAME_MAX_BYTES
            and len(raw.encode()) > settings.NETZN_FRAME_MAX_BYTES
        ):
            self.close(CLOSE_TOO_BIG)
            return
        decision = self.frames.take()
        if not decision.allowed:
            self.refuse_for_rate(decision.retry_after, None)
            return
        if text is None:
            self.error(BadFrame("Nur JSON-Textframes werden verstanden."), None)
            return
        try:
            content = json.loads(text)
        except ValueError:
            self.error(BadFrame("Kein gültiges JSON."), None)
            return
        except RecursionError:
            self.error(BadFrame("Der Frame ist zu tief verschachtelt."), None)
            return
        if not isinstance(content, dict):
            self.error(BadFrame("Ein Frame ist ein JSON-Objekt."), None)
            return
        unstorable = unstorable_fields(content)
        if unstorable:
            # Checked here for every frame, so nothing of it reaches a handler (or
            # a group-committed batch that other people's messages share).
            ref = content.get("ref")
            self.error(
                BadFrame(f"{INVALID_CHARACTER} Feld: {', '.join(unstorable)}"),
                ref if isinstance(ref, str) and is_storable(ref) else None,
            )
            return
        ref = content.get("ref")
        if ref is not None and (not isinstance(ref, str) or len(ref) > REF_MAX_CHARS):
            self.error(BadFrame(f"ref muss Text mit höchstens {REF_MAX_CHARS} Zeichen sein."), None)
            return
        frame_type = content.get("type")
        if not isinstance(frame_type, str):
            self.error(BadFrame("Feld „type“ fehlt."), ref)
            return
        handler = HANDLERS.get(frame_type)
        if handler is None:
            self.error(
                ClientError("unknown_type", f"Unbekannter Frame-Typ „{frame_type[:40]}“."), ref
            )
            return
        try:
            await handler(self, content, ref)
        except ClientError as exc:
            if exc.code == "rate_limited":
                self.refuse_for_rate(exc.retry_after or 1.0, ref)
                return
            self.error(exc, ref)
        except DatabaseError:
            logger.exception("database error on a %s frame", frame_type)
            self.error(ClientError("unavailable", "Vorübergehend nicht möglich."), ref)
        except Exception:
            logger.exception("failed to handle a %s frame", frame_type)
            self.error(ClientError("unavailable", "Interner Fehler."), ref)
        else:
            self.refused_in_a_row = 0

    def refuse_for_rate(self, retry_after: float, ref: str | None) -> None:
        self.refused_in_a_row += 1
        if self.refused_in_a_row > FLOOD_CLOSE_AFTER:
            self.close(CLOSE_POLICY)
            return
        self.error(
            ClientError(
                "rate_limited",
                "Zu viele Nachrichten. Bitte kurz warten.",
                retry_after=max(0.001, round(retry_after, 3)),
            ),
            ref,
        )

    async def take_message_token(self) -> None:
        decision = await get_rate_limiter().take(self.user.pk)
        if not decision.allowed:
            raise ClientError(
                "rate_limited", "Zu viele Nachrichten.", retry_after=decision.retry_after
            )

    async def on_subscribe(self, content: dict[str, Any], ref: str | None) -> None:
        conversation_id = require_id(content, "conversation")
        after = parse_seq(content.get("after"), "after")
        # Register with the hub first and hold live frames back, then load the
        # backlog: a message committed meanwhile is in one of the two, never lost.
        subscription = Subscription()
        self.subscriptions[conversation_id] = subscription
        topic = frames.conversation_topic(conversation_id)
        try:
            await self.listen(topic)
            page, can_write = await in_db_thread(load_subscription)(
                self.user, conversation_id, after
            )
        except HubUnavailable:
            if self.subscriptions.get(conversation_id) is subscription:
                del self.subscriptions[conversation_id]
                await self.stop_listening(topic)
            raise ClientError(
                "unavailable", "Live-Zustellung ist gerade nicht möglich. Bitte gleich erneut."
            ) from None
        except BaseException:
            if self.subscriptions.get(conversation_id) is subscription:
                del self.subscriptions[conversation_id]
                await self.stop_listening(topic)
            raise
        if self.subscriptions.get(conversation_id) is not subscription:
            return  # access was withdrawn while loading
        subscription.can_write = can_write
        subscription.loading = False
        for message in page.messages:
            self.push_frame(message_frame(message))
        self.reply(
            {
                "type": "subscribed",
                "conversation": conversation_id,
                "last_seq": page.last_seq,
                "truncated": page.truncated,
            },
            ref,
        )
        self.release(subscription, page.last_seq)

    def release(self, subscription: Subscription, last_seq: int) -> None:
        """Go live: send the held-back frames, skipping messages already in the
        backlog (seq <= last_seq)."""
        held = subscription.buffer or []
        subscription.buffer = None
        for payload in held:
            if payload.startswith('{"type":"message",'):
                seq = json.loads(payload).get("seq", 0)
                if seq <= last_seq:
                    continue
            self.push(payload)

    async def on_unsubscribe(self, content: dict[str, Any], ref: str | None) -> None:
        conversation_id = require_id(content, "conversation")
        if self.subscriptions.pop(conversation_id, None) is not None:
            await self.stop_listening(frames.conversation_topic(conversation_id))
        self.reply({"type": "unsubscribed", "conversation": conversation_id}, ref)

    async def on_send(self, content: dict[str, Any], ref: str | None) -> None:
        conversation_id = require_id(content, "conversation")
        body = require_str(content, "body")
        client_id = require_str(content, "client_id")
        if len(body) > settings.NETZN_MESSAGE_MAX_CHARS:
            raise ClientError(
                "too_large",
                f"Eine Nachricht hat höchstens {settings.NETZN_MESSAGE_MAX_CHARS} Zeichen.",
            )
        await self.take_message_token()
        result = await get_send_queue().send(
            conversation_id, SendRequest(actor=self.user, body=body, client_id=client_id)
        )
        if isinstance(result, ClientError):
            raise result
        message, _created = result
        self.push_frame(ack_frame(message, ref))

    async def on_edit(self, content: dict[str, Any], ref: str | None) -> None:
        message_id = require_id(content, "message")
        body = require_str(content, "body")
        await self.take_message_token()
        message = await in_db_thread(edit_message)(self.user, message_id, body)
        self.reply(change_ack(message), ref)

    async def on_delete(self, content: dict[str, Any], ref: str | None) -> None:
        message_id = require_id(content, "message")
        await self.take_message_token()
        message = await in_db_thread(delete_message)(self.user, message_id)
        self.reply(change_ack(message), ref)

    async def on_typing(self, content: dict[str, Any], ref: str | None) -> None:
        conversation_id = require_id(content, "conversation")
        subscription = self.subscriptions.get(conversation_id)
        if subscription is None or not subscription.can_write:
            await in_db_thread(check_typing)(self.user, conversation_id)
        if not typing_allowed(self.user.pk, conversation_id):
            return
        if self.hub is not None:
            await self.hub.publish(
                frames.conversation_topic(conversation_id),
                frames.encode(typing_frame(self.user, conversation_id)),
            )

    async def on_read(self, content: dict[str, Any], ref: str | None) -> None:
        conversation_id = require_id(content, "conversation")
        seq = require_id(content, "seq")
        await in_db_thread(mark_read)(self.user, conversation_id, seq)

    async def on_ping(self, content: dict[str, Any], ref: str | None) -> None:
        self.reply({"type": "pong"}, ref)

    # -- control frames -------------------------------------------------------------

    def on_lost(self, topic: str) -> None:
        """The hub lost this topic's subscription: live frames may be missing. A
        conversation's subscriber is closed (4013) and catches up by seq when it
        reconnects; the personal topic is subscribed again by the hub, which says so
        with `frames.RESUMED` (see `on_control`)."""
        if topic.startswith("conv:") and int(topic[5:]) in self.subscriptions:
            logger.info("closing a socket of user %s: %s was lost", self.user.pk, topic)
            self.close(CLOSE_TRY_AGAIN_LATER)

    def on_missed(self, topic: str) -> None:
        """A frame published on `topic` never reached Redis: a conversation's
        subscriber catches up (4013); on the personal topic it may have been a
        sign-out or an access change, so every socket of the person reconnects."""
        if topic.startswith("user:") or int(topic[5:]) in self.subscriptions:
            logger.info("closing a socket of user %s: %s missed a frame", self.user.pk, topic)
            self.close(CLOSE_TRY_AGAIN_LATER)

    def signed_out_by(self, control: dict[str, Any]) -> bool:
        """Whether a `_disconnect` (realtime.publish.disconnect_user) is meant for
        this socket: every condition it names must hold."""
        session = control.get("session")
        if session is not None and session != self.session_key:
            return False
        kept = control.get("except_session")
        if kept is not None and kept == self.session_key:
            return False
        token = control.get("token")
        return token is None or token == self.token_id

    def hold_until_rechecked(self, payload: str) -> None:
        """An access change holds the conversation's live frames at once, in this very
        callback: the recheck runs in a task, and a message delivered before that task
        starts must not reach a person who was just removed."""
        try:
            control = json.loads(payload)
        except ValueError:
            return
        conversation_id = control.get("conversation")
        if control.get("type") != "_access_changed" or not is_id(conversation_id):
            return
        subscription = self.subscriptions.get(conversation_id)
        if subscription is not None and subscription.buffer is None:
            subscription.buffer = []

    async def on_control(self, topic: str, payload: str) -> None:
        try:
            control = json.loads(payload)
            kind = control.get("type")
            if kind == "_disconnect":
                if self.signed_out_by(control):
                    self.close(CLOSE_LOGGED_OUT)
            elif kind == "_resumed" and topic.startswith("user:"):
                # A sign-out published while the personal topic was lost would be
                # missing: ask the database whether this socket's credentials hold.
                valid = await in_db_thread(still_signed_in)(
                    self.user.pk, token_id=self.token_id, session_key=self.session_key
                )
                if not valid:
                    self.close(CLOSE_LOGGED_OUT)
            elif kind == "_access_changed":
                await self.recheck(control.get("conversation"), topic.startswith("user:"))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("control frame %s failed", payload[:80])

    async def recheck(self, conversation_id: Any, from_user_topic: bool) -> None:
        """Hold the conversation's live frames while access is checked again; drop the
        subscription (telling the client with a `forbidden` error) if it is gone."""
        if not is_id(conversation_id):
            return
        subscription = self.subscriptions.get(conversation_id)
        if subscription is None:
            return
        if subscription.buffer is None:
            subscription.buffer = []
        try:
            allowed = await in_db_thread(still_subscribed)(
                self.user, conversation_id, from_user_topic
            )
        except ClientError:
            allowed = False
        if self.subscriptions.get(conversation_id) is not subscription:
            return
        if allowed:
            if not subscription.loading:
                held, subscription.buffer = subscription.buffer or [], None
                for payload in held:
                    self.push(payload)
            return
        del self.subscriptions[conversation_id]
        await self.stop_listening(frames.conversation_topic(conversation_id))
        frame = ClientError("forbidden", "Kein Zugriff mehr auf diese Unterhaltung.").as_frame()
        frame["conversation"] = conversation_id
        self.push_frame(frame)


def store_sends(conversation_id: int, requests: list[SendRequest]) -> list[SendResult]:
    if len(requests) > 1:
        return do_send_messages(conversation_id=conversation_id, sends=requests)
    request = requests[0]
    try:
        return [
            do_send_message(
                actor=request.actor,
                conversation_id=conversation_id,
                body=request.body,
                client_id=request.client_id,
            )
        ]
    except ClientError as error:
        return [error]


class SendQueue:
    """Group commit per process and conversation: one transaction in flight per
    conversation; sends that arrive meanwhile are stored together in the next one
    (`do_send_messages`). A lone send is stored exactly as before, by
    `do_send_message`. Senders of one busy conversation no longer queue on its row
    lock one transaction each, and acks follow each commit."""

    MAX_BATCH = 100

    def __init__(self) -> None:
        self.pending: dict[int, list[tuple[SendRequest, asyncio.Future[SendResult]]]] = {}
        self.running: dict[int, asyncio.Task[None]] = {}

    async def send(self, conversation_id: int, request: SendRequest) -> SendResult:
        future: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()
        self.pending.setdefault(conversation_id, []).append((request, future))
        if conversation_id not in self.running:
            self.running[conversation_id] = asyncio.ensure_future(self.drain(conversation_id))
        return await future

    async def drain(self, conversation_id: int) -> None:
        try:
            while queued := self.pending.pop(conversation_id, None):
                batch, rest = queued[: self.MAX_BATCH], queued[self.MAX_BATCH :]
                if rest:
                    self.pending[conversation_id] = rest
                try:
                    results = await in_db_thread(store_sends)(
                        conversation_id, [request for request, _ in batch]
                    )
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            del self.running[conversation_id]


_send_queues: dict[int, SendQueue] = {}


def get_send_queue() -> SendQueue:
    """The send queue of the running event loop."""
    loop_id = id(asyncio.get_running_loop())
    queue = _send_queues.get(loop_id)
    if queue is None:
        _send_queues.clear()
        queue = _send_queues[loop_id] = SendQueue()
    return queue


def edit_message(user: Any, message_id: int, body: str) -> Message:
    return do_edit_message(actor=user, message_id=message_id, body=body)


def delete_message(user: Any, message_id: int) -> Message:
    return do_delete_message(actor=user, message_id=message_id)


def change_ack(message: Message) -> dict[str, Any]:
    return {
        "type": "ack",
        "conversation": message.conversation_id,
        "id": message.pk,
        "seq": message.seq,
    }


Handler = Callable[[ChatConsumer, dict[str, Any], str | None], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    "subscribe": ChatConsumer.on_subscribe,
    "unsubscribe": ChatConsumer.on_unsubscribe,
    "send": ChatConsumer.on_send,
    "edit": ChatConsumer.on_edit,
    "delete": ChatConsumer.on_delete,
    "typing": ChatConsumer.on_typing,
    "read": ChatConsumer.on_read,
    "ping": ChatConsumer.on_ping,
}
