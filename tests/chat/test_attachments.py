"""Attachments over HTTP and the WebSocket (PROTOCOL.md 1.1, "Attachments";
docs/attachments.md): upload, the allow-list judged from the content, limits, names,
sending with `attachments`, history without N+1, serving only to readers, deletion
with the message and by the 24-hour job."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from chat.actions import do_delete_message, do_send_message
from chat.attachments import delete_stale_uploads
from chat.models import Attachment, Message
from realtime.errors import ClientError
from tests.chat import files
from tests.chat.helpers import group_with, token_for

MiB = 2**20


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


class Api:
    def __init__(self, user: Any) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")

    def upload(self, conversation_id: int, data: bytes, name: str) -> Any:
        upload = io.BytesIO(data)
        upload.name = name
        return self.client.post(
            f"/api/v1/conversations/{conversation_id}/attachments", {"file": upload}
        )

    def send(self, conversation_id: int, **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            body,
            content_type="application/json",
        )

    def get(self, path: str) -> Any:
        return self.client.get(path)


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Öztürk")
    carla = make_user("Carla Schmitz")
    closed = group_with(anna, ben, title="Geschlossener Kreis")
    other = group_with(anna, ben, title="Andere Gruppe")
    return {"anna": anna, "ben": ben, "carla": carla, "closed": closed, "other": other}


def stored_files(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())


# ---------------------------------------------------------------- upload and types


def test_an_image_upload_answers_the_attachment_with_a_thumbnail(
    people: dict[str, Any], media: Path
) -> None:
    api = Api(people["anna"])
    answer = api.upload(people["closed"].pk, files.image("PNG", (1200, 800)), "Palette.png")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert set(body) == {"id", "name", "size", "content_type", "url", "thumbnail_url"}
    assert body["name"] == "Palette.png"
    assert body["content_type"] == "image/png"
    assert body["url"] == f"/api/v1/attachments/{body['id']}"
    thumb = api.get(body["thumbnail_url"])
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as picture:
        assert max(picture.size) == 320
        assert picture.size == (320, 213)
    assert len(stored_files(media)) == 2


@pytest.mark.parametrize(
    ("data", "name", "content_type", "shown_name"),
    [
        (files.image("JPEG"), "foto.jpeg", "image/jpeg", "foto.jpeg"),
        (files.image("GIF"), "anim.gif", "image/gif", "anim.gif"),
        (files.image("WEBP"), "bild.webp", "image/webp", "bild.webp"),
        (files.pdf(), "Angebot.pdf", "application/pdf", "Angebot.pdf"),
        (
            files.docx(),
            "Vertrag.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "Vertrag.docx",
        ),
        (
            files.xlsx(),
            "Touren.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Touren.xlsx",
        ),
        (files.odt(), "Brief.odt", "application/vnd.oasis.opendocument.text", "Brief.odt"),
        (files.ole("WordDocument"), "alt.doc", "application/msword", "alt.doc"),
        (files.ole("Workbook"), "alt.xls", "application/vnd.ms-excel", "alt.xls"),
        (b"Tour;Ort\nA;Bochum\n", "touren.csv", "text/csv; charset=utf-8", "touren.csv"),
        ("Grüße\n".encode("cp1252"), "notiz.txt", "text/plain; charset=windows-1252", "notiz.txt"),
        # The type comes from the content: a PDF named .txt is a PDF, and says so.
        (files.pdf(), "harmlos.txt", "application/pdf", "harmlos.txt.pdf"),
    ],
)
def test_the_allow_list_judges_the_content(
    people: dict[str, Any], data: bytes, name: str, content_type: str, shown_name: str
) -> None:
    answer = Api(people["anna"]).upload(people["closed"].pk, data, name)
    assert answer.status_code == 201, answer.content
    assert answer.json()["content_type"] == content_type
    assert answer.json()["name"] == shown_name
    assert ("thumbnail_url" in answer.json()) == content_type.startswith("image/")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (files.zip_of({"bild.png": files.image("PNG")}), "bild.png"),  # a zip posing as a PNG
        (files.zip_of({"a.txt": b"x"}), "archiv.zip"),
        (
            files.zip_of(
                {
                    "[Content_Types].xml": b"<T/>",
                    "word/document.xml": b"<d/>",
                    "word/vbaProject.bin": b"macro",
                }
            ),
            "makro.docx",
        ),
        (files.ole("Other"), "komisch.doc"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 100, "kaputt.png"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "programm.exe"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 40, "prog.txt"),
    ],
)
def test_other_content_is_refused_with_415_and_nothing_is_stored(
    people: dict[str, Any], media: Path, data: bytes, name: str
) -> None:
    answer = Api(people["anna"]).upload(people["closed"].pk, data, name)
    assert answer.status_code == 415, answer.content
    assert answer.json()["error"]["code"] == "unsupported_type"
    assert answer.json()["error"]["detail"].startswith("Dieser Dateityp ist nicht erlaubt.")
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_two_files_in_one_upload_are_a_400_and_nothing_is_stored(
    people: dict[str, Any], media: Path
) -> None:
    parts = []
    for name in ("eins.pdf", "zwei.pdf"):
        part = io.BytesIO(files.pdf())
        part.name = name
        parts.append(part)
    answer = Api(people["anna"]).client.post(
        f"/api/v1/conversations/{people['closed'].pk}/attachments", {"file": parts}
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["fields"] == {"file": ["Nur eine Datei."]}
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_ten_mebibytes_pass_and_one_byte_more_is_413(people: dict[str, Any], media: Path) -> None:
    api = Api(people["anna"])
    exact = api.upload(people["closed"].pk, b"a" * (10 * MiB), "genau.txt")
    assert exact.status_code == 201, exact.content
    assert exact.json()["size"] == 10 * MiB
    over = api.upload(people["closed"].pk, b"a" * (10 * MiB + 1), "zuviel.txt")
    assert over.status_code == 413
    assert over.json()["error"] == {
        "code": "too_large",
        "detail": "Die Datei ist größer als 10 MB.",
    }
    assert Attachment.objects.count() == 1
    assert len(stored_files(media)) == 1


def test_html_and_paths_in_a_file_name_are_kept_as_text_without_the_path(
    people: dict[str, Any],
) -> None:
    api = Api(people["anna"])
    html = '<img src=x onerror="alert(1)">Angebot.pdf'
    answer = api.upload(people["closed"].pk, files.pdf(), html)
    assert answer.status_code == 201
    assert answer.json()["name"] == html
    traversal = api.upload(people["closed"].pk, files.pdf(), "../../etc/Angebot.pdf")
    assert traversal.json()["name"] == "Angebot.pdf"
    windows = api.upload(people["closed"].pk, files.pdf(), "C:\\Users\\x\\Rechnung\x00\n.pdf")
    assert windows.json()["name"] == "Rechnung.pdf"
    long = api.upload(people["closed"].pk, files.pdf(), "a" * 500 + ".pdf")
    assert long.json()["name"] == "a" * 116 + ".pdf"
    hidden = api.upload(people["closed"].pk, b"x\n", ".bashrc")
    assert hidden.json()["name"] == "bashrc.txt"
    # The stored file's name is the server's own, never the uploaded one.
    assert all("Angebot" not in a.file.name for a in Attachment.objects.all())


def test_images_are_re_encoded_upright_without_their_metadata(people: dict[str, Any]) -> None:
    api = Api(people["anna"])
    answer = api.upload(
        people["closed"].pk, files.image(exif_rotate=True, size=(800, 600)), "x.jpg"
    )
    assert answer.status_code == 201
    served = api.get(answer.json()["url"])
    data = b"".join(served.streaming_content)
    assert b"Bochum" not in data
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (600, 800)  # the EXIF rotation applied
        assert not picture.getexif()


def test_only_people_who_may_write_upload(people: dict[str, Any], make_user: Any) -> None:
    outsider = Api(people["carla"])
    assert outsider.upload(people["closed"].pk, files.pdf(), "a.pdf").status_code == 403
    assert outsider.upload(999_999, files.pdf(), "a.pdf").status_code == 403
    open_group = group_with(people["anna"], title="Offen", open_group=True)
    # An open group may be read by everyone, but only its members write.
    assert outsider.upload(open_group.pk, files.pdf(), "a.pdf").status_code == 403
    assert Client().post(
        f"/api/v1/conversations/{people['closed'].pk}/attachments",
        {"file": io.BytesIO(files.pdf())},
    ).status_code in (401, 403)
    missing = Api(people["anna"]).client.post(
        f"/api/v1/conversations/{people['closed'].pk}/attachments", {}
    )
    assert missing.status_code == 400
    assert not Attachment.objects.exists()


def test_the_upload_is_in_the_openapi_schema(people: dict[str, Any]) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/conversations/{conversation_id}/attachments"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert "201" in operation["responses"]


# ---------------------------------------------------------------- sending


def upload_id(api: Api, conversation_id: int, name: str = "Plan.pdf") -> int:
    answer = api.upload(conversation_id, files.pdf(), name)
    assert answer.status_code == 201, answer.content
    return int(answer.json()["id"])


def test_a_send_over_http_carries_attachments_and_may_have_no_text(
    people: dict[str, Any],
) -> None:
    api = Api(people["anna"])
    first = upload_id(api, people["closed"].pk, "Plan.pdf")
    second = upload_id(api, people["closed"].pk, "Liste.pdf")
    # In the order of the send, not of the uploads.
    answer = api.send(people["closed"].pk, client_id="f-1", attachments=[second, first])
    assert answer.status_code == 201, answer.content
    message = answer.json()
    assert message["body"] == ""
    assert [a["id"] for a in message["attachments"]] == [second, first]
    assert message["attachments"][1] == {
        "id": first,
        "name": "Plan.pdf",
        "size": len(files.pdf()),
        "content_type": "application/pdf",
        "url": f"/api/v1/attachments/{first}",
    }
    history = api.get(f"/api/v1/conversations/{people['closed'].pk}/messages").json()
    assert history["results"][-1]["attachments"] == message["attachments"]
    # The retry is the same message, with the same files.
    again = api.send(people["closed"].pk, client_id="f-1", attachments=[second, first])
    assert again.status_code == 200
    assert again.json()["attachments"] == message["attachments"]
    plain = api.send(people["closed"].pk, body="Ohne Anhang", client_id="f-2")
    assert plain.json()["attachments"] == []


def bad_sends(people: dict[str, Any]) -> list[tuple[str, Any]]:
    anna, ben = Api(people["anna"]), Api(people["ben"])
    bens = upload_id(ben, people["closed"].pk)
    elsewhere = upload_id(anna, people["other"].pk)
    sent = upload_id(anna, people["closed"].pk)
    do_send_message(
        actor=people["anna"],
        conversation_id=people["closed"].pk,
        body="schon weg",
        client_id="used",
        attachments=[sent],
    )
    eleven = [upload_id(anna, people["closed"].pk, f"d{n}.pdf") for n in range(11)]
    return [
        ("someone else's upload", [bens]),
        ("an upload to another conversation", [elsewhere]),
        ("an upload already sent", [sent]),
        ("an unknown id", [987_654]),
        ("more than ten", eleven),
        ("the same id twice", [eleven[0], eleven[0]]),
        ("not a list", eleven[0]),
        ("strings", [str(eleven[0])]),
        ("a boolean", [True]),
        ("an object", {"id": eleven[0]}),
    ]


def test_bad_attachments_in_an_http_send_are_400_and_store_nothing(
    people: dict[str, Any],
) -> None:
    api = Api(people["anna"])
    for number, (case, value) in enumerate(bad_sends(people)):
        before = Message.objects.count()
        answer = api.send(
            people["closed"].pk, body="x", client_id=f"bad-{number}", attachments=value
        )
        assert answer.status_code == 400, case
        assert answer.json()["error"]["code"] == "bad_request", case
        assert Message.objects.count() == before, case
    # Nothing was attached to anything by the refused sends.
    assert Attachment.objects.filter(message__isnull=False).count() == 1
    # Without attachments, an empty body is still refused.
    assert api.send(people["closed"].pk, body="", client_id="leer").status_code == 400


def test_history_loads_attachments_without_n_plus_one(people: dict[str, Any]) -> None:
    api = Api(people["anna"])
    path = f"/api/v1/conversations/{people['closed'].pk}/messages?limit=200"

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert api.get(path).status_code == 200
        return len(context.captured_queries)

    def add(count: int) -> None:
        for _ in range(count):
            ids = [upload_id(api, people["closed"].pk) for _ in range(2)]
            do_send_message(
                actor=people["anna"],
                conversation_id=people["closed"].pk,
                body="mit Dateien",
                client_id=f"n{Message.objects.count()}",
                attachments=ids,
            )

    add(2)
    small = page_queries()
    add(8)
    assert page_queries() == small


def test_a_send_without_attachments_costs_no_extra_query(people: dict[str, Any]) -> None:
    def queries(**extra: Any) -> int:
        with CaptureQueriesContext(connection) as context:
            do_send_message(
                actor=people["anna"],
                conversation_id=people["closed"].pk,
                body="Hallo",
                client_id=f"q{Message.objects.count()}",
                **extra,
            )
        return len(context.captured_queries)

    plain = queries()
    ids = [upload_id(Api(people["anna"]), people["closed"].pk) for _ in range(3)]
    # With files: one check, one link (per message), one load for the frame.
    assert queries(attachments=ids) == plain + 3


# ---------------------------------------------------------------- serving and permissions


def test_files_are_served_only_to_readers_with_the_same_404_as_missing(
    people: dict[str, Any],
) -> None:
    anna, ben, carla = Api(people["anna"]), Api(people["ben"]), Api(people["carla"])
    pdf_id = upload_id(anna, people["closed"].pk, "Angebot März.pdf")
    image = anna.upload(people["closed"].pk, files.image("PNG"), "Palette.png").json()
    pending_url = f"/api/v1/attachments/{pdf_id}"
    # Before it is sent, only its uploader sees it.
    assert anna.get(pending_url).status_code == 200
    assert ben.get(pending_url).status_code == 404
    do_send_message(
        actor=people["anna"],
        conversation_id=people["closed"].pk,
        body="Bitte ansehen",
        client_id="serve",
        attachments=[pdf_id, image["id"]],
    )
    served = ben.get(pending_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Angebot%20M%C3%A4rz.pdf" in served["Content-Disposition"]
    assert b"".join(served.streaming_content) == files.pdf()
    picture = ben.get(image["url"])
    assert picture["Content-Type"] == "image/png"
    assert picture["Content-Disposition"].startswith("inline")
    missing = ben.get("/api/v1/attachments/987654")
    for url in (pending_url, image["url"], image["thumbnail_url"]):
        for stranger in (carla, Api.__new__(Api)):
            if not hasattr(stranger, "client"):
                stranger.client = Client()  # signed out
            refused = stranger.get(url)
            assert refused.status_code == 404
            assert refused.json() == missing.json()
    assert missing.json() == {"error": {"code": "not_found", "detail": "Datei nicht gefunden."}}


def test_an_open_groups_files_are_readable_by_signed_in_people(people: dict[str, Any]) -> None:
    open_group = group_with(people["anna"], title="Offen", open_group=True)
    anna = Api(people["anna"])
    pdf_id = upload_id(anna, open_group.pk)
    do_send_message(
        actor=people["anna"],
        conversation_id=open_group.pk,
        body="Für alle",
        client_id="open",
        attachments=[pdf_id],
    )
    assert Api(people["carla"]).get(f"/api/v1/attachments/{pdf_id}").status_code == 200


# ---------------------------------------------------------------- deleting


def test_deleting_the_message_deletes_its_files(
    people: dict[str, Any], media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    anna = Api(people["anna"])
    image = anna.upload(people["closed"].pk, files.image("PNG"), "Palette.png").json()
    message, _ = do_send_message(
        actor=people["anna"],
        conversation_id=people["closed"].pk,
        body="gleich weg",
        client_id="del",
        attachments=[image["id"]],
    )
    assert len(stored_files(media)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        do_delete_message(actor=people["anna"], message_id=message.pk)
    assert stored_files(media) == []
    assert not Attachment.objects.exists()
    assert anna.get(image["url"]).status_code == 404
    history = anna.get(f"/api/v1/conversations/{people['closed'].pk}/messages").json()
    assert history["results"][-1]["attachments"] == []


def test_a_pending_upload_can_be_removed_by_its_uploader_only(
    people: dict[str, Any], media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    anna, ben = Api(people["anna"]), Api(people["ben"])
    pdf_id = upload_id(anna, people["closed"].pk)
    assert ben.client.delete(f"/api/v1/attachments/{pdf_id}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert anna.client.delete(f"/api/v1/attachments/{pdf_id}").status_code == 204
    assert stored_files(media) == []
    assert anna.client.delete(f"/api/v1/attachments/{pdf_id}").status_code == 404


def test_the_cron_job_deletes_uploads_left_unattached_for_a_day(
    people: dict[str, Any], media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.management import call_command

    from engagement.models import JobRun

    anna = Api(people["anna"])
    old = upload_id(anna, people["closed"].pk, "alt.pdf")
    fresh = upload_id(anna, people["closed"].pk, "neu.pdf")
    sent = upload_id(anna, people["closed"].pk, "gesendet.pdf")
    do_send_message(
        actor=people["anna"],
        conversation_id=people["closed"].pk,
        body="mit Datei",
        client_id="cron",
        attachments=[sent],
    )
    day_ago = timezone.now() - timedelta(hours=24, minutes=1)
    Attachment.objects.filter(pk__in=[old, sent]).update(created_at=day_ago)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("netzn_cron", "--job", "stale_uploads", "--force")
    assert JobRun.objects.get(name="stale_uploads").summary == "1 nicht gesendeter Upload gelöscht"
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh, sent}
    assert len(stored_files(media)) == 2
    assert delete_stale_uploads(timezone.now())[0] == 0


# ---------------------------------------------------------------- the person's data


def test_the_export_lists_my_uploads(people: dict[str, Any]) -> None:
    anna = Api(people["anna"])
    sent = upload_id(anna, people["closed"].pk, "Plan.pdf")
    pending = upload_id(anna, people["closed"].pk, "Entwurf.pdf")
    do_send_message(
        actor=people["anna"],
        conversation_id=people["closed"].pk,
        body="Plan",
        client_id="export",
        attachments=[sent],
    )
    upload_id(Api(people["ben"]), people["closed"].pk, "Bens.pdf")
    export = anna.get("/api/v1/me/export").json()
    uploads = export["chat"]["uploads"]
    assert [(u["id"], u["name"], u["message"] is None) for u in uploads] == [
        (sent, "Plan.pdf", False),
        (pending, "Entwurf.pdf", True),
    ]


@pytest.mark.parametrize("delete_messages", [False, True])
def test_account_deletion_removes_the_uploads(
    people: dict[str, Any],
    media: Path,
    django_capture_on_commit_callbacks: Any,
    delete_messages: bool,
) -> None:
    from accounts.privacy import do_delete_person
    from tests.conftest import PASSWORD

    anna = Api(people["anna"])
    sent = upload_id(anna, people["closed"].pk, "Plan.pdf")
    upload_id(anna, people["closed"].pk, "Entwurf.pdf")
    do_send_message(
        actor=people["anna"],
        conversation_id=people["closed"].pk,
        body="Plan",
        client_id="gone",
        attachments=[sent],
    )
    with django_capture_on_commit_callbacks(execute=True):
        do_delete_person(
            actor=people["anna"],
            person=people["anna"],
            password=PASSWORD,
            delete_messages=delete_messages,
        )
    ben = Api(people["ben"])
    if delete_messages:
        # Erased as a delete would: the message and its file are gone.
        assert not Attachment.objects.exists()
        assert stored_files(media) == []
        assert ben.get(f"/api/v1/attachments/{sent}").status_code == 404
    else:
        # The unsent upload is gone; the sent file stays where others rely on it.
        assert list(Attachment.objects.values_list("pk", "uploader")) == [(sent, None)]
        assert len(stored_files(media)) == 1
        assert ben.get(f"/api/v1/attachments/{sent}").status_code == 200


def test_one_upload_goes_to_one_message_even_within_one_batch(people: dict[str, Any]) -> None:
    from chat.actions import SendRequest, do_send_messages

    anna = people["anna"]
    shared = upload_id(Api(anna), people["closed"].pk)
    results = do_send_messages(
        conversation_id=people["closed"].pk,
        sends=[
            SendRequest(actor=anna, body="erste", client_id="b-1", attachments=[shared]),
            SendRequest(actor=anna, body="zweite", client_id="b-2", attachments=[shared]),
            SendRequest(actor=anna, body="dritte", client_id="b-3"),
        ],
    )
    first, second, third = results
    assert not isinstance(first, Exception) and not isinstance(third, Exception)
    assert isinstance(second, ClientError) and second.code == "bad_request"
    assert [a.pk for a in first[0].attachments.all()] == [shared]
    assert list(Message.objects.order_by("seq").values_list("body", flat=True)) == [
        "erste",
        "dritte",
    ]


def test_a_direct_message_of_a_file_alone_notifies_with_a_readable_preview(
    people: dict[str, Any],
) -> None:
    from chat.actions import do_get_or_create_direct_conversation
    from notifications.models import Notification

    direct, _ = do_get_or_create_direct_conversation(
        actor=people["anna"], other_user_id=people["ben"].pk
    )
    file_id = upload_id(Api(people["anna"]), direct.pk)
    do_send_message(
        actor=people["anna"],
        conversation_id=direct.pk,
        body="",
        client_id="dm",
        attachments=[file_id],
    )
    notification = Notification.objects.get(recipient=people["ben"], kind="direct_message")
    assert notification.data["preview"] == "📎 Anhang"


def test_a_message_hidden_by_a_moderator_shows_neither_its_files_nor_its_quote(
    people: dict[str, Any],
) -> None:
    anna, ben = Api(people["anna"]), Api(people["ben"])
    conversation = people["closed"].pk
    file_id = upload_id(anna, conversation, "Preise.pdf")
    original = anna.send(
        conversation, body="Unsere Preisliste", client_id="h-1", attachments=[file_id]
    ).json()
    reply = ben.send(conversation, body="Danke!", client_id="h-2", reply_to=original["id"])
    assert reply.json()["reply_to"]["excerpt"] == "Unsere Preisliste"
    assert ben.get(f"/api/v1/attachments/{file_id}").status_code == 200
    Message.objects.filter(pk=original["id"]).update(hidden_at=timezone.now())

    history = ben.get(f"/api/v1/conversations/{conversation}/messages").json()["results"]
    hidden, answer = history
    assert (hidden["hidden"], hidden["body"], hidden["attachments"]) == (True, "", [])
    assert answer["reply_to"]["excerpt"] == ""
    assert ben.get(f"/api/v1/attachments/{file_id}").status_code == 404
