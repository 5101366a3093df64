"""The start page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Company


def home(request: HttpRequest) -> HttpResponse:
    companies = Company.objects.order_by("-created_at")[:6]
    return render(request, "server/home.html", {"companies": companies})
