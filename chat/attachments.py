"""Attachments: upload, check, store, attach, serve, delete (docs/attachments.md).

The feature lives in this one module (its actions, its gate and its payloads), beside
the chat rooms it plugs into: `do_send_messages` links the ids a send carries
(`claim_for_send` / `link_to_messages`), `message_payload` lists them
(`attachments_payload`), deleting a message deletes them (`delete_for_messages`), and
`netzn_cron` removes uploads left unattached (`delete_stale_uploads`).

Storage goes through Django's default storage (a local directory, or S3 by
configuration) under names the server makes (`attachments/<conversation>/<random>`);
the file itself and its thumbnail leave the storage when the row goes, after the
commit (the `post_delete` receiver, which also covers cascades).
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import IO, Any, NotRequired, TypedDict

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import (
    Case,
    PositiveSmallIntegerField,
    Prefetch,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.signals import post_delete
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.throttle import limit_action
from chat.access import access_conversation, is_id
from chat.compiled import CompiledRows
from chat.filetypes import IMAGE_TYPES, Kind, NotAllowed, detect
from chat.models import Attachment, Message
from realtime.errors import ClientError, forbidden
from realtime.uploads import too_large_text

MAX_PER_MESSAGE = 10
NAME_MAX_CHARS = 120
THUMBNAIL_SIZE = 320
# Far above any photo, far below what would exhaust memory while decoding.
MAX_PIXELS = 40_000_000
# All frames of an animation together (a GIF of 1,000 frames of 4,000 x 4,000 is a
# decompression bomb even when each frame is not).
MAX_ANIMATION_PIXELS = 100_000_000
PENDING_HOURS = 24
PENDING_MAX = 50  # unattached uploads one person may hold at once
NOT_ALLOWED_TEXT = (
    "Dieser Dateityp ist nicht erlaubt. Erlaubt sind Bilder (JPEG, PNG, GIF, WebP), "
    "PDF, Office-Dokumente (Word, Excel, PowerPoint, OpenDocument) und Text (TXT, CSV)."
)


class AttachmentPayload(TypedDict):
    id: int
    name: str
    size: int
    content_type: str
    url: str
    thumbnail_url: NotRequired[str]


def not_found() -> ClientError:
    """The one answer for a missing file and for one the person may not read."""
    return ClientError("not_found", "Datei nicht gefunden.")


def not_allowed() -> ClientError:
    return ClientError("unsupported_type", NOT_ALLOWED_TEXT, status=415)


# ---------------------------------------------------------------- names


UNSAFE_NAME_CHARS = re.compile(r"[\\/]")


def sanitise_name(raw: Any, kind: Kind) -> str:
    """The name people see: the last path part only, no control or format characters,
    Unicode NFC, whitespace collapsed, no leading dots, at most `NAME_MAX_CHARS`
    (keeping the extension), and an extension that fits the content (added when the
    name has none of the type's). HTML stays as typed: it is shown as text."""
    name = str(raw or "")
    name = UNSAFE_NAME_CHARS.split(name)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    name = " ".join(name.split()).lstrip(". ")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if extension.lower() not in kind.extensions:
        stem, extension = name, kind.extensions[0]
    stem = stem.rstrip(". ") or "Datei"
    room = NAME_MAX_CHARS - len(extension) - 1
    return f"{stem[:room].rstrip(' .')}.{extension.lower()}"


# ---------------------------------------------------------------- images


def process_image(data: bytes) -> tuple[Kind, bytes, bytes]:
    """The image re-encoded (EXIF orientation applied, metadata dropped, animation
    kept) and its thumbnail (at most `THUMBNAIL_SIZE` pixels a side, WebP), or
    `NotAllowed` for anything Pillow cannot decode as one of the four formats."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            pillow_format = probe.format or ""
            width, height = probe.size
            frames = getattr(probe, "n_frames", 1)
            probe.verify()
        if pillow_format not in IMAGE_TYPES:
            raise NotAllowed
        if width * height > MAX_PIXELS or width * height * frames > MAX_ANIMATION_PIXELS:
            raise ClientError("too_large", "Das Bild hat zu viele Pixel (höchstens 40 Megapixel).")
        content_type, extensions = IMAGE_TYPES[pillow_format]
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            out = io.BytesIO()
            if frames > 1:
                image.save(out, format=pillow_format, save_all=True)
            else:
                upright = ImageOps.exif_transpose(image)
                _save_plain(upright, out, pillow_format)
            image.seek(0)
            first = ImageOps.exif_transpose(image.copy() if frames > 1 else image)
            first.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
            thumb = io.BytesIO()
            has_alpha = first.mode in ("RGBA", "LA", "P")
            first.convert("RGBA" if has_alpha else "RGB").save(
                thumb, format="WEBP", quality=82, method=4
            )
    except (ClientError, NotAllowed):
        raise
    except (UnidentifiedImageError, OSError, ValueError, EOFError, SyntaxError) as exc:
        raise NotAllowed from exc
    except Image.DecompressionBombError as exc:
        raise ClientError("too_large", "Das Bild hat zu viele Pixel.") from exc
    return Kind(content_type, extensions, pillow_format), out.getvalue(), thumb.getvalue()


def _save_plain(image: Image.Image, out: IO[bytes], pillow_format: str) -> None:
    """A fresh file of the pixels only: no EXIF (GPS positions), no comments."""
    if pillow_format == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=90, optimize=True)
    elif pillow_format == "PNG":
        image.save(out, format="PNG", optimize=True)
    elif pillow_format == "GIF":
        image.save(out, format="GIF")
    else:
        image.save(out, format="WEBP", quality=90)


# ---------------------------------------------------------------- upload


def do_upload_attachment(*, actor: Any, conversation_id: Any, upload: Any) -> Attachment:
    """Store `upload` for a later message of `actor` in the conversation: only for
    people who may write there (participants of a conversation that takes messages;
    else `forbidden`, also when missing). At most `NETZN_ATTACHMENT_MAX_BYTES`
    (`too_large`, 413), a type of the allow-list judged from the content
    (`unsupported_type`, 415), at most `PENDING_MAX` unattached uploads a person.
    Images are re-encoded and get a thumbnail. No event: the send that attaches it
    announces the message."""
    access = access_conversation(actor, conversation_id)
    conversation = access.conversation
    if conversation.read_only:
        raise forbidden()
    if access.participant is None:
        raise forbidden()
    limit = settings.NETZN_ATTACHMENT_MAX_BYTES
    if upload is None:
        raise ClientError("bad_request", "Die Datei fehlt.", fields={"file": ["Erforderlich."]})
    if (upload.size or 0) > limit:
        raise ClientError("too_large", too_large_text())
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ClientError("too_large", too_large_text())
    if not data:
        raise ClientError("bad_request", "Die Datei ist leer.", fields={"file": ["Leer."]})
    if Attachment.objects.filter(uploader=actor, message__isnull=True).count() >= PENDING_MAX:
        raise ClientError(
            "rate_limited",
            "Zu viele Dateien warten auf das Senden. Bitte erst senden oder entfernen.",
            retry_after=60,
        )
    limit_action("upload", actor.pk)
    try:
        kind = detect(data, str(upload.name or ""))
        thumbnail = b""
        if kind.is_image:
            kind, data, thumbnail = process_image(data)
    except NotAllowed as exc:
        raise not_allowed() from exc
    name = sanitise_name(upload.name, kind)
    token = secrets.token_urlsafe(16)
    folder = f"attachments/{conversation.pk}"
    stored = default_storage.save(f"{folder}/{token}.{kind.extensions[0]}", ContentFile(data))
    stored_thumbnail = (
        default_storage.save(f"{folder}/{token}-vorschau.webp", ContentFile(thumbnail))
        if thumbnail
        else ""
    )
    try:
        return Attachment.objects.create(
            conversation=conversation,
            uploader=actor,
            name=name,
            size=len(data),
            content_type=kind.content_type,
            file=stored,
            thumbnail=stored_thumbnail,
        )
    except Exception:
        _remove_files(stored, stored_thumbnail)
        raise


def do_delete_pending_attachment(*, actor: Any, attachment_id: Any) -> None:
    """Remove one of `actor`'s own unattached uploads (the chip's "Entfernen");
    anything else is `not_found`. No event."""
    if not is_id(attachment_id):
        raise not_found()
    deleted, _ = Attachment.objects.filter(
        pk=attachment_id, uploader=actor, message__isnull=True
    ).delete()
    if not deleted:
        raise not_found()


# ---------------------------------------------------------------- sending


def clean_attachment_ids(value: Any) -> list[int]:
    """The `attachments` of a send: absent or a list of at most `MAX_PER_MESSAGE`
    distinct ids, else `bad_request`."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(is_id(item) for item in value):
        raise ClientError(
            "bad_request",
            "attachments muss eine Liste von Anhang-IDs sein.",
            fields={"attachments": ["Ungültig."]},
        )
    if len(value) > MAX_PER_MESSAGE:
        raise ClientError(
            "bad_request",
            f"Eine Nachricht hat höchstens {MAX_PER_MESSAGE} Anhänge.",
            fields={"attachments": ["Zu viele."]},
        )
    if len(set(value)) != len(value):
        raise ClientError(
            "bad_request",
            "Ein Anhang steht doppelt in der Liste.",
            fields={"attachments": ["Doppelt."]},
        )
    return list(value)


