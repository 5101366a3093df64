"""Group commit of WebSocket sends, per process and conversation, beside the action.

One transaction in flight per conversation; sends that arrive meanwhile are stored
together in the next one. Every batch, a lone send included (a batch of one), goes
through `chat.actions.do_send_messages`, the one send path. Senders of one busy
conversation no longer queue on its row lock one transaction each, and each sender's
answer follows its batch's commit.
"""

from __future__ import annotations

import asyncio

from chat.actions import SendRequest, SendResult, do_send_messages
from realtime.db import in_db_thread


def store_sends(conversation_id: int, requests: list[SendRequest]) -> list[SendResult]:
    return do_send_messages(conversation_id=conversation_id, sends=requests)


class SendQueue:
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
