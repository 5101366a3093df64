"""Message bodies in server-rendered pages and e-mails, formatted as in the chat."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from chat.formatting import plain_text, render_html

register = template.Library()


@register.filter
def message_html(body: str) -> SafeString:
    """The sanitised HTML of the Markdown subset (chat.formatting): safe to insert."""
    return mark_safe(render_html(str(body or "")))  # noqa: S308 - sanitised by nh3


@register.filter
def message_text(body: str) -> str:
    """The body as readable plain text (Markdown markers gone), autoescaped as usual."""
    return plain_text(str(body or ""))
