"""Request and response bodies of the chat API (docs/protocol.md, "HTTP"); the
building blocks are in `realtime/schemas.py`."""

from __future__ import annotations

from django.conf import settings
from pydantic import Field

from chat.actions import CLIENT_ID_MAX_CHARS, REPORT_REASON_MAX_CHARS
from realtime.schemas import MAX_ID, NOT_BLANK, Id, In, Integer, Out


class MessageBody(In):
    body: str = Field(
        min_length=1,
        max_length=settings.NETZN_MESSAGE_MAX_CHARS,
        pattern=NOT_BLANK,
        description="Plain text, not blank.",
    )


class SendIn(In):
    body: str = Field(
        default="",
        max_length=settings.NETZN_MESSAGE_MAX_CHARS,
        description="Plain text (Markdown subset); may be empty only with attachments.",
    )
    client_id: str = Field(
        min_length=1,
        max_length=CLIENT_ID_MAX_CHARS,
        pattern=NOT_BLANK,
        description="Chosen by the client; a retry with the same id finds the stored message.",
    )
    reply_to: Id | None = Field(
        default=None, description="A message of the same conversation this one answers."
    )
    attachments: list[Id] | None = Field(
        default=None, max_length=10, description="Ids of my pending uploads to this conversation."
    )


class EditIn(MessageBody):
    pass


class MarkReadIn(In):
    seq: Integer = Field(ge=0, le=MAX_ID, description="Capped at the conversation's last seq.")


class DirectIn(In):
    """`user_id` (the 1:1 form) or `user_ids` (one to eight other people)."""

    user_id: Integer | None = Field(default=None, ge=1, le=MAX_ID)
    user_ids: list[Id] | None = Field(default=None, min_length=1, max_length=8)


class ReportIn(In):
    reason: str = Field(default="", max_length=REPORT_REASON_MAX_CHARS)


class AuthorOut(Out):
    id: int | None = Field(description="null: a deleted account (“Ehemaliges Mitglied”).")
    display_name: str
    company: str
    company_verified: bool
    avatar_url: str | None = None


class PostCardOut(Out):
    """The card of a board post its message shows (docs/board.md)."""

    id: int
    kind: str
    category: str
    title: str
    status: str
    kind_label: str
    summary: str
    excerpt: str
    expires_on: str | None
    group: str
    author_id: int | None
    url: str


class UserRefOut(Out):
    id: int | None
    display_name: str


class ReplyOut(Out):
    """The message a reply answers; `excerpt` "" once it is deleted."""

    id: int
    seq: int
    author: UserRefOut
    excerpt: str


class ReactionOut(Out):
    emoji: str
    count: int
    mine: bool = Field(description="Per viewer; false in frames every subscriber shares.")
    users: list[UserRefOut]


class AttachmentRefOut(Out):
    id: int
    name: str
    size: int
    content_type: str
    url: str
    thumbnail_url: str | None = None


class MessageOut(Out):
    conversation: int
    id: int
    seq: int
    author: AuthorOut
    body: str = Field(description="Empty for a deleted message.")
    client_id: str
    created_at: str
    edited_at: str | None
    deleted: bool
    post: PostCardOut | None = None
    reply_to: ReplyOut | None = None
    reactions: list[ReactionOut] = []
    attachments: list[AttachmentRefOut] = []
    body_html: str | None = Field(default=None, description="Only for formatted text.")
    hidden: bool | None = Field(default=None, description="Hidden by a moderator.")


class ConversationOut(Out):
    id: int
    kind: str
    title: str
    last_seq: int
    last_read_seq: int
    unread_count: int
    last_message_at: str | None = None


class ConversationPage(Out):
    results: list[ConversationOut]
    next: str | None


class HistoryPage(Out):
    results: list[MessageOut]
    next: int | None = Field(description="The cursor of the following page, or null.")
    last_seq: int


class MarkReadOut(Out):
    conversation: int
    last_read_seq: int


class ReportOut(Out):
    id: int
    message: int
    status: str
    created_at: str


class ReactionsOut(Out):
    """A message's reactions after a change, as the caller sees them."""

    conversation: int
    message: int
    emoji: str
    on: bool
    changed: bool
    reactions: list[ReactionOut]
