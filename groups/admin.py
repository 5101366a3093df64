"""Django admin for groups. Changes go through the actions (docs/architecture.md, rule 1),
so the admin shows the data and its history, but edits only what has no side effects."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from groups.models import Group, Invitation, JoinRequest, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "role", "joined_at")
    readonly_fields = ("user", "role", "joined_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "visibility", "city", "created_at", "archived_at")
    list_filter = ("visibility", "archived_at")
    search_fields = ("name", "slug", "description")
    readonly_fields = ("slug", "conversation", "created_by", "created_at", "archived_at")
    fields = (
        "name",
        "slug",
        "description",
        "topics",
        "city",
        "visibility",
        "conversation",
        "created_by",
        "created_at",
        "archived_at",
    )
    inlines = (MembershipInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Founding a group creates its conversation and owner: use the site.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Renames and visibility must reach the conversation: use the settings page.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "group", "role", "joined_at")
    list_filter = ("role",)
    search_fields = ("user__display_name", "user__email", "group__name")
    readonly_fields = ("group", "user", "role", "joined_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ("user", "group", "status", "created_at", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("user__display_name", "group__name", "message")
    readonly_fields = (
        "group",
        "user",
        "message",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "reason",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("user", "group", "invited_by", "status", "created_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("user__display_name", "group__name")
    readonly_fields = ("group", "user", "invited_by", "status", "created_at", "decided_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
