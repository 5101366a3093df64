"""Group commit (`do_send_messages`, the one send path: a single send is a batch of
one): a batch is refused exactly where single sends are (archived group, blocked
direct conversation, non-participant) and stores nothing then; allowed batches number
gaplessly; one bad send fails only itself; the statements do not grow with the batch
or the group."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from accounts.models import Block
from chat.actions import (
    SendRequest,
    do_get_or_create_direct_conversation,
    do_send_message,
    do_send_messages,
    do_update_group_conversation,
)
from chat.models import Conversation, Message, Participant
from realtime.errors import ClientError
from tests.chat.helpers import group_with
from tests.chat.test_send import in_parallel

pytestmark = pytest.mark.django_db


ODD_TEXT = "100 % sicher, 'zitiert' \\ %(x)s {} 😀\nzweite Zeile"


def codes(results: list[Any]) -> list[str]:
    return [r.code if isinstance(r, ClientError) else "ok" for r in results]


def test_a_batch_to_an_archived_group_is_refused_and_stores_nothing(make_user: Any) -> None:
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    conversation = group_with(anna, ben)
    do_update_group_conversation(
        conversation=conversation, title=conversation.title, readable_by_all=False, read_only=True
    )
    results = do_send_messages(
        conversation_id=conversation.pk,
        sends=[
            SendRequest(actor=anna, body="eins", client_id="a1"),
            SendRequest(actor=ben, body="zwei", client_id="b1"),
        ],
    )
    assert codes(results) == ["forbidden", "forbidden"]
    assert not Message.objects.filter(conversation=conversation).exists()
    conversation.refresh_from_db()
    assert conversation.last_seq == 0


def test_a_batch_in_a_direct_conversation_is_checked_for_blocks(make_user: Any) -> None:
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    conversation, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    results = do_send_messages(
        conversation_id=conversation.pk,
        sends=[
            SendRequest(actor=anna, body="Hallo", client_id="a1"),
            SendRequest(actor=ben, body="Hallo zurück", client_id="b1"),
        ],
    )
    assert codes(results) == ["ok", "ok"]
    assert [r[0].seq for r in results if not isinstance(r, ClientError)] == [1, 2]
    Block.objects.create(blocker=ben, blocked=anna)
    results = do_send_messages(
        conversation_id=conversation.pk,
        sends=[
            SendRequest(actor=anna, body="Noch da?", client_id="a2"),
            SendRequest(actor=ben, body="Tschüss", client_id="b2"),
        ],
    )
    assert codes(results) == ["forbidden", "forbidden"]
    assert Conversation.objects.get(pk=conversation.pk).last_seq == 2


def test_a_batch_of_outsiders_and_retries_only_stores_the_new_sends(make_user: Any) -> None:
    anna, ben, carla = make_user("Anna Becker"), make_user("Ben Öztürk"), make_user("Carla Schmitz")
    conversation = group_with(anna, ben)
    old, _ = do_send_message(actor=ben, conversation_id=conversation.pk, body="alt", client_id="b0")
    results = do_send_messages(
        conversation_id=conversation.pk,
        sends=[
            SendRequest(actor=carla, body="fremd", client_id="c1"),
            SendRequest(actor=ben, body="alt", client_id="b0"),
            SendRequest(actor=anna, body="neu", client_id="a1"),
            SendRequest(actor=anna, body=ODD_TEXT, client_id="a2 ' %s"),
        ],
    )
    outsider, retry, first, second = results
    assert isinstance(outsider, ClientError)
    assert outsider.code == "forbidden"
    assert not isinstance(retry, ClientError)
    assert (retry[0].pk, retry[1]) == (old.pk, False)
    assert not isinstance(first, ClientError)
    assert not isinstance(second, ClientError)
    assert [(first[0].seq, first[1]), (second[0].seq, second[1])] == [(2, True), (3, True)]
    stored = Message.objects.get(pk=second[0].pk)
    assert (stored.author_id, stored.body, stored.client_id) == (anna.pk, ODD_TEXT, "a2 ' %s")
    markers = dict(
        Participant.objects.filter(conversation=conversation).values_list(
            "user_id", "last_read_seq"
        )
    )
    assert markers == {anna.pk: 3, ben.pk: 1}
    assert not Message.objects.filter(author=carla).exists()


@pytest.mark.django_db(transaction=True)
def test_batches_and_single_sends_in_parallel_number_gaplessly(make_user: Any) -> None:
    """Real concurrent transactions: batches (some racing each other on the same
    client_ids) and single sends share one conversation without gaps or doubles."""
    people = [make_user(f"Person {i}") for i in range(6)]
    conversation = group_with(*people)
    rounds = 15

    def work(index: int) -> list[int]:
        seqs = []
        for n in range(rounds):
            if index < 4:
                # Threads 0/1 and 2/3 send the same batches: one stores, one retries.
                pair = index // 2
                sends = [
                    SendRequest(actor=people[pair * 2 + k], body=f"{n}", client_id=f"b{pair}-{n}")
                    for k in range(2)
                ]
                results = do_send_messages(conversation_id=conversation.pk, sends=sends)
            else:
                results = [
                    do_send_message(
                        actor=people[index],
                        conversation_id=conversation.pk,
                        body=f"{n}",
                        client_id=f"s{index}-{n}",
                    )
                ]
            for result in results:
                assert not isinstance(result, ClientError)
                seqs.append(result[0].seq)
        return seqs

    results = in_parallel(6, work)
    total = 2 * 2 * rounds + 2 * rounds
    seqs = sorted(Message.objects.filter(conversation=conversation).values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    assert Conversation.objects.get(pk=conversation.pk).last_seq == total
    assert sorted(results[0]) == sorted(results[1])
    assert sorted(results[2]) == sorted(results[3])
    markers = dict(
        Participant.objects.filter(conversation=conversation).values_list(
            "user_id", "last_read_seq"
        )
    )
    newest = dict(
        Message.objects.filter(conversation=conversation)
        .values("author_id")
        .annotate(newest=Max("seq"))
        .values_list("author_id", "newest")
    )
    assert markers == newest


@pytest.mark.parametrize("bad", ["\ud800", "Hallo \udfff Welt", "mit\x00NUL", "\ud83d"])
def test_an_unstorable_body_fails_only_its_own_send(make_user: Any, bad: str) -> None:
    """A lone surrogate or NUL cannot be stored: that send is a bad_request, and the
    others of the same batch are stored as if it had not been there."""
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    conversation = group_with(anna, ben)
    results = do_send_messages(
        conversation_id=conversation.pk,
        sends=[
            SendRequest(actor=ben, body="vorher", client_id="b1"),
            SendRequest(actor=anna, body=bad, client_id="a1"),
            SendRequest(actor=anna, body="ok", client_id=bad),
            SendRequest(actor=ben, body="nachher", client_id="b2"),
        ],
    )
    assert codes(results) == ["ok", "bad_request", "bad_request", "ok"]
    assert [r[0].seq for r in results if not isinstance(r, ClientError)] == [1, 2]
    stored = list(Message.objects.filter(conversation=conversation).values_list("body", flat=True))
    assert sorted(stored) == ["nachher", "vorher"]


def test_a_single_send_and_a_batch_take_the_same_statements(make_user: Any) -> None:
    """Pinned: checking, numbering, storing and the read markers are one statement
    each, whatever the size of the batch or of the group."""
    people = [make_user(f"Person {i}") for i in range(30)]
    conversation = group_with(*people)

    def statements(sends: list[SendRequest]) -> int:
        with CaptureQueriesContext(connection) as context:
            results = do_send_messages(conversation_id=conversation.pk, sends=sends)
        assert codes(results) == ["ok"] * len(sends)
        return len(context.captured_queries)

    one = statements([SendRequest(actor=people[0], body="eins", client_id="one")])
    many = statements(
        [SendRequest(actor=people[i], body=f"{i}", client_id=f"m{i}") for i in range(20)]
    )
    assert one == many
    # check; savepoint, seqs, insert, read markers, release (the test's transaction)
    assert one == 6
