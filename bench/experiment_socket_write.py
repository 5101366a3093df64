"""Experiment: netzn with broadcast frames sent to the socket at once (not in chat/).

`realtime.wire.DirectWriter.write` hands each prebuilt frame to Twisted's
`transport.write`, which only buffers it and registers the socket for writability:
per delivery an `epoll_ctl` to add the writer, one more trip through the event loop
(`doWrite`), the `send` and an `epoll_ctl` to remove the writer again. asyncio's own
transports (the raw websockets server, uvicorn) try the `send` first and register a
writer only for what the kernel did not take.

This module serves the unchanged application with that one method replaced by the
asyncio behaviour: when nothing is pending in Twisted's buffer (and no TLS is in the
way), `send()` on the socket directly and give only an unsent remainder to
`transport.write`, so order and the pending-bytes bound are kept. It exists to
measure the suggestion in docs/performance.md:

    python bench/run.py fanout --subscribers 1000 --rate 20 --servers netzn \
        --app bench.experiment_socket_write:application
"""

from __future__ import annotations

from typing import Any

from asgi import application
from realtime import wire

__all__ = ["application"]


def write_now(self: Any, payload: str) -> bool:
    protocol = self.protocol
    if (
        protocol.state != self.open_state
        or protocol.send_queue
        or protocol._perMessageCompress is not None
    ):
        return False
    data = wire.frame_bytes(payload)
    transport = protocol.transport
    idle = (
        transport.connected
        and not transport.disconnecting
        and not getattr(transport, "TLS", False)
        and not transport._tempDataBuffer
        and len(transport.dataBuffer) == transport.offset
    )
    if idle:
        try:
            sent = transport.socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            sent = 0  # Twisted's own write path below notices and reports the error
        if sent == len(data):
            return True
        data = data[sent:]
    transport.write(data)
    return True


wire.DirectWriter.write = write_now  # type: ignore[method-assign]
