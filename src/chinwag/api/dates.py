"""Twilio's date text, the same for REST bodies and the replies sent inside the socket."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=8192)
def _iso_seconds(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def iso(ms: int | None) -> str | None:
    """``ms`` as Twilio's date text (``YYYY-MM-DDTHH:MM:SSZ``, as Twilio really sends dates).

    Rows whose two dates are equal, as most are, call it once (see ``chinwag.http.render``);
    the text of a second is cached, since a busy list repeats the same few seconds."""
    return None if ms is None else _iso_seconds(ms // 1000)


def parse_iso(text: str) -> int | None:
    """ISO 8601 date text (``2016-03-24T21:05:50Z``, an offset, fractions, or a date alone) in
    epoch milliseconds; None when it is not one, or falls outside 1970..9999. A time without
    an offset is UTC, as Twilio's dates are."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    ms = int(parsed.timestamp() * 1000)
    return ms if 0 <= ms <= _LATEST_MS else None


#: 9999-12-31T23:59:59.999Z, the last moment a four-digit year shows
_LATEST_MS = 253_402_300_799_999
