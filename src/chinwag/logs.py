"""Logging setup for ``chinwag serve``, shared by the main process and each worker.

Workers are spawned processes and inherit no logging configuration, so the worker factory
calls :func:`configure` too. With ``log_format = "json"`` the access log writes bare JSON
lines (no level/name prefix), ready for a log shipper.
"""

from __future__ import annotations

import logging
import sys

from chinwag.config import Settings

_FORMAT = "%(levelname)s %(name)s: %(message)s"


def configure(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format=_FORMAT, stream=sys.stderr)
    access = logging.getLogger("chinwag.access")
    if settings.log_format == "json" and not access.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.propagate = False
