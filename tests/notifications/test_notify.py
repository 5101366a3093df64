"""do_notify: stored in the cause's transaction, published after the commit, to every
open connection of the recipient and nobody else; e-mail due time and de-duplication."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections, transaction
from django.utils import timezone

from notifications.actions import do_notify
from notifications.models import Notification
from realtime.frames import encode, user_topic
from realtime.hub import get_hub
from realtime.publish import publish_now

KIND_DATA: dict[str, dict[str, Any]] = {
    "join_request": {
        "group": {"slug": "stahl", "name": "Stahlbau Ruhr"},
        "request_id": 1,
        "requester": {"id": 9, "display_name": "Jörg Müller"},
        "message": "Ich würde gern mitmachen.",
        "url": "/gruppen/stahl/anfragen/",
    },
    "join_approved": {"group": {"slug": "stahl", "name": "Stahlbau Ruhr"}, "request_id": 1},
    "join_declined": {"group": {"slug": "stahl", "name": "Stahlbau Ruhr"}, "reason": "Voll"},
    "direct_message": {
        "conversation": 5,
        "message": 7,
        "seq": 3,
        "author": {"id": 9, "display_name": "Jörg Müller"},
        "preview": "Hallo Anna, passt Dienstag?",
    },
    "mention": {
        "conversation": 6,
        "message": 8,
        "seq": 4,
        "author": {"id": 9, "display_name": "Jörg Müller"},
        "preview": "@Anna Becker was meinst du?",
    },
    "reply": {
        "conversation": 6,
        "conversation_title": "Stahlbau Ruhr",
        "message": 9,
        "seq": 5,
        "author": {"id": 9, "display_name": "Jörg Müller"},
        "preview": "Ja, Dienstag passt.",
        "reply_to": {"id": 8, "seq": 4},
    },
    "role_changed": {"group": {"slug": "stahl", "name": "Stahlbau Ruhr"}, "role": "admin"},
    "invitation": {
        "group": {"slug": "stahl", "name": "Stahlbau Ruhr"},
        "invitation_id": 3,
        "invited_by": {"id": 9, "display_name": "Jörg Müller"},
    },
    "company_claim": {
        "company": {"slug": "stahlbau-witten", "name": "Stahlbau Witten"},
        "claim_id": 4,
        "person": {"id": 9, "display_name": "Jörg Müller"},
        "responsibility": "Ausbildung",
        "url": "/unternehmen/stahlbau-witten/#offene-zuordnungen",
    },
    "match": {
        "post": {
            "id": 4,
            "kind": "request",
            "category": "freight",
            "title": "Ladung nach München",
            "summary": "44787 Bochum → 80331 München",
            "group": {"slug": "mobilitaet", "name": "Mobilität"},
        },
        "matched": {"type": "post", "id": 3, "title": "Freier Laderaum"},
        "count": 1,
        "url": "/brett/4/",
    },
    "unanswered": {
        "group": {"slug": "stahl", "name": "Stahlbau Ruhr"},
        "conversation": 6,
        "message": 8,
        "seq": 4,
        "author": {"id": 9, "display_name": "Jörg Müller"},
        "preview": "Wer kennt einen Ausbildungsbetrieb?",
        "reason": "Sie wurden gefragt, weil „Ausbildung“ eines Ihrer Themen ist.",
    },
    "group_quiet": {
        "group": {"slug": "stahl", "name": "Stahlbau Ruhr"},
        "quiet_days": 14,
        "suggestions": ["Stellen Sie eine Frage."],
    },
    "warning": {
        "conversation": 6,
        "conversation_title": "Stahlbau Ruhr",
        "message": 8,
        "seq": 4,
        "text": "Eine Ihrer Nachrichten in „Stahlbau Ruhr“ wurde gemeldet.",
        "preview": "Kauft billig!",
        "group_slug": "stahl",
        "group_name": "Stahlbau Ruhr",
        "url": "/gruppen/stahl/",
    },
    "member_removed": {
        "group": {"slug": "stahl", "name": "Stahlbau Ruhr"},
        "url": "/gruppen/stahl/",
    },
}


def test_every_protocol_kind_is_covered() -> None:
    assert set(KIND_DATA) == set(Notification.Kind.values)


def test_stores_once_per_thing(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    first = do_notify(recipient=anna, kind="mention", data={"x": 1}, dedupe_key="mention:1:1")
    second = do_notify(recipient=anna, kind="mention", data={"x": 2}, dedupe_key="mention:1:1")
    assert first is not None
    assert second is None
    assert list(Notification.objects.filter(recipient=anna).values_list("data", flat=True)) == [
        {"x": 1}
    ]


def test_duplicate_inside_a_larger_transaction_keeps_the_transaction_usable(
    make_user: Any,
) -> None:
    anna = make_user("Anna Becker")
    bernd = make_user("Bernd Schulz")
    with transaction.atomic():
        do_notify(recipient=anna, kind="mention", data={}, dedupe_key="k")
        assert do_notify(recipient=anna, kind="mention", data={}, dedupe_key="k") is None
        do_notify(recipient=bernd, kind="mention", data={}, dedupe_key="k")
    assert Notification.objects.count() == 2


def test_unknown_kind_is_a_programming_error(make_user: Any) -> None:
    with pytest.raises(ValueError):
        do_notify(recipient=make_user(), kind="gossip", data={}, dedupe_key="x")


@pytest.mark.parametrize(
    ("kind", "emailed"),
    [
        ("join_request", True),
        ("direct_message", True),
        ("mention", True),
        ("invitation", True),
        ("join_approved", True),
        ("join_declined", True),
        ("role_changed", False),
    ],
)
def test_email_is_owed_after_the_delay_for_emailed_kinds(
    make_user: Any, settings: Any, kind: str, emailed: bool
) -> None:
    settings.NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS = 600
    anna = make_user("Anna Becker")
    before = timezone.now()
    notification = do_notify(recipient=anna, kind=kind, data=KIND_DATA[kind], dedupe_key="k")
    assert notification is not None
    notification.refresh_from_db()
    if emailed:
        assert notification.email_due_at is not None
        delay = notification.email_due_at - notification.created_at
        assert delay == timedelta(seconds=600)
        assert notification.created_at >= before
    else:
        assert notification.email_due_at is None


@pytest.mark.parametrize(
    ("frequency", "owed"), [("immediate", True), ("digest", False), ("off", False)]
)
def test_only_immediate_gets_single_emails(make_user: Any, frequency: str, owed: bool) -> None:
    anna = make_user("Anna Becker", email_frequency=frequency)
    notification = do_notify(
        recipient=anna, kind="direct_message", data=KIND_DATA["direct_message"], dedupe_key="k"
    )
    assert notification is not None
    assert (notification.email_due_at is not None) is owed


def test_caller_can_opt_out_of_the_email(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    notification = do_notify(recipient=anna, kind="mention", data={}, dedupe_key="k", email=False)
    assert notification is not None
    assert notification.email_due_at is None


class Connection:
    """Stands in for one open socket: subscribes to a user's topic on the hub."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def deliver(self, topic: str, message: dict[str, Any]) -> None:
        self.frames.put_nowait(json.loads(message["text"]))

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), timeout=5)