def unusable_attachments() -> ClientError:
    return ClientError(
        "bad_request",
        "Anhänge müssen eigene, noch nicht gesendete Uploads in diese Unterhaltung sein.",
        fields={"attachments": ["Ungültig."]},
    )


def claim_for_send(conversation_id: int, wanted: dict[int, tuple[int, list[int]]]) -> set[int]:
    """Which sends of a batch (key -> (author id, attachment ids)) may attach their
    ids: each one the author's own, pending, of this conversation, and no id wanted
    by an earlier send of the batch. One query. Returns the refused keys."""
    every_id = [item for _, ids in wanted.values() for item in ids]
    owners = dict(
        Attachment.objects.filter(
            pk__in=every_id, conversation_id=conversation_id, message__isnull=True
        ).values_list("pk", "uploader_id")
    )
    refused: set[int] = set()
    claimed: set[int] = set()
    for key, (author_id, ids) in wanted.items():
        if any(owners.get(item) != author_id or item in claimed for item in ids):
            refused.add(key)
            continue
        claimed.update(ids)
    return refused


def link_to_messages(conversation_id: int, links: list[tuple[Message, list[int]]]) -> bool:
    """Attach the ids to their (just stored) messages, inside the storing transaction;
    False when one of them was attached or deleted meanwhile (the caller rolls back
    and checks again). Leaves each message's attachments loaded for its payload."""
    for message, ids in links:
        linked = Attachment.objects.filter(
            pk__in=ids,
            conversation_id=conversation_id,
            uploader_id=message.author_id,
            message__isnull=True,
        ).update(
            message=message,
            position=Case(
                *(When(pk=item, then=Value(place)) for place, item in enumerate(ids)),
                output_field=PositiveSmallIntegerField(),
            ),
        )
        if linked != len(ids):
            return False
    return True


