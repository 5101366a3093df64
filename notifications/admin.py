"""Notifications in Django's admin: a read-only list for the platform operator.

The payload (`data`) is not shown: for direct messages it quotes the message, and the
operator reads no direct messages beyond reported ones (issue 5)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "recipient",
        "kind",
        "created_at",
        "read_at",
        "email_due_at",
        "emailed_at",
    )
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__email", "recipient__display_name", "dedupe_key")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "recipient",
        "kind",
        "dedupe_key",
        "created_at",
        "read_at",
        "email_due_at",
        "emailed_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
