"""The size limit of every multipart file, enforced while it arrives.

`LimitedUploadHandler` runs first in `FILE_UPLOAD_HANDLERS`: it refuses a request
whose declared length is far past the limit before the parser reads it, and counts
each file's bytes as the parser hands them on, so a file past
`NETZN_ATTACHMENT_MAX_BYTES` stops the upload at that byte (the handlers behind it
keep at most `FILE_UPLOAD_MAX_MEMORY_SIZE` in memory and spool the rest to disk).
The refusal is `FileTooLarge`, a `RequestDataTooBig`: 413 on the API, Django's 400
page elsewhere. daphne's own limit on the whole body is realtime/bodylimit.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


def too_large_text() -> str:
    limit = settings.NETZN_ATTACHMENT_MAX_BYTES
    megabytes = f"{limit / 2**20:g}".replace(".", ",")
    return f"Die Datei ist größer als {megabytes} MB."


class FileTooLarge(RequestDataTooBig):
    def __init__(self) -> None:
        super().__init__(too_large_text())


class LimitedUploadHandler(FileUploadHandler):
    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        if content_length > settings.NETZN_REQUEST_MAX_BYTES:
            raise FileTooLarge
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received = start + len(raw_data)
        if self.received > settings.NETZN_ATTACHMENT_MAX_BYTES:
            raise FileTooLarge
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
