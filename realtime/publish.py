"""Publishing events: after the commit, once, best effort, through the channel layer.

`publish_on_commit` is what actions call: the frame is serialised once, and sent with
the layer's `group_send` (to the topic's group, `realtime.layers.topic_group`) only
when (and if) the surrounding transaction commits. A rolled-back action publishes
nothing. Publishing never raises: Redis being down costs live delivery, not data; the
clients catch up by `seq`.

Every event is one layer message, which any Django code can send with the standard
API (`async_to_sync(get_channel_layer().group_send)("conv.7", message)`):

- a frame for the client: `{"type": "netzn.frame", "text": <the frame's JSON>, "topic",
  "seq": <a message's seq or None>, "typing": <the typing person's id or None>}`; the
  hub and the consumers forward `text` as it is, and read `seq` and `typing` from the
  message, never from the text;
- a control event (a frame dict whose type starts with "_", such as `_disconnect`):
  `{"type": "netzn.disconnect", ...its fields}`, handled by the consumer's method of
  that name, never forwarded.

A publish that failed is not forgotten: its topic is remembered, and once Redis
answers again (retried every second) `netzn.missed` is sent to it, which closes the
sockets depending on that topic with 4013 so they catch up.

From synchronous code (an action's commit in a request or database thread) the
messages go to the event loop of this process's hub, which holds the layer's Redis
connections, in one hop, and join its outgoing queue (`Outgoing`: in order, without
the committing thread waiting); a process without a hub (a management command) runs
its own small event loop thread for it and waits until Redis took them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

from realtime import frames
from realtime.hub import current_hub
from realtime.layers import topic_group

logger = logging.getLogger(__name__)

REDIS_RETRY_AFTER_SECONDS = 1.0
PUBLISH_TIMEOUT_SECONDS = 5.0
MISSED_TOPICS_MAX = 100_000
_missed: set[str] = set()
_missed_lock = threading.Lock()
_missed_retrier: threading.Thread | None = None
_own_loop: asyncio.AbstractEventLoop | None = None
_own_loop_lock = threading.Lock()


def envelope(topic: str, frame: Mapping[str, Any], text: str | None = None) -> dict[str, Any]:
    """The layer message for `frame` on `topic` (module docstring)."""
    kind = frame.get("type", "")
    if isinstance(kind, str) and kind.startswith("_"):
        return {**frame, "type": f"netzn.{kind[1:]}", "topic": topic}
    typing = frame.get("user", {}).get("id") if kind == "typing" else None
    seq = frame.get("seq") if kind == "message" else None
    return {
        "type": "netzn.frame",
        "topic": topic,
        "text": frames.encode(frame) if text is None else text,
        "seq": seq,
        "typing": typing,
    }


def _loop_for_publishing() -> asyncio.AbstractEventLoop:
    """The hub's loop if this process serves sockets, else a loop of our own."""
    global _own_loop
    hub = current_hub()
    if hub is not None and hub.loop.is_running():
        return hub.loop
    with _own_loop_lock:
        if _own_loop is None:
            _own_loop = asyncio.new_event_loop()
            threading.Thread(
                target=_own_loop.run_forever, name="netzn-publish", daemon=True
            ).start()
        return _own_loop


