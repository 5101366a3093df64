"""Typed payloads of what the chat app sends to clients (docs/architecture.md, rule 7).

Each frame is built here once, from the stored row, and serialised once by
`realtime.publish`; the same builders feed the HTTP history, so a message looks the
same over HTTP, in a backlog and live.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from accounts.images import avatar_url
from chat.models import Message


class AuthorPayload(TypedDict):
    id: int | None
    display_name: str
    company: str
    # Works at a company page the chamber or the company's own domain confirmed.
    company_verified: bool
    avatar_url: NotRequired[str]


class MessagePayload(TypedDict):
    conversation: int
    id: int
    seq: int
    author: AuthorPayload
    body: str
    client_id: str
    created_at: str
    edited_at: str | None
    deleted: bool
    # Only on a message that shows a board post's card (docs/board.md).
    post: NotRequired[dict[str, Any]]


class PostUpdatedFrame(TypedDict):
    type: str
    conversation: int
    message: int
    seq: int
    post: dict[str, Any]


class MessageFrame(MessagePayload):
    type: str


class MessageDeletedFrame(TypedDict):
    type: str
    conversation: int
    id: int
    seq: int


class TypingFrame(TypedDict):
    type: str
    user: AuthorPayload
    conversation: int


class ReadFrame(TypedDict):
    type: str
    conversation: int
    seq: int


class AckFrame(TypedDict, total=False):
    type: str
    ref: str
    client_id: str
    conversation: int
    id: int
    seq: int
    created_at: str


FORMER_MEMBER = "Ehemaliges Mitglied"


def author_payload(user: Any) -> AuthorPayload:
    """Name and company only: never contact fields (e-mail, phone). A deleted
    account's messages have no author: `id` null, "Ehemaliges Mitglied"."""
    if user is None:
        return {
            "id": None,
            "display_name": FORMER_MEMBER,
            "company": "",
            "company_verified": False,
        }
    payload: AuthorPayload = {
        "id": user.pk,
        "display_name": user.display_name,
        "company": user.company_name,
        "company_verified": user.company_verified,
    }
    # People with a profile photo: where it is served (docs/protocol.md).
    photo = avatar_url(user)
    if photo:
        payload["avatar_url"] = photo
    return payload


def message_payload(message: Message) -> MessagePayload:
    """A message as clients see it; a deleted one keeps its seq and loses its body."""
    deleted = message.deleted_at is not None
    payload: MessagePayload = {
        "conversation": message.conversation_id,
        "id": message.pk,
        "seq": message.seq,
        "author": author_payload(message.author),
        "body": "" if deleted else message.body,
        "client_id": message.client_id,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
    }
    if message.post is not None:
        payload["post"] = message.post
    return payload


def post_updated_frame(message: Message) -> PostUpdatedFrame:
    """The card of a board post changed (filled, withdrawn, expired)."""
    return {
        "type": "post_updated",
        "conversation": message.conversation_id,
        "message": message.pk,
        "seq": message.seq,
        "post": message.post or {},
    }


def message_frame(message: Message, frame_type: str = "message") -> MessageFrame:
    return {"type": frame_type, **message_payload(message)}


def message_deleted_frame(message: Message) -> MessageDeletedFrame:
    return {
        "type": "message_deleted",
        "conversation": message.conversation_id,
        "id": message.pk,
        "seq": message.seq,
    }


def typing_frame(user: Any, conversation_id: int) -> TypingFrame:
    """`user` comes first so a socket can skip its own user's typing by prefix."""
    return {"type": "typing", "user": author_payload(user), "conversation": conversation_id}


def read_frame(conversation_id: int, seq: int) -> ReadFrame:
    return {"type": "read", "conversation": conversation_id, "seq": seq}


def ack_frame(message: Message, ref: str | None) -> AckFrame:
    frame: AckFrame = {
        "type": "ack",
        "client_id": message.client_id,
        "conversation": message.conversation_id,
        "id": message.pk,
        "seq": message.seq,
        "created_at": message.created_at.isoformat(),
    }
    if ref is not None:
        frame["ref"] = ref
    return frame
