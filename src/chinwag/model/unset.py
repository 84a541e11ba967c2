"""``UNSET``: "parameter not sent", distinct from ``None`` ("sent empty: clear to null").

twilio-python drops ``None`` parameters, so an update can only clear a nullable field by sending
an empty value; partial updates must tell the two apart.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Final, TypeVar


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
Unset = _Unset

T = TypeVar("T")


def is_empty_update(cmd: Any) -> bool:
    """True when an update command carries no parameter at all (every field UNSET or empty)."""
    for f in dataclasses.fields(cmd):
        value = getattr(cmd, f.name)
        if isinstance(value, dict):
            if value:
                return False
        elif value is not UNSET:
            return False
    return True


def pick(new: T | _Unset, old: T) -> T:
    """The new value if one was sent, else the old one."""
    return old if new is UNSET else new
