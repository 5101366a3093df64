"""`create_bench_users`: fast bench people with working tokens, never without DEBUG."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import User
from accounts.tokens import user_for_token
from chat.models import Participant
from groups.models import Group, Membership


def create(*args: str) -> list[dict[str, Any]]:
    out = StringIO()
    call_command("create_bench_users", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@override_settings(DEBUG=False)
def test_refuses_when_debug_is_off(db: Any) -> None:
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_bench_users", "3", stdout=StringIO())
    assert not User.objects.filter(email__startswith="bench-").exists()


@override_settings(DEBUG=True)
def test_creates_users_with_working_tokens(db: Any) -> None:
    lines = create("5")

    assert len(lines) == 5
    assert len({line["email"] for line in lines}) == 5
    for line in lines:
        user = user_for_token(line["token"])
        assert user is not None
        assert user.pk == line["id"]
        assert user.email == line["email"]
        assert not user.has_usable_password()


@override_settings(DEBUG=True)
def test_group_members_share_one_group_across_calls(db: Any) -> None:
    first = create("3", "--group", "lasttest")
    second = create("2", "--group", "lasttest")
    everyone = {line["id"] for line in first + second}

    group = Group.objects.get(slug="lasttest")
    assert {line["group"] for line in first + second} == {"lasttest"}
    assert {line["conversation"] for line in first + second} == {group.conversation_id}
    members = set(Membership.objects.filter(group=group).values_list("user_id", flat=True))
    assert members == everyone
    participants = set(
        Participant.objects.filter(conversation_id=group.conversation_id).values_list(
            "user_id", flat=True
        )
    )
    assert participants == everyone


@override_settings(DEBUG=True)
def test_rejects_a_count_out_of_range(db: Any) -> None:
    with pytest.raises(CommandError, match="Anzahl"):
        call_command("create_bench_users", "0", stdout=StringIO())
