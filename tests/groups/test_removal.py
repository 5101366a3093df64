"""Removed from a group, over the WebSocket of the real ASGI application: the removed
person is told (a `member_removed` notification, live and in the centre), their
subscription ends as the contract says, and in an open group they may subscribe
again as any reader who is not a member (what the browser falls back to)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat.actions import do_report_message, do_send_message
from groups.actions import do_decide_report, do_leave_group, do_remove_member
from notifications.models import Notification
from notifications.presentation import summary
from tests.chat.helpers import Client, connect
from tests.groups.conftest import Cast, make_cast

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def subscribed(client: Client, conversation_id: int) -> None:
    frames = await client.subscribe(conversation_id)
    assert frames[-1]["type"] == "subscribed", frames


async def notification(client: Client) -> dict[str, Any]:
    return await client.receive_type("notification")


@pytest.mark.parametrize("visibility", ["open", "closed"])
async def test_the_removed_person_is_told_and_an_open_group_stays_readable(
    make_user: Any, visibility: str
) -> None:
    cast: Cast = await db(make_cast)(make_user, visibility)
    conversation_id = cast.group.conversation_id
    mia = await connect(cast.member)
    await subscribed(mia, conversation_id)

    await db(do_remove_member)(actor=cast.admin, group=cast.group, user_id=cast.member.pk)

    # Two topics (the conversation's, the person's): either may come first.
    arrived = {frame["type"]: frame for frame in [await mia.receive(), await mia.receive()]}
    lost, told = arrived["error"], arrived["notification"]
    assert (lost["code"], lost["conversation"]) == ("forbidden", conversation_id)
    assert told["kind"] == "member_removed"
    assert told["data"]["group"] == {"slug": cast.group.slug, "name": cast.group.name}
    assert told["data"]["url"] == f"/gruppen/{cast.group.slug}/"
    # Who removed them is not named (as in a moderator's warning).
    assert str(cast.admin.pk) not in str(told["data"])
    stored = await db(Notification.objects.get)(recipient=cast.member)
    assert summary(stored) == f"Sie wurden aus der Gruppe „{cast.group.name}“ entfernt"
    assert stored.email_due_at is not None  # e-mailed like a decision on a request

    # Subscribing again: an open group is readable by anyone signed in, a closed one
    # by its members only.
    again = await mia.subscribe(conversation_id)
    if visibility == "open":
        assert again[-1]["type"] == "subscribed"
        await db(do_send_message)(
            actor=cast.owner, conversation_id=conversation_id, body="Weiter so", client_id="o-1"
        )
        assert (await mia.receive_type("message"))["body"] == "Weiter so"
    else:
        assert (again[-1]["type"], again[-1]["code"]) == ("error", "forbidden")
    await mia.close()


async def test_leaving_tells_nobody_a_removal_by_report_tells_the_author(make_user: Any) -> None:
    cast: Cast = await db(make_cast)(make_user, "open")
    await db(do_leave_group)(actor=cast.admin, group=cast.group)
    assert not await db(Notification.objects.filter(recipient=cast.admin).exists)()

    message, _ = await db(do_send_message)(
        actor=cast.member, conversation_id=cast.group.conversation_id, body="Spam", client_id="m-1"
    )
    await db(do_report_message)(actor=cast.owner, message_id=message.pk, reason="Spam")
    mia = await connect(cast.member)
    await db(do_decide_report)(
        actor=cast.owner, group=cast.group, message_id=message.pk, decision="remove"
    )
    assert (await notification(mia))["kind"] == "member_removed"
    kinds = await db(list)(
        Notification.objects.filter(recipient=cast.member).values_list("kind", flat=True)
    )
    assert kinds == ["member_removed"]
    await mia.close()
