"""The Django admin for accounts models, and the idempotent German demo data."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.demo import seed_accounts
from accounts.models import AccessToken, Block, Company, CompanyMember, User
from tests.accounts.conftest import anonymous, error_of

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Company.objects.count(),
        CompanyMember.objects.count(),
        CompanyMember.objects.filter(confirmed=True).count(),
    )


def test_demo_data_is_german_regional_and_idempotent() -> None:
    logins = seed_accounts()
    first = counts()
    snapshot = list(
        CompanyMember.objects.values_list(
            "company__slug", "user__email", "responsibility", "role", "confirmed"
        ).order_by("pk")
    )
    assert seed_accounts() == logins
    assert counts() == first
    assert snapshot == list(
        CompanyMember.objects.values_list(
            "company__slug", "user__email", "responsibility", "role", "confirmed"
        ).order_by("pk")
    )
    assert first[0] >= 15
    assert first[1] >= 8
    assert {c.city for c in Company.objects.all()} == {"Bochum", "Herne", "Witten", "Hattingen"}
    assert User.objects.filter(display_name__regex="[äöüÄÖÜß]").count() >= 5
    assert CompanyMember.objects.filter(confirmed=False).exists()
    responsibilities = set(CompanyMember.objects.values_list("responsibility", flat=True))
    assert {"Ausbildung", "Einkauf", "Logistik"} <= responsibilities

    assert len(logins) >= 2
    for email, password in logins:
        response = anonymous().post("/auth/login", {"email": email, "password": password})
        assert response.status_code == 200, error_of(response)


@pytest.fixture
def admin_client(make_user: Any) -> Client:
    admin = make_user("Ada Admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def test_admin_pages_for_accounts_models(admin_client: Client, make_user: Any) -> None:
    seed_accounts()
    person = User.objects.get(email="anna.becker@example.de")
    token = AccessToken.objects.create(
        user=person, name="Skript", token_hash="a" * 64, prefix="nz_abc"
    )
    Block.objects.create(blocker=person, blocked=User.objects.get(email="mia.boehm@example.de"))
    company = Company.objects.get(slug="stahlbau-ruether")
    for url in [
        "/admin/accounts/user/",
        "/admin/accounts/user/?q=K%C3%B6hler",
        "/admin/accounts/user/add/",
        f"/admin/accounts/user/{person.pk}/change/",
        "/admin/accounts/company/",
        f"/admin/accounts/company/{company.pk}/change/",
        "/admin/accounts/accesstoken/",
        f"/admin/accounts/accesstoken/{token.pk}/change/",
        "/admin/accounts/block/",
    ]:
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get("/admin/accounts/accesstoken/add/").status_code == 403
    page = admin_client.get(f"/admin/accounts/accesstoken/{token.pk}/change/").content.decode()
    assert "a" * 64 not in page

    admin_client.post(
        "/admin/accounts/accesstoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None

    created = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "neu@example.de",
            "display_name": "Nele Neu",
            "usable_password": "true",
            "password1": "Zeche-Zollverein-1986",
            "password2": "Zeche-Zollverein-1986",
        },
    )
    assert created.status_code == 302
    assert User.objects.get(email="neu@example.de").check_password("Zeche-Zollverein-1986")
