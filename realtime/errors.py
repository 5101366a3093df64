"""The one error type that every layer raises for a client's mistake.

A `ClientError` becomes the JSON error body of docs/protocol.md on HTTP
(`{"error": {"code", "detail", "fields"}}` with `status`) and the `error` frame on
the WebSocket (`{"type": "error", "ref", "code", "detail"}`).
"""

from __future__ import annotations

from typing import Any

STATUS_BY_CODE = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "unavailable": 503,
}


class ClientError(Exception):
    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status or STATUS_BY_CODE.get(code, 400)
        self.fields = fields
        self.retry_after = retry_after

    def as_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.fields:
            error["fields"] = self.fields
        if self.retry_after is not None:
            error["retry_after"] = self.retry_after
        return {"error": error}

    def as_frame(self, ref: str | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "error", "code": self.code, "detail": self.detail}
        if ref is not None:
            frame["ref"] = ref
        if self.retry_after is not None:
            frame["retry_after"] = self.retry_after
        return frame


def forbidden() -> ClientError:
    """The answer for a forbidden and for a missing object alike, so nobody can probe."""
    return ClientError("forbidden", "Kein Zugriff oder nicht vorhanden.")
