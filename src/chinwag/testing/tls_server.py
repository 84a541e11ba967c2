"""A small HTTPS server on loopback for the fake push providers: HTTP/2 (``h2``) and
HTTP/1.1 (``h11``) chosen by ALPN, optional client-certificate verification, one thread per
connection.

The fakes need what no ASGI server hands an application: the verified client certificate of
the connection (APNs reads the push topic from it). And a refused client certificate must
reach the client as the TLS alert a real server sends; asyncio's TLS drops the alert when a
handshake fails, so connections are blocking sockets, each served by its own thread. Each
request is handed to a plain function, which answers at once; a reply's ``delay`` is waited
out on a thread of its own, so a slow reply holds back nothing else, not even other streams
of its HTTP/2 connection. ``stop()`` and ``start()`` again keep the port, so a test can take a
provider down and bring it back at the same URL.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h11

from chinwag.testing.certificates import KeyPair

HOST = "127.0.0.1"
#: request bodies above this are refused: the fakes hold what they record
MAX_BODY = 1 << 20
_READ = 65536


@dataclass(frozen=True)
class Request:
    """One request as the server read it.

    Attributes:
        method: "POST", "GET"...
        path: The request target (path and query).
        headers: Names in lower case; the last value wins for repeated names.
        body: The raw body.
        http_version: "2" or "1.1".
        peer_certificate: The verified client certificate (``ssl.getpeercert()``), if any.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    http_version: str
    peer_certificate: dict[str, Any] | None


@dataclass(frozen=True)
class Response:
    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    delay: float = 0.0


Handler = Callable[[Request], Response]


class TlsServer:
    """Serves ``handler`` over TLS on ``127.0.0.1``; a context manager."""

    def __init__(
        self,
        handler: Handler,
        certificate: KeyPair,
        *,
        client_ca: str | None = None,
        http1: bool = True,
    ) -> None:
        """Args:
        handler: Answers each request (called on a connection's thread).
        certificate: The server's certificate and key.
        client_ca: PEM of the CA client certificates must chain to; a client may still
            present none (token auth), but one that fails verification ends the handshake
            with an alert.
        http1: Offer HTTP/1.1 besides HTTP/2 (APNs speaks only HTTP/2).
        """
        self._handler = handler
        self._context = _server_context(certificate, client_ca, http1)
        self._port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def __enter__(self) -> TlsServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``, without a trailing slash."""
        return f"https://{HOST}:{self._port}"

    def start(self) -> None:
        """Listen (again) on the server's port."""
        self._stopping.clear()
        self._server = _Server((HOST, self._port), self._connection_class())
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="chinwag-fake-provider",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and drop every open connection; delayed replies are abandoned."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.drop_connections()
        thread.join()
        self._server = self._thread = None

    def _connection_class(self) -> type[socketserver.BaseRequestHandler]:
        handler, context, stopping = self._handler, self._context, self._stopping

        class Connection(socketserver.BaseRequestHandler):
            server: _Server

            def handle(self) -> None:
                try:
                    tls = context.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the handshake failed; OpenSSL has sent its alert
                self.server.track(tls)
                try:
                    peer = tls.getpeercert() or None
                    if tls.selected_alpn_protocol() == "h2":
                        _Http2(handler, tls, peer, stopping).serve()
                    else:
                        _Http1(handler, tls, peer, stopping).serve()
                except (OSError, ssl.SSLError):
                    pass
                finally:
                    self.server.untrack(tls)
                    with contextlib.suppress(OSError):
                        tls.close()

        return Connection


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[socketserver.BaseRequestHandler]):
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(sock)

    def drop_connections(self) -> None:
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()


