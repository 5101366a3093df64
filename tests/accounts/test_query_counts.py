"""The directory and company pages do not grow in queries with the number of people."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.actions import do_claim_company, do_confirm_company_member, do_create_company
from tests.accounts.conftest import as_user, html_client

pytestmark = pytest.mark.django_db


def add_people(make_user: Any, company: Any, admin: Any, count: int) -> None:
    for number in range(count):
        person = make_user(f"Kollegin {number}", topics=["Ausbildung"])
        do_claim_company(actor=person, company=company, responsibility="Einkauf")
        do_confirm_company_member(actor=admin, company=company, user_id=person.pk)


def queries(call: Any) -> int:
    with CaptureQueriesContext(connection) as context:
        response = call()
        assert response.status_code == 200
    return len(context.captured_queries)


def test_query_counts_do_not_grow_with_people(anna: Any, make_user: Any) -> None:
    company = do_create_company(actor=anna, fields={"name": "Stahlbau"}, slug="stahlbau")
    client, page = as_user(anna), html_client(anna)
    calls = [
        lambda: client.get("/people"),
        lambda: client.get("/people?q=Kollegin"),
        lambda: client.get("/companies/stahlbau"),
        lambda: page.get("/personen/"),
        lambda: page.get("/unternehmen/stahlbau/"),
    ]
    add_people(make_user, company, anna, 2)
    page.get("/")  # the first page of a visit also records it (engagement), once
    few = [queries(call) for call in calls]
    add_people(make_user, company, anna, 8)
    many = [queries(call) for call in calls]
    assert few == many
