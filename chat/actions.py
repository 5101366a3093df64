"""Every state change of conversations (CONVENTIONS.md, rule 1)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, NotificationLevel, Participant
from realtime.frames import user_topic
from realtime.publish import publish_on_commit


def do_create_group_conversation(*, title: str, readable_by_all: bool) -> Conversation:
    """Create the conversation a group owns. Called by the groups actions only."""
    return Conversation.objects.create(
        kind=Conversation.Kind.GROUP, title=title, readable_by_all=readable_by_all
    )


def do_update_group_conversation(
    *, conversation: Conversation, title: str, readable_by_all: bool
) -> None:
    """Keep a group conversation's title and readability in step with its group.

    When a group closes, non-participants lose read access: every open socket is told
    to drop the conversation (the consumer re-checks access on `_access_changed`)."""
    became_closed = conversation.readable_by_all and not readable_by_all
    Conversation.objects.filter(pk=conversation.pk).update(
        title=title, readable_by_all=readable_by_all
    )
    conversation.title = title
    conversation.readable_by_all = readable_by_all
    if became_closed:
        publish_on_commit(
            f"conv:{conversation.pk}",
            {"type": "_access_changed", "conversation": conversation.pk},
        )


def do_add_participant(*, conversation: Conversation, user: Any) -> Participant:
    """Make `user` a participant (may write). Idempotent. Moves the read marker to
    the current end, so a newcomer does not start with the whole history unread."""
    participant, _ = Participant.objects.get_or_create(
        conversation=conversation,
        user=user,
        defaults={"last_read_seq": conversation.last_seq, "joined_at": timezone.now()},
    )
    return participant


def do_remove_participant(*, conversation: Conversation, user: Any) -> None:
    """Remove `user` from the conversation. Their open sockets stop receiving it at
    once: a `_access_changed` control frame on the user's topic makes each consumer
    re-check access and drop the subscription."""
    with transaction.atomic():
        Participant.objects.filter(conversation=conversation, user=user).delete()
        publish_on_commit(
            user_topic(user.pk), {"type": "_access_changed", "conversation": conversation.pk}
        )


def do_set_notification_level(*, conversation: Conversation, user: Any, level: str) -> None:
    """Set how `user` is notified of new messages in `conversation` (all, mentions
    only, muted). Called by the groups actions for a member, inside their
    transaction; a person who is not a participant changes nothing. Emits nothing."""
    if level not in NotificationLevel.values:
        raise ValueError(f"unknown notification level {level!r}")
    Participant.objects.filter(conversation=conversation, user=user).update(
        notification_level=level
    )
