"""JSON endpoints of the chat app (docs/protocol.md, "HTTP API"; decisions in
docs/protocol.md). Parse, call an access function or action, answer.

A conversation or message id that does not exist is answered exactly like a
forbidden one (403), so nobody can probe.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db.models import Func
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from chat.access import (
    HISTORY_PAGE_MAX,
    access_conversation,
    conversation_title,
    conversations_of,
    messages_page,
    parse_seq,
    readable_conversations,
)
from chat.actions import (
    do_delete_message,
    do_edit_message,
    do_get_or_create_direct_conversation,
    do_mark_read,
    do_report_message,
    do_send_message,
)
from chat.events import message_payload
from chat.models import Conversation, Message, Participant
from chat.schemas import (
    ConversationOut,
    ConversationPage,
    DirectIn,
    EditIn,
    HistoryPage,
    MarkReadIn,
    MarkReadOut,
    MessageOut,
    ReportIn,
    ReportOut,
    SearchPage,
    SendIn,
)
from realtime.errors import ClientError, forbidden
from realtime.ratelimit import sync_rate_limiter
from realtime.schemas import MAX_ID, NOT_BLANK, beyond_schema, errors

router = Router(tags=["chat"])

# Path and query numbers: ids are bigints from 1, seqs from 0.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Seq = Annotated[int | None, Query(ge=0, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

SEARCH_RESULTS_MAX = 50
SEARCH_QUERY_MAX_CHARS = 200


def conversation_out(conversation: Conversation, user: Any) -> dict[str, Any]:
    participant = Participant.objects.filter(conversation=conversation, user=user).first()
    last_read = min(participant.last_read_seq, conversation.last_seq) if participant else 0
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "title": conversation_title(conversation, user),
        "last_seq": conversation.last_seq,
        "last_read_seq": last_read,
        "unread_count": conversation.last_seq - last_read if participant else 0,
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


@router.get("/conversations", response=ConversationPage)
def list_conversations(request: HttpRequest) -> dict[str, Any]:
    """My conversations, newest activity first, with read marker and unread count."""
    return {"results": conversations_of(request.user), "next": None}


@router.post(
    "/conversations/direct",
    response={200: ConversationOut, 201: ConversationOut, **errors(403)},
    openapi_extra=beyond_schema("The other person: not oneself (400)."),
)
def open_direct(request: HttpRequest, payload: DirectIn) -> Status[dict[str, Any]]:
    """Get or create the direct conversation with that person (201 when created)."""
    conversation, created = do_get_or_create_direct_conversation(
        actor=request.user, other_user_id=payload.user_id
    )
    return Status(201 if created else 200, conversation_out(conversation, request.user))


@router.get("/conversations/{conversation_id}", response={200: ConversationOut, **errors(403)})
def get_conversation(request: HttpRequest, conversation_id: Id) -> dict[str, Any]:
    conversation = access_conversation(request.user, conversation_id)
    return conversation_out(conversation, request.user)


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
    conversation = access_conversation(request.user, conversation_id)
    before = parse_seq(before, "before")
    after = parse_seq(after, "after")
    if limit < 1:
        raise ClientError("bad_request", "limit muss ≥ 1 sein.", fields={"limit": ["Ungültig."]})
    page = messages_page(
        conversation, before=before, after=after, limit=min(limit, HISTORY_PAGE_MAX)
    )
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
    )
    return Status(201 if created else 200, dict(message_payload(message)))


@router.post("/conversations/{conversation_id}/read", response={200: MarkReadOut, **errors(403)})
def mark_read(request: HttpRequest, conversation_id: Id, payload: MarkReadIn) -> dict[str, Any]:
    """Move my read marker forward (never back); answers the marker."""
    conversation = access_conversation(request.user, conversation_id)
    marker = do_mark_read(actor=request.user, conversation=conversation, seq=payload.seq)
    return {"conversation": conversation.pk, "last_read_seq": marker}


@router.patch(
    "/conversations/{conversation_id}/messages/{message_id}",
    response={200: MessageOut, **errors(403, 409, 429)},
)
def edit(
    request: HttpRequest, conversation_id: Id, message_id: Id, payload: EditIn
) -> dict[str, Any]:
    conversation = access_conversation(request.user, conversation_id)
    message_in(conversation, request.user, message_id)
    take_message_token(request.user)
    message = do_edit_message(actor=request.user, message_id=message_id, body=payload.body)
    return dict(message_payload(message))


@router.delete(
    "/conversations/{conversation_id}/messages/{message_id}",
    response={200: MessageOut, **errors(403, 409, 429)},
)
def delete(request: HttpRequest, conversation_id: Id, message_id: Id) -> dict[str, Any]:
    conversation = access_conversation(request.user, conversation_id)
    message_in(conversation, request.user, message_id)
    take_message_token(request.user)
    message = do_delete_message(actor=request.user, message_id=message_id)
    return dict(message_payload(message))


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


class GermanBodyVector(Func):
    """`to_tsvector('german', body)`: the exact expression of the search index."""

    template = "to_tsvector('german'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


@router.get("/search", response={200: SearchPage, **errors(403)})
def search(
    request: HttpRequest,
    q: Annotated[str, Query(min_length=1, max_length=SEARCH_QUERY_MAX_CHARS, pattern=NOT_BLANK)],
    conversation: QueryId = None,
) -> dict[str, Any]:
    """Full-text search (German stemming on PostgreSQL) over the messages I may read,
    newest first, at most 50; `conversation` narrows it to one."""
    query = q.strip()
    if not query:
        raise ClientError("bad_request", "Suchbegriff fehlt.", fields={"q": ["Erforderlich."]})
    if len(query) > SEARCH_QUERY_MAX_CHARS:
        raise ClientError("bad_request", "Suchbegriff zu lang.", fields={"q": ["Zu lang."]})
    messages = Message.objects.filter(deleted_at__isnull=True)
    if conversation is not None:
        messages = messages.filter(conversation=access_conversation(request.user, conversation))
    else:
        messages = messages.filter(
            conversation_id__in=readable_conversations(request.user).values("pk")
        )
    if settings.IS_POSTGRES:
        messages = messages.annotate(document=GermanBodyVector("body")).filter(
            document=SearchQuery(query, config="german", search_type="websearch")
        )
    else:
        messages = messages.filter(body__icontains=query)
    found = list(
        messages.select_related("author", "conversation").order_by("-created_at", "-id")[
            :SEARCH_RESULTS_MAX
        ]
    )
    return {
        "results": [
            {
                **message_payload(message),
                "conversation_title": conversation_title(message.conversation, request.user),
            }
            for message in found
        ],
        "next": None,
    }
