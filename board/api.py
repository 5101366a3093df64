"""JSON endpoints of the board (docs/protocol.md 1.1, "Board"; decisions in docs/board.md).

Parse, call an action or access function, answer. Lists answer
`{"results": [...], "next": <cursor or null>}` like every list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Status

from board import access, occupations, presentation
from board.actions import (
    do_contact_post_author,
    do_create_post,
    do_create_saved_search,
    do_delete_saved_search,
    do_update_post_status,
)
from board.events import post_path
from board.filters import BoardFilters
from board.models import Post, SavedSearch
from board.schemas import (
    BoardQuery,
    ContactIn,
    ContactOut,
    CreatedPostOut,
    OccupationPage,
    PostIn,
    PostOut,
    PostPage,
    PostPatch,
    SavedSearchIn,
    SavedSearchOut,
    SavedSearchPage,
)
from chat.api import take_message_token
from groups.api import Cursor, Limit, page
from realtime.errors import ClientError
from realtime.schemas import MAX_ID, beyond_schema, errors

router = Router(tags=["board"])

JSON = dict[str, Any]
BOARD_FILTERS = tuple(BoardFilters.__dataclass_fields__)
REGISTERS = (
    "A postcode must exist (the register), an occupation be a recognised one, a date "
    "lie between today and about a year ahead, a group be one I may read, and a "
    "category take only its own fields: else 400 naming the field."
)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Slug = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")]


def post_out(post: Post, user: Any) -> JSON:
    return listed_out(
        {
            "id": post.pk,
            "group_id": post.group_id,
            "author_id": post.author_id,
            "company": post.company,
            "kind": post.kind,
            "category": post.category,
            "title": post.title,
            "body": post.body,
            "fields": post.fields,
            "valid_until": post.valid_until,
            "expires_on": post.expires_on,
            "message_id": post.message_id,
            "created_at": post.created_at,
            "author__display_name": post.author.display_name,
            "group__slug": post.group.slug,
            "group__name": post.group.name,
            "group__conversation_id": post.group.conversation_id,
            "summary": post.summary,
            "effective_status": access.effective_status(post),
        },
        user,
    )


def listed_out(row: Mapping[str, Any], user: Any) -> JSON:
    """A post as the API shows it (`PostOut`), from a row of `access.board_rows`."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "category": row["category"],
        "title": row["title"],
        "body": row["body"],
        "fields": row["fields"],
        "author": {"id": row["author_id"], "display_name": row["author__display_name"]},
        "company": row["company"],
        "group": {"slug": row["group__slug"], "name": row["group__name"]},
        "status": row["effective_status"],
        "valid_until": row["valid_until"].isoformat() if row["valid_until"] else None,
        "expires_on": row["expires_on"].isoformat() if row["expires_on"] else None,
        "created_at": row["created_at"].isoformat(),
        "message_id": row["message_id"],
        "conversation_id": row["group__conversation_id"],
        "kind_label": presentation.kind_label(row["category"], row["kind"]),
        "summary": row["summary"] or presentation.summary(row["category"], row["fields"]),
        "url": post_path(row["id"]),
        "mine": row["author_id"] == user.pk,
    }


def checked_elsewhere(body: JSON) -> HttpResponse:
    """A response body built to its declared schema, sent without Ninja validating it
    again: for the board's list, where pydantic's per-row validation of 50 posts was a
    third of the request's CPU (docs/performance.md, "Board"). The shape is checked
    against the OpenAPI schema by tests/test_schemathesis.py and the board's tests."""
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        content_type="application/json; charset=utf-8",
    )


def search_out(search: SavedSearch) -> JSON:
    return {
        "id": search.pk,
        "name": search.name,
        "filters": search.filters,
        "alert": search.alert,
        "created_at": search.created_at.isoformat(),
    }


@router.post("/groups/{slug}/posts", response={201: CreatedPostOut, **errors(403, 404, 429)})
def create_post(request: HttpRequest, slug: Slug, payload: PostIn) -> Status[JSON]:
    """Publish an offer or request in the group (members only); 201 with the post and
    `matches`: the open posts of the opposite kind it fits that I may see."""
    take_message_token(request.user)
    created = do_create_post(
        actor=request.user,
        group_slug=slug,
        kind=payload.kind,
        category=payload.category,
        title=payload.title,
        body=payload.body,
        fields=payload.fields,
        valid_until=payload.valid_until,
    )
    visible = access.matches_of_post(request.user, created.post)
    body = post_out(created.post, request.user)
    body["matches"] = [post_out(other, request.user) for other in visible[:20]]
    return Status(201, body)


