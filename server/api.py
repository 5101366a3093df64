"""The JSON API root: /api/v1/, its auth, and the one error shape of docs/protocol.md."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError, DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security.base import AuthBase

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
from realtime.schemas import ErrorOut
from realtime.text import parse_json_body
from realtime.uploads import FileTooLarge

logger = logging.getLogger(__name__)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# A body in another format is a 415; none given (a form's default) is read as JSON.
JSON_CONTENT_TYPES = {"application/json", "", "text/plain"}
CODE_BY_STATUS = {status: code for code, status in STATUS_BY_CODE.items()}


def no_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


CSRF_CHECK = CsrfViewMiddleware(no_view)


class SessionOrToken(AuthBase):
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
        if request.body.strip() and request.content_type not in JSON_CONTENT_TYPES:
            raise ClientError(
                "unsupported_media_type",
                "Erwartet wird JSON (Content-Type: application/json).",
                status=415,
            )
        if not request.body.strip():
            # No body at all: an object with every field left out (an operation whose
            # fields all have defaults may be called without one).
            return {}
        data: dict[str, Any] = parse_json_body(request.body)
        return data


# Every string the server stores or looks up is refused with NUL in it (PostgreSQL
# cannot store it: `realtime.text.is_storable`); the schema says so for every string.
NO_NUL = "^[^\\x00]*$"
SHARED_ERRORS = {
    400: "Ungültige Eingabe (`fields` nennt die Felder).",
    401: "Nicht angemeldet (kein oder ein ungültiger Token, keine Sitzung).",
    413: "Die Anfrage ist zu groß.",
    415: "Der Inhalt ist kein JSON (`Content-Type: application/json`).",
    503: "Vorübergehend nicht erreichbar (mit `Retry-After`).",
}
METHODS = {"get", "post", "put", "patch", "delete"}


def refuse_nul(node: Any) -> None:
    """Add `NO_NUL` to every string schema below `node` (one with a pattern of its own
    gets both, through `allOf`)."""
    if isinstance(node, list):
        for item in node:
            refuse_nul(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and "enum" not in node and "const" not in node:
        if "pattern" not in node:
            node["pattern"] = NO_NUL
        elif node["pattern"] != NO_NUL:
            node.setdefault("allOf", []).append({"pattern": NO_NUL})
    for value in node.values():
        if isinstance(value, dict | list):
            refuse_nul(value)


def body_is_optional(body: dict[str, Any]) -> bool:
    """A body parameter declared `X | None = None` may be left out entirely."""
    target = body.get("content", {}).get("application/json", {}).get("schema", {})
    return {"type": "null"} in target.get("anyOf", [])


def add_shared_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """The statuses every operation shares, with the error body: 400 where there is
    input, 401 where sign-in is needed, 413 and 415 where there is a body, 503 always."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorOut"] = error_schema
    reference = {"$ref": "#/components/schemas/ErrorOut"}
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            if method not in METHODS:
                continue
            shared = [503]
            if operation.get("parameters") or operation.get("requestBody"):
                shared.append(400)
            if operation.get("security"):
                shared.append(401)
            if operation.get("requestBody"):
                shared += [413, 415]
            body = operation.get("requestBody")
            if body is not None and body_is_optional(body):
                body["required"] = False
            responses = operation.setdefault("responses", {})
            for status in shared:
                if status in responses or str(status) in responses:
                    continue  # declared by the operation (Ninja's keys are ints)
                responses.setdefault(
                    status,
                    {
                        "description": SHARED_ERRORS[status],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    refuse_nul(schema)
    return schema


class TypedNinjaAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return add_shared_errors(super().get_openapi_schema(*args, **kwargs))


api = TypedNinjaAPI(
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


# pydantic's error types in German (the `fields` of a 400); `{name}` from its context.
GERMAN_MESSAGES = {
    "missing": "Pflichtfeld.",
    "extra_forbidden": "Unbekanntes Feld.",
    "string_type": "Text erwartet.",
    "string_too_short": "Mindestens {min_length} Zeichen.",
    "string_too_long": "Höchstens {max_length} Zeichen.",
    "string_pattern_mismatch": "Ungültiges Format.",
    "int_type": "Ganze Zahl erwartet.",
    "int_parsing": "Ganze Zahl erwartet.",
    "int_from_float": "Ganze Zahl erwartet.",
    "float_type": "Zahl erwartet.",
    "float_parsing": "Zahl erwartet.",
    "bool_type": "true oder false erwartet.",
    "bool_parsing": "true oder false erwartet.",
    "greater_than_equal": "Mindestens {ge}.",
    "greater_than": "Größer als {gt}.",
    "less_than_equal": "Höchstens {le}.",
    "less_than": "Kleiner als {lt}.",
    "literal_error": "Erlaubt: {expected}.",
    "enum": "Erlaubt: {expected}.",
    "list_type": "Liste erwartet.",
    "too_short": "Mindestens {min_length} Einträge.",
    "too_long": "Höchstens {max_length} Einträge.",
    "dict_type": "JSON-Objekt erwartet.",
    "model_type": "JSON-Objekt erwartet.",
    "model_attributes_type": "JSON-Objekt erwartet.",
    "date_from_datetime_parsing": "Datum erwartet (JJJJ-MM-TT).",
    "date_parsing": "Datum erwartet (JJJJ-MM-TT).",
    "date_type": "Datum erwartet (JJJJ-MM-TT).",
}


def german_message(error: dict[str, Any]) -> str:
    if error.get("type") == "value_error":
        return str(error.get("msg", "Ungültig.")).removeprefix("Value error, ")
    template = GERMAN_MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return "Ungültig."
    context = {
        key: str(value).replace(" or ", " oder ") for key, value in error.get("ctx", {}).items()
    }
    try:
        return template.format(**context)
    except (KeyError, IndexError, ValueError):
        return "Ungültig."


# Where Ninja says an input came from; the parameter's own name follows for a body
# (and for a query or path model), then the field's path inside it.
LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}
# Union members name themselves in pydantic's error locations ("str", "ReadIds").
UNION_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


def field_name(location: tuple[Any, ...]) -> str:
    """`fields` key of an error: the field's dotted path (`title`, `fields.places`),
    list indexes left out (`ids` for a bad `ids[3]`), `__all__` for the whole body."""
    parts = [part for part in location if not isinstance(part, int)]
    if parts and parts[0] in LOCATIONS:
        where = parts.pop(0)
        if parts and (where == "body" or len(parts) > 1):
            parts.pop(0)
    names = [
        str(part)
        for part in parts
        if str(part) not in UNION_TAGS
        and not str(part)[:1].isupper()
        and "[" not in str(part)
        and "-" not in str(part)
    ]
    return ".".join(names) or "__all__"


def message_too_long(errors: list[dict[str, Any]]) -> bool:
    """A message body over the limit is `too_large` (413), as on the WebSocket."""
    return bool(errors) and all(
        error.get("type") == "string_too_long" and field_name(tuple(error.get("loc", ()))) == "body"
        for error in errors
    )


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if message_too_long(list(exc.errors)) and "/conversations/" in request.path:
        limit = settings.NETZN_MESSAGE_MAX_CHARS
        return error_response(
            request,
            ClientError(
                "too_large",
                f"Eine Nachricht hat höchstens {limit} Zeichen.",
                fields={"body": ["Zu lang."]},
            ),
        )
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        name = field_name(tuple(error.get("loc", ())))
        message = german_message(error)
        if message not in fields.setdefault(name, []):
            fields[name].append(message)
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


@api.exception_handler(MultiPartParserError)
def on_unreadable_form(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    """A multipart body Django cannot read: no or a wrong boundary, or a part's head
    over Django's 1,024 bytes (a file name of about 1,000 characters)."""
    logger.warning("unreadable multipart body in %s %s: %s", request.method, request.path, exc)
    return error_response(
        request,
        ClientError(
            "bad_request",
            "Das Formular ist nicht lesbar (multipart/form-data ohne gültige Grenze "
            "oder ein zu langer Dateiname).",
        ),
    )


@api.exception_handler(SuspiciousOperation)
def on_suspicious_request(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    logger.warning("refused %s %s: %s", request.method, request.path, exc)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return error_response(
            request, ClientError("bad_request", "Zu viele Felder in der Anfrage.")
        )
    return error_response(request, ClientError("bad_request", "Ungültige Anfrage."))


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


def leave_out_unset() -> None:
    """Answers keep exactly the keys an endpoint returned: a field it left out (a
    hidden contact field, `pending_claims` for non-admins) stays absent, never null."""
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                operation.exclude_unset = True


leave_out_unset()
