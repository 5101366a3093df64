"""Template helpers of the German UI: avatars (photo or initials) and role labels that
follow the person (docs/ui.md "German that fits")."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from accounts.images import avatar_url, logo_url
from accounts.labels import group_role_label

register = template.Library()


def _get(thing: Any, key: str) -> Any:
    return thing.get(key) if isinstance(thing, dict) else getattr(thing, key, None)


@register.filter
def role_label(role: str, person: Any) -> str:
    """`{{ m.role|role_label:m.user }}`: "Inhaberin", "Inhaber" or "Inhaber:in"."""
    return group_role_label(role, _get(person, "address_form"))


def initials(name: str) -> str:
    parts = [part for part in (name or "").replace("-", " ").split() if part[:1].isalpha()]
    # Titles ("Dr.", "Prof.") are not initials.
    parts = [part for part in parts if not part.endswith(".")] or parts
    if not parts:
        return "?"
    letters = parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")
    return letters.upper()


@register.simple_tag
def avatar(person: Any, css: str = "") -> str:
    """The person's photo (an <img>, empty alt: the name stands next to it) or their
    initials; a person may be a User or a profile dict with `avatar_url`."""
    url = _get(person, "avatar_url")
    if url is None and not isinstance(person, dict):
        url = avatar_url(person)
    classes = f"avatar {css}".strip()
    if url:
        return format_html('<img class="{} avatar-photo" src="{}" alt="">', classes, url)
    name = _get(person, "display_name") or ""
    return format_html('<span class="{}" aria-hidden="true">{}</span>', classes, initials(name))


@register.simple_tag
def company_logo(company: Any, css: str = "") -> str:
    url = _get(company, "logo_url")
    if url is None and not isinstance(company, dict):
        url = logo_url(company)
    classes = f"avatar avatar-square {css}".strip()
    if url:
        return format_html('<img class="{} avatar-photo" src="{}" alt="">', classes, url)
    name = _get(company, "name") or ""
    return format_html('<span class="{}" aria-hidden="true">{}</span>', classes, name[:1])
