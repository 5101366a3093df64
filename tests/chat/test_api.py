"""The chat HTTP API (docs/protocol.md, "HTTP API") with a Bearer token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chat.actions import do_send_message
from chat.models import Message, Participant
from tests.chat.helpers import group_with, token_for


class Api:
    def __init__(self, user: Any) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(f"/api/v1{path}", body, content_type="application/json")

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(f"/api/v1{path}", body, content_type="application/json")

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/api/v1{path}")


@pytest.fixture
def setup(make_user: Any) -> dict[str, Any]:
    anna = make_user("Anna Becker", company_name="Stahlbau Witten")
    ben = make_user("Ben Öztürk")
    carla = make_user("Carla Schmitz")
    conversation = group_with(anna, ben)
    return {"anna": anna, "ben": ben, "carla": carla, "conversation": conversation}


def send(user: Any, conversation: Any, count: int, prefix: str = "m") -> None:
    for n in range(1, count + 1):
        do_send_message(
            actor=user,
            conversation_id=conversation.pk,
            body=f"{prefix} {n}",
            client_id=f"{prefix}{n}",
        )


def test_send_over_http_is_idempotent(setup: dict[str, Any]) -> None:
    api = Api(setup["anna"])
    path = f"/conversations/{setup['conversation'].pk}/messages"
    created = api.post(path, {"body": "Hallo aus Witten", "client_id": "h-1"})
    assert created.status_code == 201
    message = created.json()
    assert (message["seq"], message["body"], message["client_id"]) == (1, "Hallo aus Witten", "h-1")
    assert message["author"] == {
        "id": setup["anna"].pk,
        "display_name": "Anna Becker",
        "company": "Stahlbau Witten",
        "company_verified": False,
    }
    retry = api.post(path, {"body": "Hallo aus Witten", "client_id": "h-1"})
    assert retry.status_code == 200
    assert retry.json() == message
    assert Message.objects.count() == 1


def test_send_validation_errors(setup: dict[str, Any]) -> None:
    api = Api(setup["anna"])
    path = f"/conversations/{setup['conversation'].pk}/messages"
    too_long = api.post(path, {"body": "x" * 4001, "client_id": "l"})
    assert too_long.status_code == 413
    assert too_long.json()["error"]["code"] == "too_large"
    for body in (
        {"client_id": "x"},
        {"body": "hi"},
        {"body": "", "client_id": "y"},
        {"body": 3, "client_id": "z"},
    ):
        answer = api.post(path, body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["code"] == "bad_request"
    assert Message.objects.count() == 0


def test_history_pages_ascending_by_seq(setup: dict[str, Any]) -> None:
    send(setup["anna"], setup["conversation"], 12)
    api = Api(setup["ben"])
    path = f"/conversations/{setup['conversation'].pk}/messages"
    newest = api.get(path, limit=5).json()
    assert [m["seq"] for m in newest["results"]] == [8, 9, 10, 11, 12]
    assert newest["next"] == 8
    older = api.get(path, before=8, limit=5).json()
    assert [m["seq"] for m in older["results"]] == [3, 4, 5, 6, 7]
    oldest = api.get(path, before=3, limit=5).json()
    assert [m["seq"] for m in oldest["results"]] == [1, 2]
    assert oldest["next"] is None
    forward = api.get(path, after=4, limit=3).json()
    assert [m["seq"] for m in forward["results"]] == [5, 6, 7]
    assert forward["next"] == 7
    capped = api.get(path, limit=1000).json()
    assert len(capped["results"]) == 12
    assert api.get(path, after=-1).status_code == 400
    assert api.get(path, limit=0).status_code == 400
    assert api.get(path, after="x").status_code == 400


def test_conversations_list_unread_and_read_marker(setup: dict[str, Any]) -> None:
    send(setup["anna"], setup["conversation"], 4)
    api = Api(setup["ben"])
    [listed] = api.get("/conversations").json()["results"]
    assert listed["id"] == setup["conversation"].pk
    assert (listed["kind"], listed["title"]) == ("group", "Handwerk Bochum")
    assert (listed["last_seq"], listed["last_read_seq"], listed["unread_count"]) == (4, 0, 4)
    read = api.post(f"/conversations/{setup['conversation'].pk}/read", {"seq": 3})
    assert read.json() == {"conversation": setup["conversation"].pk, "last_read_seq": 3}
    back = api.post(f"/conversations/{setup['conversation'].pk}/read", {"seq": 1})
    assert back.json()["last_read_seq"] == 3
    [listed] = api.get("/conversations").json()["results"]
    assert listed["unread_count"] == 1
    assert (
        api.post(f"/conversations/{setup['conversation'].pk}/read", {"seq": "x"}).status_code == 400
    )
    # The author's own messages are read.
    [mine] = Api(setup["anna"]).get("/conversations").json()["results"]
    assert mine["unread_count"] == 0
    # One conversation comes in the list's shape.
    one = api.get(f"/conversations/{setup['conversation'].pk}").json()
    assert one == listed
    assert one["last_message_at"] is not None


def test_edit_and_delete_over_http(setup: dict[str, Any]) -> None:
    send(setup["anna"], setup["conversation"], 1)
    message = Message.objects.get()
    path = f"/conversations/{setup['conversation'].pk}/messages/{message.pk}"
    assert Api(setup["ben"]).patch(path, {"body": "fremd"}).status_code == 403
    edited = Api(setup["anna"]).patch(path, {"body": "korrigiert"})
    assert edited.status_code == 200
    assert edited.json()["body"] == "korrigiert"
    assert edited.json()["edited_at"] is not None
    assert Api(setup["ben"]).delete(path).status_code == 403
    deleted = Api(setup["anna"]).delete(path).json()
    assert (deleted["deleted"], deleted["body"], deleted["seq"]) == (True, "", 1)
    history = Api(setup["ben"]).get(f"/conversations/{setup['conversation'].pk}/messages").json()
    assert history["results"][0]["deleted"] is True
    assert history["results"][0]["body"] == ""


def test_forbidden_and_missing_look_alike(setup: dict[str, Any]) -> None:
    send(setup["anna"], setup["conversation"], 1)
    message = Message.objects.get()
    api = Api(setup["carla"])
    existing, missing = setup["conversation"].pk, setup["conversation"].pk + 999
    answers = []
    for conversation_id in (existing, missing):
        answers += [
            api.get(f"/conversations/{conversation_id}/messages"),
            api.get(f"/conversations/{conversation_id}"),
            api.post(
                f"/conversations/{conversation_id}/messages",
                {"body": "x", "client_id": f"{conversation_id}"},
            ),
            api.post(f"/conversations/{conversation_id}/read", {"seq": 1}),
            api.patch(f"/conversations/{conversation_id}/messages/{message.pk}", {"body": "x"}),
            api.delete(f"/conversations/{conversation_id}/messages/{message.pk}"),
        ]
    for message_id in (message.pk, message.pk + 999):
        answers.append(api.post(f"/messages/{message_id}/report", {"reason": "x"}))
    for answer in answers:
        assert answer.status_code == 403
        assert answer.json() == answers[0].json()
    assert Message.objects.count() == 1
    assert Client().get(f"/api/v1/conversations/{existing}/messages").status_code == 401


@pytest.mark.postgres("German word forms come from PostgreSQL's full-text search (stemming)")
def test_search_finds_german_word_forms_only_where_i_may_read(
    setup: dict[str, Any], make_user: Any
) -> None:
    do_send_message(
        actor=setup["anna"],
        conversation_id=setup["conversation"].pk,
        body="Wir suchen Auszubildende für die Schweißerei.",
        client_id="s1",
    )
    secret = group_with(setup["carla"], title="Geheim")
    do_send_message(
        actor=setup["carla"],
        conversation_id=secret.pk,
        body="Auszubildender gesucht",
        client_id="s2",
    )
    found = Api(setup["ben"]).get("/search", q="Auszubildender").json()["results"]
    assert [hit["body"] for hit in found] == ["Wir suchen Auszubildende für die Schweißerei."]
    assert found[0]["conversation_title"] == "Handwerk Bochum"
    mine = Api(setup["carla"]).get("/search", q="auszubildende").json()["results"]
    assert [hit["conversation"] for hit in mine] == [secret.pk]
    narrowed = Api(setup["ben"]).get(
        "/search", q="Schweißerei", conversation=setup["conversation"].pk
    )
    assert len(narrowed.json()["results"]) == 1
    assert (
        Api(setup["ben"]).get("/search", q="Schweißerei", conversation=secret.pk).status_code == 403
    )
    assert Api(setup["ben"]).get("/search", q=" ").status_code == 400


def test_report_lands_in_the_queue_with_a_copy_of_the_text(setup: dict[str, Any]) -> None:
    from chat.models import MessageReport

    send(setup["anna"], setup["conversation"], 1)
    message = Message.objects.get()
    api = Api(setup["ben"])
    first = api.post(f"/messages/{message.pk}/report", {"reason": "Werbung"})
    assert first.status_code == 201
    assert first.json()["status"] == "open"
    again = api.post(f"/messages/{message.pk}/report", {"reason": "Werbung"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    Api(setup["anna"]).delete(f"/conversations/{setup['conversation'].pk}/messages/{message.pk}")
    report = MessageReport.objects.get()
    assert (report.reason, report.body_snapshot) == ("Werbung", "m 1")
    assert Api(setup["anna"]).post(f"/messages/{message.pk}/report", {}).status_code in (400, 409)


def test_admin_shows_reports_only_and_resolves_them(setup: dict[str, Any], make_user: Any) -> None:
    from chat.actions import do_report_message
    from chat.models import MessageReport

    send(setup["anna"], setup["conversation"], 2)
    reported, unreported = Message.objects.order_by("seq")
    do_report_message(actor=setup["ben"], message_id=reported.pk, reason="Beleidigung")
    staff = make_user("Betrieb", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    page = browser.get("/admin/chat/messagereport/")
    assert page.status_code == 200
    assert "m 1" in page.content.decode()
    assert browser.get("/admin/chat/message/").status_code == 404
    report = MessageReport.objects.get()
    answer = browser.post(
        "/admin/chat/messagereport/",
        {"action": "delete_message_and_resolve", "_selected_action": [report.pk]},
    )
    assert answer.status_code == 302
    report.refresh_from_db()
    reported.refresh_from_db()
    unreported.refresh_from_db()
    assert report.status == "resolved"
    assert reported.deleted_at is not None
    assert unreported.deleted_at is None


def test_unread_ignores_conversations_i_am_not_in(setup: dict[str, Any]) -> None:
    assert Api(setup["carla"]).get("/conversations").json() == {"results": [], "next": None}
    assert Participant.objects.filter(user=setup["carla"]).count() == 0


@pytest.mark.parametrize("bad", ["\ud800", "Hallo \udfff", "a\x00b"])
def test_an_unstorable_body_over_http_is_400_and_stores_nothing(
    setup: dict[str, Any], bad: str
) -> None:
    api = Api(setup["anna"])
    path = f"/conversations/{setup['conversation'].pk}/messages"
    for body in ({"body": bad, "client_id": "x-1"}, {"body": "Hallo", "client_id": bad}):
        response = api.post(path, body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "bad_request"
        assert error["fields"]
    assert not Message.objects.exists()
    # The next good send is the first message: nothing was numbered for the bad ones.
    assert api.post(path, {"body": "Hallo", "client_id": "x-2"}).json()["seq"] == 1


def test_nul_in_a_search_term_is_400(setup: dict[str, Any]) -> None:
    response = Api(setup["anna"]).get("/search", q="Stahl\x00bau")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"q": [AnyText()]}


class AnyText:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


def test_a_database_outage_is_503_retryable_and_refused_input_is_400(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unreachable database (or no pooled connection within the pool's timeout,
    which Django raises as the same OperationalError) is a retryable 503; a DataError
    that slipped past validation is the client's 400, not an outage."""
    from django.db import DataError, OperationalError

    import chat.api

    api = Api(setup["anna"])
    for error, status, code in (
        (OperationalError("couldn't get a connection after 5.00 sec"), 503, "unavailable"),
        (DataError("invalid byte sequence"), 400, "bad_request"),
    ):

        def fail(*args: Any, _error: Exception = error, **kwargs: Any) -> Any:
            raise _error

        monkeypatch.setattr(chat.api, "conversations_of", fail)
        response = api.get("/conversations")
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
        if status == 503:
            assert int(response["Retry-After"]) >= 1