@router.get("/board", response=PostPage, openapi_extra=beyond_schema(REGISTERS))
def board(
    request: HttpRequest,
    query: Query[BoardQuery],
    cursor: Cursor = None,
    limit: Limit = None,
) -> HttpResponse:
    """Posts of the groups I may read, newest first; filters: kind, category, group
    (slug), city, postcode (1-5 leading digits), q (German full text), occupation,
    status (open by default, or filled, withdrawn, expired, all), date (within the
    post's date window), near (a postcode) with km (default 50)."""
    # `query` declares the filters (and checks their form); BoardFilters checks them.
    raw = {name: value for name, value in query.model_dump().items() if value is not None}
    unknown = set(request.GET) - {*BOARD_FILTERS, "cursor", "limit"}
    if unknown:
        raise ClientError(
            "bad_request",
            "Unbekannter Filter.",
            fields={name: ["Diesen Filter gibt es nicht."] for name in sorted(unknown)},
        )
    filters = BoardFilters.parse(raw)
    rows, following = page(access.board_rows(request.user, filters), cursor, limit)
    return checked_elsewhere(
        {"results": [listed_out(row, request.user) for row in rows], "next": following}
    )


@router.get("/posts/{post_id}", response={200: PostOut, **errors(403, 404)})
def get_post(request: HttpRequest, post_id: Id) -> JSON:
    return post_out(access.access_post(request.user, post_id), request.user)


@router.get("/posts/{post_id}/matches", response={200: PostPage, **errors(403, 404)})
def post_matches(request: HttpRequest, post_id: Id) -> dict[str, Any]:
    """The posts that matched this one (either way round) that I may see."""
    post = access.access_post(request.user, post_id)
    rows = access.matches_of_post(request.user, post)[:100]
    return {"results": [post_out(other, request.user) for other in rows], "next": None}


@router.patch("/posts/{post_id}", response={200: PostOut, **errors(403, 404, 409)})
def update_post(request: HttpRequest, post_id: Id, payload: PostPatch) -> JSON:
    post = do_update_post_status(actor=request.user, post_id=post_id, status=payload.status)
    return post_out(post, request.user)


@router.post("/posts/{post_id}/contact", response={201: ContactOut, **errors(403, 404, 409, 429)})
def contact(request: HttpRequest, post_id: Id, payload: ContactIn) -> Status[JSON]:
    """ "Interesse": the direct conversation with the author, the message sent there."""
    take_message_token(request.user)
    conversation, message = do_contact_post_author(
        actor=request.user, post_id=post_id, message=payload.message, client_id=payload.client_id
    )
    return Status(
        201,
        {
            "conversation_id": conversation.pk,
            "message_id": message.pk,
            "seq": message.seq,
            "url": f"/nachrichten/{conversation.pk}/",
        },
    )


@router.get("/occupations", response=OccupationPage)
def list_occupations(
    request: HttpRequest, q: Annotated[str, Query(max_length=200)] = ""
) -> dict[str, Any]:
    """Recognised occupations whose names contain every word of `q` (German-aware)."""
    return {"results": [{"name": name} for name in occupations.search(q)], "next": None}


@router.post(
    "/searches",
    response={201: SavedSearchOut, **errors(409)},
    openapi_extra=beyond_schema(REGISTERS),
)
def create_search(request: HttpRequest, payload: SavedSearchIn) -> Status[JSON]:
    search = do_create_saved_search(
        actor=request.user,
        name=payload.name,
        filters=payload.filters,
        alert=payload.alert,
    )
    return Status(201, search_out(search))


@router.get("/searches", response=SavedSearchPage)
def list_searches(request: HttpRequest) -> dict[str, Any]:
    return {"results": [search_out(s) for s in access.my_searches(request.user)], "next": None}


@router.delete("/searches/{search_id}", response={204: None, **errors(404)})
def delete_search(request: HttpRequest, search_id: Id) -> Status[None]:
    do_delete_saved_search(actor=request.user, search_id=search_id)
    return Status(204, None)
