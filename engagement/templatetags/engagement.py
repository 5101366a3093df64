"""`{% open_questions group user %}`: the group page's box of questions still waiting
for an answer. A template tag, so the groups app (below engagement) imports nothing
of it; only members and, for an open group, signed-in readers see the box."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from engagement.questions import open_questions_in
from groups.access import can_read_messages

register = template.Library()


@register.inclusion_tag("engagement/_open_questions.html")
def open_questions(group: Any, user: Any) -> dict[str, Any]:
    if not can_read_messages(user, group):
        return {"questions": []}
    return {"questions": open_questions_in(group, now=timezone.now())}
