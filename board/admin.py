"""The board in Django's admin: read-only lists for the operators (every change goes
through the actions, so posts are not edited here)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from board.models import Match, Post, SavedSearch


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Post)
class PostAdmin(ReadOnly):
    list_display = ("title", "kind", "category", "status", "group", "author", "created_at")
    list_filter = ("category", "kind", "status")
    search_fields = ("title", "body")


@admin.register(SavedSearch)
class SavedSearchAdmin(ReadOnly):
    list_display = ("name", "user", "alert", "created_at")
    list_filter = ("alert",)


@admin.register(Match)
class MatchAdmin(ReadOnly):
    list_display = ("post", "recipient", "other", "search", "daily", "created_at")
