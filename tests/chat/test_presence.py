"""Presence (PROTOCOL.md 1.1, "Presence") over the real ASGI application and HTTP:
who is online, only for people who share a group or a conversation, never for
people who switched it off or blocked one another; bad input answered, the
connection kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from accounts.actions import do_update_profile
from accounts.models import Block
from chat.actions import do_get_or_create_direct_conversation
from realtime import presence
from tests.chat.helpers import Client, connect, group_with
from tests.chat.test_api import Api

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture(autouse=True)
def _fresh_presence() -> Iterator[None]:
    presence.reset_for_tests()
    yield
    presence.reset_for_tests()


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Öztürk")
    carla = make_user("Carla Schmitz")
    dora = make_user("Dora Stranger")
    group_with(anna, ben, carla)
    return {"anna": anna, "ben": ben, "carla": carla, "dora": dora}


async def watch(client: Client, users: list[Any]) -> None:
    await client.send({"type": "presence_subscribe", "users": users})


async def presence_frames(client: Client, count: int) -> dict[int, dict[str, Any]]:
    frames = {}
    for _ in range(count):
        frame = await client.receive()
        assert frame["type"] == "presence", frame
        frames[frame["user"]] = frame
    return frames


async def test_a_member_sees_another_come_online_and_go(people):
    anna, ben_id = people["anna"], people["ben"].pk
    watcher = await connect(anna)
    await watch(watcher, [ben_id])
    assert await watcher.receive() == {
        "type": "presence",
        "user": ben_id,
        "online": False,
        "last_seen": None,
    }
    ben = await connect(people["ben"])
    assert await watcher.receive() == {
        "type": "presence",
        "user": ben_id,
        "online": True,
        "last_seen": None,
    }
    await ben.close()
    gone = await watcher.receive()
    assert gone["type"] == "presence"
    assert gone["user"] == ben_id
    assert gone["online"] is False
    assert gone["last_seen"].startswith("20")
    assert await watcher.nothing()
    await watcher.close()


async def test_the_answer_comes_at_once_for_those_already_online(people):
    ben = await connect(people["ben"])
    carla = await connect(people["carla"])
    watcher = await connect(people["anna"])
    await watch(watcher, [people["ben"].pk, people["carla"].pk])
    frames = await presence_frames(watcher, 2)
    assert frames[people["ben"].pk]["online"] is True
    assert frames[people["carla"].pk]["online"] is True
    assert await watcher.nothing()
    for client in (ben, carla, watcher):
        await client.close()


async def test_strangers_and_unknown_ids_are_left_out_silently(people):
    watcher = await connect(people["anna"])
    dora = await connect(people["dora"])
    await watch(watcher, [people["dora"].pk, 987654321, people["ben"].pk])
    frames = await presence_frames(watcher, 1)
    assert list(frames) == [people["ben"].pk]
    assert await watcher.nothing()
    await dora.close()
    assert await watcher.nothing()
    await watcher.close()


async def test_one_of_two_connections_closing_keeps_the_person_online(people):
    watcher = await connect(people["anna"])
    first = await connect(people["ben"])
    second = await connect(people["ben"])
    await watch(watcher, [people["ben"].pk])
    assert (await watcher.receive())["online"] is True
    await first.close()
    assert await watcher.nothing()
    await second.close()
    assert (await watcher.receive())["online"] is False
    await watcher.close()


async def test_each_subscribe_replaces_the_previous_set(people):
    watcher = await connect(people["anna"])
    await watch(watcher, [people["ben"].pk])
    await presence_frames(watcher, 1)
    await watch(watcher, [people["carla"].pk])
    frames = await presence_frames(watcher, 1)
    assert list(frames) == [people["carla"].pk]
    ben = await connect(people["ben"])
    carla = await connect(people["carla"])
    frame = await watcher.receive()
    assert (frame["user"], frame["online"]) == (people["carla"].pk, True)
    assert await watcher.nothing()
    await watch(watcher, [])
    assert await watcher.nothing()  # the ping's pong: the empty set is in place
    await carla.close()
    assert await watcher.nothing()
    for client in (ben, watcher):
        await client.close()


async def test_a_shared_direct_conversation_is_enough(people):
    await db(do_get_or_create_direct_conversation)(
        actor=people["dora"], other_user_id=people["anna"].pk
    )
    watcher = await connect(people["anna"])
    await watch(watcher, [people["dora"].pk])
    frames = await presence_frames(watcher, 1)
    assert list(frames) == [people["dora"].pk]
    await watcher.close()


async def test_oneself_is_shown(people):
    watcher = await connect(people["anna"])
    await watch(watcher, [people["anna"].pk])
    frame = await watcher.receive()
    assert (frame["user"], frame["online"]) == (people["anna"].pk, True)
    await watcher.close()


async def test_someone_who_switched_presence_off_is_left_out(people):
    await db(do_update_profile)(actor=people["ben"], changes={"show_presence": False})
    ben = await connect(people["ben"])
    watcher = await connect(people["anna"])
    await watch(watcher, [people["ben"].pk, people["carla"].pk])
    frames = await presence_frames(watcher, 1)
    assert list(frames) == [people["carla"].pk]
    assert await watcher.nothing()
    await ben.close()
    assert await watcher.nothing()
    await watcher.close()


HIDDEN = {"online": False, "last_seen": None, "hidden": True}


async def test_switching_presence_off_hides_the_person_from_every_watch_at_once(people):
    ben = await connect(people["ben"])
    watcher = await connect(people["anna"])
    await watch(watcher, [people["ben"].pk])
    assert (await watcher.receive())["online"] is True
    await db(do_update_profile)(actor=people["ben"], changes={"show_presence": False})
    assert await watcher.receive() == {"type": "presence", "user": people["ben"].pk, **HIDDEN}
    await ben.close()
    other = await connect(people["ben"])
    assert await watcher.nothing()
    await other.close()
    await watcher.close()


async def test_switching_presence_on_again_sends_the_state_to_open_watches(people):
    """A watch from before the switch-off and one made while hidden (which was told
    nothing of the person) both get the current state at once, then each change."""
    ben_id = people["ben"].pk
    ben = await connect(people["ben"])
    before = await connect(people["anna"])
    await watch(before, [ben_id])
    assert (await before.receive())["online"] is True
    await db(do_update_profile)(actor=people["ben"], changes={"show_presence": False})
    assert (await before.receive())["hidden"] is True
    during = await connect(people["carla"])
    await watch(during, [ben_id])
    assert await during.nothing()

    await db(do_update_profile)(actor=people["ben"], changes={"show_presence": True})
    for client in (before, during):
        assert await client.receive() == {
            "type": "presence",
            "user": ben_id,
            "online": True,
            "last_seen": None,
        }
    await ben.close()
    for client in (before, during):
        frame = await client.receive()
        assert (frame["user"], frame["online"]) == (ben_id, False)
        assert frame["last_seen"] is not None
        assert "hidden" not in frame
    await before.close()
    await during.close()


async def test_strangers_get_nothing_when_someone_switches_presence_on(people):
    dora = await connect(people["dora"])
    await db(do_update_profile)(actor=people["ben"], changes={"show_presence": False})
    await watch(dora, [people["ben"].pk])
    await db(do_update_profile)(actor=people["ben"], changes={"show_presence": True})
    assert await dora.nothing()
    await dora.close()


@pytest.mark.parametrize("direction", ["viewer blocked", "blocked the viewer"])
async def test_a_block_hides_presence_both_ways(people, direction):
    anna, ben = people["anna"], people["ben"]
    blocker, blocked = (anna, ben) if direction == "viewer blocked" else (ben, anna)
    await db(Block.objects.create)(blocker=blocker, blocked=blocked)
    watcher = await connect(anna)
    await watch(watcher, [ben.pk, people["carla"].pk])
    frames = await presence_frames(watcher, 1)
    assert list(frames) == [people["carla"].pk]
    await watcher.close()


@pytest.mark.parametrize(
    ("users", "detail"),
    [
        (None, "Liste"),
        ("1,2", "Liste"),
        ({"id": 1}, "Liste"),
        (["1"], "ganze Zahl"),
        ([1.5], "ganze Zahl"),
        ([True], "ganze Zahl"),
        ([0], "ganze Zahl"),
        ([-3], "ganze Zahl"),
        ([2**63], "ganze Zahl"),
        ([[1]], "ganze Zahl"),
        (list(range(1, 502)), "Höchstens 500"),
        (list(range(1, 10_001)), "Höchstens 500"),
    ],
)
async def test_bad_lists_are_refused_and_the_connection_stays(people, users, detail):
    watcher = await connect(people["anna"])
    frame: dict[str, Any] = {"type": "presence_subscribe", "ref": "p1"}
    if users is not None:
        frame["users"] = users
    await watcher.send(frame)
    error = await watcher.receive()
    assert error["type"] == "error"
    assert error["code"] == "bad_request"
    assert error["ref"] == "p1"
    assert detail in error["detail"]
    assert await watcher.nothing()
    await watch(watcher, [people["ben"].pk])
    assert (await watcher.receive())["user"] == people["ben"].pk
    await watcher.close()


async def test_a_refused_list_keeps_the_previous_watch(people):
    watcher = await connect(people["anna"])
    await watch(watcher, [people["ben"].pk])
    await presence_frames(watcher, 1)
    await watch(watcher, ["ben"])
    assert (await watcher.receive())["code"] == "bad_request"
    ben = await connect(people["ben"])
    frame = await watcher.receive()
    assert (frame["user"], frame["online"]) == (people["ben"].pk, True)
    await ben.close()
    await watcher.close()


async def test_500_ids_are_fine(people):
    watcher = await connect(people["anna"])
    ids = [people["ben"].pk, *range(10_000_000, 10_000_499)]
    await watch(watcher, ids)
    frames = await presence_frames(watcher, 1)
    assert list(frames) == [people["ben"].pk]
    assert await watcher.nothing()
    await watcher.close()


# -- HTTP -------------------------------------------------------------------------


def presence_get(api: Api, *ids: Any) -> Any:
    return api.client.get("/api/v1/presence", {"user": [str(i) for i in ids]})


def test_http_answers_the_same_rule(people, transactional_db):
    do_update_profile(actor=people["carla"], changes={"show_presence": False})
    api = Api(people["anna"])
    response = presence_get(api, people["ben"].pk, people["carla"].pk, people["dora"].pk, 424242)
    assert response.status_code == 200
    assert response.json() == {
        "results": [{"user": people["ben"].pk, "online": False, "last_seen": None}]
    }


def test_http_sees_a_socket_of_the_person(people, transactional_db):
    import asyncio

    async def scenario() -> dict[str, Any]:
        ben = await connect(people["ben"])
        watcher = await connect(people["anna"])
        await watch(watcher, [people["ben"].pk])
        await watcher.receive()
        answer = await db(lambda: presence_get(Api(people["anna"]), people["ben"].pk).json())()
        await ben.close()
        frame = await watcher.receive()
        after = await db(lambda: presence_get(Api(people["anna"]), people["ben"].pk).json())()
        await watcher.close()
        return {"during": answer, "frame": frame, "after": after}

    seen = asyncio.run(scenario())
    assert seen["during"]["results"][0]["online"] is True
    after = seen["after"]["results"][0]
    assert after["online"] is False
    # The same time, written the same way, over HTTP and in the frame.
    assert after["last_seen"] == seen["frame"]["last_seen"]
    assert after["last_seen"].endswith("+00:00")


@pytest.mark.parametrize(
    "query",
    [
        {"user": ["abc"]},
        {"user": ["1.5"]},
        {"user": ["-1"]},
        {"user": ["0"]},
        {"user": ["99999999999999999999999"]},
        {"user": [str(i) for i in range(1, 502)]},
    ],
)
def test_http_bad_ids_are_a_400(people, transactional_db, query):
    api = Api(people["anna"])
    response = api.client.get("/api/v1/presence", query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert "user" in response.json()["error"]["fields"]


def test_http_10000_ids_are_a_400_too(people, transactional_db):
    api = Api(people["anna"])
    api.client.raise_request_exception = False
    response = api.client.get("/api/v1/presence", {"user": [str(i) for i in range(1, 10_001)]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_http_without_ids_is_an_empty_list(people, transactional_db):
    response = Api(people["anna"]).client.get("/api/v1/presence")
    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_http_needs_a_signed_in_person(people, transactional_db):
    from django.test import Client as HttpClient

    response = HttpClient().get("/api/v1/presence", {"user": [str(people["ben"].pk)]})
    assert response.status_code == 401


def test_the_setting_is_in_my_profile_and_export(people, transactional_db):
    api = Api(people["ben"])
    assert api.get("/me").json()["show_presence"] is True
    changed = api.patch("/me", {"show_presence": False})
    assert changed.status_code == 200
    assert changed.json()["show_presence"] is False
    refused = api.patch("/me", {"show_presence": "vielleicht"})
    assert refused.status_code == 400
    export = api.get("/me/export")
    document = json.loads(export.content)
    assert document["profile"]["show_presence"] is False
    assert "last_digest_at" not in document["profile"]
