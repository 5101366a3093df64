"""The attachment endpoints (PROTOCOL.md 1.1, "Attachments"; docs/attachments.md).

`POST /conversations/{id}/attachments` (multipart, field `file`) uploads, `GET
/attachments/{id}` serves the file and `GET /attachments/{id}/vorschau` an image's
thumbnail, only to people who may read its conversation (a pending upload: only to
its uploader); everyone else, signed in or not, and unknown ids get the same 404.
`DELETE /attachments/{id}` removes one's own pending upload.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from accounts.tokens import user_for_token
from chat.attachments import (
    access_attachment,
    attachment_payload,
    do_delete_pending_attachment,
    do_upload_attachment,
    not_found,
)
from chat.models import Attachment
from realtime.errors import ClientError

router = Router(tags=["attachments"])

# Served files: never sniffed, never run as a page of this site, cached only by the
# browser of the person who may read them.
SANDBOX_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
CACHE_CONTROL = "private, max-age=3600"


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    url: str
    thumbnail_url: str | None = None


class ErrorOut(Schema):
    error: dict[str, Any]


# A file nobody may read answers like a missing one; the body is the JSON error.
NOT_FOUND: dict[str, Any] = {
    "responses": {
        "404": {
            "description": "Nicht gefunden (auch ohne Zugriff).",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    }
}


@router.post(
    "/conversations/{conversation_id}/attachments",
    response={201: AttachmentOut, 400: ErrorOut, 403: ErrorOut, 413: ErrorOut, 415: ErrorOut},
    exclude_none=True,
)
def upload(
    request: HttpRequest,
    conversation_id: int,
    file: UploadedFile = File(...),  # noqa: B008 (Ninja's form)
) -> Status[Any]:
    """Upload a file for a later message (participants only): at most 10 MiB, a type
    of the allow-list judged from the content. 201 with the attachment; one file
    per upload (several `file` parts: 400, nothing stored)."""
    if len(request.FILES.getlist("file")) > 1:
        raise ClientError(
            "bad_request",
            "Bitte eine Datei je Hochladen senden.",
            fields={"file": ["Nur eine Datei."]},
        )
    attachment = do_upload_attachment(
        actor=request.user, conversation_id=conversation_id, upload=file
    )
    return Status(201, attachment_payload(attachment))


def viewer(request: HttpRequest) -> Any:
    """Who asks: a Bearer token's person or the session's; None for nobody (who gets
    the 404 of a missing file, not a 401: nothing to learn from probing)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return user_for_token(header[7:].strip())
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def serve(attachment: Attachment, name: str, *, thumbnail: bool) -> FileResponse:
    inline = attachment.is_image
    content_type = "image/webp" if thumbnail else attachment.content_type
    response = FileResponse(
        default_storage.open(name, "rb"),
        content_type=content_type,
        as_attachment=not inline,
        filename=attachment.name,
    )
    if inline:
        # FileResponse leaves out the disposition of an inline file without a name.
        response.headers["Content-Disposition"] = response.headers.get(
            "Content-Disposition", "inline"
        )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX_POLICY
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@router.get("/attachments/{attachment_id}", auth=None, openapi_extra=NOT_FOUND)
def download(request: HttpRequest, attachment_id: int) -> FileResponse:
    """The file, with `Content-Disposition` (attachment; images inline), its type and
    `X-Content-Type-Options: nosniff`; 404 for everyone who may not read it."""
    attachment = access_attachment(viewer(request), attachment_id)
    return serve(attachment, attachment.file.name or "", thumbnail=False)


@router.get("/attachments/{attachment_id}/vorschau", auth=None, openapi_extra=NOT_FOUND)
def thumbnail(request: HttpRequest, attachment_id: int) -> FileResponse:
    """An image's thumbnail (WebP, at most 320 pixels a side); 404 like the file."""
    attachment = access_attachment(viewer(request), attachment_id)
    if not attachment.thumbnail:
        raise not_found()
    return serve(attachment, attachment.thumbnail.name or "", thumbnail=True)


@router.delete("/attachments/{attachment_id}", response={204: None, 404: ErrorOut})
def remove(request: HttpRequest, attachment_id: int) -> Status[None]:
    """Remove one's own upload before it is sent (204); anything else is 404."""
    do_delete_pending_attachment(actor=request.user, attachment_id=attachment_id)
    return Status(204, None)