async def send_many(messages: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    """group_send each (topic, layer message) at once; returns the failed topics."""
    layer: Any = get_channel_layer()
    groups = [(topic_group(topic), message) for topic, message in messages]
    try:
        failed_groups = await layer.group_send_many(groups)
    except Exception as exc:
        logger.warning("publishing %d events failed: %s", len(messages), exc)
        return [topic for topic, _ in messages]
    if not failed_groups:
        return []
    failed = set(failed_groups)
    return [topic for topic, _ in messages if topic_group(topic) in failed]


def send_now(messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Hand layer messages to the layer from any thread, in one hop; never raises.

    In a process that serves sockets the messages join the hub loop's outgoing queue
    and the caller goes on at once (`Outgoing`): a database thread that committed does
    not wait for the loop to be free (it may be writing a broadcast to a thousand
    sockets), so its `ack` and the conversation's next batch are not held up by it.
    A process without a hub (a management command, which may exit right after) waits
    until Redis took them."""
    if not messages:
        return
    hub = current_hub()
    if hub is not None and hub.loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is hub.loop:
            queue_outgoing(messages)
            return
        try:
            hub.loop.call_soon_threadsafe(queue_outgoing, messages)
        except RuntimeError:  # the loop closed meanwhile
            for topic, _ in messages:
                _remember_missed(topic)
        return
    future = asyncio.run_coroutine_threadsafe(send_many(messages), _loop_for_publishing())
    try:
        failed = future.result(PUBLISH_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("publishing %d events failed: %s", len(messages), exc)
        failed = [topic for topic, _ in messages]
    for topic in dict.fromkeys(failed):
        _remember_missed(topic)


class Outgoing:
    """The layer messages of one event loop waiting for Redis, in the order they were
    handed over: one task sends everything queued in one call to the layer (pipelined
    per shard), and what arrives meanwhile goes in the next call, so events of one
    topic reach Redis in the order of their commits. Past `LIMIT` waiting messages
    (Redis stuck), the rest are not queued: their topics are told they missed events,
    as for a failed publish."""

    LIMIT = 20_000

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[tuple[str, dict[str, Any]]] = []
        self.sender: asyncio.Task[None] | None = None

    def add(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        room = self.LIMIT - len(self.waiting)
        self.waiting.extend(messages[:room])
        for topic, _ in messages[room:]:
            _remember_missed(topic)
        if self.sender is None or self.sender.done():
            self.sender = self.loop.create_task(self.send_waiting())

    async def send_waiting(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            for topic in dict.fromkeys(await send_many(batch)):
                _remember_missed(topic)


_outgoing: dict[asyncio.AbstractEventLoop, Outgoing] = {}


def queue_outgoing(messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Queue messages on the running loop's `Outgoing` (one per process in
    production; a test's loop replaces the previous test's). On the loop only."""
    loop = asyncio.get_running_loop()
    outgoing = _outgoing.get(loop)
    if outgoing is None:
        _outgoing.clear()
        outgoing = _outgoing[loop] = Outgoing(loop)
    outgoing.add(messages)


async def publish(topic: str, frame: Mapping[str, Any]) -> None:
    """Publish `frame` on `topic` now, from the event loop (typing: nothing to
    commit). The same layer message and path as every other event."""
    for failed in await send_many([(topic, envelope(topic, frame))]):
        _remember_missed(failed)


def publish_now(topic: str, payload: str) -> None:
    """Send an already serialised frame to every process's subscribers of `topic`."""
    publish_all_now(topic, [payload])


def publish_all_now(topic: str, payloads: Sequence[str]) -> None:
    """Send several serialised frames to `topic`, in order, in one round trip."""
    publish_many_now([(topic, payload) for payload in payloads])


def publish_many_now(items: Sequence[tuple[str, str]]) -> None:
    """Send serialised frames, each to its topic, in one hop and one round trip per
    Redis shard (in order per topic)."""
    messages = []
    for topic, payload in items:
        if payload.startswith(frames.CONTROL_PREFIX):
            messages.append((topic, envelope(topic, json.loads(payload))))
        else:
            messages.append((topic, _frame_envelope(topic, payload)))
    send_now(messages)


def _frame_envelope(topic: str, payload: str) -> dict[str, Any]:
    # The frame is known only as text here: read the two fields the hub hands over.
    return envelope(topic, json.loads(payload), payload)


def _remember_missed(topic: str) -> None:
    global _missed_retrier
    with _missed_lock:
        if len(_missed) < MISSED_TOPICS_MAX:
            _missed.add(topic)
        if _missed_retrier is None or not _missed_retrier.is_alive():
            _missed_retrier = threading.Thread(
                target=_tell_missed, name="netzn-missed", daemon=True
            )
            _missed_retrier.start()


def _tell_missed() -> None:
    """Send `netzn.missed` to every topic whose publish failed, once Redis answers;
    retried every second until it does."""
    while True:
        time.sleep(REDIS_RETRY_AFTER_SECONDS)
        with _missed_lock:
            topics = list(_missed)
        if not topics:
            return
        messages = [(topic, {"type": "netzn.missed", "topic": topic}) for topic in topics]
        try:
            future = asyncio.run_coroutine_threadsafe(send_many(messages), _loop_for_publishing())
            failed = set(future.result(PUBLISH_TIMEOUT_SECONDS))
        except Exception as exc:
            logger.info("telling %d topics of missed events failed: %s", len(topics), exc)
            continue
        told = [topic for topic in topics if topic not in failed]
        if told:
            logger.info("told %d topics of events they missed while Redis was away", len(told))
        with _missed_lock:
            _missed.difference_update(told)


def publish_on_commit(topic: str, frame: Mapping[str, Any]) -> None:
    """Queue `frame` for `topic`, to go out when the current transaction commits."""
    message = envelope(topic, frame)
    transaction.on_commit(partial(_publish_envelopes, [(topic, message)]), robust=True)


def publish_all_on_commit(topic: str, batch: Sequence[Mapping[str, Any]]) -> None:
    """Queue several frames for one topic, to go out in order, together, after the
    commit (a group-committed batch of messages: one Redis round trip, not one each)."""
    publish_many_on_commit([(topic, frame) for frame in batch])


def publish_many_on_commit(items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Queue frames, each for its topic, to go out together after the commit: one hop
    to the event loop, one pipelined round trip per Redis shard (an action notifying
    40 people sends 40 messages at once). In order per topic."""
    messages = [(topic, envelope(topic, frame)) for topic, frame in items]
    if messages:
        transaction.on_commit(partial(_publish_envelopes, messages), robust=True)


def _publish_envelopes(messages: list[tuple[str, dict[str, Any]]]) -> None:
    send_now(messages)


def frame_text(message: dict[str, Any]) -> str:
    """The frame a layer message carries, as text (what a client or consumer sees)."""
    if message["type"] == "netzn.frame":
        return str(message["text"])
    control = {k: v for k, v in message.items() if k != "topic"}
    control["type"] = "_" + str(message["type"])[len("netzn.") :]
    return frames.encode(control)


def session_renamed(user_id: int, old_key: str, new_key: str) -> None:
    """The browser session `old_key` of the user goes on as `new_key` (Django cycles
    the key when the own password changes and the browser stays signed in): its open
    sockets on every process take the new key, so signing that browser out later
    closes them too."""
    publish_on_commit(
        frames.user_topic(user_id), {"type": "_session_renamed", "old": old_key, "new": new_key}
    )


def disconnect_user(
    user_id: int,
    *,
    session_key: str | None = None,
    except_session: str | None = None,
    token_id: int | None = None,
    sessions_only: bool = False,
) -> None:
    """Close the user's open sockets on every process (code 4001), after the current
    commit. Without conditions: all of them (deactivation, erasure). With them, the
    sockets that meet every condition given: opened in the browser session
    `session_key` (logout); not opened in `except_session` (a password change keeps
    the session it was made in, token sockets included in the rest); opened with the
    token `token_id` (revocation); opened in a browser session at all, not with a
    token (`sessions_only`: an e-mail change ends the other sessions, not the
    tokens). Clients reconnect, and a handshake without a valid session or token is
    refused."""
    frame: dict[str, Any] = {"type": "_disconnect"}
    if session_key is not None:
        frame["session"] = session_key
    if except_session is not None:
        frame["except_session"] = except_session
    if token_id is not None:
        frame["token"] = token_id
    if sessions_only:
        frame["sessions_only"] = True
    publish_on_commit(frames.user_topic(user_id), frame)
