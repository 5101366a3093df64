"""The notification preferences page: e-mail frequency (accounts) and the level per
group (chat's Participant, changed through the groups action, members only). It
composes three apps, so it lives in the top layer."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import EmailFrequency
from chat.models import Conversation, Participant
from groups.actions import do_set_group_notification_level
from notifications.actions import do_set_email_frequency
from realtime.errors import ClientError

LEVEL_CHOICES = [
    ("all", "Alle Nachrichten"),
    ("mentions", "Nur Erwähnungen"),
    ("muted", "Stumm"),
]


def group_participations(user: Any) -> list[Any]:
    """The person's group conversations with their level."""
    return list(
        Participant.objects.filter(user=user, conversation__kind=Conversation.Kind.GROUP)
        .select_related("conversation", "conversation__group")
        .order_by("conversation__title", "conversation_id")
    )


def set_group_level(user: Any, participation: Any, level: str) -> None:
    group = getattr(participation.conversation, "group", None)
    if group is not None:
        do_set_group_notification_level(actor=user, group=group, level=level)


class PreferencesForm(forms.Form):
    email_frequency = forms.ChoiceField(
        label="E-Mails zu Benachrichtigungen",
        choices=EmailFrequency.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, participations: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.participations = participations
        for participation in participations:
            self.fields[f"level_{participation.conversation_id}"] = forms.ChoiceField(
                label=participation.conversation.title or "Gruppe",
                choices=LEVEL_CHOICES,
                initial=participation.notification_level,
            )

    def group_fields(self) -> list[Any]:
        return [self[f"level_{p.conversation_id}"] for p in self.participations]


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    participations = group_participations(user)
    if request.method == "POST":
        form = PreferencesForm(request.POST, participations=participations)
        if form.is_valid():
            try:
                do_set_email_frequency(actor=user, frequency=form.cleaned_data["email_frequency"])
                for participation in participations:
                    level = form.cleaned_data[f"level_{participation.conversation_id}"]
                    if level != participation.notification_level:
                        set_group_level(user, participation, level)
            except ClientError as error:
                form.add_error(None, error.detail)
            else:
                messages.success(request, "Ihre Einstellungen sind gespeichert.")
                return redirect("notification_preferences")
    else:
        form = PreferencesForm(
            initial={"email_frequency": getattr(user, "email_frequency", "")},
            participations=participations,
        )
    return render(request, "notifications/preferences.html", {"form": form})
