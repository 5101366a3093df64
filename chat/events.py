"""Typed payloads of what the chat app sends to clients (docs/architecture.md, rule 7).

Each frame is built here once, from the stored row, and serialised once by
`realtime.publish`; the same builders feed the HTTP history, so a message looks the
same over HTTP, in a backlog and live.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from accounts.images import avatar_url, avatar_url_of
from chat.attachments import AttachmentPayload, attachments_payload
from chat.formatting import formatted_html
from chat.models import Message


class AuthorPayload(TypedDict):
    id: int | None
    display_name: str
    company: str
    # Works at a company page the chamber or the company's own domain confirmed.
    company_verified: bool
    avatar_url: NotRequired[str]


class UserRef(TypedDict):
    id: int | None
    display_name: str


class ReplyPayload(TypedDict):
    """The message a reply answers: `excerpt` is the start of its text (at most
    `EXCERPT_CHARS`), "" once it is deleted."""

    id: int
    seq: int
    author: UserRef
    excerpt: str


class ReactionSummary(TypedDict):
    emoji: str
    count: int
    # The viewer's own: per viewer in history and backlogs; always false in frames
    # that every subscriber shares (docs/replies-reactions.md).
    mine: bool
    # The first `chat.reactions.NAMES_MAX` people, oldest first (the hover text).
    users: list[UserRef]


class ReactionFrame(TypedDict):
    type: str
    conversation: int
    message: int
    seq: int
    emoji: str
    user: UserRef
    on: bool


class MessagePayload(TypedDict):
    conversation: int
    id: int
    seq: int
    author: AuthorPayload
    body: str
    # The body as sanitised HTML of the Markdown subset (chat.formatting), rendered
    # once per message; only when it has formatting (else `body` is plain text).
    body_html: NotRequired[str]
    client_id: str
    created_at: str
    edited_at: str | None
    deleted: bool
    reply_to: ReplyPayload | None
    reactions: list[ReactionSummary]
    # Only on a message a moderator hid after a report (then also `deleted`).
    hidden: NotRequired[bool]
    # Files sent with the message (docs/attachments.md); [] for none.
    attachments: list[AttachmentPayload]
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
    # A moderator hid the message after a report (docs/formatting-moderation.md).
    hidden: NotRequired[bool]


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
EXCERPT_CHARS = 140
# Where `chat.reactions.attach_reactions` puts a message's reactions for its viewer;
# a message without them (a new one, a broadcast) has none.
REACTIONS_ATTR = "reaction_summaries"


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


def user_ref(user: Any) -> UserRef:
    if user is None:
        return {"id": None, "display_name": FORMER_MEMBER}
    return {"id": user.pk, "display_name": user.display_name}


def excerpt(body: str) -> str:
    """The start of a text on one line, at most `EXCERPT_CHARS` characters."""
    flat = " ".join(body.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def reply_payload(message: Message) -> ReplyPayload | None:
    """What a reply shows of its original (loaded with the message: `select_related
    ("reply_to__author")`)."""
    if message.reply_to_id is None:
        return None
    original = message.reply_to
    if original is None:
        return None
    return {
        "id": original.pk,
        "seq": original.seq,
        "author": user_ref(original.author),
        "excerpt": ""
        if original.deleted_at is not None or original.hidden_at is not None
        else excerpt(original.body),
    }


def reaction_frame(message: Message, user: Any, emoji: str, on: bool) -> ReactionFrame:
    return {
        "type": "reaction",
        "conversation": message.conversation_id,
        "message": message.pk,
        "seq": message.seq,
        "emoji": emoji,
        "user": user_ref(user),
        "on": on,
    }


def reactions_payload(message: Message) -> list[ReactionSummary]:
    """A message's reactions as `chat.reactions.attach_reactions` left them for its
    viewer; none once it is deleted or hidden."""
    if message.deleted_at is not None or message.hidden_at is not None:
        return []
    return getattr(message, REACTIONS_ATTR, [])


def message_payload(message: Message) -> MessagePayload:
    """A message as clients see it; a deleted one keeps its seq and loses its body,
    and so does a hidden one (its text stays stored for the moderators' audit)."""
    hidden = message.hidden_at is not None
    deleted = message.deleted_at is not None or hidden
    body = "" if deleted else message.body
    payload: MessagePayload = {
        "conversation": message.conversation_id,
        "id": message.pk,
        "seq": message.seq,
        "author": author_payload(message.author),
        "body": body,
        "client_id": message.client_id,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
        "reply_to": reply_payload(message),
        "reactions": reactions_payload(message),
        "attachments": attachments_payload(message),
    }
    if not deleted:
        stored = message.body_html
        rendered = formatted_html(body) if stored is None else stored
        if rendered:
            payload["body_html"] = rendered
    if hidden:
        payload["hidden"] = True
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


# The columns `message_frame_of_row` reads: a message, its author and the message it
# answers (with that one's author), as `Message.objects.values(*MESSAGE_ROW_FIELDS)`.
MESSAGE_ROW_FIELDS = (
    "id",
    "seq",
    "body",
    "body_html",
    "client_id",
    "created_at",
    "edited_at",
    "deleted_at",
    "hidden_at",
    "post",
    "author_id",
    "author__display_name",
    "author__company_name",
    "author__company_verified",
    "author__avatar",
    "reply_to_id",
    "reply_to__seq",
    "reply_to__body",
    "reply_to__deleted_at",
    "reply_to__hidden_at",
    "reply_to__author_id",
    "reply_to__author__display_name",
)


def message_frame_of_row(
    row: dict[str, Any],
    *,
    conversation_id: int,
    reactions: list[ReactionSummary],
    attachments: list[AttachmentPayload],
) -> MessageFrame:
    """`message_frame(message)` built from a `MESSAGE_ROW_FIELDS` row, without model
    instances (a catch-up's backlog: chat/backlog.py). The same frame, key for key:
    tests/chat/test_backlog.py compares the two for every kind of message.
    `reactions` as the viewer sees them, `attachments` in the order of the send."""
    hidden = row["hidden_at"] is not None
    deleted = row["deleted_at"] is not None or hidden
    body = "" if deleted else row["body"]
    author_id = row["author_id"]
    author: AuthorPayload
    if author_id is None:
        author = {
            "id": None,
            "display_name": FORMER_MEMBER,
            "company": "",
            "company_verified": False,
        }
    else:
        author = {
            "id": author_id,
            "display_name": row["author__display_name"],
            "company": row["author__company_name"],
            "company_verified": row["author__company_verified"],
        }
        photo = avatar_url_of(author_id, row["author__avatar"])
        if photo:
            author["avatar_url"] = photo
    reply_to: ReplyPayload | None = None
    if row["reply_to_id"] is not None and row["reply_to__seq"] is not None:
        original_author = row["reply_to__author_id"]
        reply_to = {
            "id": row["reply_to_id"],
            "seq": row["reply_to__seq"],
            "author": (
                {"id": original_author, "display_name": row["reply_to__author__display_name"]}
                if original_author is not None
                else {"id": None, "display_name": FORMER_MEMBER}
            ),
            "excerpt": ""
            if row["reply_to__deleted_at"] is not None or row["reply_to__hidden_at"] is not None
            else excerpt(row["reply_to__body"]),
        }
    edited_at = row["edited_at"]
    frame: MessageFrame = {
        "type": "message",
        "conversation": conversation_id,
        "id": row["id"],
        "seq": row["seq"],
        "author": author,
        "body": body,
        "client_id": row["client_id"],
        "created_at": row["created_at"].isoformat(),
        "edited_at": edited_at.isoformat() if edited_at else None,
        "deleted": deleted,
        "reply_to": reply_to,
        "reactions": [] if deleted else reactions,
        "attachments": [] if row["deleted_at"] is not None else attachments,
    }
    if not deleted:
        stored = row["body_html"]
        rendered = formatted_html(body) if stored is None else stored
        if rendered:
            frame["body_html"] = rendered
    if hidden:
        frame["hidden"] = True
    if row["post"] is not None:
        frame["post"] = row["post"]
    return frame


def message_deleted_frame(message: Message, *, hidden: bool = False) -> MessageDeletedFrame:
    frame: MessageDeletedFrame = {
        "type": "message_deleted",
        "conversation": message.conversation_id,
        "id": message.pk,
        "seq": message.seq,
    }
    if hidden:
        frame["hidden"] = True
    return frame


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
