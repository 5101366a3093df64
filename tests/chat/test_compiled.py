"""Statements compiled once (chat/compiled.py): the same rows as the ORM's queryset,
for every argument and list length, through the backend's converters (datetimes and
booleans, which SQLite stores as text and integers); on PostgreSQL prepared once per
connection (realtime.db.prepared_cursor)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import User
from chat.compiled import LONGEST_KEPT, CompiledRows
from chat.models import Message
from tests.chat.helpers import group_with

pytestmark = pytest.mark.django_db


def by_ids_after(ids: list[int], after: int) -> QuerySet[Message, tuple[Any, ...]]:
    return (
        Message.objects.filter(Q(pk__in=ids) | Q(seq__gt=after))
        .order_by("seq")
        .values_list("id", "seq", "body", "created_at", "deleted_at", "author__company_verified")
    )


def test_compiled_rows_are_the_querysets_rows_for_every_argument() -> None:
    author = User.objects.create_user(
        email="jana.koch@example.de", password="x" * 12, display_name="Jana Koch"
    )
    conversation = group_with(author)
    messages = [
        Message.objects.create(
            conversation=conversation, author=author, seq=seq, body=f"N{seq}", client_id=f"c{seq}"
        )
        for seq in range(1, 8)
    ]
    Message.objects.filter(pk=messages[2].pk).update(deleted_at=dt.datetime.now(dt.UTC))
    statement = CompiledRows(by_ids_after)
    for ids, after in [([messages[0].pk], 6), ([m.pk for m in messages[:3]], 5), ([], 7)]:
        ids = ids or [0]
        rows = statement.rows(ids, after)
        assert rows == list(by_ids_after(ids, after))
        assert all(isinstance(row[3], dt.datetime) and row[3].tzinfo for row in rows)
        assert all(isinstance(row[5], bool) for row in rows)
    # Each list length is compiled once and kept.
    assert len(statement.compiled) == 2
    assert statement.rows([m.pk for m in messages[3:6]], 7) == list(
        by_ids_after([m.pk for m in messages[3:6]], 7)
    )
    assert len(statement.compiled) == 2
    dicts = CompiledRows(
        lambda after: Message.objects.filter(seq__gt=after).order_by("seq").values("seq", "body")
    ).dicts(5)
    assert dicts == [{"seq": 6, "body": "N6"}, {"seq": 7, "body": "N7"}]


def test_a_very_long_list_is_compiled_but_not_kept() -> None:
    statement = CompiledRows(lambda ids: Message.objects.filter(pk__in=ids).values_list("pk"))
    assert statement.rows(list(range(1, LONGEST_KEPT + 2))) == []
    assert not statement.compiled


def test_an_argument_the_statement_does_not_use_is_refused() -> None:
    statement = CompiledRows(lambda ignored: Message.objects.values_list("pk"))
    with pytest.raises(ValueError, match="parameter"):
        statement.rows(1)


@pytest.mark.postgres("prepared statements are PostgreSQL's")
def test_on_postgresql_a_statement_is_prepared_once_and_run_as_prepared() -> None:
    statement = CompiledRows(
        lambda after: Message.objects.filter(seq__gt=after).values_list("seq", "created_at")
    )

    def executions() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            )
            return {text: count for text, count in cursor.fetchall() if "chat_message" in text}

    assert executions() == {}
    for after in (1, 2, 3):
        assert statement.rows(after) == []
    prepared = executions()
    assert list(prepared.values()) == [3]
    assert '"chat_message"."seq" > $1' in next(iter(prepared))
    # Django's own cursors still bind on the client and prepare nothing.
    assert list(Message.objects.filter(seq__gt=1).values_list("seq")) == []
    assert executions() == prepared
