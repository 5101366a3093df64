"""The per-process fan-out of conversation topics, on the channel layer.

One hub per server process (per event loop). It holds ONE channel of the layer
(`realtime.layers`) and adds it once to the group of every topic that at least one
local socket listens to, whatever the number of sockets: a published message
arrives once per process, is deserialised once, and the hub hands the same message
(its `text` the frame serialised once by the publisher) to each local subscriber.

Subscribers implement `deliver(topic, message)`; `message` is the layer message as
published (`realtime.publish`): `{"type": "netzn.frame", "text", "seq", "typing"}` for
a frame to forward, `{"type": "netzn.access_changed", ...}` and `{"type":
"netzn.missed"}` for control, and two of the layer's own: `netzn.lost` (the topic's
subscription was lost with a Redis connection, frames may be missing) and
`netzn.resumed` (it holds again). `deliver` is called on the event loop, must not
block and must not (un)subscribe synchronously.

The interface is `subscribe` (returns once the subscription holds, or raises
`HubUnavailable`), `unsubscribe` and `close`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Protocol

from channels.layers import get_channel_layer

from realtime.layers import LayerUnavailable, group_topic, topic_group

logger = logging.getLogger(__name__)


class Subscriber(Protocol):
    def deliver(self, topic: str, message: dict[str, Any]) -> None: ...


class HubUnavailable(Exception):
    """The subscription could not be made to hold (Redis unreachable)."""


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.layer: Any = get_channel_layer()
        self.topics: defaultdict[str, set[Subscriber]] = defaultdict(set)
        self.channel: str | None = None
        self.receiver: asyncio.Task[None] | None = None
        self.ready: asyncio.Lock = asyncio.Lock()

    async def _channel(self) -> str:
        if self.channel is None:
            async with self.ready:
                if self.channel is None:
                    channel = await self.layer.new_channel("hub.")
                    self.receiver = self.loop.create_task(self._receive(channel))
                    self.channel = channel
        return self.channel

    async def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        channel = await self._channel()
        first = topic not in self.topics
        self.topics[topic].add(subscriber)
        if not first and self.layer.holds(topic_group(topic)):
            return
        try:
            await self.layer.group_add(topic_group(topic), channel)
        except LayerUnavailable as exc:
            raise HubUnavailable(str(exc)) from None

    async def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        subscribers = self.topics.get(topic)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if subscribers:
            return
        del self.topics[topic]
        if self.channel is not None:
            await self.layer.group_discard(topic_group(topic), self.channel)

    async def _receive(self, channel: str) -> None:
        receive = self.layer.receive
        while True:
            try:
                message = await receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("the hub's channel failed")
                await asyncio.sleep(0.1)
                continue
            topic = message.get("topic") or group_topic(message.get("group", ""))
            self.dispatch(topic, message)

    def dispatch(self, topic: str, message: dict[str, Any]) -> None:
        """Hand one message to every local subscriber of the topic (on the loop)."""
        subscribers = self.topics.get(topic)
        if not subscribers:
            return
        for subscriber in tuple(subscribers):
            try:
                subscriber.deliver(topic, message)
            except Exception:
                logger.exception("subscriber failed to take a frame on %s", topic)

    async def close(self) -> None:
        if self.channel is not None:
            for topic in list(self.topics):
                await self.layer.group_discard(topic_group(topic), self.channel)
        self.topics.clear()
        if self.receiver is not None:
            self.receiver.cancel()


_hub: Hub | None = None


def get_hub() -> Hub:
    """The hub of the running event loop (created on first use)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop or loop.is_closed():
        _hub = Hub(loop)
    return _hub


def current_hub() -> Hub | None:
    """The hub if this process serves sockets (the publisher runs on its loop)."""
    return _hub