def prefetch_attachments(messages: list[Message], *, any_attached: bool = True) -> None:
    """Load the attachments of `messages` in one query (none when `any_attached` is
    False: freshly stored messages without any), for `attachments_payload`."""
    if any_attached:
        prefetch_related_objects(messages, Prefetch("attachments", queryset=ordered()))
        return
    for message in messages:
        cache = message.__dict__.setdefault("_prefetched_objects_cache", {})
        cache["attachments"] = _loaded_empty()


def _loaded_empty() -> QuerySet[Attachment]:
    """An attachment queryset already evaluated to nothing, as Django's prefetch
    leaves one: reading it compiles no SQL (an unevaluated `none()` does, about a
    millisecond per send)."""
    empty = Attachment.objects.none()
    empty._result_cache = []
    return empty


def ordered() -> QuerySet[Attachment]:
    return Attachment.objects.order_by("position", "pk")


def with_attachments(messages: QuerySet[Message]) -> QuerySet[Message]:
    """A message query that loads the attachments with one more query a page."""
    return messages.prefetch_related(Prefetch("attachments", queryset=ordered()))


# ---------------------------------------------------------------- payloads and reading


def attachment_url(attachment: Attachment) -> str:
    return attachment_url_of(attachment.pk)


def attachment_url_of(attachment_id: int) -> str:
    return f"/api/v1/attachments/{attachment_id}"


def attachment_payload(attachment: Attachment) -> AttachmentPayload:
    payload: AttachmentPayload = {
        "id": attachment.pk,
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "url": attachment_url(attachment),
    }
    if attachment.thumbnail:
        payload["thumbnail_url"] = f"{attachment_url(attachment)}/vorschau"
    return payload


