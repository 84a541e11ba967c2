"""Reading a running server's Sync objects from a test, through a second connection."""

from __future__ import annotations

import asyncio
from typing import Any

from chinwag.realtime.sync import paging, views
from chinwag.realtime.sync.objects import SyncObject
from chinwag.storage.database import Database
from chinwag.storage.engines import create_engine
from chinwag.testing import ThreadedServer

BASE = "https://cds.test"


class SyncReader:
    """The Sync views of ``server``'s database, read as a client would see them."""

    def __init__(self, server: ThreadedServer) -> None:
        self.url = server.app.api.settings.database

    def _read(self, fn: Any, *args: Any) -> Any:
        async def run() -> Any:
            db = Database(create_engine(self.url))
            await db.open()
            try:
                return await db.run_read("test", fn, *args)
            finally:
                await db.close()

        return asyncio.run(run())

    def replay(self, obj: SyncObject, after: int) -> views.Replay:
        return self._read(views.events_after_txn, BASE, obj, after, 0)

    def position(self, obj: SyncObject) -> int | None:
        return self._read(views.position_txn, obj)

    def open(self, obj: SyncObject, include_items: bool = False) -> Any:
        return self._read(views.open_txn, BASE, obj, include_items)

    def items(self, obj: SyncObject, query: paging.ItemQuery) -> Any:
        return self._read(views.items_txn, BASE, obj, query)
