"""`python manage.py apply_retention`: delete what is past its retention period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from server.retention import run_all


class Command(BaseCommand):
    help = "Löscht, was länger als in docs/privacy.md angegeben gespeichert ist."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, removed in run_all().items():
            self.stdout.write(f"{name}: {removed} gelöscht")
