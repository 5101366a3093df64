"""The last visit of a person, cheaply: at most one write per person every few minutes.

A visit is a page (a GET outside /api/ and /static/) of a signed-in browser session;
the API calls a page makes and programs with tokens do not count again. The cache
(Redis in production, per-process memory when embedded) remembers that the visit was
just recorded, so a busy person costs one cache round trip per page and one upsert
per interval.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from engagement.actions import do_record_visit

VISIT_EVERY_SECONDS = 300
NOT_PAGES = ("/api/", "/static/", "/admin/jsi18n/")


class LastVisitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method != "GET" or request.path.startswith(NOT_PAGES):
            return response
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        if cache.add(f"netzn:visit:{user.pk}", 1, timeout=VISIT_EVERY_SECONDS):
            do_record_visit(user_id=user.pk, at=timezone.now())
        return response
