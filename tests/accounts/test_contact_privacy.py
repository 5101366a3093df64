"""Contact fields opened to members stay hidden from anyone not signed in: the gate
itself (accounts.access), the API and the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from accounts.access import contact_fields, public_profile

pytestmark = pytest.mark.django_db

PHONE = "0234 98765-12"


@pytest.fixture
def open_person(make_user: Any) -> Any:
    return make_user(
        "Anna Becker",
        phone=PHONE,
        email="anna.becker@stahlbau-witten.de",
        email_visibility="members",
        phone_visibility="members",
    )


def test_the_gate_shows_opened_fields_to_members_and_nothing_to_anonymous(
    open_person: Any, make_user: Any
) -> None:
    member = make_user("Ben Öztürk")
    assert contact_fields(member, open_person) == {
        "email": "anna.becker@stahlbau-witten.de",
        "phone": PHONE,
    }
    assert contact_fields(AnonymousUser(), open_person) == {}
    profile = public_profile(AnonymousUser(), open_person)
    assert "email" not in profile
    assert "phone" not in profile


def test_anonymous_requests_never_carry_opened_contact_fields(open_person: Any) -> None:
    anonymous = Client()
    for path in (f"/api/v1/people/{open_person.pk}", f"/personen/{open_person.pk}/", "/personen/"):
        content = anonymous.get(path).content.decode()
        assert PHONE not in content, path
        assert "anna.becker@stahlbau-witten.de" not in content, path
