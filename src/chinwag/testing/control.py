"""``ControlClient``: the control API (``/_chinwag/``) from a test, over real HTTP.

It works the same against a server the plugin started and an external one, which is why the
plugin never reaches into a server's objects: resetting, seeding and moving the clock all go
through the endpoints a user could call with ``curl``.
"""

from __future__ import annotations

from typing import Any

import httpx


class ControlError(Exception):
    """The control API answered with an error (its Twilio JSON body is kept)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class ControlClient:
    """One method per control endpoint; a non-2xx answer raises :class:`ControlError`."""

    def __init__(self, url: str, account_sid: str, auth_token: str) -> None:
        self._http = httpx.Client(base_url=url, auth=(account_sid, auth_token), timeout=30)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, f"/_chinwag/{path}", json=body)
        if response.is_error:
            raise ControlError(response.status_code, response.json())
        return response.json()

    def reset(self) -> int:
        """Delete the account's resources; returns the number of rows deleted."""
        deleted: int = self._call("POST", "reset", {})["deleted_rows"]
        return deleted

    def export_snapshot(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = self._call("GET", "snapshot")
        return snapshot

    def import_snapshot(self, snapshot: dict[str, Any]) -> int:
        """Replace the account's state with ``snapshot``; returns the number of rows."""
        imported: int = self._call("POST", "snapshot", snapshot)["imported_rows"]
        return imported

    def seed(self, seed: dict[str, Any]) -> list[dict[str, Any]]:
        """Create what ``seed`` describes; returns each Service's SIDs by name."""
        services: list[dict[str, Any]] = self._call("POST", "seed", seed)["services"]
        return services

    def clock(self) -> dict[str, Any]:
        clock: dict[str, Any] = self._call("GET", "clock")
        return clock

    def move_clock(self, change: dict[str, int]) -> int:
        now: int = self._call("POST", "clock", change)["now_ms"]
        return now


class ServerClock:
    """The ``chinwag_clock`` fixture: the server's clock, read and moved over the control API.

    The server must run ``--clock controllable`` (the plugin's own server does). A reset puts
    the clock back on system time, so every test starts from now.
    """

    def __init__(self, control: ControlClient) -> None:
        self._control = control

    def now_ms(self) -> int:
        now: int = self._control.clock()["now_ms"]
        return now

    def set(self, now_ms: int) -> int:
        """Set the server's time (epoch milliseconds); returns it."""
        return self._control.move_clock({"now_ms": now_ms})

    def advance(self, seconds: float = 0, *, ms: int = 0) -> int:
        """Move the server's time forward; returns the new time in epoch milliseconds."""
        return self._control.move_clock({"advance_ms": int(seconds * 1000) + ms})
