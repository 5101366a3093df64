"""Group direct conversations (PROTOCOL.md 1.1): `POST /conversations/direct
{"user_ids": [...]}` with one to eight others gets or creates the one conversation of
exactly that set; blocks refuse it; bad lists are clear 400s; every participant
gets the `direct_message` notification and the live messages."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from accounts.models import Block
from chat.actions import do_get_or_create_group_direct_conversation, do_send_message
from chat.models import Conversation, Message
from notifications.models import Notification
from realtime.errors import ClientError
from tests.chat.helpers import connect
from tests.chat.test_api import Api

db = database_sync_to_async


@pytest.fixture
def four(make_user: Any) -> dict[str, Any]:
    return {
        "anna": make_user("Anna Becker"),
        "ben": make_user("Ben Öztürk"),
        "carla": make_user("Carla Schmitz"),
        "dieter": make_user("Dieter Wolf"),
    }


def open_group_direct(api: Api, ids: Any) -> Any:
    return api.post("/conversations/direct", {"user_ids": ids})


def test_the_same_set_in_any_order_is_one_conversation(db: Any, four: dict[str, Any]) -> None:
    anna, ben, carla = four["anna"], four["ben"], four["carla"]
    created = open_group_direct(Api(anna), [ben.pk, carla.pk])
    assert created.status_code == 201
    body = created.json()
    assert body["kind"] == "direct"
    assert body["title"] == "Ben Öztürk und Carla Schmitz"
    again = open_group_direct(Api(carla), [anna.pk, ben.pk])
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert again.json()["title"] == "Anna Becker und Ben Öztürk"
    reversed_order = open_group_direct(Api(ben), [carla.pk, anna.pk])
    assert reversed_order.json()["id"] == body["id"]
    conversation = Conversation.objects.get(pk=body["id"])
    assert set(conversation.participants.values_list("user_id", flat=True)) == {
        anna.pk,
        ben.pk,
        carla.pk,
    }
    # A different set is a different conversation; the pair stays the 1:1 one.
    four_of_them = open_group_direct(Api(anna), [ben.pk, carla.pk, four["dieter"].pk])
    assert four_of_them.status_code == 201
    assert four_of_them.json()["title"] == "Ben Öztürk, Carla Schmitz und Dieter Wolf"
    pair = Api(anna).post("/conversations/direct", {"user_id": ben.pk})
    pair_by_list = open_group_direct(Api(ben), [anna.pk])
    assert pair.json()["id"] == pair_by_list.json()["id"]
    assert pair.json()["id"] not in (body["id"], four_of_them.json()["id"])
    results = Api(anna).get("/conversations").json()["results"]
    listed = {item["id"]: item["title"] for item in results}
    assert listed[body["id"]] == "Ben Öztürk und Carla Schmitz"


def test_nine_people_is_the_most(db: Any, make_user: Any) -> None:
    anna = make_user("Anna Becker")
    others = [make_user(f"Person {n}") for n in range(9)]
    api = Api(anna)
    assert open_group_direct(api, [p.pk for p in others[:8]]).status_code == 201
    refused = open_group_direct(api, [p.pk for p in others])
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["user_ids"] == ["Höchstens 8 Einträge."]


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("empty", "Mindestens 1"),
        ("not a list", "Liste"),
        ("strings", "Ganze Zahl"),
        ("duplicate", "einmal"),
        ("oneself", "selbst"),
    ],
)
def test_bad_lists_are_clear_400s(db: Any, four: dict[str, Any], case: str, fragment: str) -> None:
    anna, ben = four["anna"], four["ben"]
    ids: Any = {
        "empty": [],
        "not a list": ben.pk,
        "strings": [str(ben.pk)],
        "duplicate": [ben.pk, ben.pk],
        "oneself": [anna.pk, ben.pk],
    }[case]
    before = Conversation.objects.count()
    response = open_group_direct(Api(anna), ids)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    # The schema's message per field, or the action's in `detail`.
    assert fragment in " ".join([error["detail"], *error["fields"]["user_ids"]])
    assert Conversation.objects.count() == before


@pytest.mark.parametrize("case", ["unknown", "inactive", "blocked"])
def test_unknown_inactive_and_blocked_people_get_the_same_refusal(
    db: Any, four: dict[str, Any], case: str
) -> None:
    """As in the 1:1 form, nobody can tell "blocked me" from "not there"."""
    anna, ben, carla = four["anna"], four["ben"], four["carla"]
    if case == "inactive":
        carla.is_active = False
        carla.save()
    if case == "blocked":
        Block.objects.create(blocker=carla, blocked=anna)
    other = 987654321 if case == "unknown" else carla.pk
    response = open_group_direct(Api(anna), [ben.pk, other])
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "detail": "Mit dieser Zusammenstellung ist keine Direktnachricht möglich.",
    }
    assert not Conversation.objects.filter(kind="direct").exists()


def test_both_forms_at_once_is_a_400(db: Any, four: dict[str, Any]) -> None:
    response = Api(four["anna"]).post(
        "/conversations/direct", {"user_id": four["ben"].pk, "user_ids": [four["carla"].pk]}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("pair", [("anna", "ben"), ("ben", "anna"), ("ben", "carla")])
def test_a_block_between_any_two_refuses_creation(
    db: Any, four: dict[str, Any], pair: tuple[str, str]
) -> None:
    Block.objects.create(blocker=four[pair[0]], blocked=four[pair[1]])
    response = open_group_direct(Api(four["anna"]), [four["ben"].pk, four["carla"].pk])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not Conversation.objects.filter(kind="direct").exists()
    # Without the blocked ones it works.
    allowed = [four["dieter"].pk] + ([four["carla"].pk] if pair != ("ben", "carla") else [])
    assert open_group_direct(Api(four["anna"]), allowed).status_code == 201


def test_only_participants_read_and_write(db: Any, four: dict[str, Any]) -> None:
    anna, ben, carla, dieter = four["anna"], four["ben"], four["carla"], four["dieter"]
    conversation_id = open_group_direct(Api(anna), [ben.pk, carla.pk]).json()["id"]
    path = f"/conversations/{conversation_id}/messages"
    assert Api(carla).post(path, {"body": "Hallo zusammen", "client_id": "g1"}).status_code == 201
    assert Api(ben).get(path).status_code == 200
    assert Api(dieter).get(path).status_code == 403
    assert Api(dieter).post(path, {"body": "x", "client_id": "g2"}).status_code == 403


def test_every_other_participant_is_notified(db: Any, four: dict[str, Any]) -> None:
    anna, ben, carla = four["anna"], four["ben"], four["carla"]
    conversation, _ = do_get_or_create_group_direct_conversation(
        actor=anna, user_ids=[ben.pk, carla.pk]
    )
    do_send_message(actor=anna, conversation_id=conversation.pk, body="Termin?", client_id="n1")
    notified = set(
        Notification.objects.filter(kind="direct_message").values_list("recipient_id", flat=True)
    )
    assert notified == {ben.pk, carla.pk}
    do_send_message(actor=ben, conversation_id=conversation.pk, body="Passt", client_id="n2")
    assert Notification.objects.filter(kind="direct_message", recipient=anna).count() == 1
    # Ben's unread stretch keeps one notification; Carla's too.
    assert Notification.objects.filter(kind="direct_message", recipient=carla).count() == 1


def test_a_later_block_stops_only_the_two_concerned(db: Any, four: dict[str, Any]) -> None:
    anna, ben, carla = four["anna"], four["ben"], four["carla"]
    conversation, _ = do_get_or_create_group_direct_conversation(
        actor=anna, user_ids=[ben.pk, carla.pk]
    )
    Block.objects.create(blocker=ben, blocked=anna)
    with pytest.raises(ClientError) as refused:
        do_send_message(actor=anna, conversation_id=conversation.pk, body="x", client_id="b1")
    assert refused.value.code == "forbidden"
    do_send_message(actor=carla, conversation_id=conversation.pk, body="Hallo", client_id="b2")
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_group_direct_is_one_even_when_opened_at_once(
    transactional_db: Any, make_user: Any
) -> None:
    people = [make_user(f"Person {n}") for n in range(3)]
    barrier = threading.Barrier(6)
    results: list[tuple[int, bool]] = []

    def open_it(index: int) -> None:
        actor = people[index % 3]
        others = [p.pk for p in people if p is not actor]
        if index % 2:
            others.reverse()
        try:
            barrier.wait()
            conversation, created = do_get_or_create_group_direct_conversation(
                actor=actor, user_ids=others
            )
            results.append((conversation.pk, created))
        finally:
            connection.close()

    threads = [threading.Thread(target=open_it, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1


@pytest.mark.django_db(transaction=True)
async def test_everyone_receives_the_messages_live(four):
    anna, ben, carla = four["anna"], four["ben"], four["carla"]
    conversation, _ = await db(do_get_or_create_group_direct_conversation)(
        actor=anna, user_ids=[ben.pk, carla.pk]
    )
    clients = [await connect(person) for person in (anna, ben, carla)]
    for client in clients:
        assert (await client.subscribe(conversation.pk))[-1]["type"] == "subscribed"
    await clients[1].send(
        {"type": "send", "conversation": conversation.pk, "body": "Moin", "client_id": "live-1"}
    )
    for client in (clients[0], clients[2]):
        message = await client.receive_type("message")
        assert message["body"] == "Moin"
        notification = await client.receive_type("notification")
        assert notification["kind"] == "direct_message"
    hello_titles = {c["id"]: c["title"] for c in clients[2].hello["conversations"]}
    assert hello_titles[conversation.pk] == "Anna Becker und Ben Öztürk"
    for client in clients:
        await client.close()


def test_the_gruppennachricht_form(db: Any, four: dict[str, Any]) -> None:
    from django.test import Client as PageClient

    anna, ben, carla = four["anna"], four["ben"], four["carla"]
    page = PageClient()
    page.force_login(anna)
    opened = page.post("/nachrichten/gruppe/", {"user": [str(ben.pk), str(carla.pk)]})
    assert opened.status_code == 302
    conversation = Conversation.objects.get(kind="direct")
    assert opened["Location"] == f"/nachrichten/{conversation.pk}/"
    shown = page.get(opened["Location"])
    assert "Ben Öztürk und Carla Schmitz" in shown.content.decode()
    assert f"?mit={ben.pk},{carla.pk}" in shown.content.decode()
    directory = page.get(f"/personen/?mit={ben.pk},{carla.pk}")
    assert "Person hinzufügen" in directory.content.decode()
    nobody = page.post("/nachrichten/gruppe/", {})
    assert nobody.status_code == 400
    assert "Bitte wählen Sie mindestens eine Person aus." in nobody.content.decode()
    # "Person hinzufügen" with nobody ticked: the same message, not the old conversation,
    # and the way back keeps the people already in it.
    assert f'name="mit" value="{ben.pk}"' in directory.content.decode()
    nobody_added = page.post("/nachrichten/gruppe/", {"mit": [str(ben.pk), str(carla.pk)]})
    assert nobody_added.status_code == 400
    assert "Bitte wählen Sie mindestens eine Person aus." in nobody_added.content.decode()
    assert f'href="/personen/?mit={ben.pk},{carla.pk}"' in nobody_added.content.decode()
    assert Conversation.objects.filter(kind="direct").count() == 1
    Block.objects.create(blocker=carla, blocked=ben)
    refused = page.post("/nachrichten/gruppe/", {"user": [str(ben.pk), str(carla.pk), "x"]})
    assert refused.status_code == 400
    # A block refuses even the set whose conversation exists (as the 1:1 form does).
    refused = page.post("/nachrichten/gruppe/", {"user": [str(ben.pk), str(carla.pk)]})
    assert refused.status_code == 403
    assert "nicht möglich" in refused.content.decode()
    new_set = page.post(
        "/nachrichten/gruppe/", {"user": [str(ben.pk), str(carla.pk), str(four["dieter"].pk)]}
    )
    assert new_set.status_code == 403
