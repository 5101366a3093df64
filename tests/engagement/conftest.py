"""Shared setup for the engagement tests: a fixed clock and a small network.

Every job takes the moment of its run, so the tests pick one (`NOW`, 10:00 in Berlin
two days from today) and place messages and visits relative to it: no test sleeps.
Rows stamped with the real clock (a membership's `joined_at`, a notification's
`created_at`) are then two days old, as if the network had been set up beforehand.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Company, CompanyMember
from engagement.models import PersonRhythm
from tests.notifications.conftest import add_member, make_group, post_message

__all__ = ["NOW", "add_member", "ago", "company_contact", "make_group", "post_message", "seen"]

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime.combine(datetime.now(BERLIN).date() + timedelta(days=2), time(10, 0), tzinfo=BERLIN)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def seen(user: Any, at: datetime) -> None:
    PersonRhythm.objects.update_or_create(user=user, defaults={"last_seen_at": at})


def company_contact(user: Any, company_name: str, responsibility: str, **fields: Any) -> Company:
    company, _ = Company.objects.get_or_create(
        name=company_name,
        defaults={"slug": company_name.lower().replace(" ", "-"), **fields},
    )
    CompanyMember.objects.create(
        company=company, user=user, responsibility=responsibility, confirmed=True
    )
    return company


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = "https://netzn.example"
    settings.NETZN_UNANSWERED_AFTER_MINUTES = 240
