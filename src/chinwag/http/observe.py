"""Request ids, access logs and metrics: the HTTP door (``chinwag.http.server``) calls
:meth:`Observe.finish` for every request it answers, so every request is counted, logged and
identified by the same code.

The door also notes on the scope a client that leaves before its body ends
(:func:`noting_disconnect`, :data:`CLIENT_GONE`), because Falcon's body stream reads
``http.disconnect`` as a normal end, and a cut-off body must never be taken for a whole one. An
exception that escapes a responder and its error handlers is answered by :meth:`Observe.fail`
as Twilio's 500, not the server's text.

Every response carries ``Twilio-Request-Id: RQ<32 hex>``, as Twilio's do, so an operator can
match a client's report to a log line. Each request is logged once, after its response is sent:
method, path, status, duration and request id, as text or as one JSON object per line (with a
UTC ``time``); a request
whose client left before any response is logged with nginx's 499. Lines go to the
``chinwag.access`` logger at INFO, so ``--log-level warning`` turns them off at the cost of one
level check.

The path is logged percent-encoded, as it was sent and routed (``chinwag.http.raw_path``): a
decoded ``%0A`` or terminal escape would let anyone forge log lines without credentials.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from chinwag import errors
from chinwag.http.errors import send_error
from chinwag.http.metrics import Metrics
from chinwag.http.raw_path import encoded_path

log = logging.getLogger("chinwag.access")
errors_log = logging.getLogger(__name__)

#: The status logged for a request that got no response because its client left (nginx's 499).
CLIENT_CLOSED_REQUEST = 499

LogFormat = Literal["text", "json"]


#: Set on the ASGI scope by the route responder: the spec operationId that handled the request.
OPERATION = "chinwag.operation"

#: Set on the ASGI scope when the client disconnected while the app was reading the request.
CLIENT_GONE = "chinwag.client_gone"


class Observe:
    def __init__(self, metrics: Metrics, *, log_format: LogFormat = "text") -> None:
        self.metrics = metrics
        self.json = log_format == "json"

    async def fail(self, scope: dict[str, Any], send: Any, *headers: tuple[bytes, bytes]) -> None:
        """Answer an exception that escaped every layer below, before any response began:
        logged with its traceback, answered as Twilio's 500 without its text."""
        errors_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
        await send_error(send, errors.InternalError(), headers)

    def finish(self, scope: dict[str, Any], status: int, start: float, request_id: str) -> None:
        """Count and log a request whose response was sent (``status`` 0: none was)."""
        status = status or CLIENT_CLOSED_REQUEST
        seconds = time.perf_counter() - start
        self.metrics.observe(scope.get(OPERATION, "none"), status, seconds)
        if log.isEnabledFor(logging.INFO):
            self._log(scope, status, seconds, request_id)

    def _log(self, scope: dict[str, Any], status: int, seconds: float, request_id: str) -> None:
        method, path, ms = scope["method"], encoded_path(scope), round(seconds * 1000, 3)
        if self.json:
            line = orjson.dumps(
                {
                    "time": _utc_now(),
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": ms,
                    "request_id": request_id,
                }
            ).decode()
            log.info(line)
        else:
            log.info("%s %s %d %.3fms %s", method, path, status, ms, request_id)


def new_request_id() -> str:
    """``RQ`` and 32 hex digits of ``os.urandom``: unguessable, and telling nothing of the
    process's traffic (a counter would)."""
    return "RQ" + os.urandom(16).hex()


def request_id_header(request_id: str) -> tuple[bytes, bytes]:
    return (b"twilio-request-id", request_id.encode())


def noting_disconnect(scope: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """``event``, received for ``scope``'s request; a disconnect is noted on the scope."""
    if event["type"] == "http.disconnect":
        scope[CLIENT_GONE] = True
    return event


def _utc_now() -> str:
    """ISO-8601 UTC with milliseconds, as log shippers parse without configuration."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
