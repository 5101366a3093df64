"""`python manage.py netzn_cron [--loop SECONDS] [--job NAME] [--force]`: every periodic job.

From cron every few minutes on each machine (overlapping runs are safe):

    */5 * * * *  cd /srv/netzn && .venv/bin/python manage.py netzn_cron

or as one long-running process: `netzn_cron --loop 60` (what `make run` starts).
The jobs and their schedules are listed in `engagement/cron.py` and docs/engagement.md.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from engagement.cron import JOBS, run_due_jobs

STATE_WORDS = {
    "ran": "ausgeführt",
    "not_due": "nicht fällig",
    "locked": "läuft anderswo",
    "failed": "fehlgeschlagen",
}


class Command(BaseCommand):
    help = "Führt alle fälligen periodischen Aufgaben aus (E-Mails, Zusammenfassungen, …)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Fortlaufend arbeiten, mit dieser Pause zwischen zwei Durchläufen.",
        )
        parser.add_argument(
            "--job",
            action="append",
            default=[],
            help="Nur diese Aufgabe (mehrfach möglich).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Auch nicht fällige Aufgaben ausführen."
        )
        parser.add_argument(
            "--now",
            type=datetime.fromisoformat,
            default=None,
            metavar="ISO8601",
            help="So tun, als wäre es dieser Zeitpunkt (für Tests und Nachholläufe).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = {job.name for job in JOBS}
        unknown = [name for name in options["job"] if name not in names]
        if unknown:
            raise CommandError(
                f"Unbekannte Aufgabe: {', '.join(unknown)}. Bekannt: {', '.join(sorted(names))}"
            )
        while True:
            now = options["now"] or timezone.now()
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
            outcomes = run_due_jobs(now=now, only=options["job"] or None, force=options["force"])
            for outcome in outcomes:
                quiet = outcome.state == "not_due" or (outcome.state == "ran" and not outcome.done)
                if quiet and options["verbosity"] < 2:
                    continue
                detail = f": {outcome.summary}" if outcome.summary else ""
                self.stdout.write(f"{outcome.job}: {STATE_WORDS[outcome.state]}{detail}")
            if not options["loop"]:
                return
            try:
                time.sleep(max(1.0, float(options["loop"])))
            except KeyboardInterrupt:
                return
            # A long-running loop drops connections the database may have closed.
            close_old_connections()
