"""Django admin for operators: people, companies, their contact persons, tokens, blocks."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.actions import do_revoke_token, do_verify_company
from accounts.models import AccessToken, Block, Company, CompanyMember, User
from accounts.privacy import do_delete_person


class UserCreationByEmailForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "display_name")


class UserChangeByEmailForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeByEmailForm
    add_form = UserCreationByEmailForm
    ordering = ("display_name",)
    list_display = ("display_name", "email", "company_name", "city", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "city")
    search_fields = ("display_name", "email", "company_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Profil",
            {
                "fields": (
                    "display_name",
                    "job_title",
                    "company_name",
                    "city",
                    "phone",
                    "bio",
                    "topics",
                )
            },
        ),
        ("Sichtbarkeit", {"fields": ("email_visibility", "phone_visibility", "email_frequency")}),
        (
            "Rechte",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Daten", {"fields": ("last_login", "date_joined")}),
    )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        """The admin's "Löschen" is the same deletion as the person's own: groups
        handed over, messages anonymised, sessions and sockets ended."""
        do_delete_person(actor=request.user, person=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for person in queryset:
            do_delete_person(actor=request.user, person=person)  # type: ignore[arg-type]

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """The confirmation page lists what goes; the deletion itself is the action's,
        which may remove rows the operator cannot delete one by one (reports made,
        notifications), so those do not block it."""
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        """The audit entry of a deletion names the account number, not the person."""
        from django.contrib.admin.models import DELETION, LogEntry
        from django.contrib.contenttypes.models import ContentType

        content_type = ContentType.objects.get_for_model(User)
        return [
            LogEntry.objects.create(
                user_id=int(request.user.pk or 0),
                content_type=content_type,
                object_id=str(person.pk),
                object_repr=f"Person #{person.pk}",
                action_flag=DELETION,
            )
            for person in queryset
        ]

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "display_name", "password1", "password2"),
            },
        ),
    )


class CompanyMemberInline(admin.TabularInline):
    model = CompanyMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "industry", "city", "verification", "created_at")
    list_filter = ("verification", "city")
    search_fields = ("name", "slug", "industry", "register_number", "domain")
    inlines = (CompanyMemberInline,)
    raw_id_fields = ("created_by",)
    readonly_fields = ("verification", "verified_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ("verify", "unverify")

    @admin.action(description="Als Kammer bestätigen")
    def verify(self, request: HttpRequest, queryset: QuerySet[Company]) -> None:
        for company in queryset:
            do_verify_company(actor=request.user, company=company)  # type: ignore[arg-type]

    @admin.action(description="Bestätigung zurücknehmen")
    def unverify(self, request: HttpRequest, queryset: QuerySet[Company]) -> None:
        for company in queryset:
            do_verify_company(actor=request.user, company=company, verified=False)  # type: ignore[arg-type]


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owners; the admin can only look and revoke."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__email", "prefix")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("token_hash",)
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Ausgewählte Zugänge widerrufen")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            do_revoke_token(actor=token.user, token_id=token.pk)


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("blocker", "blocked", "created_at")
    raw_id_fields = ("blocker", "blocked")
