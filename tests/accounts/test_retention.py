"""The retention jobs delete what is past its time and nothing else."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.actions import do_create_token
from accounts.models import AccessToken
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_old_read_notifications_and_revoked_tokens_go(anna: Any) -> None:
    long_ago = timezone.now() - timedelta(days=400)
    old = Notification.objects.create(
        recipient=anna, kind="mention", data={}, dedupe_key="a", read_at=long_ago
    )
    fresh = Notification.objects.create(
        recipient=anna, kind="mention", data={}, dedupe_key="b", read_at=timezone.now()
    )
    unread = Notification.objects.create(recipient=anna, kind="mention", data={}, dedupe_key="c")
    revoked, _ = do_create_token(actor=anna, name="alt")
    AccessToken.objects.filter(pk=revoked.pk).update(revoked_at=long_ago)
    active, _ = do_create_token(actor=anna, name="aktiv")

    out = StringIO()
    call_command("netzn_cron", "--job", "retention", stdout=out)
    assert "notifications: 1" in out.getvalue()
    remaining = set(Notification.objects.values_list("pk", flat=True))
    assert remaining == {fresh.pk, unread.pk}
    assert old.pk not in remaining
    assert list(AccessToken.objects.values_list("pk", flat=True)) == [active.pk]
    call_command("netzn_cron", "--job", "retention", "--force", stdout=StringIO())
    assert Notification.objects.count() == 2
