"""Throttling password checks (login form, `/auth/login`, `/auth/tokens`).

Failed attempts are counted in Django's cache (Redis when `REDIS_URL` is set, so all
processes share the count) in fixed windows of `NETZN_LOGIN_WINDOW_SECONDS`: per
e-mail address `NETZN_LOGIN_ATTEMPTS`, per client IP five times as many (a shared
office connection must not lock out a whole company). Once a limit is reached every
attempt in that window is refused before the password is checked, even a right one.
A successful login clears the count of its e-mail address.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import User
from realtime.errors import ClientError

IP_FACTOR = 5


def _window() -> tuple[int, float]:
    """The number of the current window and the seconds until it ends."""
    length = settings.NETZN_LOGIN_WINDOW_SECONDS
    now = time.time()
    number = int(now // length)
    return number, (number + 1) * length - now


def _keys(email: str, ip: str) -> tuple[str, str]:
    number, _ = _window()
    email_hash = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:{number}:email:{email_hash}", f"login-fail:{number}:ip:{ip}"


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def throttled_error() -> ClientError:
    _, remaining = _window()
    minutes = max(1, math.ceil(remaining / 60))
    return ClientError(
        "rate_limited",
        f"Zu viele Anmeldeversuche. Bitte in {minutes} Minuten erneut versuchen.",
        retry_after=math.ceil(remaining),
    )


def check_allowed(email: str, ip: str) -> None:
    """Raise `rate_limited` if this e-mail or this IP used up its attempts."""
    email_key, ip_key = _keys(email, ip)
    limit = settings.NETZN_LOGIN_ATTEMPTS
    if int(cache.get(email_key, 0)) >= limit:
        raise throttled_error()
    if int(cache.get(ip_key, 0)) >= limit * IP_FACTOR:
        raise throttled_error()


def record_failure(email: str, ip: str) -> None:
    _, remaining = _window()
    for key in _keys(email, ip):
        cache.add(key, 0, timeout=math.ceil(remaining) + 1)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=math.ceil(remaining) + 1)


def clear_email(email: str, ip: str) -> None:
    email_key, _ = _keys(email, ip)
    cache.delete(email_key)


def check_password(request: HttpRequest | None, *, email: str, password: str, ip: str) -> User:
    """The active person with this e-mail and password, counting failures.

    Raises `rate_limited` (429) when throttled and `unauthorized` (401) for a wrong
    e-mail or password, without saying which of the two was wrong."""
    check_allowed(email, ip)
    user: Any = authenticate(request, email=email.strip().lower(), password=password)
    if user is None or not user.is_active:
        record_failure(email, ip)
        raise ClientError("unauthorized", "E-Mail-Adresse oder Passwort ist falsch.")
    clear_email(email, ip)
    assert isinstance(user, User)
    return user


def verify_current_password(user: User, password: Any, ip: str) -> None:
    """The signed-in person's password, asked again before a change of credentials or
    a deletion; failures count like failed logins (one budget per address and IP).
    A wrong one is a 400 on the `password` field."""
    check_allowed(user.email, ip)
    if not isinstance(password, str) or not user.check_password(password):
        record_failure(user.email, ip)
        raise ClientError(
            "bad_request",
            "Das Passwort stimmt nicht.",
            fields={"password": ["Das Passwort stimmt nicht."]},
        )


# Fixed-window limits of actions that cost others attention or mail: (count, seconds).
# Each is counted per key (a person's id, or the client IP before sign-up) in the
# cache, shared by all processes through Redis. `NETZN_ACTION_LIMITS` overrides them
# ("group_create=100/3600,signup=100/3600"; docs/accounts.md, "Limits").
ACTION_LIMITS: dict[str, tuple[int, int]] = {
    "signup": (20, 3600),
    "password_reset": (10, 3600),  # per client IP
    "password_reset_address": (3, 3600),  # per e-mail address
    "confirmation_mail": (5, 3600),
    "group_create": (60, 3600),
    "join_request": (30, 3600),
    "invitation": (100, 3600),
    "report": (30, 3600),
    # Setting or removing a reaction (chat.actions.do_set_reaction), per person.
    "reaction": (120, 60),
    "upload": (200, 3600),
}
ACTION_MESSAGES = {
    "signup": "Zu viele Registrierungen von dieser Adresse.",
    "password_reset": "Zu viele E-Mails zum Zurücksetzen des Passworts.",
    "password_reset_address": "Zu viele E-Mails zum Zurücksetzen des Passworts.",
    "confirmation_mail": "Zu viele Bestätigungs-E-Mails.",
    "group_create": "Sie haben in der letzten Stunde schon viele Gruppen angelegt.",
    "join_request": "Zu viele Beitrittsanfragen.",
    "invitation": "Zu viele Einladungen.",
    "report": "Zu viele Meldungen.",
    "reaction": "Zu viele Reaktionen.",
    "upload": "Zu viele hochgeladene Dateien.",
}


def limit_action(action: str, key: Any) -> None:
    """Count one `action` for `key`; raise `rate_limited` (429, `retry_after`) once
    the window's budget is used up. The refused attempt is not counted."""
    limits = {**ACTION_LIMITS, **settings.NETZN_ACTION_LIMITS}
    count, length = limits[action]
    now = time.time()
    number = int(now // length)
    remaining = (number + 1) * length - now
    cache_key = f"action:{action}:{number}:{key}"
    if int(cache.get(cache_key, 0)) >= count:
        minutes = max(1, math.ceil(remaining / 60))
        raise ClientError(
            "rate_limited",
            f"{ACTION_MESSAGES[action]} Bitte in {minutes} Minuten erneut versuchen.",
            retry_after=math.ceil(remaining),
        )
    cache.add(cache_key, 0, timeout=math.ceil(remaining) + 1)
    try:
        cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=math.ceil(remaining) + 1)
