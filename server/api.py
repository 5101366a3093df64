"""The JSON API root: /api/v1/, its auth, and the one error shape of PROTOCOL.md."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from accounts.api import router as accounts_router
from accounts.tokens import user_for_token
from board.api import router as board_router
from chat.api import router as chat_router
from chat.attachments_api import router as attachments_router
from engagement.api import router as engagement_router
from groups.api import router as groups_router
from notifications.api import router as notifications_router
from realtime.errors import STATUS_BY_CODE, ClientError
from realtime.middleware import unavailable
from realtime.text import parse_json_body
from realtime.uploads import FileTooLarge

logger = logging.getLogger(__name__)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CODE_BY_STATUS = {status: code for code, status in STATUS_BY_CODE.items()}


def no_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


CSRF_CHECK = CsrfViewMiddleware(no_view)


class SessionOrToken:
    """`Authorization: Bearer <token>` (never CSRF-checked) or the session cookie
    (CSRF-checked for writes). Sets `request.user` and returns it."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            user = user_for_token(header[7:].strip())
            if user is None:
                return None
            request.user = user
            return user
        if not request.user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS:
            reason = CSRF_CHECK.process_view(request, no_view, (), {})
            if reason is not None:
                raise ClientError("forbidden", "CSRF-Prüfung fehlgeschlagen.")
        return request.user


auth = SessionOrToken()


class CheckedParser(Parser):
    """JSON bodies through `realtime.text.parse_json_body`: malformed or too deeply
    nested JSON, and NUL or a lone surrogate in any string, are a 400 in German."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data: dict[str, Any] = parse_json_body(request.body)
        return data


api = NinjaAPI(
    title="netzn API",
    version="1",
    urls_namespace="api",
    auth=auth,
    openapi_url="/openapi.json",
    docs_url="/docs",
    parser=CheckedParser(),
)


def error_response(request: HttpRequest, error: ClientError) -> HttpResponse:
    response = api.create_response(request, error.as_body(), status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(max(1, round(error.retry_after)))
    return response


@api.exception_handler(ClientError)
def on_client_error(request: HttpRequest, exc: ClientError) -> HttpResponse:
    return error_response(request, exc)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "payload") and not isinstance(part, int)
        ]
        name = ".".join(location[-1:]) if location else "__all__"
        fields.setdefault(name or "__all__", []).append(str(error.get("msg", "ungültig")))
    return error_response(request, ClientError("bad_request", "Ungültige Eingabe.", fields=fields))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, ClientError("unauthorized", "Anmeldung erforderlich."))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, ClientError("not_found", "Nicht gefunden."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, ClientError):
        # Ninja wraps what the parser raises ("Cannot parse request body").
        return error_response(request, exc.__cause__)
    code = CODE_BY_STATUS.get(exc.status_code, "bad_request")
    return error_response(request, ClientError(code, str(exc), status=exc.status_code))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    detail = str(exc) if isinstance(exc, FileTooLarge) else "Die Anfrage ist zu groß."
    return error_response(request, ClientError("too_large", detail))


@api.exception_handler(DatabaseError)
def on_database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    """An outage, or no pooled connection within the pool's timeout: 503, retryable.
    Input is validated before it reaches the database; should the database still
    refuse some (a `DataError`), that is the client's 400, not an outage."""
    if isinstance(exc, DataError):
        logger.warning("the database refused input in %s %s: %s", request.method, request.path, exc)
        return error_response(request, ClientError("bad_request", "Ungültige Eingabe."))
    logger.exception("database error in %s %s", request.method, request.path)
    return error_response(request, unavailable())


api.add_router("/", accounts_router)
api.add_router("/", groups_router)
api.add_router("/", chat_router)
api.add_router("/", attachments_router)
api.add_router("/", notifications_router)
api.add_router("/", board_router)
api.add_router("/", engagement_router)
