"""Error pages: German, in the site's layout, also with DEBUG=0; JSON under /api/.

Django calls these for requests that fail outside a view's own handling (an unknown
URL, `PermissionDenied`, `SuspiciousOperation`, a failed CSRF check, an unhandled
exception). Under `/api/` the answer is the API's error shape of docs/protocol.md.
With DEBUG on (`make run`), Django answers a missing page with its English developer
page instead, the project's URL list included; `GermanNotFoundInDebug` puts the
German page in its place, since people use the demo, not only developers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from realtime.errors import ClientError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _json(error: ClientError) -> JsonResponse:
    return JsonResponse(error.as_body(), status=error.status)


def _page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    return render(request, template, status=status)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _json(ClientError("bad_request", "Ungültige Anfrage."))
    return _page(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _json(ClientError("forbidden", "Kein Zugriff."))
    return _page(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return _json(ClientError("not_found", "Nicht gefunden."))
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request's context: whatever failed (the database, a
    context processor) must not fail the error page too."""
    if request.path.startswith(API_PREFIX):
        return _json(
            ClientError("internal", "Interner Fehler. Bitte später erneut versuchen.", status=500)
        )
    return HttpResponse(loader.get_template("500.html").render({}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """`CSRF_FAILURE_VIEW`: an expired form (the usual cause) explained in German."""
    if request.path.startswith(API_PREFIX):
        return _json(ClientError("forbidden", "CSRF-Prüfung fehlgeschlagen."))
    return _page(request, "403_csrf.html", 403)


# In each of Django's debug pages (technical_404.html, technical_500.html).
DEBUG_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'


class GermanNotFoundInDebug:
    """With DEBUG on, Django's developer 404 page becomes the German 404 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not request.path.startswith(API_PREFIX)
            and not getattr(response, "streaming", False)
            and DEBUG_PAGE_MARK in response.content
        ):
            return page_not_found(request)
        return response
