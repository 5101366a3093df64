"""The send action under load and failure: gapless order with real parallel
transactions, idempotency under a race, nothing published for a rollback, and access
withdrawn while connected."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction

from chat.actions import do_remove_participant, do_send_message, do_update_group_conversation
from chat.models import Conversation, Message
from realtime.frames import user_topic
from tests.chat.helpers import connect, gather, group_with, publish_marker

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def in_parallel(workers: int, work: Any) -> list[Any]:
    """Run `work(index)` in `workers` threads started together, each with its own
    database connection (real concurrent transactions)."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_concurrent_senders_get_gapless_seq(make_user: Any) -> None:
    senders = [make_user(f"Sender {i}") for i in range(8)]
    conversation = group_with(*senders)
    per_sender = 25

    def send_many(index: int) -> list[int]:
        return [
            do_send_message(
                actor=senders[index],
                conversation_id=conversation.pk,
                body=f"{index}/{n}",
                client_id=f"s{index}-{n}",
            )[0].seq
            for n in range(per_sender)
        ]

    results = in_parallel(len(senders), send_many)
    total = len(senders) * per_sender
    seqs = sorted(Message.objects.filter(conversation=conversation).values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    assert Conversation.objects.get(pk=conversation.pk).last_seq == total
    for sent in results:  # each sender's own messages in the order it sent them
        assert sent == sorted(sent)


def test_the_same_client_id_raced_from_two_threads_stores_one_message(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    conversation = group_with(anna)

    def send(index: int) -> tuple[int, bool]:
        message, created = do_send_message(
            actor=anna, conversation_id=conversation.pk, body="Einmal bitte", client_id="race"
        )
        return message.pk, created

    results = in_parallel(6, send)
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Message.objects.filter(author=anna).count() == 1
    assert Conversation.objects.get(pk=conversation.pk).last_seq == 1


def test_a_client_id_reused_in_another_conversation_is_a_conflict(make_user: Any) -> None:
    from realtime.errors import ClientError

    anna = make_user("Anna Becker")
    first, second = group_with(anna), group_with(anna, title="Zweite")
    do_send_message(actor=anna, conversation_id=first.pk, body="a", client_id="same")
    with pytest.raises(ClientError) as error:
        do_send_message(actor=anna, conversation_id=second.pk, body="b", client_id="same")
    assert error.value.code == "conflict"


async def test_concurrent_websocket_senders_reach_a_subscriber_completely(make_user):
    people = [await db(make_user)(f"Person {i}") for i in range(5)]
    conversation = await db(group_with)(*people)
    listener = await connect(people[0])
    await listener.subscribe(conversation.pk, after=0)
    senders = [await connect(person) for person in people]

    async def burst(index: int) -> list[int]:
        acks = []
        for n in range(8):
            frame = {
                "type": "send",
                "conversation": conversation.pk,
                "body": f"{index}-{n}",
                "client_id": f"w{index}-{n}",
            }
            acks.append((await senders[index].request(frame, "ack"))["seq"])
        return acks

    acked = await gather(*(burst(i) for i in range(5)))
    all_acked = sorted(seq for acks in acked for seq in acks)
    assert all_acked == list(range(1, 41))
    received = [(await listener.quiet_until("message"))["seq"] for _ in range(40)]
    assert sorted(received) == list(range(1, 41))  # every one, exactly once
    await db(do_send_message)(
        actor=people[1], conversation_id=conversation.pk, body="Marke", client_id="marker"
    )
    assert (await listener.quiet_until("message"))["seq"] == 41  # no repeat before it
    for client in [listener, *senders]:
        await client.close()


async def test_nothing_is_published_for_a_rolled_back_transaction(make_user):
    anna = await db(make_user)("Anna Becker")
    ben = await db(make_user)("Ben Öztürk")
    conversation = await db(group_with)(anna, ben)
    listener = await connect(ben)
    await listener.subscribe(conversation.pk)

    class Abort(Exception):
        pass

    def send_then_fail() -> None:
        with transaction.atomic():
            do_send_message(
                actor=anna, conversation_id=conversation.pk, body="nie", client_id="rb-1"
            )
            raise Abort

    with pytest.raises(Abort):
        await db(send_then_fail)()
    assert await db(Message.objects.count)() == 0
    assert (await db(Conversation.objects.get)(pk=conversation.pk)).last_seq == 0
    # The same client_id is free again, and numbering starts at 1.
    message, created = await db(do_send_message)(
        actor=anna, conversation_id=conversation.pk, body="jetzt", client_id="rb-1"
    )
    assert (message.seq, created) == (1, True)
    # The first frame after the rollback is the committed message, never "nie".
    assert (await listener.quiet_until("message"))["body"] == "jetzt"
    await listener.close()


async def test_removed_member_stops_receiving_at_once(make_user):
    anna = await db(make_user)("Anna Becker")
    ben = await db(make_user)("Ben Öztürk")
    conversation = await db(group_with)(anna, ben)
    ben_socket = await connect(ben)
    await ben_socket.subscribe(conversation.pk)
    await db(do_send_message)(
        actor=anna, conversation_id=conversation.pk, body="vorher", client_id="x1"
    )
    assert (await ben_socket.receive_type("message"))["body"] == "vorher"

    def remove_then_send() -> None:
        do_remove_participant(conversation=conversation, user=ben)
        do_send_message(actor=anna, conversation_id=conversation.pk, body="danach", client_id="x2")

    await db(remove_then_send)()
    notice = await ben_socket.receive()
    assert notice["type"] == "error"
    assert notice["code"] == "forbidden"
    assert notice["conversation"] == conversation.pk
    await db(publish_marker)(user_topic(ben.pk))
    await ben_socket.quiet_until("marker")  # "danach" never reached the removed member
    answer = await ben_socket.request(
        {"type": "subscribe", "conversation": conversation.pk, "after": 0}, "subscribed"
    )
    assert answer["code"] == "forbidden"
    await ben_socket.close()


async def test_a_group_turning_closed_drops_its_non_member_readers(make_user):
    anna = await db(make_user)("Anna Becker")
    carla = await db(make_user)("Carla Schmitz")
    conversation = await db(group_with)(anna, open_group=True)
    anna_socket = await connect(anna)
    carla_socket = await connect(carla)
    await anna_socket.subscribe(conversation.pk)
    await carla_socket.subscribe(conversation.pk)
    await db(do_update_group_conversation)(
        conversation=conversation, title="Geschlossen", readable_by_all=False
    )
    notice = await carla_socket.receive()
    assert (notice["code"], notice["conversation"]) == ("forbidden", conversation.pk)
    await db(do_send_message)(
        actor=anna, conversation_id=conversation.pk, body="intern", client_id="c1"
    )
    assert (await anna_socket.receive_type("message"))["body"] == "intern"
    await db(publish_marker)(user_topic(carla.pk))
    await carla_socket.quiet_until("marker")  # "intern" never reached the outsider
    await anna_socket.close()
    await carla_socket.close()


async def test_deactivation_closes_every_socket_of_the_person(make_user):
    anna = await db(make_user)("Anna Becker")
    first = await connect(anna)
    second = await connect(anna)

    def deactivate() -> None:
        anna.is_active = False
        anna.save()

    await db(deactivate)()
    for client in (first, second):
        closed = await client.communicator.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4001}


async def test_logout_closes_that_sessions_sockets_only(make_user):
    import json

    from channels.testing import WebsocketCommunicator
    from django.test import Client as HttpClient

    from asgi import application
    from tests.conftest import PASSWORD

    anna = await db(make_user)("Anna Becker")
    browser = HttpClient()
    assert await db(browser.login)(email=anna.email, password=PASSWORD)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    tab = WebsocketCommunicator(
        application, "/ws/v1/", headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)]
    )
    assert (await tab.connect())[0]
    assert json.loads(await tab.receive_from())["type"] == "hello"
    program = await connect(anna)
    await db(browser.logout)()
    assert await tab.receive_output(timeout=5) == {"type": "websocket.close", "code": 4001}
    assert (await program.request({"type": "ping"}, "pong"))["type"] == "pong"
    await program.close()


