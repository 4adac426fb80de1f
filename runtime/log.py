"""The runtime log (stderr; `runtime.log` in the workspace when detached): one line per event.

Log messages quote the outside world (a campaign's step, a server's reply, a
subject), so every line's message goes through `sequences.inert`: an escape
sequence in a contact's name cannot act on the terminal that tails the log, and
a line break in it cannot forge a second log line.
"""

from __future__ import annotations

import logging
from typing import TextIO

from sequences.inert import inert

LOGGER = "enginy"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class InertFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 — logging's name
        return inert(super().formatMessage(record))


def log_to(stream: TextIO, level: int = logging.WARNING) -> logging.Handler:
    """Send enginy's log to `stream` (once per stream), each message inert."""
    logger = logging.getLogger(LOGGER)
    for handler in logger.handlers:
        if getattr(handler, "stream", None) is stream:
            return handler
    handler = logging.StreamHandler(stream)
    handler.setFormatter(InertFormatter(FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler
