"""The client gateway's counters, which the REST door's ``/metrics`` exports.

They live below both doors: the gateway (``chinwag.realtime``) bumps them, the HTTP door's
``Metrics`` (``chinwag.http.metrics``) renders them with its own, one registry per process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class GatewayCounters(Collector):
    """The Twilsock gateway's numbers: open connections, frames, upstream requests, refusals.

    Plain integers bumped on the event loop thread, like the REST door's request counts
    (``chinwag.http.metrics``, which exports these on ``/metrics``).
    """

    def __init__(self) -> None:
        self.connections = 0
        self.frames_in = 0
        self.frames_out = 0
        #: live Sync events sent inside another event's notification (``batching.py``)
        self.events_joined = 0
        #: (route name or "none", HTTP status) -> upstream requests answered
        self.upstream: dict[tuple[str, int], int] = {}
        #: Twilio error code -> refused init/update tokens
        self.auth_failures: dict[int, int] = {}
        #: reason -> connections the server closed (offload, expired, key_deleted, protocol...)
        self.closes: dict[str, int] = {}

    def count_upstream(self, route: str, status: int) -> None:
        self.upstream[route, status] = self.upstream.get((route, status), 0) + 1

    def count_auth_failure(self, code: int) -> None:
        self.auth_failures[code] = self.auth_failures.get(code, 0) + 1

    def count_close(self, reason: str) -> None:
        self.closes[reason] = self.closes.get(reason, 0) + 1

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "chinwag_gateway_connections", "Open client (Twilsock) connections.", self.connections
        )
        frames = CounterMetricFamily(
            "chinwag_gateway_frames", "Twilsock frames, by direction.", labels=["direction"]
        )
        frames.add_metric(["in"], self.frames_in)
        frames.add_metric(["out"], self.frames_out)
        yield frames
        yield CounterMetricFamily(
            "chinwag_gateway_events_joined",
            "Live Sync events sent in the notification of an earlier event (twilio-chat 6 and "
            "newer), so without a frame of their own.",
            value=self.events_joined,
        )
        upstream = CounterMetricFamily(
            "chinwag_gateway_upstream_requests",
            "Requests carried inside client connections, by route and HTTP status.",
            labels=["route", "status"],
        )
        for (route, status), count in self.upstream.items():
            upstream.add_metric([route, str(status)], count)
        yield upstream
        yield labelled(
            "chinwag_gateway_auth_failures",
            "Access tokens refused at init or update, by Twilio error code.",
            "code",
            self.auth_failures,
        )
        yield labelled(
            "chinwag_gateway_closes",
            "Client connections closed by the server, by reason.",
            "reason",
            self.closes,
        )


def labelled(name: str, text: str, label: str, counts: dict[Any, int]) -> CounterMetricFamily:
    """A counter family with one label, from plain counts."""
    family = CounterMetricFamily(name, text, labels=[label])
    for value, count in counts.items():
        family.add_metric([str(value)], count)
    return family
