"""Company profiles: the creator administers, claims are listed only once confirmed,
responsibilities and roles; over the API and as pages."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Company, CompanyMember
from tests.accounts.conftest import anonymous, as_user, error_of, html_client

pytestmark = pytest.mark.django_db


def create(user: Any, **fields: Any) -> Any:
    body = {"name": "Bäckerei Müller", "city": "Hattingen", "industry": "Lebensmittelhandwerk"}
    return as_user(user).post("/companies", {**body, **fields})


def contact_names(viewer: Any, slug: str) -> list[str]:
    company = as_user(viewer).get(f"/companies/{slug}").json()
    return [contact["person"]["display_name"] for contact in company["contact_persons"]]


@pytest.fixture
def bakery(anna: Any) -> str:
    response = create(anna)
    assert response.status_code == 201
    return str(response.json()["slug"])


def test_creator_administers_the_new_company(anna: Any) -> None:
    response = create(anna, website="baeckerei-mueller.example.de")
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "baeckerei-mueller"
    assert body["website"] == "https://baeckerei-mueller.example.de"
    assert body["is_admin"] is True
    assert body["pending_claims"] == []
    assert [c["role"] for c in body["contact_persons"]] == ["admin"]
    assert create(anna).json()["slug"] == "baeckerei-mueller-2"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 161}, "name"),
        ({"website": "kein link"}, "website"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"slug": "Mit Leerzeichen"}, "slug"),
        ({"slug": "neu"}, "slug"),
        ({"city": 12}, "city"),
    ],
)
def test_company_creation_bad_input(anna: Any, fields: dict[str, Any], field: str) -> None:
    response = create(anna, **fields)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert not Company.objects.exists()


def test_taken_slug_is_409(anna: Any, bakery: str) -> None:
    response = create(anna, slug=bakery)
    assert response.status_code == 409
    assert "slug" in error_of(response)["fields"]


def test_companies_api_needs_a_login(bakery: str) -> None:
    assert anonymous().get("/companies").status_code == 401
    assert anonymous().post("/companies", {"name": "X"}).status_code == 401
    assert anonymous().get(f"/companies/{bakery}").status_code == 401


def test_only_admins_edit_the_company(anna: Any, bernd: Any, bakery: str) -> None:
    forbidden = as_user(bernd).patch(f"/companies/{bakery}", {"city": "Bochum"})
    assert forbidden.status_code == 403
    assert error_of(forbidden)["code"] == "forbidden"
    response = as_user(anna).patch(
        f"/companies/{bakery}", {"city": "Witten", "description": "Seit 1950."}
    )
    assert response.status_code == 200
    assert response.json()["city"] == "Witten"
    assert response.json()["name"] == "Bäckerei Müller"
    bad = as_user(anna).patch(f"/companies/{bakery}", {"name": ""})
    assert bad.status_code == 400
    assert "name" in error_of(bad)["fields"]
    assert as_user(anna).patch("/companies/gibt-es-nicht", {"city": "X"}).status_code == 404
    assert as_user(anna).get("/companies/gibt-es-nicht").status_code == 404


def test_a_claim_is_listed_only_after_an_admin_confirms(
    anna: Any, bernd: Any, make_user: Any, bakery: str
) -> None:
    claim = as_user(bernd).post(f"/companies/{bakery}/claim", {"responsibility": "Ausbildung"})
    assert claim.status_code == 202
    assert claim.json() == {"confirmed": False, "responsibility": "Ausbildung"}
    outsider = make_user("Olga Außen")
    assert "Bernd Schütte" not in contact_names(outsider, bakery)
    assert "Bernd Schütte" not in contact_names(bernd, bakery)
    assert as_user(bernd).get(f"/companies/{bakery}").json()["my_claim"] == {
        "confirmed": False,
        "role": "contact",
    }
    assert "pending_claims" not in as_user(outsider).get(f"/companies/{bakery}").json()
    pending = as_user(anna).get(f"/companies/{bakery}").json()["pending_claims"]
    assert [p["person"]["display_name"] for p in pending] == ["Bernd Schütte"]

    again = as_user(bernd).post(f"/companies/{bakery}/claim", {})
    assert again.status_code == 409

    not_admin = as_user(outsider).post(f"/companies/{bakery}/members/{bernd.pk}/confirm")
    assert not_admin.status_code == 403
    self_confirm = as_user(bernd).post(f"/companies/{bakery}/members/{bernd.pk}/confirm")
    assert self_confirm.status_code == 403

    confirmed = as_user(anna).post(f"/companies/{bakery}/members/{bernd.pk}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["responsibility"] == "Ausbildung"
    assert "Bernd Schütte" in contact_names(outsider, bakery)
    bernd.refresh_from_db()
    assert bernd.company_name == "Bäckerei Müller"
    profile = as_user(outsider).get(f"/people/{bernd.pk}").json()
    assert profile["companies"] == [
        {
            "slug": bakery,
            "name": "Bäckerei Müller",
            "responsibility": "Ausbildung",
            "verified": False,
        }
    ]


def test_admin_rejects_a_claim(anna: Any, bernd: Any, bakery: str) -> None:
    as_user(bernd).post(f"/companies/{bakery}/claim", {})
    assert as_user(anna).delete(f"/companies/{bakery}/members/{bernd.pk}").status_code == 204
    assert not CompanyMember.objects.filter(user=bernd).exists()
    assert as_user(anna).delete(f"/companies/{bakery}/members/{bernd.pk}").status_code == 404


def test_responsibility_and_roles(anna: Any, bernd: Any, make_user: Any, bakery: str) -> None:
    as_user(bernd).post(f"/companies/{bakery}/claim", {"responsibility": "Verkauf"})
    early_admin = as_user(anna).patch(f"/companies/{bakery}/members/{bernd.pk}", {"role": "admin"})
    assert early_admin.status_code == 409
    as_user(anna).post(f"/companies/{bakery}/members/{bernd.pk}/confirm")

    own = as_user(bernd).patch(
        f"/companies/{bakery}/members/{bernd.pk}", {"responsibility": "Einkauf"}
    )
    assert own.status_code == 200
    assert own.json()["responsibility"] == "Einkauf"
    own_role = as_user(bernd).patch(f"/companies/{bakery}/members/{bernd.pk}", {"role": "admin"})
    assert own_role.status_code == 403
    other = as_user(bernd).patch(f"/companies/{bakery}/members/{anna.pk}", {"responsibility": "x"})
    assert other.status_code == 403
    bad_role = as_user(anna).patch(f"/companies/{bakery}/members/{bernd.pk}", {"role": "chef"})
    assert bad_role.status_code == 400
    assert "role" in error_of(bad_role)["fields"]
    too_long = as_user(anna).patch(
        f"/companies/{bakery}/members/{bernd.pk}", {"responsibility": "x" * 161}
    )
    assert too_long.status_code == 400

    last_admin_leaves = as_user(anna).delete(f"/companies/{bakery}/members/{anna.pk}")
    assert last_admin_leaves.status_code == 409
    last_admin_steps_down = as_user(anna).patch(
        f"/companies/{bakery}/members/{anna.pk}", {"role": "contact"}
    )
    assert last_admin_steps_down.status_code == 409

    promoted = as_user(anna).patch(f"/companies/{bakery}/members/{bernd.pk}", {"role": "admin"})
    assert promoted.json()["role"] == "admin"
    assert as_user(bernd).patch(f"/companies/{bakery}", {"city": "Sprockhövel"}).status_code == 200
    assert as_user(anna).delete(f"/companies/{bakery}/members/{anna.pk}").status_code == 204
    assert as_user(anna).patch(f"/companies/{bakery}", {"city": "Herne"}).status_code == 403
    unknown = as_user(bernd).patch(f"/companies/{bakery}/members/999999", {"responsibility": "x"})
    assert unknown.status_code == 404


def test_company_pages(anna: Any, bernd: Any) -> None:
    admin = html_client(anna)
    assert "Unternehmen anlegen" in admin.get("/unternehmen/neu/").content.decode()
    invalid = admin.post("/unternehmen/neu/", {"name": "", "website": "kein link"})
    assert invalid.status_code == 400
    html = invalid.content.decode()
    assert "Dieses Feld ist zwingend erforderlich." in html
    created = admin.post(
        "/unternehmen/neu/",
        {"name": "Grünwerk Hattingen", "city": "Hattingen", "industry": "Gartenbau"},
    )
    assert created.status_code == 302
    assert created["Location"] == "/unternehmen/gruenwerk-hattingen/"

    member = html_client(bernd)
    page = member.get("/unternehmen/gruenwerk-hattingen/").content.decode()
    assert "Arbeiten Sie hier?" in page
    assert "Profil bearbeiten" not in page
    member.post("/unternehmen/gruenwerk-hattingen/zuordnen/", {"responsibility": "Logistik"})
    assert (
        "wartet auf die Bestätigung"
        in member.get("/unternehmen/gruenwerk-hattingen/").content.decode()
    )
    edit = member.get("/unternehmen/gruenwerk-hattingen/bearbeiten/")
    assert edit.status_code == 302

    admin_page = admin.get("/unternehmen/gruenwerk-hattingen/").content.decode()
    assert "Offene Zuordnungen" in admin_page
    assert "Bernd Schütte" in admin_page
    admin.post(f"/unternehmen/gruenwerk-hattingen/personen/{bernd.pk}/", {"action": "confirm"})
    listed = html_client(bernd).get("/unternehmen/gruenwerk-hattingen/").content.decode()
    assert "Zuständig für: Logistik" in listed

    saved = admin.post(
        "/unternehmen/gruenwerk-hattingen/bearbeiten/",
        {"name": "Grünwerk Hattingen GmbH", "city": "Hattingen", "website": "x y"},
    )
    assert saved.status_code == 400
    assert "Bitte eine gültige Adresse angeben" in saved.content.decode()
    admin.post(
        "/unternehmen/gruenwerk-hattingen/bearbeiten/",
        {"name": "Grünwerk Hattingen GmbH", "city": "Hattingen"},
    )
    assert Company.objects.get(slug="gruenwerk-hattingen").name == "Grünwerk Hattingen GmbH"
    assert html_client().get("/unternehmen/gibt-es-nicht/").status_code == 404


def test_company_directory_page_is_public(anna: Any, bakery: str) -> None:
    html = html_client().get("/unternehmen/?q=Bäckerei").content.decode()
    assert "Bäckerei Müller" in html
    assert "Unternehmen anlegen" not in html
    assert html_client().get("/unternehmen/neu/").status_code == 302
