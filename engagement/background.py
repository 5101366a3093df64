"""`netzn_cron` inside the server process, for `make run` (NETZN_CRON_EVERY_SECONDS).

The embedded default has no Redis: a notification published by a separate
`netzn_cron` process would reach no open socket (the fan-out hub lives in the server
process). Running the same jobs on a thread of the server publishes through that
server's own hub, so an `unanswered` question reaches the expert live, as with Redis in
production, and e-mails go to the server's console. The thread stops with the process.
In production run `netzn_cron` from cron instead (docs/operations.md); both together
are safe (each job runs under its lock).
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger("engagement.cron")

_started = threading.Event()


def run_forever(interval: float) -> None:
    from engagement.cron import run_due_jobs

    time.sleep(min(interval, 5.0))  # let the server come up first
    while True:
        try:
            for outcome in run_due_jobs(now=timezone.now()):
                if outcome.state == "failed" or outcome.done:
                    logger.info("%s: %s", outcome.job, outcome.summary or outcome.state)
        except Exception:
            logger.exception("periodic jobs failed; next try in %s s", interval)
        finally:
            close_old_connections()
        time.sleep(interval)


def start(interval: float) -> None:
    """Start the jobs' thread once per process."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=run_forever, args=(interval,), name="netzn-cron", daemon=True).start()
