"""daphne's limit on the size of an HTTP request body (docs/attachments.md, "Limits").

daphne (through Twisted) reads a whole request body, into memory or a temporary
file, before the application sees the first byte of it, so neither Django's
`DATA_UPLOAD_MAX_MEMORY_SIZE` nor an upload handler can stop an endless upload from
filling the disk. This patch of daphne's `WebRequest` refuses a body past
`NETZN_REQUEST_MAX_BYTES` as it arrives: a declared `Content-Length` past the limit
at once, a chunked body at the chunk that crosses it. The client gets `413` with the
API's JSON error body and `Connection: close` right away, and the server's side of
the connection ends (FIN) after it; what the client still sends is discarded unread
(a lingering close, as nginx does: closing at once with unread data would reset the
connection and could destroy the answer before the client reads it). Past
`DISCARD_MAX_BYTES` more, or `LINGER_SECONDS` later, the connection is closed.

Twisted also parses a POST's form or multipart body into `request.args` before
daphne sees the request, which daphne never reads (the application gets the raw
body): a body it cannot parse (a multipart body without its boundary) was answered
with a bare `400` without headers or JSON before Django ran, and every upload was
read into memory and parsed once more. That parsing is switched off; Django parses
the body, and its errors are the API's JSON errors.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.conf import settings

DISCARD_MAX_BYTES = 4 * 2**20
LINGER_SECONDS = 10


def refusal_text() -> str:
    megabytes = f"{settings.NETZN_REQUEST_MAX_BYTES / 2**20:g}".replace(".", ",")
    return f"Die Anfrage ist zu groß (höchstens {megabytes} MB)."


def refusal_bytes() -> bytes:
    body = json.dumps({"error": {"code": "too_large", "detail": refusal_text()}}).encode()
    head = (
        "HTTP/1.1 413 Request Entity Too Large\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def install() -> None:
    from daphne.http_protocol import WebRequest

    if getattr(WebRequest, "_netzn_body_limit", False):
        return
    original_got_length = WebRequest.gotLength
    original_chunk = WebRequest.handleContentChunk
    original_process = WebRequest.process
    original_request_received = WebRequest.requestReceived

    def refuse(self: Any) -> None:
        from twisted.internet import reactor as twisted_reactor

        reactor: Any = twisted_reactor
        self._netzn_refused = True
        self._netzn_discarded = 0
        self.content = io.BytesIO()
        transport = self.channel.transport
        transport.write(refusal_bytes())
        if hasattr(transport, "loseWriteConnection"):
            transport.loseWriteConnection()
        reactor.callLater(LINGER_SECONDS, transport.loseConnection)

    def got_length(self: Any, length: int | None) -> None:
        self._netzn_received = 0
        self._netzn_refused = False
        original_got_length(self, length)
        if length is not None and length > settings.NETZN_REQUEST_MAX_BYTES:
            refuse(self)

    def handle_content_chunk(self: Any, data: bytes) -> None:
        if getattr(self, "_netzn_refused", False):
            self._netzn_discarded += len(data)
            if self._netzn_discarded > DISCARD_MAX_BYTES:
                self.channel.transport.loseConnection()
            return
        self._netzn_received = getattr(self, "_netzn_received", 0) + len(data)
        if self._netzn_received > settings.NETZN_REQUEST_MAX_BYTES:
            refuse(self)
            return
        original_chunk(self, data)

    def request_received(self: Any, command: bytes, path: bytes, version: bytes) -> Any:
        self._parsePOSTFormSubmission = False
        return original_request_received(self, command, path, version)

    def process(self: Any) -> Any:
        if getattr(self, "_netzn_refused", False):
            # The whole (discarded) body is in: nothing unread is left to reset.
            self.channel.transport.loseConnection()
            return None
        return original_process(self)

    WebRequest.gotLength = got_length
    WebRequest.handleContentChunk = handle_content_chunk
    WebRequest.process = process
    WebRequest.requestReceived = request_received
    WebRequest._netzn_body_limit = True
