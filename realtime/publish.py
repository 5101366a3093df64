"""Publishing events: after the commit, once, best effort.

`publish_on_commit` is what actions call: the frame is serialised once, and sent only
when (and if) the surrounding transaction commits. A rolled-back action publishes
nothing. Publishing never raises: Redis being down costs live delivery, not data; the
clients catch up by `seq`.

A publish that failed is not forgotten: its topic is remembered, and once Redis
answers again (retried every second) `frames.MISSED` is published on it, which closes
the sockets depending on that topic with 4013 so they catch up. Without it a socket
whose subscription held, on a process whose own Redis connection never failed, would
silently miss the frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from realtime import frames
from realtime.hub import current_hub

logger = logging.getLogger(__name__)

_redis_client: Any = None
_redis_down_until = 0.0
REDIS_RETRY_AFTER_SECONDS = 1.0
MISSED_TOPICS_MAX = 100_000
_missed: set[str] = set()
_missed_lock = threading.Lock()
_missed_retrier: threading.Thread | None = None


def _sync_redis() -> Any:
    global _redis_client
    if _redis_client is None:
        import redis

        # A refused or unreachable Redis fails fast (connect timeout); a loaded one
        # gets time to answer: a timed-out PUBLISH costs live delivery of that event.
        _redis_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=2.0
        )
    return _redis_client


def publish_now(topic: str, payload: str) -> None:
    """Send an already serialised payload to every process's subscribers of `topic`."""
    publish_all_now(topic, [payload])


def publish_all_now(topic: str, payloads: Sequence[str]) -> None:
    """Send several serialised payloads to `topic`, in order, in one Redis round trip."""
    global _redis_down_until
    if settings.REDIS_URL:
        if time.monotonic() < _redis_down_until:
            _remember_missed(topic)
            return
        channel = f"{settings.NETZN_REDIS_PREFIX}:{topic}"
        try:
            if len(payloads) == 1:
                _sync_redis().publish(channel, payloads[0])
            else:
                pipeline = _sync_redis().pipeline(transaction=False)
                for payload in payloads:
                    pipeline.publish(channel, payload)
                pipeline.execute()
        except Exception as exc:
            _redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
            logger.warning("redis publish of %d events failed on %s: %s", len(payloads), topic, exc)
            _remember_missed(topic)
        return
    hub = current_hub()
    if hub is not None:
        for payload in payloads:
            hub.publish_threadsafe(topic, payload)


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
    """Publish `frames.MISSED` on every topic whose publish failed, once Redis
    answers; retried every second until it does."""
    prefix = settings.NETZN_REDIS_PREFIX
    while True:
        time.sleep(REDIS_RETRY_AFTER_SECONDS)
        with _missed_lock:
            topics = list(_missed)
        if not topics:
            return
        try:
            pipeline = _sync_redis().pipeline(transaction=False)
            for topic in topics:
                pipeline.publish(f"{prefix}:{topic}", frames.MISSED)
            pipeline.execute()
        except Exception as exc:
            logger.info("telling %d topics of missed events failed: %s", len(topics), exc)
            continue
        logger.info("told %d topics of events they missed while Redis was away", len(topics))
        with _missed_lock:
            _missed.difference_update(topics)


def publish_on_commit(topic: str, frame: Mapping[str, Any]) -> None:
    """Queue `frame` for `topic`, to go out when the current transaction commits."""
    transaction.on_commit(partial(publish_now, topic, frames.encode(frame)), robust=True)


def publish_all_on_commit(topic: str, batch: Sequence[Mapping[str, Any]]) -> None:
    """Queue several frames for one topic, to go out in order, together, after the
    commit (a group-committed batch of messages: one Redis round trip, not one each)."""
    if batch:
        payloads = [frames.encode(frame) for frame in batch]
        transaction.on_commit(partial(publish_all_now, topic, payloads), robust=True)


def disconnect_user(
    user_id: int,
    *,
    session_key: str | None = None,
    except_session: str | None = None,
    token_id: int | None = None,
) -> None:
    """Close the user's open sockets on every process (code 4001), after the current
    commit. Without conditions: all of them (deactivation, erasure). With them, the
    sockets that meet every condition given: opened in the browser session
    `session_key` (logout); not opened in `except_session` (a password change keeps
    the session it was made in, token sockets included in the rest); opened with the
    token `token_id` (revocation). Clients reconnect, and a handshake without a valid
    session or token is refused."""
    frame: dict[str, Any] = {"type": "_disconnect"}
    if session_key is not None:
        frame["session"] = session_key
    if except_session is not None:
        frame["except_session"] = except_session
    if token_id is not None:
        frame["token"] = token_id
    publish_on_commit(frames.user_topic(user_id), frame)
