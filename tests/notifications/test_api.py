"""GET /notifications and POST /notifications/read: own notifications only, bad input
answered 400 with fields."""

from __future__ import annotations

from typing import Any

import pytest

from notifications.actions import do_notify
from notifications.models import Notification

from .conftest import Api


def notify_many(person: Any, count: int, prefix: str = "n") -> list[int]:
    ids = []
    for number in range(count):
        notification = do_notify(
            recipient=person,
            kind="mention",
            data={"conversation": 3, "author": {"display_name": "Jörg"}, "preview": "Hallo"},
            dedupe_key=f"{prefix}:{number}",
        )
        assert notification is not None
        ids.append(notification.pk)
    return ids


def test_anonymous_gets_401() -> None:
    assert Api(None).get("/notifications").status_code == 401
    assert Api(None).post("/notifications/read", {"all": True}).status_code == 401


def test_list_is_mine_newest_first_and_paginated(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    bernd = make_user("Bernd Schulz")
    mine = notify_many(anna, 5)
    notify_many(bernd, 2)
    api = Api(anna)
    first = api.get("/notifications?limit=3").json()
    assert [item["id"] for item in first["results"]] == mine[::-1][:3]
    assert first["results"][0]["url"] == "/nachrichten/3/"
    assert first["results"][0]["read_at"] is None
    second = api.get(f"/notifications?limit=3&cursor={first['next']}").json()
    assert [item["id"] for item in second["results"]] == mine[::-1][3:]
    assert second["next"] is None


def test_unread_filter_and_mark_some_read(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    ids = notify_many(anna, 3)
    api = Api(anna)
    response = api.post("/notifications/read", {"ids": [ids[0], ids[1]]})
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread_count": 1}
    unread = api.get("/notifications?unread=true").json()["results"]
    assert [item["id"] for item in unread] == [ids[2]]
    everything = api.get("/notifications").json()["results"]
    assert len(everything) == 3


def test_mark_all_read(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    notify_many(anna, 4)
    response = Api(anna).post("/notifications/read", {"all": True})
    assert response.json() == {"marked": 4, "unread_count": 0}
    assert not Notification.objects.filter(recipient=anna, read_at=None).exists()


def test_others_ids_are_ignored_and_not_revealed(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    bernd = make_user("Bernd Schulz")
    (theirs,) = notify_many(bernd, 1)
    (mine,) = notify_many(anna, 1)
    missing = theirs + mine + 1000
    foreign = Api(anna).post("/notifications/read", {"ids": [theirs]})
    unknown = Api(anna).post("/notifications/read", {"ids": [missing]})
    assert foreign.status_code == unknown.status_code == 200
    assert foreign.json() == unknown.json() == {"marked": 0, "unread_count": 1}
    assert Notification.objects.get(pk=theirs).read_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "ids"),
        ({"ids": []}, "ids"),
        ({"all": False}, "ids"),
        ({"ids": ["eins"]}, "ids"),
        ({"ids": 5}, "ids"),
        ({"all": "ja"}, "all"),
        ({"ids": [1], "all": True}, "__all__"),
        ({"ids": list(range(1, 502))}, "ids"),
    ],
)
def test_bad_read_input_is_400_with_fields(make_user: Any, body: Any, field: str) -> None:
    response = Api(make_user()).post("/notifications/read", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert field in error["fields"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("unread=vielleicht", "unread"), ("cursor=abc", "cursor"), ("limit=0", "limit")],
)
def test_bad_list_input_is_400_with_fields(make_user: Any, query: str, field: str) -> None:
    response = Api(make_user()).get(f"/notifications?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_not_json_is_400(make_user: Any) -> None:
    api = Api(make_user())
    response = api.client.post(
        "/api/v1/notifications/read", data="ids=1", content_type="application/json"
    )
    assert response.status_code == 400


def test_out_of_range_numbers_are_no_500(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    (mine,) = notify_many(anna, 1)
    api = Api(anna)
    huge = 10**30
    response = api.post("/notifications/read", {"ids": [huge, mine]})
    assert response.status_code == 400
    assert "ids" in response.json()["error"]["fields"]
    listing = api.get(f"/notifications?cursor={huge}")
    assert listing.status_code == 400
    assert "cursor" in listing.json()["error"]["fields"]
    assert api.client.get(f"/benachrichtigungen/{huge}/").status_code == 404
