"""Impressum and Datenschutzerklärung, filled from settings (README: NETZN_OPERATOR_*).

A German site needs both, reachable from every page (the footer links them). The
texts are the operator's: netzn ships the structure and the facts of what it stores,
the operator supplies who they are through the environment."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def operator() -> dict[str, Any]:
    return {
        "name": settings.NETZN_OPERATOR_NAME,
        "address_lines": [
            line.strip() for line in settings.NETZN_OPERATOR_ADDRESS.split("|") if line.strip()
        ],
        "representative": settings.NETZN_OPERATOR_REPRESENTATIVE,
        "email": settings.NETZN_OPERATOR_EMAIL,
        "phone": settings.NETZN_OPERATOR_PHONE,
        "register": settings.NETZN_OPERATOR_REGISTER,
        "vat_id": settings.NETZN_OPERATOR_VAT_ID,
        "privacy_officer": settings.NETZN_PRIVACY_OFFICER,
        "hosting_provider": settings.NETZN_HOSTING_PROVIDER,
    }


def impressum(request: HttpRequest) -> HttpResponse:
    return render(request, "server/impressum.html", {"operator": operator()})


def datenschutz(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "server/datenschutz.html",
        {
            "operator": operator(),
            "email_delay_minutes": settings.NETZN_NOTIFICATION_EMAIL_DELAY_SECONDS // 60,
        },
    )
