"""Twilio's date text, the same for REST bodies and the replies sent inside the socket."""

from __future__ import annotations

import time
from functools import lru_cache


@lru_cache(maxsize=8192)
def _iso_seconds(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def iso(ms: int | None) -> str | None:
    """``ms`` as Twilio's date text (``YYYY-MM-DDTHH:MM:SSZ``, as Twilio really sends dates).

    Rows whose two dates are equal, as most are, call it once (see ``chinwag.http.render``);
    the text of a second is cached, since a busy list repeats the same few seconds."""
    return None if ms is None else _iso_seconds(ms // 1000)
