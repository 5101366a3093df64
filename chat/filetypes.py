"""What an uploaded file is, judged from its bytes (docs/attachments.md, "Allowed types").

The allow-list: images (JPEG, PNG, GIF, WebP), PDF, office documents (docx, xlsx,
pptx, odt, ods, odp, the old binary doc and xls) and text (txt, csv). The name and the
browser's content type are never believed:

- `puremagic` (pure Python, kept) reads the signature at the start of the file;
- a ZIP container is only an office document when its members say so (OOXML: the
  `[Content_Types].xml` and the main part of Word, Excel or PowerPoint; ODF: the
  `mimetype` member), read with the standard library's `zipfile`; a plain ZIP, or
  one posing as a PNG, is refused; so are documents with macros (`vbaProject.bin`);
- an OLE2 compound file (the old doc/xls) is told apart by its streams with
  `olefile` (kept, pure Python): `WordDocument` or `Workbook`/`Book`; macros refused;
- images are decoded and re-encoded by Pillow (chat/attachments.py);
- text is what is none of these, has no NUL and no control characters and decodes
  as UTF-8 (or, for the CSVs German spreadsheets write, Windows-1252): HTML or an
  SVG passes as text/plain, which is how it is served (as a download, nosniff).
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass

import olefile
import puremagic

IMAGE_TYPES = {
    "JPEG": ("image/jpeg", ("jpg", "jpeg")),
    "PNG": ("image/png", ("png",)),
    "GIF": ("image/gif", ("gif",)),
    "WEBP": ("image/webp", ("webp",)),
}
OOXML_MAIN_PARTS = {
    "word/document.xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
    ),
    "xl/workbook.xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
    ),
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ("pptx",),
    ),
}
ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "application/vnd.oasis.opendocument.presentation": ("odp",),
}
DOC = ("application/msword", ("doc",))
XLS = ("application/vnd.ms-excel", ("xls",))
PDF = ("application/pdf", ("pdf",))
# What people read in the UI, by content type (without parameters).
LABELS = {
    "image/jpeg": "JPEG-Bild",
    "image/png": "PNG-Bild",
    "image/gif": "GIF-Bild",
    "image/webp": "WebP-Bild",
    "application/pdf": "PDF-Dokument",
    OOXML_MAIN_PARTS["word/document.xml"][0]: "Word-Dokument",
    OOXML_MAIN_PARTS["xl/workbook.xml"][0]: "Excel-Tabelle",
    OOXML_MAIN_PARTS["ppt/presentation.xml"][0]: "PowerPoint-Präsentation",
    "application/vnd.oasis.opendocument.text": "OpenDocument-Text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument-Tabelle",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument-Präsentation",
    "application/msword": "Word-Dokument",
    "application/vnd.ms-excel": "Excel-Tabelle",
    "text/plain": "Textdatei",
    "text/csv": "CSV-Tabelle",
}
ODF_MIMETYPE_MAX_BYTES = 100
ZIP_MEMBERS_MAX = 10_000
TEXT_CONTROL_ALLOWED = {"\t", "\n", "\r", "\f"}


class NotAllowed(Exception):
    """The content is not on the allow-list (415)."""


@dataclass(frozen=True)
class Kind:
    content_type: str  # what the file is served as (text with its charset)
    extensions: tuple[str, ...]  # the first is added to a name that has none of them
    image_format: str | None = None  # Pillow's name, for images

    @property
    def is_image(self) -> bool:
        return self.image_format is not None


def signatures(data: bytes) -> set[str]:
    """The extensions whose signature `data` carries (puremagic)."""
    try:
        matches = puremagic.magic_string(data[:4096])
    except puremagic.PureError:
        return set()
    return {match.extension.lower().lstrip(".") for match in matches}


def detect(data: bytes, name: str) -> Kind:
    """The kind of `data`, or `NotAllowed`. `name` only chooses between txt and csv."""
    found = signatures(data)
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(data)
    if data.startswith(b"%PDF-") and "pdf" in found:
        return Kind(*PDF)
    if found & {"jpg", "jpeg", "png", "gif", "webp"}:
        # Which of the four it really is, Pillow decides when it decodes the file.
        return Kind("image/*", (), image_format="?")
    # Anything else is text or refused: binary formats off the list (executables,
    # archives, media) carry NUL or control bytes. puremagic's weak text signatures
    # ("ID;" is SYLK) do not count against a text file.
    return _text_kind(data, name)


def _zip_kind(data: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > ZIP_MEMBERS_MAX:
                raise NotAllowed
            names = {member.filename for member in members}
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise NotAllowed  # macros
            if "[Content_Types].xml" in names:
                for part, (content_type, extensions) in OOXML_MAIN_PARTS.items():
                    if part in names:
                        return Kind(content_type, extensions)
            mimetype = archive.getinfo("mimetype") if "mimetype" in names else None
            if mimetype is not None and mimetype.file_size <= ODF_MIMETYPE_MAX_BYTES:
                declared = archive.read(mimetype).decode("ascii", "replace").strip()
                if declared in ODF_TYPES:
                    return Kind(declared, ODF_TYPES[declared])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, KeyError) as exc:
        raise NotAllowed from exc
    raise NotAllowed


def _ole_kind(data: bytes) -> Kind:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("Macros") or ole.exists("_VBA_PROJECT_CUR"):
                raise NotAllowed
            if ole.exists("WordDocument"):
                return Kind(*DOC)
            if ole.exists("Workbook") or ole.exists("Book"):
                return Kind(*XLS)
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise NotAllowed from exc
    raise NotAllowed


def _text_kind(data: bytes, name: str) -> Kind:
    if b"\x00" in data:
        raise NotAllowed
    try:
        text = data.decode("utf-8-sig")
        charset = "utf-8"
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise NotAllowed from exc
        charset = "windows-1252"
    if any(
        unicodedata.category(char) == "Cc" and char not in TEXT_CONTROL_ALLOWED for char in text
    ):
        raise NotAllowed
    if name.lower().endswith(".csv"):
        return Kind(f"text/csv; charset={charset}", ("csv",))
    return Kind(f"text/plain; charset={charset}", ("txt",))


def label(content_type: str) -> str:
    return LABELS.get(content_type.split(";", 1)[0].strip(), "Datei")
