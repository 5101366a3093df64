"""Daily alerts of saved searches go into the daily digest e-mail, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import EmailFrequency
from engagement.digest import send_digest
from groups.actions import do_leave_group
from tests.board.conftest import Board, freight

pytestmark = pytest.mark.django_db


def test_daily_search_hits_are_in_the_digest_once(board: Board) -> None:
    board.haulier.email_frequency = EmailFrequency.DIGEST
    board.haulier.save()
    search = board.api(board.haulier).post(
        "/searches", {"name": "Nach München", "filters": {"city": "München"}, "alert": "daily"}
    )
    assert search.status_code == 201
    board.api(board.shipper).post("/groups/mobilitaet/posts", freight("request"))
    later = timezone.now() + timedelta(minutes=5)
    assert send_digest(board.haulier.pk, now=later)
    [email] = [m for m in mail.outbox if board.haulier.email in m.to]
    assert "1 neuer Treffer" in email.subject
    assert "NEU ZU IHREN GESPEICHERTEN SUCHEN" in email.body
    assert "Ladung nach München" in email.body
    assert "Suche „Nach München“" in email.body
    html = email.alternatives[0][0]  # type: ignore[attr-defined]
    assert "Neu zu Ihren gespeicherten Suchen" in html
    mail.outbox.clear()
    assert not send_digest(board.haulier.pk, now=later + timedelta(days=1))


def test_digest_leaves_out_a_closed_group_post_the_person_can_no_longer_read(
    board: Board,
) -> None:
    board.haulier.email_frequency = EmailFrequency.DIGEST
    board.haulier.save()
    board.api(board.haulier).post(
        "/searches", {"name": "Alles", "filters": {"category": "freight"}, "alert": "daily"}
    )
    board.api(board.shipper).post("/groups/logistikkreis/posts", freight("request"))
    do_leave_group(actor=board.haulier, group=board.closed_group)
    send_digest(board.haulier.pk, now=timezone.now() + timedelta(minutes=5))
    sent = [m for m in mail.outbox if board.haulier.email in m.to]
    assert all("Ladung nach München" not in m.body for m in sent)
    assert all("GESPEICHERTEN SUCHEN" not in m.body for m in sent)
