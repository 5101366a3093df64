"""The German pages under /gruppen/: forms with CSRF, flash messages, the request
queue, settings, and a strict CSP (no inline script, style or handler)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from groups.models import Group, Invitation, JoinRequest, Membership
from notifications.models import Notification
from tests.groups.conftest import Api, Cast


def browser(user: Any | None = None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def text(response: Any) -> str:
    return response.content.decode()


def assert_strict_csp_markup(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline script"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def pages_of(cast: Cast) -> list[str]:
    slug = cast.group.slug
    return [
        "/gruppen/",
        "/gruppen/neu/",
        "/gruppen/einladungen/",
        f"/gruppen/{slug}/",
        f"/gruppen/{slug}/einstellungen/",
        f"/gruppen/{slug}/anfragen/",
    ]


def test_pages_need_a_sign_in(closed_cast: Cast):
    for url in pages_of(closed_cast):
        response = browser().get(url)
        assert response.status_code == 302, url
        assert "login" in response["Location"] or "anmelden" in response["Location"]


@pytest.mark.parametrize("role", ["owner", "admin", "member", "requester", "other"])
def test_pages_render_in_german_without_inline_code(closed_cast: Cast, role: str):
    client = browser(closed_cast.person(role))
    manager = role in ("owner", "admin")
    for url in pages_of(closed_cast):
        response = client.get(url)
        restricted = url.endswith(("einstellungen/", "anfragen/"))
        assert response.status_code == (403 if restricted and not manager else 200), url
        html = text(response)
        assert '<html lang="de">' in html
        assert_strict_csp_markup(html)


def test_unknown_group_page_is_404(make_user: Callable[..., Any]):
    assert browser(make_user()).get("/gruppen/gibt-es-nicht/").status_code == 404


def test_closed_group_page_for_outsiders(closed_cast: Cast):
    html = text(browser(closed_cast.other).get(f"/gruppen/{closed_cast.group.slug}/"))
    assert "Testgruppe closed" in html
    assert "Worum es geht" in html
    assert "3 Mitglieder" in html
    assert "Mia Mitglied" not in html
    assert 'id="chat-panel"' not in html
    assert "Beitritt anfragen" in html


def test_member_sees_members_and_chat_slot(closed_cast: Cast):
    html = text(browser(closed_cast.member).get(f"/gruppen/{closed_cast.group.slug}/"))
    assert "Mia Mitglied" in html
    assert "Olga Inhaber" in html
    conversation = closed_cast.group.conversation_id
    assert f'id="chat-panel" class="chat-panel" data-conversation-id="{conversation}"' in html
    assert 'data-can-write="true" data-can-moderate="false"' in html
    assert "Gruppe verlassen" in html


def test_requester_sees_pending_and_withdraws(closed_cast: Cast):
    client = browser(closed_cast.requester)
    html = text(client.get(f"/gruppen/{closed_cast.group.slug}/"))
    assert "wartet auf die Entscheidung" in html
    response = client.post(f"/gruppen/{closed_cast.group.slug}/zurueckziehen/", follow=True)
    assert "Anfrage ist zurückgezogen" in text(response)
    assert JoinRequest.objects.get(pk=closed_cast.request.pk).status == "withdrawn"


def test_after_a_decline_the_page_says_when_one_may_ask_again(closed_cast: Cast):
    decided = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)  # 16:30 in Berlin
    JoinRequest.objects.filter(pk=closed_cast.request.pk).update(
        status=JoinRequest.Status.DECLINED, decided_at=decided
    )
    client = browser(closed_cast.requester)
    url = f"/gruppen/{closed_cast.group.slug}/"
    with mock.patch("django.utils.timezone.now", return_value=decided + timedelta(days=2)):
        html = text(client.get(url))
    sentence = "Sie können ab 10. Dezember 2026, 16:30 Uhr erneut anfragen."
    assert html.count(sentence) == 2  # the Info box and beside the Diskussion notice
    assert "Beitritt anfragen</button>" not in html
    assert "Beitritt anfragen</a>" not in html
    with mock.patch("django.utils.timezone.now", return_value=decided + timedelta(days=8)):
        html = text(client.get(url))
    assert "erneut anfragen" not in html
    assert "Beitritt anfragen</button>" in html


def test_found_a_group_through_the_form(make_user: Callable[..., Any]):
    client = browser(make_user("Anna Becker"))
    response = client.post(
        "/gruppen/neu/",
        {
            "name": "Unternehmensnachfolge",
            "description": "Übergabe planen",
            "visibility": "closed",
            "topics": "Nachfolge, Finanzierung",
            "city": "Bochum",
        },
        follow=True,
    )
    group = Group.objects.get()
    assert response.redirect_chain[-1][0] == f"/gruppen/{group.slug}/"
    assert "ist gegründet" in text(response)
    assert group.topics == ["Nachfolge", "Finanzierung"]
    assert group.visibility == "closed"


def test_form_errors_are_german(make_user: Callable[..., Any]):
    client = browser(make_user())
    client.post("/gruppen/neu/", {"name": "Ausbildung", "visibility": "open"})
    empty = text(client.post("/gruppen/neu/", {"name": "", "visibility": "open"}))
    assert "Dieses Feld ist zwingend erforderlich." in empty
    duplicate = text(client.post("/gruppen/neu/", {"name": "ausbildung", "visibility": "open"}))
    assert "Eine Gruppe mit diesem Namen gibt es schon." in duplicate
    assert Group.objects.count() == 1


def test_forms_are_csrf_protected(closed_cast: Cast):
    client = browser(closed_cast.other, csrf=True)
    response = client.post(f"/gruppen/{closed_cast.group.slug}/beitreten/", {"message": "x"})
    assert response.status_code == 403
    assert not JoinRequest.objects.filter(user=closed_cast.other).exists()
    page = text(client.get(f"/gruppen/{closed_cast.group.slug}/"))
    assert 'name="csrfmiddlewaretoken"' in page


def test_ask_to_join_with_a_message_and_admin_decides(closed_cast: Cast):
    slug = closed_cast.group.slug
    asked = browser(closed_cast.other).post(
        f"/gruppen/{slug}/beitreten/", {"message": "Wir bauen Ladesäulen."}, follow=True
    )
    assert "Beitrittsanfrage ist gestellt" in text(asked)
    assert (
        Notification.objects.filter(kind="join_request", recipient=closed_cast.admin).count() == 1
    )
    admin = browser(closed_cast.admin)
    queue = text(admin.get(f"/gruppen/{slug}/anfragen/"))
    # name, company and job title beside the message
    assert "Rolf Anfrage" in queue
    assert "Inhaber, Druckerei Hattingen" in queue
    assert "Darf ich?" in queue
    assert "Wir bauen Ladesäulen." in queue
    new_request = JoinRequest.objects.get(user=closed_cast.other)
    declined = admin.post(
        f"/gruppen/{slug}/anfragen/{new_request.pk}/ablehnen/",
        {"reason": "Bitte erst Mitglied im Verband werden."},
        follow=True,
    )
    assert "Anfrage ist abgelehnt" in text(declined)
    notification = Notification.objects.get(recipient=closed_cast.other)
    assert notification.data["reason"] == "Bitte erst Mitglied im Verband werden."
    approved = admin.post(
        f"/gruppen/{slug}/anfragen/{closed_cast.request.pk}/annehmen/", follow=True
    )
    assert "Anfrage ist angenommen" in text(approved)
    assert Membership.objects.filter(user=closed_cast.requester).exists()
    twice = admin.post(f"/gruppen/{slug}/anfragen/{closed_cast.request.pk}/annehmen/", follow=True)
    assert "schon entschieden" in text(twice)


def test_settings_change_role_remove_invite_transfer_archive(closed_cast: Cast):
    slug = closed_cast.group.slug
    owner = browser(closed_cast.owner)
    html = text(owner.get(f"/gruppen/{slug}/einstellungen/"))
    assert "Gruppe übertragen" in html
    owner.post(f"/gruppen/{slug}/mitglieder/{closed_cast.member.pk}/rolle/", {"role": "admin"})
    assert Membership.objects.get(user=closed_cast.member).role == "admin"
    owner.post(f"/gruppen/{slug}/mitglieder/{closed_cast.member.pk}/entfernen/")
    assert not Membership.objects.filter(user=closed_cast.member).exists()
    invited = owner.post(
        f"/gruppen/{slug}/einladen/", {"email": closed_cast.other.email.upper()}, follow=True
    )
    assert "Otto Außen ist eingeladen" in text(invited)
    invitation = Invitation.objects.get()
    assert invitation.user == closed_cast.other
    assert f"/einladungen/{invitation.pk}/zuruecknehmen/" in text(
        owner.get(f"/gruppen/{slug}/einstellungen/")
    )
    revoked = owner.post(f"/gruppen/{slug}/einladungen/{invitation.pk}/zuruecknehmen/", follow=True)
    assert "Die Einladung ist zurückgenommen." in text(revoked)
    assert Invitation.objects.get().status == "revoked"
    unknown = owner.post(f"/gruppen/{slug}/einladen/", {"email": "nie@example.de"}, follow=True)
    assert "niemand bei netzn" in text(unknown)
    owner.post(f"/gruppen/{slug}/uebertragen/", {"user_id": str(closed_cast.admin.pk)})
    assert Membership.objects.get(user=closed_cast.admin).role == "owner"
    assert Membership.objects.get(user=closed_cast.owner).role == "admin"
    new_owner = browser(closed_cast.admin)
    new_owner.post(f"/gruppen/{slug}/archivieren/", {"archived": "1"})
    assert Group.objects.get().archived_at is not None
    archived = text(new_owner.get(f"/gruppen/{slug}/einstellungen/"))
    assert "Gruppe wieder aktivieren" in archived


def test_settings_name_roles_by_the_persons_form_of_address(closed_cast: Cast):
    type(closed_cast.owner).objects.filter(pk=closed_cast.owner.pk).update(address_form="frau")
    type(closed_cast.owner).objects.filter(pk=closed_cast.admin.pk).update(address_form="herr")
    slug = closed_cast.group.slug
    html = text(browser(closed_cast.owner).get(f"/gruppen/{slug}/einstellungen/"))
    own_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Olga Inhaber(?:(?!</tr>).)*</tr>", html, re.S)
    assert own_row is not None
    assert "Inhaberin" in own_row.group(0)
    admin_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Arne Admin(?:(?!</tr>).)*</tr>", html, re.S)
    assert admin_row is not None
    assert '<option value="owner">Inhaber</option>' in admin_row.group(0)
    member_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Mia Mitglied(?:(?!</tr>).)*</tr>", html, re.S)
    assert member_row is not None
    assert '<option value="owner">Inhaber:in</option>' in member_row.group(0)


def test_member_cannot_use_settings_actions(closed_cast: Cast):
    slug = closed_cast.group.slug
    member = browser(closed_cast.member)
    response = member.post(
        f"/gruppen/{slug}/mitglieder/{closed_cast.owner.pk}/entfernen/", follow=True
    )
    assert "Nur Inhaber und Admins" in text(response)
    assert Membership.objects.filter(user=closed_cast.owner, role="owner").exists()


def test_invitation_page_accept(closed_cast: Cast):
    browser(closed_cast.admin).post(
        f"/gruppen/{closed_cast.group.slug}/einladen/", {"email": closed_cast.other.email}
    )
    other = browser(closed_cast.other)
    listing = text(other.get("/gruppen/einladungen/"))
    assert "Testgruppe closed" in listing
    assert "Eingeladen von Arne Admin (Logistik Herne)" in listing
    invitation = Invitation.objects.get()
    response = other.post(f"/gruppen/einladungen/{invitation.pk}/annehmen/", follow=True)
    assert response.redirect_chain[-1][0] == f"/gruppen/{closed_cast.group.slug}/"
    assert Membership.objects.filter(user=closed_cast.other).exists()


def test_list_page_filters(open_cast: Cast, closed_cast: Cast):
    client = browser(open_cast.other)
    Group.objects.filter(pk=open_cast.group.pk).update(topics=["Zoll"], city="Herne")
    all_groups = text(client.get("/gruppen/"))
    assert "Testgruppe open" in all_groups
    assert "Testgruppe closed" in all_groups
    by_topic = text(client.get("/gruppen/?thema=Zoll"))
    assert "Testgruppe open" in by_topic
    assert "Testgruppe closed" not in by_topic
    by_city = text(client.get("/gruppen/?ort=Herne&q=test"))
    assert "Testgruppe closed" not in by_city
    mine = text(client.get("/gruppen/?meine=1"))
    assert "Keine Gruppe gefunden" in mine


def test_leave_and_notification_level_on_the_group_page(open_cast: Cast):
    slug = open_cast.group.slug
    member = browser(open_cast.member)
    member.post(f"/gruppen/{slug}/benachrichtigungen/", {"level": "muted"})
    participant = open_cast.group.conversation.participants.get(user=open_cast.member)
    assert participant.notification_level == "muted"
    bad = member.post(f"/gruppen/{slug}/benachrichtigungen/", {"level": "laut"}, follow=True)
    assert "Stufe muss" in text(bad)
    left = member.post(f"/gruppen/{slug}/verlassen/", follow=True)
    assert "Sie haben „Testgruppe open“ verlassen." in text(left)
    owner_left = browser(open_cast.owner).post(f"/gruppen/{slug}/verlassen/", follow=True)
    assert "Übertragen Sie die Gruppe zuerst" in text(owner_left)


def test_group_page_and_member_list_queries_do_not_grow_with_members(
    open_cast: Cast, make_user: Callable[..., Any]
):
    client = browser(open_cast.member)
    api = Api(open_cast.member)
    url = f"/gruppen/{open_cast.group.slug}/"

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as listing:
            assert api.get(f"/groups/{open_cast.group.slug}/members").status_code == 200
        return len(page), len(listing)

    client.get(url)  # the first page of a visit also records it (engagement), once
    few = counts()
    for number in range(15):
        person = make_user(f"Neu {number}")
        Membership.objects.create(group=open_cast.group, user=person)
        open_cast.group.conversation.participants.create(user=person)
    assert counts() == few


def test_admin_lists_groups_and_requests(closed_cast: Cast, make_user: Callable[..., Any]):
    operator = make_user("Betrieb", is_staff=True, is_superuser=True)
    client = browser(operator)
    for url in [
        "/admin/groups/group/",
        f"/admin/groups/group/{closed_cast.group.pk}/change/",
        "/admin/groups/membership/",
        "/admin/groups/joinrequest/",
        "/admin/groups/invitation/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Testgruppe closed" in text(client.get("/admin/groups/group/"))