@pytest.fixture
async def close_db_connections() -> Any:
    """Async tests touch the database from worker threads; close their connections so
    the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


async def connect(user_id: int) -> Connection:
    connection = Connection()
    await get_hub().subscribe(user_topic(user_id), connection)
    return connection


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_every_kind_reaches_every_connection_of_the_recipient_only(
    make_user: Any,
) -> None:
    anna = await sync_to_async(make_user)("Anna Becker")
    bernd = await sync_to_async(make_user)("Bernd Schulz")
    tabs = [await connect(anna.pk), await connect(anna.pk)]
    bystander = await connect(bernd.pk)

    def notify_all() -> list[int]:
        ids = []
        for kind, data in KIND_DATA.items():
            with transaction.atomic():
                notification = do_notify(
                    recipient=anna, kind=kind, data=data, dedupe_key=f"{kind}:1"
                )
                assert notification is not None
                ids.append(notification.pk)
        return ids

    ids = await sync_to_async(notify_all)()
    for tab in tabs:
        received = [await tab.next() for _ in KIND_DATA]
        assert [frame["kind"] for frame in received] == list(KIND_DATA)
        assert [frame["id"] for frame in received] == ids
        for frame in received:
            assert frame["type"] == "notification"
            assert frame["data"] == KIND_DATA[frame["kind"]]
            assert set(frame) == {"type", "id", "kind", "data", "created_at"}
    # Bernd's connection hears the marker sent after everything, and nothing before it.
    await sync_to_async(publish_now)(user_topic(bernd.pk), encode({"type": "marker"}))
    assert await bystander.next() == {"type": "marker"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_rolled_back_cause_publishes_and_stores_nothing(make_user: Any) -> None:
    anna = await sync_to_async(make_user)("Anna Becker")
    tab = await connect(anna.pk)

    class Cancelled(Exception):
        pass

    def notify_then_fail() -> None:
        with transaction.atomic():
            do_notify(recipient=anna, kind="mention", data={}, dedupe_key="rolled-back")
            raise Cancelled

    with pytest.raises(Cancelled):
        await sync_to_async(notify_then_fail)()
    await sync_to_async(publish_now)(user_topic(anna.pk), encode({"type": "marker"}))
    assert await tab.next() == {"type": "marker"}
    assert not await Notification.objects.filter(recipient=anna).aexists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_nothing_is_published_before_the_commit(make_user: Any) -> None:
    anna = await sync_to_async(make_user)("Anna Becker")
    tab = await connect(anna.pk)
    inside = asyncio.Event()
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def notify_and_wait() -> None:
        try:
            with transaction.atomic():
                do_notify(recipient=anna, kind="mention", data={}, dedupe_key="slow")
                loop.call_soon_threadsafe(inside.set)
                asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=5)
        finally:
            connection.close()

    task = asyncio.ensure_future(sync_to_async(notify_and_wait, thread_sensitive=False)())
    await asyncio.wait_for(inside.wait(), timeout=5)
    await sync_to_async(publish_now)(user_topic(anna.pk), encode({"type": "marker"}))
    assert await tab.next() == {"type": "marker"}
    release.set()
    await task
    frame = await tab.next()
    assert frame["type"] == "notification"
    assert frame["kind"] == "mention"
