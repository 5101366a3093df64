"""Who may make a company page "bestätigt", where the badge shows, and that a second
page for the same domain or register number is refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.actions import do_claim_company, do_confirm_company_member, do_create_company
from chat.actions import do_send_message
from groups.actions import do_create_group, do_join_group
from tests.accounts.conftest import anonymous, as_user, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(anna: Any) -> Any:
    return do_create_company(
        actor=anna,
        fields={"name": "Stahlbau Rüther", "website": "https://www.ruether-stahlbau.de/"},
    )


def proof_token() -> str:
    found = re.search(r"/unternehmensnachweis/(\S+)/", str(mail.outbox[-1].body))
    assert found
    return found.group(1)


def test_a_new_page_is_unverified_and_says_so(firm: Any, bernd: Any) -> None:
    profile = as_user(bernd).get(f"/companies/{firm.slug}").json()
    assert (profile["verified"], profile["verification"]) == (False, None)
    assert profile["domain"] == "ruether-stahlbau.de"
    page = Client().get(f"/unternehmen/{firm.slug}/").content.decode()
    assert "nicht bestätigt" in page
    assert "✓ bestätigt" not in page


def test_staff_confirm_and_the_badge_reaches_people_and_messages(
    firm: Any, anna: Any, bernd: Any, make_user: Any
) -> None:
    assert as_user(anna).post(f"/companies/{firm.slug}/verify", {"verified": True}).status_code == (
        403
    )
    staff = make_user("Kammer Team", is_staff=True)
    verified = as_user(staff).post(f"/companies/{firm.slug}/verify", {"verified": True})
    assert (verified.json()["verified"], verified.json()["verification"]) == (True, "staff")
    assert "✓ bestätigt" in Client().get(f"/unternehmen/{firm.slug}/").content.decode()
    listed = as_user(bernd).get("/companies").json()["results"]
    assert [c["verified"] for c in listed] == [True]
    person = as_user(bernd).get(f"/people/{anna.pk}").json()
    assert person["company_verified"] is True
    assert person["companies"][0]["verified"] is True
    group = do_create_group(actor=anna, name="Stahl")
    do_join_group(actor=bernd, group=group)
    do_send_message(actor=anna, conversation_id=group.conversation_id, body="Moin", client_id="1")
    history = as_user(bernd).get(f"/conversations/{group.conversation_id}/messages").json()
    assert history["results"][0]["author"]["company_verified"] is True
    # Taking it back removes the badge everywhere.
    as_user(staff).post(f"/companies/{firm.slug}/verify", {"verified": False})
    assert as_user(bernd).get(f"/people/{anna.pk}").json()["company_verified"] is False


def test_an_address_on_the_company_domain_verifies(firm: Any, anna: Any, bernd: Any) -> None:
    outsider = as_user(bernd).post(
        f"/companies/{firm.slug}/domain-proof", {"email": "info@ruether-stahlbau.de"}
    )
    assert outsider.status_code == 403
    wrong = as_user(anna).post(f"/companies/{firm.slug}/domain-proof", {"email": "a@gmail.com"})
    assert error_of(wrong)["fields"] == {
        "email": ["Die Adresse muss auf @ruether-stahlbau.de enden."]
    }
    sent = as_user(anna).post(
        f"/companies/{firm.slug}/domain-proof", {"email": "info@ruether-stahlbau.de"}
    )
    assert sent.status_code == 202
    assert mail.outbox[-1].to == ["info@ruether-stahlbau.de"]
    assert as_user(bernd).get(f"/companies/{firm.slug}").json()["verified"] is False
    page = Client().post(f"/unternehmensnachweis/{proof_token()}/", follow=True)
    assert "ist jetzt bestätigt" in page.content.decode()
    profile = as_user(bernd).get(f"/companies/{firm.slug}").json()
    assert (profile["verified"], profile["verification"]) == (True, "domain")
    # A new domain needs a new proof.
    moved = as_user(anna).patch(f"/companies/{firm.slug}", {"domain": "ruether-neu.de"})
    assert moved.json()["verified"] is False


def test_a_proof_link_is_void_once_the_domain_changed(firm: Any, anna: Any, bernd: Any) -> None:
    as_user(anna).post(f"/companies/{firm.slug}/domain-proof", {"email": "x@ruether-stahlbau.de"})
    token = proof_token()
    as_user(anna).patch(f"/companies/{firm.slug}", {"domain": "anderes.de"})
    refused = anonymous().post("/auth/confirm-company", {"token": token})
    assert refused.status_code == 400
    assert as_user(bernd).get(f"/companies/{firm.slug}").json()["verified"] is False


def test_a_second_page_for_the_same_domain_or_register_number_is_refused(
    firm: Any, bernd: Any, anna: Any
) -> None:
    same_domain = as_user(bernd).post(
        "/companies", {"name": "Rüther Fake", "website": "http://ruether-stahlbau.de"}
    )
    assert same_domain.status_code == 409
    assert "domain" in error_of(same_domain)["fields"]
    as_user(anna).patch(f"/companies/{firm.slug}", {"register_number": "HRB 1234 Bochum"})
    same_number = as_user(bernd).post(
        "/companies", {"name": "Noch eine", "register_number": "hrb 1234 bochum"}
    )
    assert same_number.status_code == 409
    assert "register_number" in error_of(same_number)["fields"]


def test_claims_need_a_confirmed_address(firm: Any, anna: Any) -> None:
    anonymous().post(
        "/auth/signup",
        {"email": "neu@example.de", "password": "Zeche-Zollern-1903", "display_name": "Neu"},
    )
    from accounts.models import User

    newcomer = User.objects.get(email="neu@example.de")
    refused = as_user(newcomer).post(f"/companies/{firm.slug}/claim", {})
    assert refused.status_code == 403
    newcomer.email_confirmed_at = newcomer.date_joined
    newcomer.save()
    do_claim_company(actor=newcomer, company=firm)
    do_confirm_company_member(actor=anna, company=firm, user_id=newcomer.pk)


def test_staff_verify_from_the_admin(firm: Any, make_user: Any) -> None:
    staff = make_user("Kammer Team", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    response = admin.post(
        "/admin/accounts/company/",
        {"action": "verify", "_selected_action": [firm.pk]},
    )
    assert response.status_code == 302
    firm.refresh_from_db()
    assert firm.verification == "staff"
