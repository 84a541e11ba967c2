"""``chinwag serve`` on Granian instead of uvicorn: a measuring device for the server question
(docs/performance.md, "The server question"), never a way to serve.

Run as a script with ``chinwag serve``'s arguments, like ``chinwag``: the settings, schema and
account are prepared exactly as ``serve`` prepares them, then one Granian worker (ASGI with
lifespan, uvloop, HTTP/1.1, one runtime thread) serves the app that ``serve --workers N`` builds
in each worker (``create_app_from_environment``).

What Granian serves is the app alone: none of chinwag's connection code
(``chinwag.http.connection``, ``chinwag.http.accept``, the gateway's WebSocket protocol) runs,
so the request and frame costs measured are Granian's plus the app's. The client gateway needs
a :class:`~chinwag.realtime.twilsock.websocket.Socket` in the scope; Granian offers nothing to
build one on (no buffered byte count, no abort), so :class:`NoSocket` reports nothing buffered
and cannot drop a peer: the gateway runs without its slow-consumer bound, which makes this side
do a little less work per frame than ``chinwag serve`` does.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from granian.constants import HTTPModes, Interfaces, Loops
from granian.server import Server as Granian

from chinwag import app as chinwag_app
from chinwag import cli, config
from chinwag.realtime.twilsock.websocket import EXTENSION


class NoSocket:
    """The gateway's view of a socket, with nothing behind it (see the module docstring)."""

    aborted: str | None = None

    def buffered(self) -> int:
        return 0

    def abort(self, reason: str) -> None:
        self.aborted = reason

    def authenticated(self) -> None:
        pass


class WithSocket:
    """The app, with a :class:`NoSocket` in every WebSocket scope's extensions."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            extensions = {**(scope.get("extensions") or {}), EXTENSION: NoSocket()}
            scope = scope | {"extensions": extensions}
        await self.app(scope, receive, send)


def _load(target: str) -> Any:
    return WithSocket(chinwag_app.create_app_from_environment())


def main() -> int:
    args = cli._parser().parse_args(sys.argv[1:])
    settings = cli._settings(args)
    cli._prepare_schema(settings, args.upgrade)
    account, _ = asyncio.run(chinwag_app.resolve_account(settings))
    config.export_to_environment(chinwag_app.with_account(settings, account))
    server = Granian(
        "chinwag",  # unused: _load builds the app
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        workers=1,
        runtime_threads=1,
        log_level=settings.log_level,  # type: ignore[arg-type]
        log_access=False,
    )
    server.serve(target_loader=_load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
