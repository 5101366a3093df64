"""Signals a new person must not miss (issue "The first week of a real user"): a
follow-up direct message after everything was marked read, settled requests and
invitations that stop counting, company admins told about a claim, and links in
e-mails pointing where the server runs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any
from unittest import mock

import pytest

from accounts.actions import (
    do_claim_company,
    do_confirm_company_member,
    do_create_company,
    do_remove_company_member,
)
from chat.actions import do_get_or_create_direct_conversation, do_send_message
from groups.actions import (
    do_accept_invitation,
    do_approve_join_request,
    do_change_member_role,
    do_create_group,
    do_decline_invitation,
    do_invite_to_group,
    do_join_group,
    do_withdraw_join_request,
)
from groups.models import JoinRequest
from notifications.actions import do_mark_all_read, unread_count
from notifications.models import Notification
from notifications.presentation import summary

pytestmark = pytest.mark.django_db(transaction=True)


def send(actor: Any, conversation_id: int, body: str) -> None:
    do_send_message(
        actor=actor, conversation_id=conversation_id, body=body, client_id=str(uuid.uuid4())
    )


def test_follow_up_direct_message_after_mark_all_read_counts_again(make_user) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Yilmaz")
    conversation, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    send(anna, conversation.pk, "Hallo Ben")
    send(anna, conversation.pk, "Noch eine Frage")
    # One unread stretch: one notification, not one per message.
    assert unread_count(ben) == 1
    do_mark_all_read(actor=ben)
    assert unread_count(ben) == 0
    with mock.patch("notifications.actions.publish_on_commit") as published:
        send(anna, conversation.pk, "Haben Sie meine Nachricht gesehen?")
    assert unread_count(ben) == 1
    latest = Notification.objects.filter(recipient=ben).first()
    assert latest is not None
    assert latest.kind == "direct_message"
    assert latest.data["preview"] == "Haben Sie meine Nachricht gesehen?"
    frames = [call.args[1] for call in published.call_args_list]
    assert [f["type"] for f in frames] == ["notification"]


def test_settled_join_request_stops_counting_for_every_admin(make_user) -> None:
    owner = make_user("Karin Weiß")
    admin = make_user("Tobias Schmidt")
    requester = make_user("Özlem Yilmaz")
    group = do_create_group(actor=owner, name="Einkauf Ruhr", visibility="closed")
    do_join_group(actor=admin, group=group)
    do_approve_join_request(
        actor=owner, group=group, request_id=JoinRequest.objects.get(user=admin).pk
    )
    do_change_member_role(actor=owner, group=group, user_id=admin.pk, role="admin")
    do_mark_all_read(actor=admin)
    request = do_join_group(actor=requester, group=group)
    assert unread_count(owner) == 1
    assert unread_count(admin) == 1
    do_approve_join_request(actor=admin, group=group, request_id=request.pk)
    assert unread_count(owner) == 0
    assert unread_count(admin) == 0
    # The requester's own notification (approved) is new and unread.
    assert Notification.objects.get(recipient=requester).kind == "join_approved"
    assert Notification.objects.get(recipient=requester).read_at is None


def test_withdrawn_request_stops_counting(make_user) -> None:
    owner = make_user("Karin Weiß")
    requester = make_user("Ben Yilmaz")
    other = make_user("Anna Becker")
    group = do_create_group(actor=owner, name="Energie Witten", visibility="closed")
    do_join_group(actor=requester, group=group)
    do_join_group(actor=other, group=group)
    assert unread_count(owner) == 2
    do_withdraw_join_request(actor=requester, group=group)
    assert unread_count(owner) == 1
    still = Notification.objects.get(recipient=owner, read_at__isnull=True)
    assert still.data["requester"]["id"] == other.pk


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_answered_invitation_stops_counting(make_user, answer: str) -> None:
    owner = make_user("Karin Weiß")
    invitee = make_user("Ben Yilmaz")
    group = do_create_group(actor=owner, name="Ausbildung Herne", visibility="closed")
    invitation = do_invite_to_group(actor=owner, group=group, user_id=invitee.pk)
    assert unread_count(invitee) == 1
    if answer == "accept":
        do_accept_invitation(actor=invitee, invitation_id=invitation.pk)
    else:
        do_decline_invitation(actor=invitee, invitation_id=invitation.pk)
    assert unread_count(invitee) == 0


def test_company_admins_are_told_about_a_claim_until_it_is_settled(make_user) -> None:
    admin = make_user("Karin Weiß")
    claimant = make_user("Ben Yilmaz")
    outsider = make_user("Anna Becker")
    company = do_create_company(actor=admin, fields={"name": "Stahlbau Witten GmbH"})
    claim = do_claim_company(actor=claimant, company=company, responsibility="Ausbildung")
    told = Notification.objects.get(recipient=admin)
    assert told.kind == "company_claim"
    assert told.data["person"]["display_name"] == "Ben Yilmaz"
    assert summary(told) == (
        "Ben Yilmaz gibt an, bei „Stahlbau Witten GmbH“ zu arbeiten: bitte bestätigen oder ablehnen"
    )
    assert told.email_due_at is not None  # admins who want e-mails get one
    assert not Notification.objects.filter(recipient=outsider).exists()
    assert not Notification.objects.filter(recipient=claimant).exists()
    do_confirm_company_member(actor=admin, company=company, user_id=claimant.pk)
    assert unread_count(admin) == 0
    # A rejected claim is settled as well.
    do_claim_company(actor=outsider, company=company)
    assert unread_count(admin) == 1
    do_remove_company_member(actor=admin, company=company, user_id=outsider.pk)
    assert unread_count(admin) == 0
    assert claim.pk


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORT": "8108"}, "http://127.0.0.1:8108"),
        ({"HOST": "0.0.0.0", "PORT": "9000"}, "http://127.0.0.1:9000"),  # noqa: S104
        ({"HOST": "netzn.local", "PORT": "8000"}, "http://netzn.local:8000"),
        ({"PORT": "8108", "SITE_URL": "https://netzn.example.de/"}, "https://netzn.example.de"),
    ],
)
def test_site_url_defaults_to_where_the_server_runs(env: dict[str, str], expected: str) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "SITE_URL"}}
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SITE_URL)"],
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "server.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == expected
