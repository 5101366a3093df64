"""Sample files for the attachment tests, made here from nothing (no binary fixtures)."""

from __future__ import annotations

import io
import struct
import zipfile

from PIL import Image

NOSTREAM = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
FREESECT = 0xFFFFFFFF


def image(
    fmt: str = "PNG", size: tuple[int, int] = (800, 600), *, exif_rotate: bool = False
) -> bytes:
    """A picture; with `exif_rotate` a JPEG whose EXIF says "rotate 90°" and carries
    a GPS-like comment that must not survive."""
    picture = Image.new("RGB", size, (200, 30, 30))
    for x in range(size[0] // 2):
        picture.putpixel((x, 0), (0, 0, 255))
    out = io.BytesIO()
    if exif_rotate:
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
        exif[0x010E] = "GPS 51.44 7.34 Bochum"  # ImageDescription
        picture.save(out, format="JPEG", exif=exif)
    else:
        picture.save(out, format=fmt)
    return out.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx() -> bytes:
    return zip_of(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document/>",
        }
    )


def xlsx() -> bytes:
    return zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})


def odt() -> bytes:
    return zip_of(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"}
    )


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def ole(stream_name: str) -> bytes:
    """A minimal OLE2 compound file (the container of .doc and .xls) holding one
    4,096-byte stream named `stream_name` ("WordDocument", "Workbook")."""
    sector = 512
    data_sectors = 4096 // sector
    header = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    header += b"\0" * 16  # clsid
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
    header += b"\0" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", FREESECT) * 108
    assert len(header) == sector
    fat = [FATSECT, ENDOFCHAIN] + [3 + n for n in range(data_sectors - 1)] + [ENDOFCHAIN]
    fat += [FREESECT] * (sector // 4 - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        raw = encoded.ljust(64, b"\0")
        raw += struct.pack("<HBB", len(encoded), kind, 1 if kind else 0)
        raw += struct.pack("<III", NOSTREAM, NOSTREAM, child)
        raw += b"\0" * 16 + b"\0" * 4 + b"\0" * 16
        raw += struct.pack("<IQ", start, size)
        assert len(raw) == 128
        return raw

    directory = (
        entry("Root Entry", 5, 1, ENDOFCHAIN, 0)
        + entry(stream_name, 2, NOSTREAM, 2, 4096)
        + entry("", 0, NOSTREAM, 0, 0)
        + entry("", 0, NOSTREAM, 0, 0)
    )
    return bytes(header) + fat_bytes + directory + b"x" * 4096
