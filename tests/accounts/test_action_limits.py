"""Every action that costs others attention or mail is limited: the one over the
limit gets 429 with `Retry-After` and a German message, and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from chat.actions import do_send_message
from groups.actions import do_create_group, do_join_group
from groups.models import Group, Invitation, JoinRequest
from tests.accounts.conftest import anonymous, as_user, error_of

pytestmark = pytest.mark.django_db


def assert_limited(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    error = error_of(response)
    assert error["code"] == "rate_limited"
    assert "Bitte in" in error["detail"]


def test_sign_ups_per_address(settings: Any) -> None:
    settings.NETZN_ACTION_LIMITS = {"signup": (2, 3600)}
    for number in range(2):
        body = {"email": f"p{number}@example.de", "password": "Zeche-1986!", "display_name": "P"}
        assert anonymous().post("/auth/signup", body).status_code == 201
    body = {"email": "p9@example.de", "password": "Zeche-1986!", "display_name": "P"}
    assert_limited(anonymous().post("/auth/signup", body))
    page = Client().post(
        "/registrieren/", {"display_name": "P", "email": "p8@example.de", "password": "Zeche-1986!"}
    )
    assert page.status_code == 429
    assert "Zu viele Registrierungen" in page.content.decode()


def test_password_reset_mails(settings: Any, anna: Any) -> None:
    settings.NETZN_ACTION_LIMITS = {"password_reset_address": (2, 3600)}
    for _ in range(2):
        Client().post("/passwort-vergessen/", {"email": anna.email})
    assert len(mail.outbox) == 2
    refused = Client().post("/passwort-vergessen/", {"email": anna.email})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Zu viele E-Mails" in refused.content.decode()
    assert len(mail.outbox) == 2


def test_group_creation(settings: Any, anna: Any) -> None:
    settings.NETZN_ACTION_LIMITS = {"group_create": (2, 86400)}
    api = as_user(anna)
    for name in ("Eins", "Zwei"):
        assert api.post("/groups", {"name": name, "visibility": "open"}).status_code == 201
    assert_limited(api.post("/groups", {"name": "Drei", "visibility": "open"}))
    assert not Group.objects.filter(name="Drei").exists()


def test_join_requests(settings: Any, anna: Any, bernd: Any) -> None:
    settings.NETZN_ACTION_LIMITS = {"join_request": (1, 3600)}
    first = do_create_group(actor=anna, name="Vorstand", visibility="closed")
    second = do_create_group(actor=anna, name="Beirat", visibility="closed")
    api = as_user(bernd)
    assert api.post(f"/groups/{first.slug}/join", {}).status_code == 202
    assert_limited(api.post(f"/groups/{second.slug}/join", {}))
    assert JoinRequest.objects.filter(user=bernd).count() == 1


def test_invitations(settings: Any, anna: Any, make_user: Any) -> None:
    settings.NETZN_ACTION_LIMITS = {"invitation": (1, 3600)}
    group = do_create_group(actor=anna, name="Vorstand", visibility="closed")
    one, two = make_user("Eins"), make_user("Zwei")
    api = as_user(anna)
    assert api.post(f"/groups/{group.slug}/invitations", {"user_id": one.pk}).status_code == 201
    assert_limited(api.post(f"/groups/{group.slug}/invitations", {"user_id": two.pk}))
    assert Invitation.objects.filter(group=group).count() == 1


def test_reports(settings: Any, anna: Any, bernd: Any) -> None:
    settings.NETZN_ACTION_LIMITS = {"report": (1, 3600)}
    group = do_create_group(actor=anna, name="Offen")
    do_join_group(actor=bernd, group=group)
    first, _ = do_send_message(
        actor=anna, conversation_id=group.conversation_id, body="eins", client_id="1"
    )
    second, _ = do_send_message(
        actor=anna, conversation_id=group.conversation_id, body="zwei", client_id="2"
    )
    api = as_user(bernd)
    assert api.post(f"/messages/{first.pk}/report", {"reason": "Spam"}).status_code == 201
    assert_limited(api.post(f"/messages/{second.pk}/report", {"reason": "Spam"}))
