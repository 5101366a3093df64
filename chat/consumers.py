"""The WebSocket transport of the wire contract (docs/protocol.md): `/ws/v1/`, one
connection per tab, a Channels `AsyncWebsocketConsumer`.

Transport only: connect (the connection cap, the person's group, `hello`), receive
(frame parsing and limits, then the handler from the explicit `HANDLERS` table),
disconnect, the subscription state machine and the replies. Database work is in
`chat.access` / `chat.actions` (run through `realtime.db.in_db_thread`), writing to
the socket in `realtime.outbox`, the fan-out in `realtime.hub` and the transport
between processes in the channel layer (`realtime.layers`).

Two ways in for events:

- A conversation's frames come from the process's hub (`realtime.hub`): one layer
  group membership per process and topic, the frame serialised once, handed to
  `deliver(topic, message)` of each local subscriber, which writes it at once.
- Events for this person (notifications, read markers, sign-outs) reach the
  consumer through the layer the ordinary Channels way: its channel is in the group
  `user.<id>`, and each layer message type has a handler method (`netzn_frame`,
  `netzn_disconnect`, ...).

Every close the server starts goes through `close(code)` with a code of the
contract (4001, 4008, 4009, 4013: autobahn refuses to send 1008, 1009 and 1013),
and the TCP connection ends even when the client never answers the close:
gracefully (FIN after what is written) within a second, aborted after four seconds
for a client that reads nothing (see `close`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError

from accounts.ws_auth import still_signed_in
from chat.access import (
    access_conversation,
    access_conversation_for_writing,
    hello_conversations,
    is_id,
    may_still_read,
    parse_seq,
    takes_part,
)
from chat.actions import (
    SendRequest,
    do_delete_message,
    do_edit_message,
    do_mark_read,
    do_set_reaction,
)
from chat.backlog import subscription_backlog
from chat.events import ack_frame, author_payload, reactions_payload, typing_frame
from chat.models import Message
from chat.presence import on_presence_subscribe
from chat.reactions import attach_reactions
from chat.send_queue import get_send_queue
from realtime import frames, presence
from realtime.connections import ConnectionRegistry, get_connection_registry
from realtime.db import in_db_thread
from realtime.dispatch import dispatch_in_turn
from realtime.errors import ClientError
from realtime.hub import Hub, HubUnavailable, get_hub
from realtime.layers import LayerUnavailable, topic_group
from realtime.outbox import Outbox
from realtime.publish import publish
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
# Frames refused for rate in a row after which the connection is closed (4008); "in a
# row": without FLOOD_QUIET_SECONDS between two refusals.
FLOOD_CLOSE_AFTER = 100
FLOOD_QUIET_SECONDS = 1.0
FRAME_ERROR_CODES = frozenset(
    {"bad_request", "unknown_type", "forbidden", "too_large", "rate_limited", "unavailable"}
)
# docs/protocol.md, "Closing a connection".
CLOSE_LOGGED_OUT = 4001
CLOSE_POLICY = 4008
CLOSE_TOO_BIG = 4009
CLOSE_TRY_AGAIN_LATER = 4013
# autobahn drops a connection 1 s after its close frame went unanswered; this is the
# backstop behind it (a close that never reached autobahn, another server).
FINISH_AFTER_CLOSE_SECONDS = 1.0
ABORT_AFTER_CLOSE_SECONDS = 4.0


@dataclass(slots=True)
class Subscription:
    # Live messages held back while the backlog loads (or access is re-checked); None
    # when live frames go straight out.
    buffer: list[dict[str, Any]] | None = field(default_factory=list)
    can_write: bool = False
    # The backlog is still loading: only `release` may let the held frames go.
    loading: bool = True
    # The last seq the backlog carried: a live copy of one of its messages (published
    # after its commit, so it can arrive after the backlog went out) is not sent twice.
    backlog_seq: int = 0


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


def still_subscribed(user: Any, conversation_id: int, participation: bool) -> bool:
    """After an access change: a change of the person's own participation (leave,
    removal) ends a subscription unless they still take part; a change of the
    conversation (a group closed) ends it unless they may still read it."""
    if participation:
        return takes_part(user, conversation_id)
    return may_still_read(user, conversation_id)


def mark_read(user: Any, conversation_id: int, seq: int) -> int:
    conversation = access_conversation(user, conversation_id).conversation
    return do_mark_read(actor=user, conversation=conversation, seq=seq)


def check_typing(user: Any, conversation_id: int) -> None:
    access_conversation_for_writing(user, conversation_id)


def edit_message(user: Any, message_id: int, body: str) -> Message:
    return do_edit_message(actor=user, message_id=message_id, body=body)


def delete_message(user: Any, message_id: int) -> Message:
    return do_delete_message(actor=user, message_id=message_id)


class ChatConsumer(AsyncWebsocketConsumer):
    """One WebSocket connection."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' `AsyncConsumer.__call__` (the consumer's own channel on the layer,
        the client's and the channel's messages through `dispatch` one at a time)
        with the leaner `dispatch_in_turn`."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        with contextlib.suppress(StopConsumer):
            await dispatch_in_turn(sources, self.dispatch)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: Any = None
        self.session_key: str | None = None
        self.token_id: int | None = None
        self.hub: Hub | None = None
        self.topics: dict[str, int] = {}  # conversation topic -> conversation id
        self.subscriptions: dict[int, Subscription] = {}
        self.personal_group = ""
        self.outbox: Outbox | None = None
        self.direct: DirectWriter | None = None
        self.closed = False
        self.frames = TokenBucket(FRAME_BURST, FRAME_PER_SECOND)
        self.refused_in_a_row = 0
        self.last_refused = 0.0
        # Created by the first background task (most sockets never have one).
        self.control_tasks: set[asyncio.Task[None]] | None = None
        self.close_task: asyncio.Future[None] | None = None
        self.place: tuple[ConnectionRegistry, str] | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its `aclose_old_connections` (a thread hop per
        event and socket): this consumer touches the database only through
        `in_db_thread`, which closes stale connections around each step itself."""
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """Channels' own without its `aclose_old_connections` (a hop to a thread and
        back for every socket that closes, for the same reason as `dispatch`)."""
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.disconnect(message["code"])
        raise StopConsumer()

    # -- lifecycle ------------------------------------------------------------------

    async def connect(self) -> None:
        scope = self.scope
        self.user = scope["user"]
        session = scope.get("session")
        self.session_key = (
            getattr(session, "session_key", None) if scope.get("auth") == "session" else None
        )
        self.token_id = scope.get("token_id")
        # Accept and close go through the middleware stack; frames skip Channels'
        # session wrapper (it only acts on HTTP responses) straight to the server.
        self.send_raw = unwrap_send(self.base_send)
        self.direct = DirectWriter.find(self.send_raw)
        self.outbox = Outbox(self.send_raw, self.direct, self.overflow)
        self.hub = get_hub()
        registry = get_connection_registry()
        connection_id = registry.new_id()
        if not await registry.take(self.user.pk, connection_id):
            logger.info("user %s is at the connection cap", self.user.pk)
            await self.refuse(429, "Too Many Connections")
            return
        self.place = (registry, connection_id)
        self.personal_group = topic_group(frames.user_topic(self.user.pk))
        try:
            # The personal group holds before `hello`: whatever is published for this
            # person after the client saw `hello` (a sign-out, an access change)
            # reaches this socket.
            conversations = self.scope.get("netzn_hello")  # a token handshake loaded it
            if conversations is None:
                conversations, _ = await asyncio.gather(
                    in_db_thread(hello_conversations)(self.user), self.listen_personal()
                )
            else:
                await self.listen_personal()
        except DatabaseError:
            logger.warning("hello failed: database unavailable")
            await self.cleanup()
            await self.refuse(503, "Service Unavailable")
            return
        await self.accept()
        self.push_frame(self.hello_frame(conversations))
        await presence.connected(self, self.user.pk, connection_id)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        await presence.disconnected(self)
        await self.cleanup()

    async def cleanup(self) -> None:
        for task in list(self.control_tasks or ()):
            task.cancel()
        if self.outbox is not None:
            self.outbox.shut()
        if self.hub is not None:
            for topic in list(self.topics):
                await self.hub.unsubscribe(topic, self)
        self.topics.clear()
        self.subscriptions.clear()
        if self.personal_group:
            await self.channel_layer.group_discard(self.personal_group, self.channel_name)
            self.personal_group = ""
        if self.place is not None:
            registry, connection_id = self.place
            self.place = None
            await registry.give_back(self.user.pk, connection_id)

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
        self.closed = True
        if not deny(self.send_raw, status, reason):
            await self.base_send({"type": "websocket.close"})

    async def listen_personal(self) -> None:
        """The personal group; while its Redis shard is away the layer subscribes it
        on its return (and says so with `netzn.resumed`), so this socket is not
        refused."""
        try:
            await self.channel_layer.group_add(self.personal_group, self.channel_name)
        except LayerUnavailable as exc:
            logger.warning("personal group not subscribed yet: %s", exc)

    async def listen(self, topic: str, conversation_id: int) -> None:
        if topic in self.topics or self.hub is None:
            return
        self.topics[topic] = conversation_id
        await self.hub.subscribe(topic, self)

    async def stop_listening(self, topic: str) -> None:
        if topic not in self.topics or self.hub is None:
            return
        del self.topics[topic]
        await self.hub.unsubscribe(topic, self)

    # -- conversation frames, from the hub ------------------------------------------

    def deliver(self, topic: str, message: dict[str, Any]) -> None:
        """Called by the hub on the event loop for every message of a conversation
        topic this socket listens to; never blocks."""
        if self.closed:
            return
        conversation_id = self.topics.get(topic)
        if conversation_id is None:
            return
        kind = message["type"]
        if kind == "netzn.frame":
            # Once per local subscriber of every message: plain dict and attribute
            # reads only (`user.pk` is a property, read only for typing frames).
            typing = message.get("typing")
            if typing is not None and typing == self.user.pk:
                return
            subscription = self.subscriptions.get(conversation_id)
            if subscription is None:
                return
            if subscription.buffer is not None:
                subscription.buffer.append(message)
                return
            seq = message.get("seq")
            if seq is not None and seq <= subscription.backlog_seq:
                return  # the backlog carried it (as in `forward`)
            outbox = self.outbox
            if outbox is not None:
                outbox.push(message["text"])
        elif kind in ("netzn.lost", "netzn.missed"):
            if conversation_id in self.subscriptions:
                logger.info("closing a socket of user %s: %s (%s)", self.user.pk, topic, kind)
                self.close(CLOSE_TRY_AGAIN_LATER)
        elif kind == "netzn.access_changed":
            person = message.get("user")
            if person is not None and person != self.user.pk:
                return
            # Held at once, in this very callback: the recheck runs in a task, and a
            # message delivered before that task starts must not reach a person who
            # was just removed.
            subscription = self.subscriptions.get(conversation_id)
            if subscription is None:
                return
            if subscription.buffer is None:
                subscription.buffer = []
            self.in_background(self.recheck(conversation_id, participation=person is not None))

    # -- events for this person, through the layer ----------------------------------

    async def netzn_frame(self, message: dict[str, Any]) -> None:
        if not self.closed:
            self.push(message["text"])

    async def netzn_disconnect(self, message: dict[str, Any]) -> None:
        if self.signed_out_by(message):
            self.close(CLOSE_LOGGED_OUT)

    async def netzn_session_renamed(self, message: dict[str, Any]) -> None:
        """realtime.publish.session_renamed: this browser session goes on under a new
        key (a password change that kept it signed in)."""
        if self.session_key is not None and self.session_key == message.get("old"):
            new_key = message.get("new")
            self.session_key = new_key if isinstance(new_key, str) else None

    async def netzn_access_changed(self, message: dict[str, Any]) -> None:
        conversation_id = message.get("conversation")
        if is_id(conversation_id) and conversation_id in self.subscriptions:
            subscription = self.subscriptions[conversation_id]
            if subscription.buffer is None:
                subscription.buffer = []
            self.in_background(self.recheck(conversation_id, participation=True))

    async def netzn_missed(self, message: dict[str, Any]) -> None:
        """A frame for this person never reached Redis: it may have been a sign-out
        or an access change, so every socket of the person reconnects."""
        logger.info("closing a socket of user %s: a personal event was missed", self.user.pk)
        self.close(CLOSE_TRY_AGAIN_LATER)

    async def netzn_lost(self, message: dict[str, Any]) -> None:
        """The personal group was lost with its Redis connection; the layer
        subscribes it again and says so (`netzn_resumed`)."""

    async def netzn_resumed(self, message: dict[str, Any]) -> None:
        # A sign-out published while the personal group was lost would be missing:
        # ask the database whether this socket's credentials still hold.
        self.in_background(self.check_still_signed_in())

    async def check_still_signed_in(self) -> None:
        valid = await in_db_thread(still_signed_in)(
            self.user.pk, token_id=self.token_id, session_key=self.session_key
        )
        if not valid:
            self.close(CLOSE_LOGGED_OUT)

    def in_background(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("handling an event failed")

        task = asyncio.ensure_future(run())
        if self.control_tasks is None:
            self.control_tasks = set()
        self.control_tasks.add(task)
        task.add_done_callback(self.control_tasks.discard)

    def signed_out_by(self, control: dict[str, Any]) -> bool:
        """Whether a `netzn.disconnect` (realtime.publish.disconnect_user) is meant for
        this socket: every condition it names must hold."""
        session = control.get("session")
        if session is not None and session != self.session_key:
            return False
        if control.get("sessions_only") and self.session_key is None:
            return False
        kept = control.get("except_session")
        if kept is not None and kept == self.session_key:
            return False
        token = control.get("token")
        return token is None or token == self.token_id

    async def recheck(self, conversation_id: int, *, participation: bool) -> None:
        """Hold the conversation's live frames while access is checked again; drop the
        subscription (telling the client with a `forbidden` error) if it is gone."""
        subscription = self.subscriptions.get(conversation_id)
        if subscription is None:
            return
        if subscription.buffer is None:
            subscription.buffer = []
        try:
            allowed = await in_db_thread(still_subscribed)(
                self.user, conversation_id, participation
            )
        except ClientError:
            allowed = False
        if self.subscriptions.get(conversation_id) is not subscription:
            return
        if allowed:
            if not subscription.loading:
                held, subscription.buffer = subscription.buffer or [], None
                for message in held:
                    self.forward(subscription, message)
            return
        del self.subscriptions[conversation_id]
        await self.stop_listening(frames.conversation_topic(conversation_id))
        frame = ClientError("forbidden", "Kein Zugriff mehr auf diese Unterhaltung.").as_frame()
        frame["conversation"] = conversation_id
        self.push_frame(frame)

    # -- outgoing -------------------------------------------------------------------

    def push_frame(self, frame: Any) -> None:
        self.push(frames.encode(frame))

    def push(self, text: str) -> None:
        if not self.closed and self.outbox is not None:
            self.outbox.push(text)

    def overflow(self, where: str) -> None:
        """Too far behind: close instead of growing memory; the client reconnects and
        catches up by seq (docs/protocol.md, guarantee 3)."""
        logger.info("closing a slow connection of user %s (%s)", self.user.pk, where)
        self.close(CLOSE_TRY_AGAIN_LATER)

    def close(
        self, code: int | bool | None = None, reason: str | None = None
    ) -> asyncio.Future[None]:
        """The one way the server ends an open connection: nothing more is sent or
        handled, the close frame goes out at once, and the TCP connection ends: after
        the client's answer, or gracefully (FIN) after `FINISH_AFTER_CLOSE_SECONDS`,
        or, for a client that reads nothing, aborted after `ABORT_AFTER_CLOSE_SECONDS`
        (autobahn's close-handshake timeout, with our own call as a backstop).
        Synchronous (callable from the hub's callback); await the result to wait
        until the close frame was handed to the server."""
        if self.close_task is not None:
            return self.close_task
        self.closed = True
        if self.outbox is not None:
            self.outbox.shut()
        if self.direct is not None:
            self.direct.wait_for_close_answer(ABORT_AFTER_CLOSE_SECONDS)
        self.close_task = asyncio.ensure_future(self._send_close(code))
        if self.direct is not None:
            loop = asyncio.get_running_loop()
            loop.call_later(FINISH_AFTER_CLOSE_SECONDS, self.direct.finish_if_connected)
            loop.call_later(ABORT_AFTER_CLOSE_SECONDS + 0.5, self.direct.abort_if_connected)
        return self.close_task

    async def _send_close(self, code: Any) -> None:
        event: dict[str, Any] = {"type": "websocket.close"}
        if isinstance(code, int) and not isinstance(code, bool):
            event["code"] = code
        try:
            await self.base_send(event)
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
            # The contract's WebSocket codes are a closed list; HTTP's 409 is a
            # request the client must change: `bad_request` on the socket.
            frame["code"] = "bad_request"
        self.push_frame(frame)

    # -- incoming -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.on_frame(text_data, bytes_data)

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
            missing = frame_type is None
            self.error(BadFrame("Feld „type“ fehlt." if missing else "„type“ muss Text sein."), ref)
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
            # A flood keeps being refused even if the bucket lets a frame through
            # now and then: the count starts again only after a quiet second.
            if time.monotonic() - self.last_refused > FLOOD_QUIET_SECONDS:
                self.refused_in_a_row = 0

    def refuse_for_rate(self, retry_after: float, ref: str | None) -> None:
        self.refused_in_a_row += 1
        self.last_refused = time.monotonic()
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
            await self.listen(topic, conversation_id)
            backlog = await in_db_thread(subscription_backlog)(self.user, conversation_id, after)
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
        subscription.can_write = backlog.can_write
        subscription.loading = False
        for frame in backlog.frames:
            self.push_frame(frame)
        self.reply(
            {
                "type": "subscribed",
                "conversation": conversation_id,
                "last_seq": backlog.last_seq,
                "truncated": backlog.truncated,
            },
            ref,
        )
        self.release(subscription, backlog.last_seq)

    def release(self, subscription: Subscription, last_seq: int) -> None:
        """Go live: send the held-back frames, skipping messages already in the
        backlog (the seq the hub handed over is <= last_seq), now and later."""
        held = subscription.buffer or []
        subscription.buffer = None
        subscription.backlog_seq = last_seq
        for message in held:
            self.forward(subscription, message)

    def forward(self, subscription: Subscription, message: dict[str, Any]) -> None:
        """Send one live frame of a subscription, unless the backlog carried it."""
        seq = message.get("seq")
        if seq is not None and seq <= subscription.backlog_seq:
            return
        self.push(message["text"])

    async def on_unsubscribe(self, content: dict[str, Any], ref: str | None) -> None:
        conversation_id = require_id(content, "conversation")
        if self.subscriptions.pop(conversation_id, None) is not None:
            await self.stop_listening(frames.conversation_topic(conversation_id))
        self.reply({"type": "unsubscribed", "conversation": conversation_id}, ref)

    async def on_send(self, content: dict[str, Any], ref: str | None) -> None:
        conversation_id = require_id(content, "conversation")
        files = content.get("attachments")
        # With attachments the text may be left out (docs/attachments.md).
        body = require_str(content, "body") if files is None or "body" in content else ""
        client_id = require_str(content, "client_id")
        if len(body) > settings.NETZN_MESSAGE_MAX_CHARS:
            # Refused before it costs the person a message token (the action checks
            # the body in full).
            raise ClientError(
                "too_large",
                f"Eine Nachricht hat höchstens {settings.NETZN_MESSAGE_MAX_CHARS} Zeichen.",
            )
        await self.take_message_token()
        result = await get_send_queue().send(
            conversation_id,
            SendRequest(
                actor=self.user,
                body=body,
                client_id=client_id,
                reply_to=content.get("reply_to"),
                attachments=files,
            ),
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
        await publish(
            frames.conversation_topic(conversation_id), typing_frame(self.user, conversation_id)
        )

    async def on_read(self, content: dict[str, Any], ref: str | None) -> None:
        conversation_id = require_id(content, "conversation")
        seq = require_id(content, "seq")
        await in_db_thread(mark_read)(self.user, conversation_id, seq)

    async def on_ping(self, content: dict[str, Any], ref: str | None) -> None:
        self.reply({"type": "pong"}, ref)


def set_reaction(user: Any, message_id: int, emoji: Any, on: Any) -> dict[str, Any]:
    message, changed = do_set_reaction(actor=user, message_id=message_id, emoji=emoji, on=on)
    attach_reactions([message], user)
    return {
        "type": "ack",
        "conversation": message.conversation_id,
        "message": message.pk,
        "seq": message.seq,
        "emoji": emoji,
        "on": on,
        "changed": changed,
        "reactions": reactions_payload(message),
    }


async def on_react(consumer: ChatConsumer, content: dict[str, Any], ref: str | None) -> None:
    """`{"type":"react","message":ID,"emoji":"…","on":bool}` (docs/replies-reactions.md):
    answered by an `ack` with the message's reactions as this person sees them."""
    message_id = require_id(content, "message")
    if "emoji" not in content or "on" not in content:
        raise BadFrame("Felder „emoji“ und „on“ fehlen.")
    reply = await in_db_thread(set_reaction)(
        consumer.user, message_id, content["emoji"], content["on"]
    )
    consumer.reply(reply, ref)


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
    "react": on_react,
    "presence_subscribe": on_presence_subscribe,
}
