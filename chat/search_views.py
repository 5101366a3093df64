"""The page `/suche/?q=`: the global search over every message I may read, without
JavaScript too (a form, results with the hit marked, a link to the next page, each
hit opening its conversation at the message)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from chat.access import conversation_title
from chat.search import QUERY_MAX_CHARS, search_messages
from realtime.errors import ClientError


def message_url(conversation_id: int, seq: int) -> str:
    """The conversation page opened at a message (search.js scrolls to it and marks it)."""
    return f"/nachrichten/{conversation_id}/?nachricht={seq}#nachricht-{conversation_id}-{seq}"


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    context: dict[str, Any] = {
        "q": q,
        "max_chars": QUERY_MAX_CHARS,
        "hits": [],
        "error": "",
        # The help text promises only what the running database does: word forms,
        # "-Wort" and phrases on PostgreSQL, a substring on SQLite (docs/search.md).
        "full_text": settings.IS_POSTGRES,
    }
    status = 200
    if q.strip():
        try:
            hits, following = search_messages(
                request.user, q, cursor=request.GET.get("cursor") or None
            )
        except ClientError as error:
            context["error"] = error.detail
            status = 400
        else:
            context["hits"] = [
                {
                    "message": hit.message,
                    "segments": hit.highlight,
                    "title": conversation_title(hit.message.conversation, request.user),
                    "url": message_url(hit.message.conversation_id, hit.message.seq),
                }
                for hit in hits
            ]
            if following:
                context["next_url"] = "?" + urlencode({"q": q, "cursor": following})
            if request.GET.get("cursor"):
                context["first_url"] = "?" + urlencode({"q": q})
            context["searched"] = True
    return render(request, "chat/search.html", context, status=status)
