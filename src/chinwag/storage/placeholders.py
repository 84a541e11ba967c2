"""Numbered placeholders for an ``IN (…)`` list: both engines take ``$n`` (SQLite's are rewritten
by the engine), so one function numbers them for every store that filters by a list of keys."""

from __future__ import annotations


def placeholders(first: int, count: int) -> str:
    """``$first, $first+1, …``: ``count`` placeholders for values passed from ``first`` on."""
    return ", ".join(f"${first + i}" for i in range(count))
