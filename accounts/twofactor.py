"""Optional two-factor sign-in with a TOTP app (django-otp's `TOTPDevice`).

Enrolment: `start_enrolment` makes an unconfirmed device (its secret shown once as a
QR code, segno, and as text); the first right code confirms it. From then on every
password check (login page, `/auth/login`, `/auth/tokens`) also wants a current code.
django-otp throttles wrong codes per device (growing delays) and refuses a code that
was used already.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import segno
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.throttle import verify_current_password
from realtime.errors import ClientError

DEVICE_NAME = "Authenticator-App"


def enabled(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def start_enrolment(user: User) -> TOTPDevice:
    """A fresh unconfirmed device for `user` (replacing an earlier unconfirmed one).
    Refused while a confirmed one exists: switch it off first."""
    if enabled(user):
        raise ClientError("conflict", "Die Zwei-Faktor-Anmeldung ist schon eingeschaltet.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def pending_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def secret_of(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode().rstrip("=")


def qr_data_uri(device: TOTPDevice) -> str:
    """The `otpauth://` URL as an SVG QR code (a data URI: the CSP allows `data:`)."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=5))


def _code_error() -> ClientError:
    message = "Der Code stimmt nicht oder ist abgelaufen."
    return ClientError("bad_request", message, fields={"otp": [message]})


def do_confirm_enrolment(*, actor: User, code: Any) -> None:
    """The first right code from the app switches two-factor sign-in on."""
    device = pending_device(actor)
    if device is None:
        raise ClientError("conflict", "Bitte die Einrichtung zuerst starten.")
    if not isinstance(code, str) or not device.verify_token(code.strip().replace(" ", "")):
        raise _code_error()
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)


def do_disable(*, actor: User, password: Any, ip: str) -> None:
    """Switch two-factor sign-in off (with the current password)."""
    verify_current_password(actor, password, ip)
    TOTPDevice.objects.filter(user=actor).delete()


def check_code(user: User, code: Any) -> None:
    """For a password check that passed: if `user` has two-factor sign-in, `code`
    must be a current one; `unauthorized` (401, `fields.otp`) otherwise."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return
    if not code:
        message = "Bitte den Code aus Ihrer Authenticator-App angeben."
        raise ClientError("unauthorized", message, fields={"otp": [message]})
    if not isinstance(code, str) or not device.verify_token(code.strip().replace(" ", "")):
        message = "Der Code stimmt nicht oder ist abgelaufen."
        raise ClientError("unauthorized", message, fields={"otp": [message]})
