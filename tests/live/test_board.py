"""The board against real daphne processes, embedded (SQLite, no Redis) and in
production (DEBUG=0, PostgreSQL + Redis, two processes): a post is a message with its
card on every process, the match arrives live, "Interesse" opens the direct
conversation, bad input is a 400 with German messages per field."""

from __future__ import annotations

import datetime as dt

from tests.live.client import api, expect
from tests.live.conftest import Deployment


def day(offset: int) -> str:
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


def freight(kind: str, **fields: object) -> dict[str, object]:
    return {
        "kind": kind,
        "category": "freight",
        "title": "Laderaum Bochum → München" if kind == "offer" else "Ladung nach München",
        "fields": {
            "from_postcode": "44787",
            "from_city": "Bochum",
            "to_postcode": "80331",
            "to_city": "München",
            "earliest": day(3),
            "latest": day(5),
            "loading_metres": 13.6 if kind == "offer" else 6.5,
            "weight_t": 24 if kind == "offer" else 8,
            "vehicle": "plane",
            **fields,
        },
    }


async def test_post_card_match_and_interest(live: Deployment) -> None:
    hans, sabine = live.person("Hans Spedition"), live.person("Sabine Versand")
    group = live.group(hans, sabine)
    conversation, slug = group["conversation_id"], group["slug"]
    watcher = await live.socket(sabine, live.second)
    await watcher.subscribe(conversation, after=0)
    haulier = await live.socket(hans, live.first)

    with api(live.http_url, hans) as client:
        capacity = expect(client.post(f"/groups/{slug}/posts", json=freight("offer")), 201)
    [message] = await watcher.messages(1)
    assert message["id"] == capacity["message_id"]
    assert message["post"]["id"] == capacity["id"]
    assert message["post"]["status"] == "open"

    with api(live.http_url, sabine) as client:
        load = expect(client.post(f"/groups/{slug}/posts", json=freight("request")), 201)
        assert [m["id"] for m in load["matches"]] == [capacity["id"]]
        board = expect(client.get("/board?q=München&city=Bochum"), 200)
        assert {p["id"] for p in board["results"]} == {capacity["id"], load["id"]}
    notification = await haulier.receive_type("notification")
    assert notification["kind"] == "match"
    assert notification["data"]["post"]["id"] == load["id"]

    with api(live.http_url, hans) as client:
        contact = expect(
            client.post(f"/posts/{load['id']}/contact", json={"message": "Passt!"}), 201
        )
        history = expect(client.get(f"/conversations/{contact['conversation_id']}/messages"), 200)
        assert history["results"][-1]["post"]["id"] == load["id"]
        expect(client.patch(f"/posts/{capacity['id']}", json={"status": "filled"}), 200)
    updated = await watcher.receive_type("post_updated")
    assert (updated["message"], updated["post"]["status"]) == (capacity["message_id"], "filled")
    for socket in (watcher, haulier):
        await socket.close()


async def test_bad_post_is_a_400_with_german_fields_and_nothing_stored(live: Deployment) -> None:
    hans = live.person("Hans Spedition")
    slug = live.group(hans)["slug"]
    with api(live.http_url, hans) as client:
        body = freight("offer", from_postcode="447870", loading_metres=14, earliest=day(-1))
        error = expect(client.post(f"/groups/{slug}/posts", json=body), 400)["error"]
        assert error["fields"]["fields.from_postcode"] == [
            "Bitte eine deutsche Postleitzahl mit fünf Ziffern angeben."
        ]
        assert error["fields"]["fields.loading_metres"] == ["Erlaubt sind 0,1 bis 13,6 m."]
        assert error["fields"]["fields.earliest"] == ["Das Datum liegt in der Vergangenheit."]
        expect(client.post(f"/groups/{slug}/posts", content=b"\xff{"), 400)
        assert expect(client.get(f"/board?group={slug}&status=all"), 200)["results"] == []
        names = expect(client.get("/occupations?q=Kaufmann"), 200)["results"]
        assert {"name": "Kaufmann/-frau für Büromanagement"} in names
