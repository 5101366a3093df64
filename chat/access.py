"""Every read of a conversation goes through here (CONVENTIONS.md, rule 3).

A missing conversation and a forbidden one give the same `forbidden` error.
"""

from __future__ import annotations

from typing import Any

from chat.models import Conversation, Participant
from realtime.errors import forbidden


def can_read(user: Any, conversation: Conversation) -> bool:
    if not user.is_authenticated:
        return False
    if conversation.readable_by_all and conversation.kind == Conversation.Kind.GROUP:
        return True
    return Participant.objects.filter(conversation=conversation, user=user).exists()


def access_conversation(user: Any, conversation_id: Any) -> Conversation:
    """The conversation if `user` may read it, else `forbidden` (also when missing)."""
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise forbidden()
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise forbidden()
    if not can_read(user, conversation):
        raise forbidden()
    return conversation


def access_conversation_for_writing(user: Any, conversation_id: Any) -> Conversation:
    """The conversation if `user` is a participant (may write), else `forbidden`."""
    conversation = access_conversation(user, conversation_id)
    if not Participant.objects.filter(conversation=conversation, user=user).exists():
        raise forbidden()
    return conversation
