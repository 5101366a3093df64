"""The operator's read-only list of notifications in Django's admin."""

from __future__ import annotations

from typing import Any

from django.test import Client

from accounts.models import User
from notifications.actions import do_notify


def test_admin_lists_notifications_read_only_without_message_text(make_user: Any) -> None:
    operator = User.objects.create_superuser(
        email="betrieb@example.de", password="x", display_name="Betrieb"
    )
    anna = make_user("Anna Becker")
    notification = do_notify(
        recipient=anna,
        kind="direct_message",
        data={"conversation": 1, "preview": "Vertrauliches Angebot: 12.000 Euro"},
        dedupe_key="dm:1:0",
    )
    assert notification is not None
    client = Client()
    client.force_login(operator)
    listing = client.get("/admin/notifications/notification/")
    assert listing.status_code == 200
    assert "Anna Becker" in listing.content.decode()
    detail = client.get(f"/admin/notifications/notification/{notification.pk}/change/")
    assert detail.status_code == 200
    assert "Vertrauliches Angebot" not in detail.content.decode()
    assert client.get("/admin/notifications/notification/add/").status_code == 403
    deleted = client.post(f"/admin/notifications/notification/{notification.pk}/delete/")
    assert deleted.status_code == 403
