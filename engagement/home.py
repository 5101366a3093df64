"""What engagement adds to the start page (server/views.py includes it): questions the
person can help with, and suggestions, so that a newcomer's start page is never empty."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from engagement.questions import questions_i_can_help_with
from engagement.suggestions import suggested_groups, suggested_people

SHOWN = 4


def home_context(user: Any) -> dict[str, Any]:
    return {
        "help_questions": questions_i_can_help_with(user, now=timezone.now(), limit=SHOWN),
        "suggested_groups": suggested_groups(user, limit=SHOWN),
        "suggested_people": suggested_people(user, limit=SHOWN),
        "needs_topics": not user.topics,
    }
