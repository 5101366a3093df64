"""`python manage.py send_digests`: the daily digest e-mails (run once a day by cron).

    15 7 * * *  cd /srv/netzn && .venv/bin/python manage.py send_digests

See docs/notifications.md. Running it twice the same day is harmless: each person's
window starts at their last digest, so the second run finds nothing new.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from engagement.digest import send_digests


class Command(BaseCommand):
    help = "Sendet die tägliche Zusammenfassung an alle, die sie gewählt haben."

    def handle(self, *args: Any, **options: Any) -> None:
        run = send_digests()
        self.stdout.write(
            f"{run.sent} Zusammenfassungen gesendet, {run.quiet} ohne Neuigkeiten, "
            f"{run.failed} fehlgeschlagen"
        )