def _server_context(certificate: KeyPair, client_ca: str | None, http1: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="chinwag-fake-") as directory:
        cert, key = certificate.write(Path(directory), "server")
        context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2", "http/1.1"] if http1 else ["h2"])
    if client_ca is not None:
        context.load_verify_locations(cadata=client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


class _Connection:
    """One TLS connection and what serving it needs."""

    def __init__(
        self,
        handler: Handler,
        tls: ssl.SSLSocket,
        peer: dict[str, Any] | None,
        stopping: threading.Event,
    ) -> None:
        self._handler = handler
        self._tls = tls
        self._peer = peer
        self._stopping = stopping


class _Http2(_Connection):
    """One HTTP/2 connection: requests collected per stream, answered as they end."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._lock = threading.Lock()
        self._conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self._streams: dict[int, tuple[dict[str, str], bytearray]] = {}

    def serve(self) -> None:
        with self._lock:
            self._conn.initiate_connection()
            self._flush()
        while data := self._tls.recv(_READ):
            with self._lock:
                try:
                    events = self._conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    self._flush()
                    return
                requests = []
                for event in events:
                    if isinstance(event, h2.events.ConnectionTerminated):
                        self._flush()
                        return
                    ended = self._apply(event)
                    if ended is not None:
                        requests.append(ended)
                self._flush()
            for stream_id, request in requests:
                self._answer(stream_id, request)

    def _apply(self, event: h2.events.Event) -> tuple[int, Request] | None:
        """Apply one event; a request whose stream just ended, with its stream id."""
        if isinstance(event, h2.events.RequestReceived):
            headers = {str(k).lower(): str(v) for k, v in event.headers or ()}
            self._streams[event.stream_id] = (headers, bytearray())
        elif isinstance(event, h2.events.DataReceived):
            stream = self._streams.get(event.stream_id)
            self._conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if stream is not None and event.data is not None:
                stream[1].extend(event.data)
                if len(stream[1]) > MAX_BODY:
                    del self._streams[event.stream_id]
                    self._conn.reset_stream(event.stream_id)
        elif isinstance(event, h2.events.StreamEnded) and event.stream_id in self._streams:
            headers, body = self._streams.pop(event.stream_id)
            request = Request(
                headers.get(":method", ""),
                headers.get(":path", ""),
                {k: v for k, v in headers.items() if not k.startswith(":")},
                bytes(body),
                "2",
                self._peer,
            )
            return event.stream_id, request
        elif isinstance(event, h2.events.StreamReset):
            self._streams.pop(event.stream_id, None)
        return None

    def _answer(self, stream_id: int, request: Request) -> None:
        response = self._handler(request)
        if not response.delay:
            self._send(stream_id, response)
            return

        def later() -> None:
            if not self._stopping.wait(response.delay):
                with contextlib.suppress(OSError, ssl.SSLError):
                    self._send(stream_id, response)

        threading.Thread(target=later, daemon=True).start()

    def _send(self, stream_id: int, response: Response) -> None:
        headers = [(":status", str(response.status)), *response.headers]
        headers.append(("content-length", str(len(response.body))))
        with self._lock:
            try:
                self._conn.send_headers(stream_id, headers, end_stream=not response.body)
                body = response.body
                while body:
                    size = min(len(body), self._conn.max_outbound_frame_size)
                    chunk, body = body[:size], body[size:]
                    self._conn.send_data(stream_id, chunk, end_stream=not body)
            except h2.exceptions.ProtocolError:
                return  # the client reset the stream meanwhile
            self._flush()

    def _flush(self) -> None:
        data = self._conn.data_to_send()
        if data:
            self._tls.sendall(data)


class _Http1(_Connection):
    """One HTTP/1.1 connection, kept alive between requests."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._conn = h11.Connection(h11.SERVER)

    def serve(self) -> None:
        while True:
            request = self._read_request()
            if request is None:
                return
            response = self._handler(request)
            if response.delay and self._stopping.wait(response.delay):
                return
            headers = [*response.headers, ("content-length", str(len(response.body)))]
            out = self._conn.send(h11.Response(status_code=response.status, headers=headers))
            out = (out or b"") + (self._conn.send(h11.Data(data=response.body)) or b"")
            out += self._conn.send(h11.EndOfMessage()) or b""
            self._tls.sendall(out)
            if self._conn.our_state is not h11.DONE or self._conn.their_state is not h11.DONE:
                return
            self._conn.start_next_cycle()

    def _read_request(self) -> Request | None:
        start: h11.Request | None = None
        body = bytearray()
        while True:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError:
                return None
            if event is h11.NEED_DATA:
                self._conn.receive_data(self._tls.recv(_READ))
            elif isinstance(event, h11.Request):
                start = event
            elif isinstance(event, h11.Data):
                body.extend(event.data)
                if len(body) > MAX_BODY:
                    return None
            elif isinstance(event, h11.EndOfMessage) and start is not None:
                headers = {k.decode().lower(): v.decode() for k, v in start.headers}
                return Request(
                    start.method.decode(),
                    start.target.decode(),
                    headers,
                    bytes(body),
                    "1.1",
                    self._peer,
                )
            else:
                return None
