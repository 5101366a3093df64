"""`python manage.py seed_demo`: the German demo data (fictional), idempotent.

Each app seeds its own part, in the order of the layers: people and companies, then
groups with their members, requests and first messages, then the board's posts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import seed_accounts
from board.demo import seed_board
from groups.demo import seed_groups


class Command(BaseCommand):
    help = "Legt die deutschen Demodaten an (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            logins = seed_accounts()
            seed_groups()
            seed_board()
        self.stdout.write("Demodaten bereit. Demo-Zugänge (nur lokal):")
        for email, password in logins:
            self.stdout.write(f"  {email} / {password}")
