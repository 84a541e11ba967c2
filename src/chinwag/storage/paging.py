"""Keyset pagination, shared by every list.

A page is ``WHERE <filters> AND key > cursor ORDER BY key LIMIT size + 1``: served by an index on
(parent, key), so page 10,000 costs what page 0 costs, where OFFSET would read every row
before it (docs/performance.md). The extra row tells whether a next page exists without a
COUNT. OFFSET is used only for the rare ``Page=N`` request that arrives without a
``PageToken``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chinwag.model.records import Page, PageRequest
from chinwag.storage.database import Txn
from chinwag.storage.engines import PlainRow, Row

T = TypeVar("T")


async def fetch_page_txn(
    txn: Txn,
    select: str,
    args: tuple[Any, ...],
    key: str,
    req: PageRequest,
    to_model: Callable[[Row], T] | Callable[[PlainRow], T],
    *,
    plain: bool = False,
) -> Page[T]:
    """Run ``select`` (which must end in a WHERE clause) as one keyset page on column ``key``.

    ``args`` fill ``$1..$n`` of ``select``; further placeholders are numbered after them.
    ``key`` must be the first column ``select`` reads. With ``plain``, ``to_model`` gets rows
    that index by position only (see ``Connection.fetchall_plain``): the hot message list.
    """
    n = len(args)
    asc, desc = ("DESC", "ASC") if req.descending else ("ASC", "DESC")
    after, before = ("<", ">") if req.descending else (">", "<")
    cursor = req.cursor
    if cursor is None:
        sql = f"{select} ORDER BY {key} {asc} LIMIT ${n + 1} OFFSET ${n + 2}"
        params = (*args, req.size + 1, req.offset)
    elif not cursor.backwards:
        sql = f"{select} AND {key} {after} ${n + 1} ORDER BY {key} {asc} LIMIT ${n + 2}"
        params = (*args, cursor.key, req.size + 1)
    else:
        sql = f"{select} AND {key} {before} ${n + 1} ORDER BY {key} {desc} LIMIT ${n + 2}"
        params = (*args, cursor.key, req.size + 1)
    rows = await (txn.fetchall_plain if plain else txn.fetchall)(sql, *params)
    more = len(rows) > req.size
    rows = rows[: req.size]
    if cursor is not None and cursor.backwards:
        rows.reverse()
    first = rows[0][0] if rows else None
    last = rows[-1][0] if rows else None
    items = [to_model(r) for r in rows]
    if cursor is None:
        return Page(items, next_key=last if more else None, prev_key=first if req.offset else None)
    if not cursor.backwards:
        return Page(items, next_key=last if more else None, prev_key=first)
    return Page(items, next_key=last, prev_key=first if more else None)