def test_pages_answer_a_database_outage_with_a_german_503_page(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    import chat.views

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("couldn't get a connection after 5.00 sec")

    monkeypatch.setattr(chat.views, "conversations_of", fail)
    client = Client()
    client.force_login(setup["anna"])
    response = client.get("/nachrichten/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert "Vorübergehend nicht erreichbar" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_pages_refuse_nul_in_a_query_or_a_form_with_a_400_page(setup: dict[str, Any]) -> None:
    client = Client()
    client.force_login(setup["anna"])
    response = client.get("/personen/", {"q": "Be\x00cker"})
    assert response.status_code == 400
    assert "Ungültige Anfrage" in response.content.decode()
    response = client.post("/einstellungen/profil/", {"display_name": "Anna\x00"})
    assert response.status_code == 400
    setup["anna"].refresh_from_db()
    assert setup["anna"].display_name == "Anna Becker"


def test_a_surrogate_in_a_form_cannot_reach_the_database(setup: dict[str, Any]) -> None:
    """A form carries text as UTF-8 bytes: the encoded surrogate is not valid UTF-8,
    Django decodes it as U+FFFD, so no page can hand a lone surrogate on."""
    client = Client()
    client.force_login(setup["anna"])
    response = client.post(
        "/einstellungen/profil/",
        "display_name=Anna%ED%A0%80&city=Witten",
        content_type="application/x-www-form-urlencoded",
    )
    # The profile form answers (stored, or shown again with its field errors).
    assert response.status_code in (200, 302, 400)
    assert "Traceback" not in response.content.decode()
    setup["anna"].refresh_from_db()
    assert "\ud800" not in setup["anna"].display_name
