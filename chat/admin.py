"""The moderation queue: reported messages in Django's admin.

The platform operator sees what was reported (with the reported text as it was) and
nothing else: `Message` itself is not registered, so nobody browses others' direct
messages in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from chat.actions import do_delete_message_as_operator, do_resolve_report
from chat.models import MessageReport


@admin.register(MessageReport)
class MessageReportAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "status",
        "decision",
        "decided_by",
        "reported_text",
        "author",
        "reporter",
        "reason",
    )
    list_filter = ("status",)
    ordering = ("status", "-created_at")
    list_select_related = ("message__author", "reporter", "message__conversation", "decided_by")
    readonly_fields = (
        "message",
        "author",
        "conversation",
        "reporter",
        "reason",
        "body_snapshot",
        "status",
        "created_at",
        "resolved_at",
        "decision",
        "decided_by",
    )
    fields = readonly_fields
    actions = ("resolve", "dismiss", "delete_message_and_resolve")

    @admin.display(description="Gemeldeter Text")
    def reported_text(self, report: MessageReport) -> str:
        text = report.body_snapshot
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="Verfasst von")
    def author(self, report: MessageReport) -> Any:
        return report.message.author

    @admin.display(description="Unterhaltung")
    def conversation(self, report: MessageReport) -> Any:
        return report.message.conversation

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Als erledigt markieren", permissions=["view"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[MessageReport]) -> None:
        changed = do_resolve_report(
            actor=request.user,
            report_ids=list(queryset.values_list("pk", flat=True)),
            status=MessageReport.Status.RESOLVED,
        )
        self.message_user(request, f"{changed} Meldung(en) als erledigt markiert.")

    @admin.action(description="Verwerfen (kein Verstoß)", permissions=["view"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[MessageReport]) -> None:
        changed = do_resolve_report(
            actor=request.user,
            report_ids=list(queryset.values_list("pk", flat=True)),
            status=MessageReport.Status.DISMISSED,
        )
        self.message_user(request, f"{changed} Meldung(en) verworfen.")

    @admin.action(description="Nachricht löschen und erledigen", permissions=["view"])
    def delete_message_and_resolve(
        self, request: HttpRequest, queryset: QuerySet[MessageReport]
    ) -> None:
        reports = list(queryset.select_related("message"))
        for report in reports:
            do_delete_message_as_operator(actor=request.user, message_id=report.message_id)
        changed = do_resolve_report(
            actor=request.user,
            report_ids=[report.pk for report in reports],
            status=MessageReport.Status.RESOLVED,
        )
        self.message_user(
            request,
            f"{len(reports)} Nachricht(en) gelöscht, {changed} Meldung(en) erledigt.",
            messages.SUCCESS,
        )
