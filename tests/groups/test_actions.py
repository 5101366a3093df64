"""Every groups action through the JSON API: what a user would check, bad input,
notifications and the live member frames (published only after the commit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, Participant
from groups.actions import REQUEST_COOLDOWN, do_join_group
from groups.models import Group, Invitation, JoinRequest, Membership
from notifications.models import Notification
from realtime.frames import conversation_topic, user_topic
from tests.groups.conftest import Api, Cast


def base(cast: Cast) -> str:
    return f"/groups/{cast.group.slug}"


def is_participant(group: Group, user: Any) -> bool:
    return Participant.objects.filter(conversation=group.conversation, user=user).exists()


# --- create ---------------------------------------------------------------------


def test_create_group_makes_founder_owner_with_a_conversation(make_user: Callable[..., Any]):
    anna = make_user("Anna Becker")
    response = Api(anna).post(
        "/groups",
        {
            "name": "  Innovationskreis   Mobilität ",
            "description": "E-Autos",
            "visibility": "closed",
            "topics": ["Mobilität", "mobilität", " E-Mobilität "],
            "city": "Bochum",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Innovationskreis Mobilität"
    assert body["slug"] == "innovationskreis-mobilitaet"
    assert body["topics"] == ["Mobilität", "E-Mobilität"]
    assert body["my_role"] == "owner"
    assert body["member_count"] == 1
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    assert conversation.kind == "group"
    assert conversation.title == "Innovationskreis Mobilität"
    assert conversation.readable_by_all is False
    assert is_participant(Group.objects.get(slug=body["slug"]), anna)


def test_create_open_group_is_readable_by_all(make_user: Callable[..., Any]):
    body = Api(make_user()).post("/groups", {"name": "Ausbildung"}).json()
    assert Conversation.objects.get(pk=body["conversation_id"]).readable_by_all is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "\u202e\u200b\u3164"}, "name"),  # shows nothing
        ({}, "name"),
        ({"name": 17}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Gut", "visibility": "secret"}, "visibility"),
        ({"name": "Gut", "topics": "a" * 41}, "topics"),
        ({"name": "Gut", "topics": [1, 2]}, "topics"),
        ({"name": "Gut", "topics": [f"t{i}" for i in range(11)]}, "topics"),
        ({"name": "Gut", "description": "x" * 4001}, "description"),
        ({"name": "Gut", "city": ["Bochum"]}, "city"),
    ],
)
def test_create_group_bad_input_is_400_with_field(
    make_user: Callable[..., Any], payload: dict[str, Any], field: str
):
    response = Api(make_user()).post("/groups", payload)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Group.objects.count() == 0


def test_a_name_loses_its_bidi_controls_so_it_cannot_turn_a_list_line_around(
    make_user: Callable[..., Any],
):
    body = Api(make_user()).post("/groups", {"name": "Fracht \u202eBochum\u202c  Herne"}).json()
    assert body["name"] == "Fracht Bochum Herne"
    assert Group.objects.get().name == "Fracht Bochum Herne"


def test_duplicate_name_is_409_case_insensitive(make_user: Callable[..., Any]):
    api = Api(make_user())
    assert api.post("/groups", {"name": "Import/Export"}).status_code == 201
    response = api.post("/groups", {"name": "import/export"})
    assert response.status_code == 409
    assert "name" in response.json()["error"]["fields"]
    assert Group.objects.count() == 1
    assert Conversation.objects.count() == 1


def test_slugs_stay_unique_and_avoid_page_paths(make_user: Callable[..., Any]):
    api = Api(make_user())
    assert api.post("/groups", {"name": "Import Export"}).json()["slug"] == "import-export"
    assert api.post("/groups", {"name": "Import & Export"}).json()["slug"] == "import-export-2"
    assert api.post("/groups", {"name": "Neu"}).json()["slug"] == "neu-2"


def test_unknown_slug_is_404_everywhere(make_user: Callable[..., Any]):
    api = Api(make_user())
    for method, path in [
        ("GET", "/groups/gibt-es-nicht"),
        ("PATCH", "/groups/gibt-es-nicht"),
        ("POST", "/groups/gibt-es-nicht/join"),
        ("POST", "/groups/gibt-es-nicht/leave"),
        ("GET", "/groups/gibt-es-nicht/members"),
        ("GET", "/groups/gibt-es-nicht/requests"),
        ("POST", "/groups/gibt-es-nicht/requests/1/approve"),
        ("DELETE", "/groups/gibt-es-nicht/members/1"),
    ]:
        response = api.call(method, path, {} if method != "GET" else None)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"


# --- read -----------------------------------------------------------------------


def test_group_detail_tells_me_my_state(closed_cast: Cast):
    body = Api(closed_cast.requester).get(base(closed_cast)).json()
    assert body["conversation_id"] == closed_cast.group.conversation_id
    assert body["member_count"] == 3
    assert body["my_role"] is None
    assert body["my_pending_request"]["id"] == closed_cast.request.pk
    assert body["my_pending_request"]["message"] == "Darf ich?"
    admin_view = Api(closed_cast.admin).get(base(closed_cast)).json()
    assert admin_view["my_role"] == "admin"
    assert admin_view["my_pending_request"] is None
    assert admin_view["my_notification_level"] == "all"


def test_members_are_listed_owners_first_with_roles(closed_cast: Cast):
    body = Api(closed_cast.member).get(f"{base(closed_cast)}/members").json()
    assert [(m["display_name"], m["role"]) for m in body["results"]] == [
        ("Olga Inhaber", "owner"),
        ("Arne Admin", "admin"),
        ("Mia Mitglied", "member"),
    ]
    assert body["results"][0]["company"] == "Stahlbau Witten"
    assert body["next"] is None


def test_requests_show_requester_name_company_and_job_title(closed_cast: Cast):
    body = Api(closed_cast.admin).get(f"{base(closed_cast)}/requests").json()
    [request] = body["results"]
    assert request["message"] == "Darf ich?"
    assert request["requester"] == {
        "id": closed_cast.requester.pk,
        "display_name": "Rolf Anfrage",
        "company": "Druckerei Hattingen",
        "job_title": "Inhaber",
    }


def test_group_list_filters(make_user: Callable[..., Any]):
    anna, malte = make_user("Anna"), make_user("Malte")
    anna_api, malte_api = Api(anna), Api(malte)
    anna_api.post("/groups", {"name": "Ausbildung", "topics": ["Ausbildung"], "city": "Bochum"})
    anna_api.post(
        "/groups",
        {"name": "Import/Export", "topics": ["Zoll"], "city": "Herne", "description": "Incoterms"},
    )
    malte_api.post("/groups", {"name": "Mobilität", "topics": ["Zoll", "E-Autos"], "city": "Herne"})
    anna_api.post("/groups", {"name": "Alt"})
    anna_api.post("/groups/alt/archive")

    def names(query: str, api: Api = malte_api) -> list[str]:
        return [g["name"] for g in api.get(f"/groups{query}").json()["results"]]

    assert names("") == ["Ausbildung", "Import/Export", "Mobilität"]
    assert names("?q=incoterms") == ["Import/Export"]
    assert names("?topic=Zoll") == ["Import/Export", "Mobilität"]
    assert names("?city=herne") == ["Import/Export", "Mobilität"]
    assert names("?mine=true") == ["Mobilität"]
    assert names("?mine=true", anna_api) == ["Alt", "Ausbildung", "Import/Export"]
    page = malte_api.get("/groups?limit=2").json()
    assert len(page["results"]) == 2
    assert page["next"] is not None
    rest = malte_api.get(f"/groups?limit=2&cursor={page['next']}").json()
    assert [g["name"] for g in rest["results"]] == ["Mobilität"]
    assert rest["next"] is None
    assert malte_api.get("/groups?cursor=abc").status_code == 400


# --- edit and archive -----------------------------------------------------------


def test_edit_keeps_the_conversation_in_step_and_tells_its_subscribers(
    open_cast: Cast, published: list[Any], django_capture_on_commit_callbacks: Any
):
    api = Api(open_cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(base(open_cast), {"name": "Neuer Name", "visibility": "closed"})
    topic = conversation_topic(open_cast.group.conversation_id)
    assert published == [
        # Closing it: the subscribers who are no members lose the conversation.
        (topic, {"type": "_access_changed", "conversation": open_cast.group.conversation_id}),
        (
            topic,
            {
                "type": "group_updated",
                "conversation": open_cast.group.conversation_id,
                "group": open_cast.group.slug,
                "name": "Neuer Name",
                "visibility": "closed",
                "archived": False,
            },
        ),
    ]
    assert response.status_code == 200
    assert response.json()["slug"] == open_cast.group.slug
    conversation = Conversation.objects.get(pk=open_cast.group.conversation_id)
    assert conversation.title == "Neuer Name"
    assert conversation.readable_by_all is False
    assert Api(open_cast.other).get(f"{base(open_cast)}/members").status_code == 403


def test_edit_bad_input_and_duplicate_name(open_cast: Cast, closed_cast: Cast):
    api = Api(open_cast.owner)
    assert api.patch(base(open_cast), {"name": ""}).status_code == 400
    response = api.patch(base(open_cast), {"name": "TESTGRUPPE CLOSED"})
    assert response.status_code == 409
    assert Group.objects.get(pk=open_cast.group.pk).name == "Testgruppe open"


def test_archive_stops_joining_and_reading_by_outsiders(open_cast: Cast):
    owner = Api(open_cast.owner)
    assert owner.post(f"{base(open_cast)}/archive").json()["archived"] is True
    assert Conversation.objects.get(pk=open_cast.group.conversation_id).readable_by_all is False
    assert Api(open_cast.other).post(f"{base(open_cast)}/join").status_code == 409
    assert owner.patch(base(open_cast), {"description": "x"}).status_code == 409
    assert owner.post(f"{base(open_cast)}/archive", {"archived": False}).json()["archived"] is False
    assert Conversation.objects.get(pk=open_cast.group.conversation_id).readable_by_all is True
    assert owner.post(f"{base(open_cast)}/archive", {"archived": "ja"}).status_code == 400


def test_archiving_closes_pending_invitations_and_join_requests(closed_cast: Cast):
    invited = Invitation.objects.create(group=closed_cast.group, user=closed_cast.other)
    assert Api(closed_cast.owner).post(f"{base(closed_cast)}/archive").status_code == 200
    invited.refresh_from_db()
    closed_cast.request.refresh_from_db()
    assert invited.status == Invitation.Status.REVOKED
    assert closed_cast.request.status == JoinRequest.Status.DECLINED
    assert closed_cast.request.reason == "Die Gruppe wurde archiviert."
    listed = Api(closed_cast.other).get("/invitations").json()["results"]
    assert [i for i in listed if i["status"] == "pending"] == []


def test_archived_group_keeps_its_history_but_takes_no_messages(open_cast: Cast):
    owner = Api(open_cast.owner)
    messages = f"/conversations/{open_cast.group.conversation_id}/messages"
    sent = owner.post(messages, {"body": "Letzte Runde vor der Pause", "client_id": "c-1"})
    assert sent.status_code == 201
    owner.post(f"{base(open_cast)}/archive")

    refused = owner.post(messages, {"body": "Noch eine Nachricht", "client_id": "c-2"})
    assert refused.status_code == 403
    history = owner.get(messages).json()["results"]
    assert [m["body"] for m in history] == ["Letzte Runde vor der Pause"]

    owner.post(f"{base(open_cast)}/archive", {"archived": False})
    again = owner.post(messages, {"body": "Wir sind zurück", "client_id": "c-3"})
    assert again.status_code == 201


# --- join, withdraw, approve, decline -------------------------------------------


def test_join_open_group_makes_member_at_once(
    open_cast: Cast, published: list[Any], django_capture_on_commit_callbacks: Any
):
    with django_capture_on_commit_callbacks(execute=True):
        response = Api(open_cast.other).post(f"{base(open_cast)}/join")
    assert response.status_code == 200
    assert response.json()["status"] == "member"
    assert Membership.objects.get(group=open_cast.group, user=open_cast.other).role == "member"
    assert is_participant(open_cast.group, open_cast.other)
    [(topic, frame)] = published
    assert topic == conversation_topic(open_cast.group.conversation_id)
    assert frame["type"] == "member_joined"
    assert frame["member"]["display_name"] == "Otto Außen"
    assert frame["member_count"] == 4


def test_join_closed_group_notifies_every_owner_and_admin(
    closed_cast: Cast, published: list[Any], django_capture_on_commit_callbacks: Any
):
    with django_capture_on_commit_callbacks(execute=True):
        response = Api(closed_cast.other).post(
            f"{base(closed_cast)}/join", {"message": "Wir liefern Ladesäulen."}
        )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert not Membership.objects.filter(user=closed_cast.other).exists()
    stored = Notification.objects.filter(kind="join_request")
    assert sorted(n.recipient_id for n in stored) == sorted(
        [closed_cast.owner.pk, closed_cast.admin.pk]
    )
    data = stored[0].data
    assert data["group"] == {"slug": closed_cast.group.slug, "name": "Testgruppe closed"}
    assert data["request_id"] == body["request"]["id"]
    assert data["requester"]["display_name"] == "Otto Außen"
    assert data["message"] == "Wir liefern Ladesäulen."
    live = {topic: frame for topic, frame in published}
    for person in (closed_cast.owner, closed_cast.admin):
        frame = live[user_topic(person.pk)]
        assert frame["type"] == "notification"
        assert frame["kind"] == "join_request"
    assert user_topic(closed_cast.member.pk) not in live


def test_second_pending_request_is_409(closed_cast: Cast):
    response = Api(closed_cast.requester).post(f"{base(closed_cast)}/join", {"message": "Nochmal"})
    assert response.status_code == 409
    assert JoinRequest.objects.filter(user=closed_cast.requester).count() == 1


def test_join_message_too_long_or_wrong_type_is_400(closed_cast: Cast):
    api = Api(closed_cast.other)
    assert api.post(f"{base(closed_cast)}/join", {"message": "x" * 1001}).status_code == 400
    assert api.post(f"{base(closed_cast)}/join", {"message": ["x"]}).status_code == 400
    assert api.call("POST", f"{base(closed_cast)}/join", None).status_code == 202


def test_withdraw_then_ask_again(closed_cast: Cast):
    api = Api(closed_cast.requester)
    assert api.post(f"{base(closed_cast)}/withdraw").json()["status"] == "withdrawn"
    assert api.get(base(closed_cast)).json()["my_pending_request"] is None
    assert api.post(f"{base(closed_cast)}/withdraw").status_code == 409
    assert api.post(f"{base(closed_cast)}/join").status_code == 202


def test_approve_admits_and_notifies_the_requester(
    closed_cast: Cast, published: list[Any], django_capture_on_commit_callbacks: Any
):
    url = f"{base(closed_cast)}/requests/{closed_cast.request.pk}/approve"
    with django_capture_on_commit_callbacks(execute=True):
        response = Api(closed_cast.admin).post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert Membership.objects.get(user=closed_cast.requester).role == "member"
    assert is_participant(closed_cast.group, closed_cast.requester)
    request = JoinRequest.objects.get(pk=closed_cast.request.pk)
    assert request.decided_by == closed_cast.admin
    notification = Notification.objects.get(recipient=closed_cast.requester)
    assert notification.kind == "join_approved"
    assert notification.data["group"]["slug"] == closed_cast.group.slug
    topics = [topic for topic, _ in published]
    assert user_topic(closed_cast.requester.pk) in topics
    assert conversation_topic(closed_cast.group.conversation_id) in topics
    # Deciding an already decided request: 409, and nothing changes.
    again = Api(closed_cast.owner).post(url)
    assert again.status_code == 409
    decline = Api(closed_cast.owner).post(
        f"{base(closed_cast)}/requests/{closed_cast.request.pk}/decline"
    )
    assert decline.status_code == 409
    assert Membership.objects.filter(user=closed_cast.requester).count() == 1


def test_approve_unknown_or_foreign_request_is_404(closed_cast: Cast, open_cast: Cast):
    api = Api(closed_cast.owner)
    assert api.post(f"{base(closed_cast)}/requests/999999/approve").status_code == 404
    foreign = open_cast.request.pk
    assert api.post(f"{base(closed_cast)}/requests/{foreign}/approve").status_code == 404


def test_decline_with_reason_and_cooldown(closed_cast: Cast):
    url = f"{base(closed_cast)}/requests/{closed_cast.request.pk}/decline"
    response = Api(closed_cast.owner).post(url, {"reason": "Nur für Logistikbetriebe."})
    assert response.status_code == 200
    assert response.json()["reason"] == "Nur für Logistikbetriebe."
    notification = Notification.objects.get(recipient=closed_cast.requester)
    assert notification.kind == "join_declined"
    assert notification.data["reason"] == "Nur für Logistikbetriebe."
    assert not Membership.objects.filter(user=closed_cast.requester).exists()
    requester = Api(closed_cast.requester)
    again = requester.post(f"{base(closed_cast)}/join")
    assert again.status_code == 409
    assert "erneut anfragen" in again.json()["error"]["detail"]
    JoinRequest.objects.filter(pk=closed_cast.request.pk).update(
        decided_at=timezone.now() - REQUEST_COOLDOWN - timedelta(minutes=1)
    )
    assert requester.post(f"{base(closed_cast)}/join").status_code == 202


def test_decline_reason_too_long_is_400(closed_cast: Cast):
    url = f"{base(closed_cast)}/requests/{closed_cast.request.pk}/decline"
    assert Api(closed_cast.owner).post(url, {"reason": "x" * 1001}).status_code == 400
    assert JoinRequest.objects.get(pk=closed_cast.request.pk).status == "pending"


# --- invitations ----------------------------------------------------------------


def test_invite_accept(closed_cast: Cast):
    admin = Api(closed_cast.admin)
    response = admin.post(f"{base(closed_cast)}/invitations", {"user_id": closed_cast.other.pk})
    assert response.status_code == 201
    invitation_id = response.json()["id"]
    notification = Notification.objects.get(recipient=closed_cast.other)
    assert notification.kind == "invitation"
    assert notification.data["invitation_id"] == invitation_id
    assert notification.data["invited_by"]["display_name"] == "Arne Admin"
    again = admin.post(f"{base(closed_cast)}/invitations", {"user_id": closed_cast.other.pk})
    assert again.status_code == 409
    other = Api(closed_cast.other)
    mine = other.get("/invitations").json()["results"]
    assert [i["group"]["slug"] for i in mine] == [closed_cast.group.slug]
    accepted = other.post(f"/invitations/{invitation_id}/accept")
    assert accepted.status_code == 200
    assert Membership.objects.get(user=closed_cast.other).role == "member"
    assert other.post(f"/invitations/{invitation_id}/accept").status_code == 409
    assert other.get("/invitations").json()["results"] == []


def test_invite_decline(closed_cast: Cast):
    invitation = Api(closed_cast.owner).post(
        f"{base(closed_cast)}/invitations", {"user_id": closed_cast.other.pk}
    )
    other = Api(closed_cast.other)
    response = other.post(f"/invitations/{invitation.json()['id']}/decline")
    assert response.json()["status"] == "declined"
    assert not Membership.objects.filter(user=closed_cast.other).exists()


def test_invitation_to_a_requester_admits_at_once(closed_cast: Cast):
    response = Api(closed_cast.owner).post(
        f"{base(closed_cast)}/invitations", {"user_id": closed_cast.requester.pk}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "member"
    assert JoinRequest.objects.get(pk=closed_cast.request.pk).status == "approved"
    assert Notification.objects.get(recipient=closed_cast.requester).kind == "join_approved"
    assert not Invitation.objects.exists()


def test_joining_with_a_pending_invitation_skips_the_request(closed_cast: Cast):
    Api(closed_cast.owner).post(
        f"{base(closed_cast)}/invitations", {"user_id": closed_cast.other.pk}
    )
    response = Api(closed_cast.other).post(f"{base(closed_cast)}/join")
    assert response.status_code == 200
    assert Invitation.objects.get().status == "accepted"


@pytest.mark.parametrize(
    ("user_id", "status"), [("abc", 400), (None, 400), (True, 400), (999999, 404)]
)
def test_invite_bad_person(closed_cast: Cast, user_id: Any, status: int):
    response = Api(closed_cast.owner).post(f"{base(closed_cast)}/invitations", {"user_id": user_id})
    assert response.status_code == status


def test_invite_a_member_is_409(closed_cast: Cast):
    response = Api(closed_cast.owner).post(
        f"{base(closed_cast)}/invitations", {"user_id": closed_cast.member.pk}
    )
    assert response.status_code == 409


# --- leave, remove, roles, transfer ---------------------------------------------


def test_leave_tells_the_live_member_list(
    closed_cast: Cast, published: list[Any], django_capture_on_commit_callbacks: Any
):
    with django_capture_on_commit_callbacks(execute=True):
        assert Api(closed_cast.member).post(f"{base(closed_cast)}/leave").status_code == 200
    assert not Membership.objects.filter(user=closed_cast.member).exists()
    assert not is_participant(closed_cast.group, closed_cast.member)
    frames = {frame["type"]: (topic, frame) for topic, frame in published}
    topic, frame = frames["member_left"]
    assert topic == conversation_topic(closed_cast.group.conversation_id)
    assert frame["user_id"] == closed_cast.member.pk
    assert frame["member_count"] == 2
    # chat drops the conversation from the leaver's open sockets (named on the
    # conversation's topic, so it is ordered before the conversation's later frames)
    access_topic, access_frame = frames["_access_changed"]
    assert access_topic == conversation_topic(closed_cast.group.conversation_id)
    assert access_frame["user"] == closed_cast.member.pk


def test_last_owner_must_hand_over_before_leaving(closed_cast: Cast):
    owner = Api(closed_cast.owner)
    response = owner.post(f"{base(closed_cast)}/leave")
    assert response.status_code == 409
    assert "Übertrage" in response.json()["error"]["detail"]
    transfer = owner.post(f"{base(closed_cast)}/transfer", {"user_id": closed_cast.member.pk})
    assert transfer.status_code == 200
    roles = dict(Membership.objects.values_list("user_id", "role"))
    assert roles[closed_cast.member.pk] == "owner"
    assert roles[closed_cast.owner.pk] == "admin"
    assert Notification.objects.get(recipient=closed_cast.member).kind == "role_changed"
    assert owner.post(f"{base(closed_cast)}/leave").status_code == 200


@pytest.mark.parametrize(("user_id", "status"), [("self", 400), (999999, 404), ("abc", 400)])
def test_transfer_bad_target(closed_cast: Cast, user_id: Any, status: int):
    target = closed_cast.owner.pk if user_id == "self" else user_id
    response = Api(closed_cast.owner).post(f"{base(closed_cast)}/transfer", {"user_id": target})
    assert response.status_code == status


def test_second_owner_may_leave(closed_cast: Cast):
    owner = Api(closed_cast.owner)
    owner.patch(f"{base(closed_cast)}/members/{closed_cast.admin.pk}", {"role": "owner"})
    assert owner.post(f"{base(closed_cast)}/leave").status_code == 200
    assert Membership.objects.get(user=closed_cast.admin).role == "owner"


def test_admin_cannot_remove_or_demote_an_owner(closed_cast: Cast):
    admin = Api(closed_cast.admin)
    assert admin.delete(f"{base(closed_cast)}/members/{closed_cast.owner.pk}").status_code == 403
    demote = admin.patch(f"{base(closed_cast)}/members/{closed_cast.owner.pk}", {"role": "admin"})
    assert demote.status_code == 403
    assert Membership.objects.get(user=closed_cast.owner).role == "owner"


def test_admin_cannot_remove_another_admin(closed_cast: Cast, make_user: Callable[..., Any]):
    second = make_user("Zweite Admin")
    Membership.objects.create(group=closed_cast.group, user=second, role="admin")
    response = Api(closed_cast.admin).delete(f"{base(closed_cast)}/members/{second.pk}")
    assert response.status_code == 403


def test_remove_member_drops_chat_access(closed_cast: Cast):
    response = Api(closed_cast.admin).delete(f"{base(closed_cast)}/members/{closed_cast.member.pk}")
    assert response.status_code == 204
    assert not is_participant(closed_cast.group, closed_cast.member)
    assert Api(closed_cast.member).get(f"{base(closed_cast)}/members").status_code == 403
    again = Api(closed_cast.admin).delete(f"{base(closed_cast)}/members/{closed_cast.member.pk}")
    assert again.status_code == 404


def test_change_role_notifies_and_frames(
    closed_cast: Cast, published: list[Any], django_capture_on_commit_callbacks: Any
):
    url = f"{base(closed_cast)}/members/{closed_cast.member.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        response = Api(closed_cast.owner).patch(url, {"role": "admin"})
    assert response.json()["role"] == "admin"
    notification = Notification.objects.get(recipient=closed_cast.member)
    assert notification.kind == "role_changed"
    assert notification.data["role"] == "admin"
    assert notification.data["role_label"] == "Admin"
    frame = next(f for _, f in published if f["type"] == "member_role_changed")
    assert frame == {
        "type": "member_role_changed",
        "conversation": closed_cast.group.conversation_id,
        "group": closed_cast.group.slug,
        "user_id": closed_cast.member.pk,
        "role": "admin",
    }
    # The same role again changes nothing and notifies nobody.
    Api(closed_cast.owner).patch(url, {"role": "admin"})
    assert Notification.objects.filter(recipient=closed_cast.member).count() == 1


def test_the_new_role_in_the_notification_follows_the_form_of_address(closed_cast: Cast):
    from notifications.presentation import summary

    type(closed_cast.member).objects.filter(pk=closed_cast.member.pk).update(address_form="frau")
    transfer = Api(closed_cast.owner).post(
        f"{base(closed_cast)}/transfer", {"user_id": closed_cast.member.pk}
    )
    assert transfer.status_code == 200
    notification = Notification.objects.get(recipient=closed_cast.member, kind="role_changed")
    assert notification.data["role_label"] == "Inhaberin"
    assert summary(notification).endswith("ist jetzt: Inhaberin")


@pytest.mark.parametrize("role", ["king", "", None, 3])
def test_bad_role_is_400(closed_cast: Cast, role: Any):
    url = f"{base(closed_cast)}/members/{closed_cast.member.pk}"
    response = Api(closed_cast.owner).patch(url, {"role": role})
    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]


def test_change_role_of_non_member_is_404(closed_cast: Cast):
    url = f"{base(closed_cast)}/members/{closed_cast.other.pk}"
    assert Api(closed_cast.owner).patch(url, {"role": "admin"}).status_code == 404


def test_notification_level_lives_on_the_participant(closed_cast: Cast):
    api = Api(closed_cast.member)
    url = f"{base(closed_cast)}/membership"
    assert api.patch(url, {"notification_level": "mentions"}).json() == {
        "notification_level": "mentions"
    }
    participant = Participant.objects.get(
        conversation=closed_cast.group.conversation, user=closed_cast.member
    )
    assert participant.notification_level == "mentions"
    assert api.get(base(closed_cast)).json()["my_notification_level"] == "mentions"
    bad = api.patch(url, {"notification_level": "laut"})
    assert bad.status_code == 400


# --- publish after commit -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_rolled_back_action_publishes_nothing(make_user: Callable[..., Any], published: list[Any]):
    cast_owner = make_user("Olga")
    group_body = Api(cast_owner).post("/groups", {"name": "Zu", "visibility": "closed"}).json()
    group = Group.objects.get(slug=group_body["slug"])
    outsider = make_user("Otto")
    published.clear()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        do_join_group(actor=outsider, group=group, message="Hallo")
        raise Abort
    assert published == []
    assert not JoinRequest.objects.exists()
    assert not Notification.objects.exists()

    do_join_group(actor=outsider, group=group, message="Hallo")
    assert [(topic, frame["kind"]) for topic, frame in published] == [
        (user_topic(cast_owner.pk), "join_request")
    ]


def test_owners_and_admins_moderate_the_chat(closed_cast: Cast):
    def moderates(user: Any) -> bool:
        return Participant.objects.get(
            conversation=closed_cast.group.conversation, user=user
        ).can_moderate

    assert moderates(closed_cast.owner) is True
    url = f"{base(closed_cast)}/members/{closed_cast.member.pk}"
    owner = Api(closed_cast.owner)
    owner.patch(url, {"role": "admin"})
    assert moderates(closed_cast.member) is True
    owner.patch(url, {"role": "member"})
    assert moderates(closed_cast.member) is False
    owner.post(f"{base(closed_cast)}/transfer", {"user_id": closed_cast.member.pk})
    assert moderates(closed_cast.member) is True
    assert moderates(closed_cast.owner) is True  # now admin


def test_revoked_invitation_cannot_be_accepted(closed_cast: Cast):
    owner = Api(closed_cast.owner)
    invitation = owner.post(
        f"{base(closed_cast)}/invitations", {"user_id": closed_cast.other.pk}
    ).json()
    url = f"{base(closed_cast)}/invitations/{invitation['id']}"
    assert owner.delete(url).status_code == 204
    assert owner.delete(url).status_code == 409
    assert owner.delete(f"{base(closed_cast)}/invitations/999999").status_code == 404
    other = Api(closed_cast.other)
    assert other.get("/invitations").json()["results"] == []
    response = other.post(f"/invitations/{invitation['id']}/accept")
    assert response.status_code == 409
    assert "Zurückgenommen" in response.json()["error"]["detail"]
    assert not Membership.objects.filter(user=closed_cast.other).exists()
    # a new invitation is possible again
    again = owner.post(f"{base(closed_cast)}/invitations", {"user_id": closed_cast.other.pk})
    assert again.status_code == 201
