"""`python manage.py send_notification_emails [--loop] [--interval N]`: the e-mail worker.

One pass sends every due notification e-mail once (docs/notifications.md). Run it from
cron every minute, or keep one process running with `--loop`. Several workers may run
at the same time: each row is locked while it is sent, the others skip it.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.emails import send_due_emails


class Command(BaseCommand):
    help = "Sendet fällige Benachrichtigungs-E-Mails (einmal, oder mit --loop fortlaufend)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Fortlaufend arbeiten.")
        parser.add_argument(
            "--interval",
            type=float,
            default=30.0,
            help="Sekunden zwischen zwei Durchläufen mit --loop (Standard: 30).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = max(1.0, float(options["interval"]))
        while True:
            result = send_due_emails()
            if result.sent or result.skipped or result.failed or options["verbosity"] > 1:
                self.stdout.write(
                    f"{len(result.sent)} gesendet, {len(result.skipped)} übersprungen, "
                    f"{len(result.failed)} fehlgeschlagen"
                )
            if not options["loop"]:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
