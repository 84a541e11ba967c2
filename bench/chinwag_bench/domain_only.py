"""``chinwag serve`` whose message routes skip every HTTP layer: a measuring device for
``python -m bench.chinwag_bench.bound``, never a way to serve anything.

Message fetch, list (a page of 50) and create are answered straight from ASGI with the domain
call and the renderer chinwag's handlers use (``chinwag.domain.messages``, ``chinwag.http
.render``) and a minimal response: no credentials check, no request id, logging or metrics, no
framework request or response objects, no routing beyond splitting the path, no error
handling. Everything else (the lifespan, the seeding requests) reaches the real app. Its
throughput is what chinwag would reach if its HTTP layers cost nothing: the upper bound of any
work on them. Run as a script with ``chinwag serve``'s arguments, like ``chinwag``.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import parse_qsl

import orjson

import chinwag.app
from chinwag import cli
from chinwag.api.forms import Form
from chinwag.config import Settings
from chinwag.domain import messages as domain
from chinwag.http import commands, render
from chinwag.model.records import PageRequest

BASE = "http://127.0.0.1"
HEADERS = [(b"content-type", b"application/json")]
_create_app = chinwag.app.create_app


class DomainOnly:
    """The app: message routes by domain and render alone, the rest by chinwag's app."""

    def __init__(self, app: chinwag.app.ChinwagApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        parts = scope["path"].split("/") if scope["type"] == "http" else ()
        if len(parts) in (7, 8) and parts[6] == "Messages":
            event = await receive()
            api = self.app.api
            svc, ch = parts[3], parts[5]
            if scope["method"] == "POST":
                form = Form(parse_qsl(event["body"].decode(), keep_blank_values=True))
                cmd = commands.create_message(form)
                sent = await domain.send_message(api.deps, api.caller, svc, ch, cmd)
                status, payload = 201, render.message(sent, BASE)
            elif len(parts) == 8:
                found = await domain.fetch_message(api.deps, api.caller, svc, ch, parts[7])
                status, payload = 200, render.message(found, BASE)
            else:
                page = await domain.list_messages(
                    api.deps, api.caller, svc, ch, PageRequest(size=50)
                )
                status, payload = 200, {"messages": [render.message(m, BASE) for m in page.items]}
            body = orjson.dumps(payload)
            headers = [*HEADERS, (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def create_app(settings: Settings, **kwargs: Any) -> Any:
    return DomainOnly(_create_app(settings, **kwargs))


if __name__ == "__main__":
    chinwag.app.create_app = create_app  # type: ignore[assignment]  # what `serve` builds
    sys.exit(cli.main())
