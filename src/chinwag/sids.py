"""Minting and recognising Twilio SIDs: two upper-case letters and 32 lower-case hex digits.

Prefixes live only here. The generator is injectable so tests can mint predictable SIDs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Final

ACCOUNT: Final = "AC"
SERVICE: Final = "IS"
ROLE: Final = "RL"
USER: Final = "US"
CHANNEL: Final = "CH"
MEMBER: Final = "MB"
MESSAGE: Final = "IM"
INVITE: Final = "IN"
CREDENTIAL: Final = "CR"
API_KEY: Final = "SK"
PUSH_REGISTRATION: Final = "BS"
MEDIA: Final = "ME"
CHANNEL_WEBHOOK: Final = "WH"
# Sync objects (realtime/sync/objects.py): each is named after the chat entity it views, and
# its SID is this prefix plus that entity's 32 hex digits.
SYNC_CHANNEL_DOCUMENT: Final = "ET"
SYNC_MESSAGES_LIST: Final = "ES"
SYNC_ROSTER_MAP: Final = "MP"
SYNC_USER_CHANNELS_MAP: Final = "MC"
SYNC_USER_INFO_MAP: Final = "MI"
# the command list a twilio-chat 3/4 client creates (realtime/sync/legacy_sessions.py): random
SYNC_SESSION_LIST: Final = "EL"

_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")


def looks_like(prefix: str, value: str) -> bool:
    """Whether ``value`` has the shape of a SID with ``prefix`` (hex of either case, as the spec).

    This is what makes "SID or alias" path segments unambiguous: identities and unique names
    that look like SIDs are rejected on create (50206, 50306).
    """
    return len(value) == 34 and value.startswith(prefix) and _SID.fullmatch(value) is not None


class SidGenerator:
    """Mints new SIDs from 16 random bytes; ``randbytes`` is injectable for deterministic tests."""

    def __init__(self, randbytes: Callable[[int], bytes] = os.urandom) -> None:
        self._randbytes = randbytes

    def new(self, prefix: str) -> str:
        return prefix + self._randbytes(16).hex()


class SequentialSids(SidGenerator):
    """Deterministic SIDs (``CH000…01``, ``CH000…02``) for tests and reproducible seeds."""

    def __init__(self) -> None:
        super().__init__()
        self._n = 0

    def new(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:032x}"
