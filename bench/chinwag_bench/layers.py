"""``python -m bench.chinwag_bench.layers``: where a request's CPU time goes, layer by layer.

wrk measures whole requests through a server; this drives chinwag's ASGI app in-process (no
socket, no HTTP parser) and times each layer of the stack separately, so the speed table's
ratios can be read as a budget: what the server costs (the bare baseline), what chinwag's
HTTP layers add, what the domain and the database take. Every figure is the median of
interleaved batches of CPU time (``time.process_time``), so other load on the machine
inflates them less than it does wall-clock figures.

Layers, each including the ones below it:

- ``trivial ASGI app``: this harness's own cost per request (scope, receive, send);
- ``domain``: the domain call alone (``fetch_message``, ``list_messages``, ``send_message``);
- ``domain + render``: that, rendered to the response's JSON bytes;
- ``HTTP door``: the whole app, which serves every HTTP route through ``chinwag.http.server``
  (route table, request id, Basic auth, Falcon's request and response, metrics and log).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from chinwag.app import ChinwagApp, create_app
from chinwag.config import Settings
from chinwag.domain import messages as domain
from chinwag.http import render
from chinwag.model.records import PageRequest
from chinwag.storage import migrate

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
BASE = "http://chinwag.test"


class Harness:
    """One app on a fresh SQLite file, its lifespan started, a channel of messages seeded."""

    def __init__(self, app: ChinwagApp) -> None:
        self.app = app
        self.auth = b""
        self.messages = ""
        self.fetch = ""

    async def start(self, seed: int) -> None:
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        started = asyncio.Event()

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                started.set()
            elif message["type"] == "lifespan.startup.failed":
                raise SystemExit(message.get("message", "lifespan failed"))

        await events.put({"type": "lifespan.startup"})
        lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}}
        self._lifespan = asyncio.ensure_future(self.app(lifespan, events.get, send))
        await started.wait()
        self._events = events
        account = self.app.account
        assert account is not None
        self.auth = b"Basic " + base64.b64encode(f"{account.sid}:{account.auth_token}".encode())
        svc = await self._sid("POST", "/v1/Services", b"FriendlyName=bench")
        ch = await self._sid("POST", f"/v1/Services/{svc}/Channels", b"FriendlyName=hot")
        self.messages = f"/v1/Services/{svc}/Channels/{ch}/Messages"
        sids = [await self._sid("POST", self.messages, b"Body=hello") for _ in range(seed)]
        self.fetch = f"{self.messages}/{sids[len(sids) // 2]}"

    async def stop(self) -> None:
        await self._events.put({"type": "lifespan.shutdown"})
        await self._lifespan

    async def _sid(self, method: str, path: str, body: bytes) -> str:
        status, payload = await self.call(self.app, method, path, body=body)
        assert status < 300, payload
        sid: str = orjson.loads(payload)["sid"]
        return sid

    async def call(
        self, app: Asgi, method: str, path: str, *, body: bytes = b"", query: bytes = b""
    ) -> tuple[int, bytes]:
        headers = [(b"host", b"chinwag.test"), (b"authorization", self.auth)]
        if method == "POST":
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
            headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8080),
        }
        event = {"type": "http.request", "body": body, "more_body": False}
        answer: dict[str, Any] = {"status": 0, "body": b""}

        async def receive() -> dict[str, Any]:
            return event

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            else:
                answer["body"] += message.get("body", b"")

        await app(scope, receive, send)
        return answer["status"], answer["body"]


async def _trivial(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _stacks(h: Harness) -> dict[str, Asgi]:
    app = h.app
    return {
        "trivial ASGI app": _trivial,
        "HTTP door (the whole app)": app,
    }


def _calls(h: Harness, path: str) -> dict[str, Callable[[], Awaitable[object]]]:
    """The path's request through each layer, and its domain work without HTTP."""
    api = h.app.api
    parts = h.fetch.split("/")
    svc, ch, im = parts[3], parts[5], parts[7]
    method, url, body, query = {
        "fetch": ("GET", h.fetch, b"", b""),
        "list": ("GET", h.messages, b"", b"PageSize=50"),
        "create": ("POST", h.messages, b"Body=hello", b""),
    }[path]

    async def dom() -> object:
        if path == "fetch":
            return await domain.fetch_message(api.deps, api.caller, svc, ch, im)
        if path == "list":
            return await domain.list_messages(api.deps, api.caller, svc, ch, PageRequest(size=50))
        cmd = domain.CreateMessage(body="hello")
        return await domain.send_message(api.deps, api.caller, svc, ch, cmd)

    async def dom_render() -> object:
        found: Any = await dom()
        if path == "list":
            return orjson.dumps([render.message(m, BASE) for m in found.items])
        return orjson.dumps(render.message(found, BASE))

    stacks = _stacks(h)
    calls: dict[str, Callable[[], Awaitable[object]]] = {}
    for name, stack in stacks.items():
        if name == "HTTP door (the whole app)":
            calls["domain"], calls["domain + render"] = dom, dom_render

        async def through(stack: Asgi = stack) -> object:
            return await h.call(stack, method, url, body=body, query=query)

        calls[name] = through
    return calls


async def measure(
    paths: list[str], rounds: int, batch: int, seed: int
) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'layers.db'}"
        migrate.upgrade(url)
        h = Harness(create_app(Settings(database=url)))
        await h.start(seed)
        try:
            out: dict[str, dict[str, float]] = {}
            for path in paths:
                calls = _calls(h, path)
                n = batch // 5 if path == "list" else batch
                samples: dict[str, list[float]] = {name: [] for name in calls}
                for rnd in range(rounds):
                    order = list(calls.items())
                    for name, call in order if rnd % 2 else reversed(order):
                        for _ in range(n // 10):  # warm
                            await call()
                        start = time.process_time()
                        for _ in range(n):
                            await call()
                        samples[name].append((time.process_time() - start) / n * 1e6)
                out[path] = {name: statistics.median(v) for name, v in samples.items()}
            return out
        finally:
            await h.stop()


def markdown(results: dict[str, dict[str, float]]) -> str:
    paths = list(results)
    names = list(next(iter(results.values())))
    lines = ["| layer (µs CPU per request) | " + " | ".join(paths) + " |"]
    lines.append("|---|" + "---:|" * len(paths))
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{results[p][name]:.1f}" for p in paths) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=["fetch", "list", "create"])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved batches per layer")
    parser.add_argument("--batch", type=int, default=500, help="requests per batch (list: /5)")
    parser.add_argument("--seed", type=int, default=200, help="messages in the channel")
    args = parser.parse_args()
    import uvloop

    paths = args.only or ["fetch", "list", "create"]
    results = uvloop.run(measure(paths, args.rounds, args.batch, args.seed))
    print(markdown(results))


if __name__ == "__main__":
    main()
