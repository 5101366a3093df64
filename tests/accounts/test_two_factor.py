"""Two-factor sign-in with a TOTP app: enrolment with the QR code, then the login
page, `/auth/login` and `/auth/tokens` all want a current code."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import anonymous, as_user, error_of
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle_between_attempts(settings: Any) -> None:
    """django-otp makes a device wait after a wrong code (1 s, 2 s, 4 s ...); the
    tests try a wrong and a right code back to back. The wait is tested below."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrol(user: Any) -> TOTPDevice:
    client = Client()
    client.force_login(user)
    page = client.get("/einstellungen/sicherheit/zwei-faktor/")
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post("/einstellungen/sicherheit/zwei-faktor/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "Der Code stimmt nicht" in wrong.content.decode()
    done = client.post("/einstellungen/sicherheit/zwei-faktor/", {"code": code(device)})
    assert done.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert as_user(user).get("/me").json()["two_factor"] is True
    return device


def test_the_login_page_asks_for_the_code(anna: Any) -> None:
    device = enrol(anna)
    browser = Client()
    first = browser.post("/anmelden/", {"email": anna.email, "password": PASSWORD})
    assert first["Location"] == "/anmelden/code/"
    assert browser.get("/api/v1/me").status_code == 401
    wrong = browser.post("/anmelden/code/", {"code": "123456"})
    assert wrong.status_code == 400
    assert "Der Code stimmt nicht" in wrong.content.decode()
    signed_in = browser.post("/anmelden/code/", {"code": code(device, 1)})
    assert signed_in.status_code == 302
    assert browser.get("/api/v1/me").json()["email"] == anna.email


def test_the_code_step_is_useless_without_the_password(anna: Any) -> None:
    device = enrol(anna)
    response = Client().post("/anmelden/code/", {"code": code(device, 1)})
    assert response["Location"] == "/anmelden/"


def test_the_api_wants_the_code_for_login_and_tokens(anna: Any) -> None:
    device = enrol(anna)
    missing = anonymous().post("/auth/login", {"email": anna.email, "password": PASSWORD})
    assert missing.status_code == 401
    assert "otp" in error_of(missing)["fields"]
    no_token = anonymous().post(
        "/auth/tokens", {"email": anna.email, "password": PASSWORD, "name": "x"}
    )
    assert no_token.status_code == 401
    ok = anonymous().post(
        "/auth/login", {"email": anna.email, "password": PASSWORD, "otp": code(device, 1)}
    )
    assert ok.status_code == 200
    replay = anonymous().post(
        "/auth/tokens",
        {"email": anna.email, "password": PASSWORD, "name": "x", "otp": code(device, 1)},
    )
    assert replay.status_code == 401


def test_switching_off_needs_the_password(anna: Any) -> None:
    enrol(anna)
    api = as_user(anna)
    assert api.delete("/me/two-factor", {"password": "falsch"}).status_code == 400
    assert api.delete("/me/two-factor", {"password": PASSWORD}).status_code == 204
    login = anonymous().post("/auth/login", {"email": anna.email, "password": PASSWORD})
    assert login.status_code == 200


def test_enrolment_over_the_api(anna: Any) -> None:
    api = as_user(anna)
    started = api.post("/me/two-factor")
    assert started.status_code == 201
    assert started.json()["otpauth_url"].startswith(
        "otpauth://totp/netzn%3Aanna%40example.de?secret="
    )
    device = TOTPDevice.objects.get(user=anna)
    assert api.post("/me/two-factor/confirm", {"code": "000000"}).status_code == 400
    assert api.post("/me/two-factor/confirm", {"code": code(device)}).json() == {"two_factor": True}
    assert api.post("/me/two-factor").status_code == 409


def test_wrong_codes_make_the_next_try_wait(anna: Any, settings: Any) -> None:
    device = enrol(anna)
    settings.OTP_TOTP_THROTTLE_FACTOR = 10
    body = {"email": anna.email, "password": PASSWORD}
    assert anonymous().post("/auth/login", {**body, "otp": "000000"}).status_code == 401
    right_but_too_soon = anonymous().post("/auth/login", {**body, "otp": code(device, 1)})
    assert right_but_too_soon.status_code == 401