def test_a_batch_of_sends_is_stored_in_order_with_the_answers_of_single_sends(
    make_user: Any,
) -> None:
    from chat.actions import SendRequest, do_send_messages
    from chat.models import Participant
    from notifications.models import Notification
    from realtime.errors import ClientError

    anna, ben, carla = make_user("Anna Becker"), make_user("Ben Öztürk"), make_user("Carla Schmitz")
    conversation = group_with(anna, ben)
    stored, _ = do_send_message(
        actor=anna, conversation_id=conversation.pk, body="schon da", client_id="old"
    )
    results = do_send_messages(
        conversation_id=conversation.pk,
        sends=[
            SendRequest(actor=anna, body="eins", client_id="a1"),
            SendRequest(actor=carla, body="fremd", client_id="c1"),
            SendRequest(actor=ben, body="@Anna Becker zwei", client_id="b1"),
            SendRequest(actor=anna, body="schon da", client_id="old"),
            SendRequest(actor=anna, body="x" * 4001, client_id="a2"),
            SendRequest(actor=ben, body="doppelt", client_id="b1"),
            SendRequest(actor=anna, body="drei", client_id="a3"),
        ],
    )
    assert len(results) == 7
    first, outsider, second, retry, too_long, duplicate, third = results
    assert isinstance(outsider, ClientError)
    assert outsider.code == "forbidden"
    assert isinstance(too_long, ClientError)
    assert too_long.code == "too_large"
    assert not isinstance(first, ClientError)
    assert not isinstance(second, ClientError)
    assert not isinstance(third, ClientError)
    assert [(r[0].seq, r[1]) for r in (first, second, third)] == [(2, True), (3, True), (4, True)]
    assert not isinstance(retry, ClientError)
    assert (retry[0].pk, retry[1]) == (stored.pk, False)
    assert not isinstance(duplicate, ClientError)
    assert (duplicate[0].pk, duplicate[1]) == (second[0].pk, False)
    seqs = list(
        Message.objects.filter(conversation=conversation).order_by("seq").values_list("seq", "body")
    )
    assert seqs == [(1, "schon da"), (2, "eins"), (3, "@Anna Becker zwei"), (4, "drei")]
    assert Conversation.objects.get(pk=conversation.pk).last_seq == 4
    markers = dict(
        Participant.objects.filter(conversation=conversation).values_list(
            "user_id", "last_read_seq"
        )
    )
    assert markers == {anna.pk: 4, ben.pk: 3}
    assert Notification.objects.filter(recipient=anna, kind="mention").count() == 1


