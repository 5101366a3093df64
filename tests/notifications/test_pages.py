"""The notification centre, its forms, the preferences page and the badge count."""

from __future__ import annotations

from typing import Any

from django.test import Client, RequestFactory

from chat.models import Participant
from notifications.actions import do_notify
from notifications.context import unread_count
from notifications.models import Notification

from .conftest import make_group

JOIN = {
    "group": {"slug": "stahlbau-ruhr", "name": "Stahlbau Ruhr"},
    "request_id": 12,
    "requester": {"id": 9, "display_name": "Jörg Müller"},
    "message": "Wir liefern Schrauben.",
    "url": "/gruppen/stahlbau-ruhr/anfragen/",
}


def signed_in(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_post(client: Client, path: str, data: dict[str, Any] | None = None) -> Any:
    client.get("/benachrichtigungen/")
    token = client.cookies["csrftoken"].value
    return client.post(path, {**(data or {}), "csrfmiddlewaretoken": token})


def test_centre_lists_mine_with_unread_highlighted(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    bernd = make_user("Bernd Schulz")
    read = do_notify(recipient=anna, kind="join_request", data=JOIN, dedupe_key="a")
    do_notify(
        recipient=anna,
        kind="join_approved",
        data={"group": {"slug": "kreativ", "name": "Kreativwirtschaft Bochum"}},
        dedupe_key="b",
    )
    do_notify(recipient=bernd, kind="join_request", data=JOIN, dedupe_key="c")
    assert read is not None
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    response = signed_in(anna).get("/benachrichtigungen/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jörg Müller möchte der Gruppe „Stahlbau Ruhr“ beitreten" in html
    assert "Ihre Beitrittsanfrage für „Kreativwirtschaft Bochum“ wurde angenommen" in html
    assert html.count("notification-unread") == 1
    assert "1 ungelesen" in html
    assert "Alle als gelesen markieren" in html
    assert f'href="/benachrichtigungen/{read.pk}/"' in html
    assert " Uhr</time>" in html
    assert "Wir liefern Schrauben." in html
    assert " style=" not in html
    assert "onclick" not in html
    # Bernd's notification is not listed for Anna.
    assert html.count("data-notification-id=") == 2


def test_opening_marks_read_and_leads_to_the_thing(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    notification = do_notify(recipient=anna, kind="join_request", data=JOIN, dedupe_key="a")
    assert notification is not None
    response = signed_in(anna).get(f"/benachrichtigungen/{notification.pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/gruppen/stahlbau-ruhr/anfragen/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_others_notifications_are_404_in_pages(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    bernd = make_user("Bernd Schulz")
    theirs = do_notify(recipient=bernd, kind="join_request", data=JOIN, dedupe_key="a")
    assert theirs is not None
    client = signed_in(anna)
    assert client.get(f"/benachrichtigungen/{theirs.pk}/").status_code == 404
    assert csrf_post(client, f"/benachrichtigungen/{theirs.pk}/gelesen/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_and_all_read_forms_need_csrf(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    first = do_notify(recipient=anna, kind="mention", data={}, dedupe_key="a")
    do_notify(recipient=anna, kind="mention", data={}, dedupe_key="b")
    assert first is not None
    client = signed_in(anna)
    assert client.post(f"/benachrichtigungen/{first.pk}/gelesen/").status_code == 403
    response = csrf_post(client, f"/benachrichtigungen/{first.pk}/gelesen/")
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=anna, read_at=None).count() == 1
    response = csrf_post(client, "/benachrichtigungen/alle-gelesen/")
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=anna, read_at=None).count() == 0
    assert "Alles gelesen" in client.get("/benachrichtigungen/").content.decode()


def test_badge_count_from_the_context_processor(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    do_notify(recipient=anna, kind="mention", data={}, dedupe_key="a")
    do_notify(recipient=anna, kind="mention", data={}, dedupe_key="b")
    request = RequestFactory().get("/")
    request.user = anna
    assert unread_count(request) == {"unread_notifications": 2}


def test_preferences_change_frequency_and_group_levels(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    stahl = make_group("Stahlbau Ruhr", anna)
    kreativ = make_group("Kreativwirtschaft Bochum", make_user("Bernd Schulz"), anna)
    client = signed_in(anna)
    page = client.get("/benachrichtigungen/einstellungen/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stahlbau Ruhr" in html
    assert "Kreativwirtschaft Bochum" in html
    assert "Tägliche Zusammenfassung" in html
    response = csrf_post(
        client,
        "/benachrichtigungen/einstellungen/",
        {
            "email_frequency": "digest",
            f"level_{stahl.conversation_id}": "muted",
            f"level_{kreativ.conversation_id}": "mentions",
        },
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.email_frequency == "digest"
    levels = dict(
        Participant.objects.filter(user=anna).values_list("conversation_id", "notification_level")
    )
    assert levels == {stahl.conversation_id: "muted", kreativ.conversation_id: "mentions"}


def test_preferences_reject_unknown_values(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    stahl = make_group("Stahlbau Ruhr", anna)
    client = signed_in(anna)
    response = csrf_post(
        client,
        "/benachrichtigungen/einstellungen/",
        {"email_frequency": "stündlich", f"level_{stahl.conversation_id}": "laut"},
    )
    assert response.status_code == 200
    assert "Bitte eine gültige Auswahl treffen" in response.content.decode()
    anna.refresh_from_db()
    assert anna.email_frequency == "immediate"
    assert Participant.objects.get(user=anna).notification_level == "all"


def test_pages_need_a_login() -> None:
    for path in ("/benachrichtigungen/", "/benachrichtigungen/einstellungen/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert "next=" in response["Location"]