def attachments_payload(message: Message) -> list[AttachmentPayload]:
    """A message's attachments, in the order of the send; none once it is deleted or
    hidden by a moderator. Uses the prefetched ones when loaded (history, sends), else
    one query."""
    if message.deleted_at is not None or message.hidden_at is not None:
        return []
    return [attachment_payload(attachment) for attachment in message.attachments.all()]


ATTACHMENT_ROWS = CompiledRows(
    lambda message_ids: (
        Attachment.objects.filter(message_id__in=message_ids)
        .order_by("position", "pk")
        .values_list("message_id", "id", "name", "size", "content_type", "thumbnail")
    )
)


def attachments_of(message_ids: list[int]) -> dict[int, list[AttachmentPayload]]:
    """Message id -> its attachments' payloads, as `attachments_payload` gives them
    (the order of the send), for many messages in one query without instances."""
    if not message_ids:
        return {}
    found: dict[int, list[AttachmentPayload]] = {}
    for message_id, pk, name, size, content_type, thumbnail in ATTACHMENT_ROWS.rows(message_ids):
        url = attachment_url_of(pk)
        payload: AttachmentPayload = {
            "id": pk,
            "name": name,
            "size": size,
            "content_type": content_type,
            "url": url,
        }
        if thumbnail:
            payload["thumbnail_url"] = f"{url}/vorschau"
        found.setdefault(message_id, []).append(payload)
    return found


def access_attachment(user: Any, attachment_id: Any) -> Attachment:
    """An attachment `user` may read: one of a message in a conversation they may
    read (not deleted, not hidden by a moderator), or their own pending upload. Else
    `not_found`, also when missing."""
    if not is_id(attachment_id) or user is None or not user.is_authenticated:
        raise not_found()
    attachment = (
        Attachment.objects.select_related("conversation", "message")
        .filter(pk=attachment_id)
        .first()
    )
    if attachment is None:
        raise not_found()
    if attachment.message_id is None and attachment.uploader_id != user.pk:
        raise not_found()
    message = attachment.message
    if message is not None and (message.deleted_at is not None or message.hidden_at is not None):
        raise not_found()
    try:
        access_conversation(user, attachment.conversation_id)
    except ClientError as exc:
        raise not_found() from exc
    return attachment


# ---------------------------------------------------------------- deleting


def delete_for_messages(message_ids: Iterable[int]) -> int:
    """Delete the attachments of these messages (their files after the commit)."""
    deleted, _ = Attachment.objects.filter(message_id__in=list(message_ids)).delete()
    return deleted


def delete_stale_uploads(now: datetime) -> tuple[int, str]:
    """The `netzn_cron` job: uploads left unattached for `PENDING_HOURS` go, with
    their files. Idempotent."""
    cutoff = now - timedelta(hours=PENDING_HOURS)
    deleted, _ = Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff).delete()
    return deleted, (
        f"{deleted} nicht gesendeter Upload gelöscht"
        if deleted == 1
        else f"{deleted} nicht gesendete Uploads gelöscht"
    )


def delete_pending_of(user: Any) -> int:
    """Account deletion: the person's unattached uploads go."""
    deleted, _ = Attachment.objects.filter(uploader=user, message__isnull=True).delete()
    return deleted


def export_uploads(user: Any) -> list[dict[str, Any]]:
    """The person's uploads for the data export (names, sizes, where they were sent)."""
    return [
        {
            "id": attachment.pk,
            "conversation": attachment.conversation_id,
            "message": attachment.message_id,
            "name": attachment.name,
            "size": attachment.size,
            "content_type": attachment.content_type,
            "url": attachment_url(attachment),
            "created_at": attachment.created_at.isoformat(),
        }
        for attachment in Attachment.objects.filter(uploader=user).order_by("pk")
    ]


def _remove_files(*names: str) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def _files_go_with_row(sender: Any, instance: Attachment, **kwargs: Any) -> None:
    names = (instance.file.name or "", instance.thumbnail.name or "")
    transaction.on_commit(lambda: _remove_files(*names))


post_delete.connect(_files_go_with_row, sender=Attachment, dispatch_uid="chat_attachment_files")
