"""Profile photos and company logos: checked from their content, cropped to a square,
re-encoded, stored through Django's storage API (docs/ui.md "Photos and logos").

Pillow decodes the upload (the type is what the bytes are, never the file name or the
browser's content type), the centre square is cut out and scaled to `SIZE` pixels, and
a fresh file is written: a JPEG for photos, a PNG for logos (logos often need their
transparency). Re-encoding drops everything but the pixels (metadata such as GPS
positions included), and a file that only pretends to be an image fails to decode.
"""

from __future__ import annotations

import io
import secrets
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from realtime.errors import ClientError

SIZE = 256
MIN_SIDE = 64
ALLOWED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}
# Far above any photo, far below what would exhaust memory while decoding.
MAX_PIXELS = 40_000_000


def _refuse(field: str, text: str) -> ClientError:
    return ClientError("bad_request", text, fields={field: [text]})


def square_image(upload: IO[bytes], *, field: str, logo: bool) -> tuple[bytes, str]:
    """The upload as a `SIZE`x`SIZE` image file and its extension; `bad_request` with
    a German reason for anything that is not a usable picture."""
    limit = settings.NETZN_IMAGE_MAX_BYTES
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse(field, f"Das Bild ist zu groß (höchstens {limit // (1024 * 1024)} MB).")
    if not data:
        raise _refuse(field, "Bitte wählen Sie eine Bilddatei aus.")
    allowed = ", ".join(sorted(ALLOWED_FORMATS.values()))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            width, height = probe.size
            probe.verify()
        if kind not in ALLOWED_FORMATS:
            raise _refuse(field, f"Bitte ein Bild im Format {allowed} hochladen.")
        if width * height > MAX_PIXELS:
            raise _refuse(field, "Das Bild hat zu viele Pixel (höchstens 40 Megapixel).")
        if min(width, height) < MIN_SIDE:
            raise _refuse(
                field,
                f"Das Bild ist zu klein (mindestens {MIN_SIDE} × {MIN_SIDE} Pixel).",  # noqa: RUF001
            )
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            upright = ImageOps.exif_transpose(image)
            square = ImageOps.fit(upright, (SIZE, SIZE), method=Image.Resampling.LANCZOS)
    except ClientError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _refuse(
            field, f"Diese Datei ist kein lesbares Bild. Erlaubt sind {allowed}."
        ) from exc
    out = io.BytesIO()
    if logo:
        square.convert("RGBA").save(out, format="PNG", optimize=True)
        return out.getvalue(), "png"
    square.convert("RGB").save(out, format="JPEG", quality=86, optimize=True)
    return out.getvalue(), "jpg"


def store(folder: str, owner_id: Any, content: bytes, extension: str) -> str:
    """Save under a fresh name (so a new picture is a new URL, and caches never show
    the old one); returns the storage name."""
    name = f"{folder}/{owner_id}-{secrets.token_hex(8)}.{extension}"
    return default_storage.save(name, ContentFile(content))


def discard(name: str) -> None:
    if name:
        default_storage.delete(name)


def _version(name: str) -> str:
    """The random part of a stored name ("avatars/7-1f2e….jpg" -> "1f2e…")."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem.rsplit("-", 1)[-1]


def avatar_url(user: Any) -> str | None:
    """Where a person's photo is served (the view checks who may see it), or None."""
    name = getattr(getattr(user, "avatar", None), "name", "") or ""
    return avatar_url_of(user.pk, name)


def avatar_url_of(user_id: int, name: str | None) -> str | None:
    """`avatar_url` from the stored name of the photo (a `values()` row's `avatar`)."""
    return f"/personen/{user_id}/foto/?v={_version(name)}" if name else None


def logo_url(company: Any) -> str | None:
    name = getattr(getattr(company, "logo", None), "name", "") or ""
    return f"/unternehmen/{company.slug}/logo/?v={_version(name)}" if name else None