def transactions_that_stored(conversation: Conversation) -> int:
    """How many transactions inserted the conversation's messages (PostgreSQL's
    `xmin`: the id of the transaction that wrote the row)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(DISTINCT xmin::text) FROM chat_message WHERE conversation_id = %s",
            [conversation.pk],
        )
        (count,) = cursor.fetchone()
    return int(count)


@pytest.mark.postgres("which sends shared a transaction is read from PostgreSQL's xmin")
async def test_sends_queued_behind_each_other_are_committed_together_each_with_its_ack(
    make_user,
):
    """Ten sockets send three messages each without waiting: sends that arrive while a
    transaction is in flight are stored together in the next one, and each still gets
    its own ack, after that commit, and the listener sees every seq once."""
    people = [await db(make_user)(f"Person {i}") for i in range(10)]
    conversation = await db(group_with)(*people)
    listener = await connect(people[0])
    await listener.subscribe(conversation.pk, after=0)
    senders = [await connect(person) for person in people]
    for index, sender in enumerate(senders):
        for n in range(3):
            await sender.send(
                {
                    "type": "send",
                    "conversation": conversation.pk,
                    "body": f"{index}-{n}",
                    "client_id": f"q{index}-{n}",
                    "ref": f"q{index}-{n}",
                }
            )
    acks = []
    for sender in senders:
        for _ in range(3):
            acks.append(await sender.quiet_until("ack"))
    assert sorted(ack["seq"] for ack in acks) == list(range(1, 31))
    stored = {
        message.pk: message async for message in Message.objects.filter(conversation=conversation)
    }
    for ack in acks:  # each ack names its own committed message
        message = stored[ack["id"]]
        assert (ack["ref"], ack["seq"]) == (message.client_id, message.seq)
    for index in range(len(senders)):
        mine = [ack for ack in acks if ack["client_id"].startswith(f"q{index}-")]
        assert [ack["seq"] for ack in mine] == sorted(ack["seq"] for ack in mine)
    transactions = await db(transactions_that_stored)(conversation)
    assert transactions < 30, "every send was committed on its own"
    received = [(await listener.quiet_until("message"))["seq"] for _ in range(30)]
    assert sorted(received) == list(range(1, 31))
    for client in [listener, *senders]:
        await client.close()
