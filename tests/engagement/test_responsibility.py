"""Company responsibility ("Zuständig für") is one directory query: who handles
Ausbildung at Stahlbau Witten (accounts/directory.py, the filter engagement routes by)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from accounts.models import CompanyMember
from tests.notifications.conftest import Api

from .conftest import company_contact


def test_who_handles_ausbildung_at_stahlbau_witten(make_user: Any) -> None:
    asker = make_user("Frau Fragt")
    carla = make_user("Carla Krüger")
    dieter = make_user("Dieter Vertrieb")
    erika = make_user("Erika Anderswo")
    unconfirmed = make_user("Uwe Unbestätigt")
    company_contact(carla, "Stahlbau Witten", "Ausbildung, Personal", city="Witten")
    company_contact(dieter, "Stahlbau Witten", "Vertrieb")
    company_contact(erika, "Bäckerei Herne", "Ausbildung")
    CompanyMember.objects.create(
        company=CompanyMember.objects.get(user=carla).company,
        user=unconfirmed,
        responsibility="Ausbildung",
        confirmed=False,
    )
    api = Api(asker)

    one = api.get("/people?company=stahlbau-witten&responsibility=ausbildung").json()
    assert [p["display_name"] for p in one["results"]] == ["Carla Krüger"]
    assert one["results"][0]["companies"] == [
        {
            "slug": "stahlbau-witten",
            "name": "Stahlbau Witten",
            "responsibility": "Ausbildung, Personal",
            "verified": False,
        }
    ]
    by_name = api.get("/people?company=Stahlbau&responsibility=Ausbildung").json()
    assert [p["display_name"] for p in by_name["results"]] == ["Carla Krüger"]
    anywhere = api.get("/people?responsibility=Ausbildung").json()
    assert [p["display_name"] for p in anywhere["results"]] == ["Carla Krüger", "Erika Anderswo"]
    too_long = api.get("/people?responsibility=" + "x" * 161)
    assert too_long.status_code == 400

    page = Client()
    page.force_login(asker)
    html = page.get("/personen/?company=stahlbau-witten&responsibility=Ausbildung").content.decode()
    assert "Zuständig für" in html
    assert "Carla Krüger" in html and "Dieter Vertrieb" not in html


@pytest.mark.postgres("the trigram index exists on PostgreSQL only")
def test_the_responsibility_filter_can_use_its_index(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = CompanyMember.objects.filter(
            responsibility__icontains="Ausbildung"
        ).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "accounts_member_responsibility_trgm" in plan, plan
