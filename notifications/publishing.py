"""Many frames to many topics after the commit, in one hop.

A stopgap with the signature of `realtime.publish.publish_many_on_commit`, which the
core rework adds: once that is merged, callers import it from there and this module
goes. Until then it sends every queued frame in one Redis pipeline (one round trip for
all topics, where `publish_on_commit` per topic costs one each: a board post that
matches 40 people published 40 times), with the failure handling of
`realtime.publish`: a failed or skipped publish remembers each topic as missed, so its
sockets are told to catch up. Without Redis the in-process hub gets each frame.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from realtime import frames, publish
from realtime.hub import current_hub

logger = logging.getLogger(__name__)


def publish_many_on_commit(items: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Queue `(topic, frame)` pairs to go out together, in order, after the commit."""
    if items:
        encoded = [(topic, frames.encode(frame)) for topic, frame in items]
        transaction.on_commit(partial(publish_many_now, encoded), robust=True)


def publish_many_now(items: Sequence[tuple[str, str]]) -> None:
    """Send serialised `(topic, payload)` pairs to every process, in one round trip."""
    if not settings.REDIS_URL:
        hub = current_hub()
        if hub is not None:
            for topic, payload in items:
                hub.publish_threadsafe(topic, payload)
        return
    if len(items) == 1:
        publish.publish_now(*items[0])
        return
    topics = {topic for topic, _ in items}
    if time.monotonic() < publish._redis_down_until:
        for topic in topics:
            publish._remember_missed(topic)
        return
    prefix = settings.NETZN_REDIS_PREFIX
    try:
        pipeline = publish._sync_redis().pipeline(transaction=False)
        for topic, payload in items:
            pipeline.publish(f"{prefix}:{topic}", payload)
        pipeline.execute()
    except Exception as exc:
        publish._redis_down_until = time.monotonic() + publish.REDIS_RETRY_AFTER_SECONDS
        logger.warning(
            "redis publish of %d events on %d topics failed: %s", len(items), len(topics), exc
        )
        for topic in topics:
            publish._remember_missed(topic)
