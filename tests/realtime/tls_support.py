"""HTTPS in front of a test server, as a deployment's TLS proxy puts it in front of chinwag.

twilio-chat 3.x and 4.x reach media only over HTTPS (their media client fixes the scheme:
docs/client-versions.md), so the tests that send media with them terminate TLS here and pass
plain HTTP on. The certificate (``tls/localhost.pem``, for ``localhost`` and ``127.0.0.1``,
valid 2000-2100) is a test fixture: Node trusts it through ``NODE_EXTRA_CA_CERTS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from pathlib import Path

TLS_DIR = Path(__file__).parent / "tls"
CERTIFICATE = TLS_DIR / "localhost.pem"
KEY = TLS_DIR / "localhost.key"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class TlsProxy:
    """``https://127.0.0.1:{port}`` → ``http://127.0.0.1:{target}``, on its own thread.

    The port is known at once, the target may be set later (the server's public URL names the
    proxy, so the proxy starts first).
    """

    def __init__(self) -> None:
        self.target: int | None = None
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(CERTIFICATE, KEY)
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        assert self._server is not None
        self.port: int = self._server.sockets[0].getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(
                self._handle, "127.0.0.1", 0, ssl=self._context
            )
            ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.target is not None
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def close(self) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
