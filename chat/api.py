"""JSON endpoints of the chat app (docs/protocol.md, "HTTP API"; decisions in
docs/protocol.md). Parse, call an access function or action, answer.

A conversation or message id that does not exist is answered exactly like a
forbidden one (403), so nobody can probe.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from chat.access import (
    HISTORY_PAGE_MAX,
    access_conversation,
    conversation_title,
    conversations_of,
    messages_page,
    parse_seq,
)
from chat.actions import (
    do_delete_message,
    do_edit_message,
    do_get_or_create_direct_conversation,
    do_get_or_create_group_direct_conversation,
    do_mark_read,
    do_report_message,
    do_send_message,
    do_set_reaction,
)
from chat.events import message_payload, reactions_payload
from chat.models import Conversation, Message, Participant
from chat.presence import parse_user_ids, visible_states
from chat.reactions import attach_reactions
from chat.schemas import (
    ConversationOut,
    ConversationPage,
    DirectIn,
    EditIn,
    HistoryPage,
    MarkReadIn,
    MarkReadOut,
    MessageOut,
    ReactionsOut,
    ReportIn,
    ReportOut,
    SendIn,
)
from chat.search import search_messages
from realtime.errors import ClientError, forbidden
from realtime.ratelimit import sync_rate_limiter
from realtime.schemas import MAX_ID, beyond_schema, errors

router = Router(tags=["chat"])

# Path and query numbers: ids are bigints from 1, seqs from 0.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Seq = Annotated[int | None, Query(ge=0, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

MAX_PRESENCE_IDS = 500


def conversation_out(
    conversation: Conversation, user: Any, participant: Participant | None
) -> dict[str, Any]:
    """A conversation as `user` sees it; `participant` is their row (None: a reader
    of an open group who does not take part)."""
    last_read = min(participant.last_read_seq, conversation.last_seq) if participant else 0
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "title": conversation_title(conversation, user),
        "last_seq": conversation.last_seq,
        "last_read_seq": last_read,
        "unread_count": conversation.last_seq - last_read if participant else 0,
        "last_message_at": (
            conversation.last_message_at.isoformat() if conversation.last_message_at else None
        ),
    }


def take_message_token(user: Any) -> None:
    decision = sync_rate_limiter.take(user.pk)
    if not decision.allowed:
        raise ClientError(
            "rate_limited",
            "Zu viele Nachrichten. Bitte kurz warten.",
            retry_after=decision.retry_after,
        )


def message_in(conversation: Conversation, user: Any, message_id: int) -> None:
    """The message must belong to the conversation of the URL (else: forbidden)."""
    if not Message.objects.filter(pk=message_id, conversation=conversation).exists():
        raise forbidden()


class PresenceOut(Schema):
    user: int
    online: bool
    last_seen: str | None = Field(description="ISO 8601, as in the `presence` frame.")


class PresenceListOut(Schema):
    results: list[PresenceOut]


@router.get(
    "/presence",
    response=PresenceListOut,
    openapi_extra=beyond_schema("user: repeated ids, at most 500 (400)."),
)
def get_presence(request: HttpRequest) -> dict[str, Any]:
    """`?user=ID&user=ID` (at most 500): whether each is online, for the people I may
    see (sharing a group or a conversation, presence not switched off); everyone
    else is left out. Bad ids: 400."""
    raw = request.GET.getlist("user")
    ids: list[Any] = []
    for value in raw[: MAX_PRESENCE_IDS + 1]:
        ids.append(int(value) if value.isascii() and value.isdigit() and len(value) < 19 else value)
    user_ids = parse_user_ids(ids if len(raw) <= MAX_PRESENCE_IDS else raw, "user")
    return {"results": visible_states(request.user, user_ids)}


@router.get("/conversations", response=ConversationPage)
def list_conversations(request: HttpRequest) -> dict[str, Any]:
    """My conversations, newest activity first, with read marker and unread count."""
    return {"results": conversations_of(request.user), "next": None}


@router.post(
    "/conversations/direct",
    response={200: ConversationOut, 201: ConversationOut, **errors(403)},
    openapi_extra=beyond_schema("The other people: not oneself, active, no duplicates (400)."),
)
def open_direct(request: HttpRequest, payload: DirectIn) -> Status[dict[str, Any]]:
    """Get or create the direct conversation with that person (`user_id`), or of
    exactly me and those one to eight people (`user_ids`); 201 when created."""
    if payload.user_ids is not None:
        if payload.user_id is not None:
            raise ClientError(
                "bad_request",
                "Entweder „user_id“ oder „user_ids“ angeben, nicht beides.",
                fields={"user_ids": ["Nicht zusammen mit user_id."]},
            )
        conversation, created = do_get_or_create_group_direct_conversation(
            actor=request.user, user_ids=payload.user_ids
        )
    else:
        conversation, created = do_get_or_create_direct_conversation(
            actor=request.user, other_user_id=payload.user_id
        )
    participant = Participant.objects.filter(
        conversation=conversation, user=request.user.pk
    ).first()
    return Status(
        201 if created else 200, conversation_out(conversation, request.user, participant)
    )


@router.get("/conversations/{conversation_id}", response={200: ConversationOut, **errors(403)})
def get_conversation(request: HttpRequest, conversation_id: Id) -> dict[str, Any]:
    access = access_conversation(request.user, conversation_id)
    return conversation_out(access.conversation, request.user, access.participant)


@router.get("/conversations/{conversation_id}/messages", response={200: HistoryPage, **errors(403)})
def history(
    request: HttpRequest,
    conversation_id: Id,
    before: Seq = None,
    after: Seq = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ID)] = 50,
) -> dict[str, Any]:
    """A page of history in ascending seq order: `after=S` the first `limit` after S,
    `before=S` the last `limit` before S, neither the newest `limit` (at most 200).
    `next` is the cursor of the following page in the same direction (`after` for
    `after` pages, `before` otherwise), or null when there is none."""
    conversation = access_conversation(request.user, conversation_id).conversation
    before = parse_seq(before, "before")
    after = parse_seq(after, "after")
    if limit < 1:
        raise ClientError("bad_request", "limit muss ≥ 1 sein.", fields={"limit": ["Ungültig."]})
    page = messages_page(
        conversation, before=before, after=after, limit=min(limit, HISTORY_PAGE_MAX)
    )
    attach_reactions(page.messages, request.user)
    cursor: int | None = None
    if page.truncated and page.messages:
        forward = after is not None and before is None
        cursor = page.messages[-1].seq if forward else page.messages[0].seq
    return {
        "results": [message_payload(message) for message in page.messages],
        "next": cursor,
        "last_seq": page.last_seq,
    }


@router.post(
    "/conversations/{conversation_id}/messages",
    response={200: MessageOut, 201: MessageOut, **errors(403, 409, 429)},
    openapi_extra=beyond_schema(
        "A blank body needs attachments; reply_to and attachments must name messages and"
        " pending uploads of this conversation (400)."
    ),
)
def send(request: HttpRequest, conversation_id: Id, payload: SendIn) -> Status[dict[str, Any]]:
    """The same action as the WebSocket `send`: 201 when stored, 200 with the same
    message when a retry with the same client_id finds it stored."""
    take_message_token(request.user)
    message, created = do_send_message(
        actor=request.user,
        conversation_id=conversation_id,
        body=payload.body,
        client_id=payload.client_id,
        reply_to=payload.reply_to,
        attachments=payload.attachments,
    )
    if not created:
        attach_reactions([message], request.user)
    return Status(201 if created else 200, dict(message_payload(message)))


@router.post("/conversations/{conversation_id}/read", response={200: MarkReadOut, **errors(403)})
def mark_read(request: HttpRequest, conversation_id: Id, payload: MarkReadIn) -> dict[str, Any]:
    """Move my read marker forward (never back); answers the marker."""
    conversation = access_conversation(request.user, conversation_id).conversation
    marker = do_mark_read(actor=request.user, conversation=conversation, seq=payload.seq)
    return {"conversation": conversation.pk, "last_read_seq": marker}


@router.patch(
    "/conversations/{conversation_id}/messages/{message_id}",
    response={200: MessageOut, **errors(403, 409, 429)},
)
def edit(
    request: HttpRequest, conversation_id: Id, message_id: Id, payload: EditIn
) -> dict[str, Any]:
    conversation = access_conversation(request.user, conversation_id).conversation
    message_in(conversation, request.user, message_id)
    take_message_token(request.user)
    message = do_edit_message(actor=request.user, message_id=message_id, body=payload.body)
    attach_reactions([message], request.user)
    return dict(message_payload(message))


@router.delete(
    "/conversations/{conversation_id}/messages/{message_id}",
    response={200: MessageOut, **errors(403, 409, 429)},
)
def delete(request: HttpRequest, conversation_id: Id, message_id: Id) -> dict[str, Any]:
    conversation = access_conversation(request.user, conversation_id).conversation
    message_in(conversation, request.user, message_id)
    take_message_token(request.user)
    message = do_delete_message(actor=request.user, message_id=message_id)
    return dict(message_payload(message))


def react(
    request: HttpRequest, conversation_id: int, message_id: int, emoji: str, *, on: bool
) -> dict[str, Any]:
    conversation = access_conversation(request.user, conversation_id).conversation
    message_in(conversation, request.user, message_id)
    message, changed = do_set_reaction(
        actor=request.user, message_id=message_id, emoji=emoji, on=on
    )
    attach_reactions([message], request.user)
    return {
        "conversation": conversation.pk,
        "message": message.pk,
        "emoji": emoji,
        "on": on,
        "changed": changed,
        "reactions": reactions_payload(message),
    }


@router.put(
    "/conversations/{conversation_id}/messages/{message_id}/reactions/{emoji}",
    response={200: ReactionsOut, **errors(403, 409, 429)},
    openapi_extra=beyond_schema("The emoji: one of the documented set (400)."),
)
def put_reaction(
    request: HttpRequest, conversation_id: Id, message_id: Id, emoji: str
) -> dict[str, Any]:
    """Set my reaction `emoji` (URL-encoded, one of the documented set) on a message;
    setting it again changes nothing (`changed` false). Answers the message's
    reactions as I see them."""
    return react(request, conversation_id, message_id, emoji, on=True)


@router.delete(
    "/conversations/{conversation_id}/messages/{message_id}/reactions/{emoji}",
    response={200: ReactionsOut, **errors(403, 409, 429)},
    openapi_extra=beyond_schema("The emoji: one of the documented set (400)."),
)
def delete_reaction(
    request: HttpRequest, conversation_id: Id, message_id: Id, emoji: str
) -> dict[str, Any]:
    """Remove my reaction `emoji`; removing one I did not set changes nothing."""
    return react(request, conversation_id, message_id, emoji, on=False)


@router.post(
    "/messages/{message_id}/report",
    response={200: ReportOut, 201: ReportOut, **errors(403, 409)},
)
def report(request: HttpRequest, message_id: Id, payload: ReportIn) -> Status[dict[str, Any]]:
    """Report a message I may read to the moderators (201; 200 if I reported it before)."""
    report, created = do_report_message(
        actor=request.user, message_id=message_id, reason=payload.reason
    )
    return Status(
        201 if created else 200,
        {
            "id": report.pk,
            "message": report.message_id,
            "status": report.status,
            "created_at": report.created_at.isoformat(),
        },
    )


class SearchSegmentOut(Schema):
    text: str
    hit: bool


class SearchHitOut(BaseModel):
    """A message as in history (`message_payload`, with whatever keys it carries:
    a plain pydantic model, as ninja's `Schema` would drop the undeclared ones), its
    conversation's title for me, and `highlight`: plain-text segments, the hit ones
    marked (never HTML)."""

    model_config = ConfigDict(extra="allow")

    conversation: int
    id: int
    seq: int
    author: dict[str, Any]
    body: str
    client_id: str | None
    created_at: str
    edited_at: str | None
    deleted: bool
    conversation_title: str
    highlight: list[SearchSegmentOut]


class SearchPageOut(Schema):
    results: list[SearchHitOut]
    next: str | None


@router.get(
    "/search",
    response={200: SearchPageOut, **errors(403)},
    openapi_extra=beyond_schema("q: not blank, at most 200 characters; cursor: a `next` (400)."),
)
def search(
    request: HttpRequest,
    q: str = "",
    conversation: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Full-text search (German stemming on PostgreSQL, substring elsewhere) over the
    messages I may read, newest first, at most `limit` (default and maximum 50) a
    page; `next` is the cursor of the following page (pass it as `cursor`), null at
    the end. `conversation` narrows it to one."""
    hits, following = search_messages(
        request.user, q, conversation=conversation, cursor=cursor, limit=limit
    )
    attach_reactions([hit.message for hit in hits], request.user)
    return {
        "results": [
            {
                **message_payload(hit.message),
                "conversation_title": conversation_title(hit.message.conversation, request.user),
                "highlight": hit.highlight,
            }
            for hit in hits
        ],
        "next": following,
    }
