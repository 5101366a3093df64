"""Filters of the server's log (settings.LOGGING)."""

from __future__ import annotations

import logging


class ClientErrorsOnOneLine(logging.Filter):
    """A request refused with a 4xx (too many form fields, a body that is no form,
    a suspicious header) is logged as Django logs it, one line with its path and
    status, without the traceback of the exception behind it: that is the client's
    error, not the server's, and anyone could fill the log with tracebacks by sending
    such requests. Server errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
