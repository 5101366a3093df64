"""HTTP middleware: the Content-Security-Policy of every page, and the guard that
keeps bad input and database trouble out of 500s (`RequestGuardMiddleware`).

The pages load scripts and styles only from our own origin (Django 5.2 has no CSP
built in), no inline script and no inline event handlers, and the WebSocket goes
back to the same host.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.core.signals import got_request_exception
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from realtime.errors import ClientError
from realtime.text import INVALID_CHARACTER, is_storable

logger = logging.getLogger(__name__)

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


API_PREFIX = "/api/"
# Seconds a client is told to wait before it retries a request refused for want of a
# database connection (the pool's queue was full for its whole timeout) or during an
# outage.
RETRY_AFTER_SECONDS = 2
ERROR_PAGES = {
    400: ("Ungültige Anfrage", "Die Anfrage enthält ungültige Zeichen oder Daten."),
    413: ("Anfrage zu groß", "Die gesendeten Daten sind zu groß."),
    503: (
        "Vorübergehend nicht erreichbar",
        "Der Dienst ist gerade ausgelastet. Bitte in ein paar Sekunden erneut versuchen.",
    ),
}
# Error answers of Django itself (the URL resolver's 404, a 405, a 500) on an API
# path, re-shaped into docs/protocol.md's JSON error.
API_CODES = {
    400: ("bad_request", "Ungültige Anfrage."),
    403: ("forbidden", "Kein Zugriff."),
    404: ("not_found", "Nicht gefunden."),
    405: ("method_not_allowed", "Diese Methode ist hier nicht erlaubt."),
    413: ("too_large", "Die Anfrage ist zu groß."),
    500: ("internal", "Interner Fehler."),
}


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_answer(request: HttpRequest, error: ClientError) -> HttpResponse:
    """`error` as the API's JSON body, or as a small German page (one that needs no
    database: it is also the answer when the database is out of reach)."""
    response: HttpResponse
    if is_api(request):
        response = JsonResponse(error.as_body(), status=error.status)
    else:
        title, detail = ERROR_PAGES.get(error.status, ERROR_PAGES[400])
        response = HttpResponse(
            render_to_string("server/error.html", {"title": title, "detail": detail}),
            status=error.status,
        )
    if error.retry_after is not None:
        response["Retry-After"] = str(max(1, round(error.retry_after)))
    return response


def unavailable() -> ClientError:
    return ClientError(
        "unavailable",
        "Vorübergehend nicht möglich. Bitte erneut versuchen.",
        retry_after=RETRY_AFTER_SECONDS,
    )


class RequestGuardMiddleware:
    """The HTTP edge of "bad input gets a clear 4xx, never a 500" (docs/protocol.md):

    - a body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (file uploads aside) is 413
      before anything reads it;
    - NUL in the path, the query string or a form field (PostgreSQL cannot store it)
      is 400 naming the field, so no view passes it to the database; more fields
      than `DATA_UPLOAD_MAX_NUMBER_FIELDS` in the query string or a form are 400;
    - on the API, Django's own error answers (an unknown path, a wrong method) get
      the JSON error shape;
    - a request that cannot reach the database, or gets no pooled connection within
      the pool's timeout, is answered 503 with Retry-After (JSON on the API, a page
      elsewhere), whether its view or a middleware (the session lookup) ran into it;
      an error the database raises for input it refuses is a 400.
    JSON bodies are checked where they are parsed (`realtime.text.parse_json_body`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self.refuse(request)
        if refused is not None:
            return error_answer(request, refused)
        response = self.get_response(request)
        exception = getattr(request, "netzn_exception", None)
        if response.status_code == 500 and exception is not None:
            answer = self.answer_for(request, exception)
            if answer is not None:
                return answer
        if is_api(request) and response.status_code >= 400 and not is_json(response):
            code, detail = API_CODES.get(response.status_code, API_CODES[400])
            reshaped = JsonResponse(
                ClientError(code, detail, status=response.status_code).as_body(),
                status=response.status_code,
            )
            if response.has_header("Allow"):
                reshaped["Allow"] = response["Allow"]
            return reshaped
        return response

    def refuse(self, request: HttpRequest) -> ClientError | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return ClientError("bad_request", "Ungültige Content-Length.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if (
            limit is not None
            and length > limit
            and not (request.content_type or "").startswith("multipart/")
        ):
            return ClientError(
                "too_large",
                f"Eine Anfrage hat höchstens {limit / 2**20:.1f} MB.".replace(".", ","),
                status=413,
            )
        fields: dict[str, list[str]] = {}
        if "\x00" in request.path_info:
            fields["path"] = [INVALID_CHARACTER]
        try:
            sources = [request.GET]
            if (
                request.method == "POST"
                and request.content_type == "application/x-www-form-urlencoded"
            ):
                sources.append(request.POST)
            for source in sources:
                for key, values in source.lists():
                    if not is_storable(key) or not all(is_storable(value) for value in values):
                        fields[key if is_storable(key) else "__all__"] = [INVALID_CHARACTER]
        except TooManyFieldsSent:
            # Answered here: later, Django's debug page would read the fields again
            # and fail with a 500.
            most = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            return ClientError("bad_request", f"Zu viele Felder in der Anfrage (höchstens {most}).")
        if fields:
            return ClientError("bad_request", "Ungültiges Zeichen in der Anfrage.", fields=fields)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        answer = self.answer_for(request, exception)
        if answer is not None:
            logger.warning("%s %s: %r", request.method, request.path, exception)
        return answer

    def answer_for(self, request: HttpRequest, exception: BaseException) -> HttpResponse | None:
        if isinstance(exception, DataError):
            return error_answer(request, ClientError("bad_request", "Ungültige Eingabe."))
        if isinstance(exception, OperationalError | InterfaceError):
            return error_answer(request, unavailable())
        return None


def remember_exception(
    sender: object, request: HttpRequest | None = None, **kwargs: object
) -> None:
    """Django turns an exception anywhere below a middleware (a view, or another
    middleware such as the session lookup) into a 500 before the guard sees it; this
    receiver of `got_request_exception` keeps it on the request for the guard."""
    exception = sys.exc_info()[1]
    if request is not None and exception is not None:
        request.netzn_exception = exception  # type: ignore[attr-defined]


got_request_exception.connect(remember_exception, dispatch_uid="netzn-remember-exception")


def is_json(response: HttpResponse) -> bool:
    return str(response.get("Content-Type", "")).startswith("application/json")
