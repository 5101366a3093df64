"""Sign-up, login, logout and password reset, over the API and as German pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User, Visibility
from tests.accounts.conftest import anonymous, error_of, html_client
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_api_signup_creates_a_private_profile() -> None:
    response = anonymous().post(
        "/auth/signup",
        {"email": " Clara.Wolf@Example.de ", "password": PASSWORD, "display_name": "Clara Wolf"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "email": "clara.wolf@example.de",
        "display_name": "Clara Wolf",
    }
    user = User.objects.get(pk=body["id"])
    assert user.check_password(PASSWORD)
    assert user.email_visibility == Visibility.PRIVATE
    assert user.phone_visibility == Visibility.PRIVATE


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "keine-adresse", "password": PASSWORD, "display_name": "X"}, "email"),
        ({"email": "a@example.de", "password": "kurz", "display_name": "X"}, "password"),
        ({"email": "a@example.de", "password": "12345678901", "display_name": "X"}, "password"),
        ({"email": "a@example.de", "password": PASSWORD, "display_name": "   "}, "display_name"),
        (
            {"email": "a@example.de", "password": PASSWORD, "display_name": "x" * 121},
            "display_name",
        ),
        ({"email": "a@example.de", "password": PASSWORD}, "display_name"),
        ({"email": "a@example.de", "password": 12, "display_name": "X"}, "password"),
    ],
)
def test_api_signup_rejects_bad_input_with_field_errors(
    payload: dict[str, Any], field: str
) -> None:
    response = anonymous().post("/auth/signup", payload)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert field in error["fields"]
    assert not User.objects.exists()


def test_api_signup_password_errors_are_german() -> None:
    response = anonymous().post(
        "/auth/signup", {"email": "a@example.de", "password": "kurz", "display_name": "Ann"}
    )
    assert any("zu kurz" in message for message in error_of(response)["fields"]["password"])


@pytest.mark.parametrize("body", ["{kaputt", "[]", '"text"', ""])
def test_api_signup_malformed_body_is_400(body: str) -> None:
    response = anonymous().post("/auth/signup", body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_api_signup_with_taken_email_is_409_case_insensitive(anna: Any) -> None:
    response = anonymous().post(
        "/auth/signup", {"email": "ANNA@example.de", "password": PASSWORD, "display_name": "Anna"}
    )
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert "email" in error["fields"]
    assert User.objects.filter(email="anna@example.de").count() == 1


def test_api_login_sets_a_session_and_logout_ends_it(anna: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/auth/login",
        {"email": "Anna@Example.de", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["id"] == anna.pk
    assert "csrftoken" in response.cookies
    assert client.get("/api/v1/me").json()["email"] == "anna@example.de"

    without_csrf = client.post("/api/v1/auth/logout")
    assert without_csrf.status_code == 403
    assert error_of(without_csrf)["code"] == "forbidden"

    token = client.cookies["csrftoken"].value
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": token}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_api_login_with_wrong_password_is_401_without_telling_which(anna: Any) -> None:
    wrong_password = anonymous().post("/auth/login", {"email": anna.email, "password": "falsch"})
    unknown_email = anonymous().post("/auth/login", {"email": "nie@example.de", "password": "x"})
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert error_of(wrong_password) == error_of(unknown_email)


def test_api_login_of_a_deactivated_person_fails(make_user: Any) -> None:
    user = make_user("Inaktiv", is_active=False)
    response = anonymous().post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_api_login_bad_input_is_400() -> None:
    response = anonymous().post("/auth/login", {"email": "a@example.de"})
    assert response.status_code == 400
    assert "password" in error_of(response)["fields"]


def test_logout_needs_a_login() -> None:
    assert anonymous().post("/auth/logout").status_code == 401


def test_signup_page_is_german_and_logs_in() -> None:
    client = html_client()
    page = client.get("/registrieren/")
    assert page.status_code == 200
    assert "Bei netzn registrieren" in page.content.decode()
    response = client.post(
        "/registrieren/",
        {"display_name": "Jörg Wübben", "email": "joerg@example.de", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/willkommen/"  # topics and a first group (engagement)
    profile = client.get("/einstellungen/profil/").content.decode()
    assert "Jörg Wübben" in profile


def test_signup_page_shows_german_errors_next_to_the_fields(anna: Any) -> None:
    response = html_client().post(
        "/registrieren/", {"display_name": "", "email": "anna@example.de", "password": "123"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Dieses Feld ist zwingend erforderlich." in html
    taken = html_client().post(
        "/registrieren/", {"display_name": "Anna", "email": "anna@example.de", "password": PASSWORD}
    )
    html = taken.content.decode()
    field = re.search(r'<div class="field field-invalid">.*?</div>', html, re.S)
    assert field is not None
    assert 'name="email"' in field.group(0)
    assert "Diese E-Mail-Adresse ist bereits registriert." in field.group(0)


def test_login_page_logs_in_and_logout_page_logs_out(anna: Any) -> None:
    client = html_client()
    assert "Anmelden" in client.get("/anmelden/").content.decode()
    response = client.post("/anmelden/", {"email": "anna@example.de", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/einstellungen/profil/").status_code == 200
    assert "abmelden" in client.get("/abmelden/").content.decode()
    assert client.post("/abmelden/").status_code == 302
    assert client.get("/einstellungen/profil/").status_code == 302


def test_login_page_shows_a_german_error(anna: Any) -> None:
    response = html_client().post("/anmelden/", {"email": "anna@example.de", "password": "nein"})
    assert response.status_code == 200
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.content.decode()


def test_password_reset_by_email(anna: Any) -> None:
    client = html_client()
    assert "Passwort vergessen" in client.get("/passwort-vergessen/").content.decode()
    response = client.post("/passwort-vergessen/", {"email": "anna@example.de"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Ihr neues Passwort bei netzn"
    assert message.to == ["anna@example.de"]
    assert "Guten Tag Anna Becker" in message.body
    link = re.search(r"http://testserver(/passwort-neu/\S+/)", str(message.body))
    assert link is not None

    form_page = client.get(link.group(1), follow=True)
    assert "Neues Passwort festlegen" in form_page.content.decode()
    new_password = "Zeche-Zollverein-1986"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    anna.refresh_from_db()
    assert anna.check_password(new_password)


def test_password_reset_for_unknown_email_sends_nothing_and_says_the_same() -> None:
    response = html_client().post("/passwort-vergessen/", {"email": "niemand@example.de"})
    assert response.status_code == 302
    assert mail.outbox == []
