"""Attachments in the browser, two people against a real server process: upload by
button, drag and drop and paste, progress and chips, the thumbnail on the other side
(served after the access check), cards with German sizes, German errors, 375 px."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from groups.actions import do_approve_join_request, do_create_group, do_join_group
from tests.browser.test_live import assert_clean
from tests.chat import files
from tests.conftest import ServerProcess, start_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shared_server(
    django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """This module's server keeps its uploads in a directory of its own."""
    media = tmp_path_factory.mktemp("media")
    server = start_server(tmp_path_factory.mktemp("server"), extra_env={"MEDIA_ROOT": str(media)})
    yield server
    server.stop()


def drop_file(page: Any, selector: str, name: str, mime: str, data: bytes, event: str) -> None:
    """Drop (or paste) a file as the browser would hand it over from the desktop."""
    page.evaluate(
        """([selector, name, mime, b64, event]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const target = document.querySelector(selector);
            if (event === "paste") {
                const paste = { clipboardData: transfer, bubbles: true };
                target.dispatchEvent(new ClipboardEvent("paste", paste));
                return;
            }
            for (const type of ["dragenter", "dragover", "drop"]) {
                const drag = { dataTransfer: transfer, bubbles: true, cancelable: true };
                target.dispatchEvent(new DragEvent(type, drag));
            }
        }""",
        [selector, name, mime, base64.b64encode(data).decode(), event],
    )


def test_an_image_sent_by_one_shows_as_a_thumbnail_for_the_other(
    live_server_process: ServerProcess, person_factory: Any, make_user: Any
) -> None:
    anna_user = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben_user = make_user("Ben Yilmaz", company_name="Logistik Herne")
    group = do_create_group(
        actor=anna_user,
        name=f"Lager Herne {uuid.uuid4().hex[:6]}",
        description="Paletten und Touren.",
        visibility="closed",
    )
    request = do_join_group(actor=ben_user, group=group)  # a request: the group is closed
    do_approve_join_request(actor=anna_user, group=group, request_id=request.pk)
    anna = person_factory(anna_user, live_server_process)
    ben = person_factory(ben_user, live_server_process, viewport={"width": 375, "height": 740})
    anna.login()
    ben.login()
    anna.open_panel(f"/gruppen/{group.slug}/")
    ben.open_panel(f"/gruppen/{group.slug}/")

    # By button (keyboard reachable, named for screen readers): the file picker.
    button = anna.page.get_by_role("button", name="Datei anhängen")
    expect(button).to_be_visible()
    with anna.page.expect_file_chooser() as chooser:
        button.focus()
        anna.page.keyboard.press("Enter")
    chooser.value.set_files(
        {"name": "palette.png", "mimeType": "image/png", "buffer": files.image("PNG", (1200, 900))}
    )
    chip = anna.page.locator("#chat-panel .chat-pending-file", has_text="palette.png")
    expect(chip).to_have_class(re.compile("is-ready"))
    expect(chip.locator("progress")).to_be_hidden()
    box = anna.page.locator("#chat-panel textarea")
    box.fill("Die Palette für Herne")
    box.press("Enter")
    expect(anna.page.locator("#chat-panel .chat-pending-file")).to_have_count(0)

    message = ben.page.locator("#chat-panel .chat-message", has_text="Die Palette für Herne")
    thumbnail = message.locator(".chat-file-image img")
    expect(thumbnail).to_have_attribute("alt", "palette.png")
    expect(thumbnail).to_be_visible()
    ben.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    natural = thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [320, 240]
    link = message.locator("a.chat-file-image")
    href = link.get_attribute("href")
    assert href is not None and re.fullmatch(r"/api/v1/attachments/\d+", href)
    # A click opens the full image (a new tab, served inline).
    with ben.page.context.expect_page() as opened:
        link.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.evaluate("document.images[0].naturalWidth") == 1200
    full.close()

    # Drag and drop a PDF onto the conversation; paste a text file from the clipboard.
    drop_file(anna.page, "#chat-panel", "Angebot März.pdf", "application/pdf", files.pdf(), "drop")
    drop_file(
        anna.page, "#chat-panel textarea", "touren.csv", "text/csv", b"Tour;Ort\n" * 200, "paste"
    )
    expect(anna.page.locator("#chat-panel .chat-pending-file.is-ready")).to_have_count(2)
    # A chip can be removed again, by keyboard.
    remove = anna.page.get_by_role("button", name="Anhang touren.csv entfernen")
    remove.focus()
    anna.page.keyboard.press("Enter")
    expect(anna.page.locator("#chat-panel .chat-pending-file")).to_have_count(1)
    box.press("Enter")  # no text: the file alone is a message
    card = ben.page.locator("#chat-panel .chat-file-card", has_text="Angebot März.pdf")
    expect(card.locator(".chat-file-meta")).to_have_text(f"PDF-Dokument · {len(files.pdf())} Bytes")
    assert card.get_attribute("href", timeout=5000) is not None

    # German errors, before uploading (too large, wrong name) and from the server.
    file_input = anna.page.locator("#chat-panel input[type=file]")
    error = anna.page.locator("#chat-panel .chat-composer .field-error")
    file_input.set_input_files(
        {"name": "gross.pdf", "mimeType": "application/pdf", "buffer": b"x" * (10 * 2**20 + 1)},
        timeout=90_000,  # 10 MiB into the browser: slow on a busy machine
    )
    expect(error).to_have_text("gross.pdf: Die Datei ist größer als 10 MB.")
    file_input.set_input_files(
        {"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00"}
    )
    expect(error).to_have_text("setup.exe: Dieser Dateityp ist nicht erlaubt.")
    file_input.set_input_files(
        {
            "name": "bild.png",
            "mimeType": "image/png",
            "buffer": files.zip_of({"bild.png": files.image("PNG")}),
        }
    )
    expect(error).to_have_text("bild.png: Dieser Dateityp ist nicht erlaubt.")
    expect(anna.page.locator("#chat-panel .chat-pending-file.is-failed")).to_have_count(1)

    # 375 px: nothing sticks out sideways.
    assert ben.page.evaluate("document.documentElement.scrollWidth") <= 375
    sizes = ben.page.locator("#chat-panel .chat-file-card .chat-file-meta").all_inner_texts()
    assert sizes == [f"PDF-Dokument · {len(files.pdf())} Bytes"]
    assert_clean(anna, ben)


def test_sizes_read_the_german_way(
    live_server_process: ServerProcess, person_factory: Any, make_user: Any
) -> None:
    person = person_factory(make_user("Clara Vogel"), live_server_process)
    person.login()
    sizes = person.page.evaluate(
        """async () => {
            const { formatSize } = await import("/static/js/attachments.js");
            return [1, 512, 1536, 340 * 1024, 1.2 * 1024 * 1024, 10 * 1024 * 1024].map(formatSize);
        }"""
    )
    assert sizes == ["1 Byte", "512 Bytes", "1,5 KB", "340 KB", "1,2 MB", "10 MB"]
