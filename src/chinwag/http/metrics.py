"""Prometheus metrics: request counts and latency by operation and status, database pool,
and the client gateway (connections, frames, upstream requests, auth failures).

The registry belongs to the app (no global state), and ``/metrics`` renders it in the text
exposition format. Each process keeps its own numbers; with ``--workers N`` a scrape reaches
one worker, so scrape each process (or each host's single process) separately.

Requests are counted in plain dicts and turned into metric families only when scraped.
prometheus_client's ``Counter`` and ``Histogram`` take a lock and search their buckets on every
update: 1.8 µs per request, about a tenth of a message fetch. Updates and scrapes both run on
the event loop thread, so the plain numbers need no lock.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from chinwag.storage.engine import Engine

#: seconds; chinwag requests take ~0.1-1 ms unloaded, a database stall takes up to seconds
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LE = [*(floatToGoString(bound) for bound in BUCKETS), "+Inf"]

REQUESTS = "chinwag_requests"
DURATION = "chinwag_request_duration_seconds"


class _PoolCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size, idle, maximum = self._engine.pool_stats()
        for name, value, text in (
            ("chinwag_db_connections", size, "Open database connections."),
            ("chinwag_db_connections_idle", idle, "Open connections not in use."),
            ("chinwag_db_connections_max", maximum, "Most connections the pool may open."),
        ):
            yield GaugeMetricFamily(name, text, value=value)


class _Latency:
    """One operation's histogram: a count per bucket (not cumulative; the last is +Inf)."""

    __slots__ = ("counts", "created", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.sum = 0.0
        self.created = time.time()


class GatewayCounters(Collector):
    """The Twilsock gateway's numbers: open connections, frames, upstream requests, refusals.

    Plain integers bumped on the event loop thread, like :class:`Metrics`'s request counts.
    """

    def __init__(self) -> None:
        self.connections = 0
        self.frames_in = 0
        self.frames_out = 0
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
        upstream = CounterMetricFamily(
            "chinwag_gateway_upstream_requests",
            "Requests carried inside client connections, by route and HTTP status.",
            labels=["route", "status"],
        )
        for (route, status), count in self.upstream.items():
            upstream.add_metric([route, str(status)], count)
        yield upstream
        yield _labelled(
            "chinwag_gateway_auth_failures",
            "Access tokens refused at init or update, by Twilio error code.",
            "code",
            self.auth_failures,
        )
        yield _labelled(
            "chinwag_gateway_closes",
            "Client connections closed by the server, by reason.",
            "reason",
            self.closes,
        )


def _labelled(name: str, text: str, label: str, counts: dict[Any, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, text, labels=[label])
    for value, count in counts.items():
        family.add_metric([str(value)], count)
    return family


class Metrics(Collector):
    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.gateway = GatewayCounters()
        self.registry.register(self.gateway)
        #: (operation, status) -> [requests, time the series was created]
        self._requests: dict[tuple[str, int], list[float]] = {}
        self._latency: dict[str, _Latency] = {}
        self.registry.register(self)
        self.registry.register(_PoolCollector(engine))

    def observe(self, operation: str, status: int, seconds: float) -> None:
        series = self._requests.get((operation, status))
        if series is None:
            series = self._requests[operation, status] = [0, time.time()]
        series[0] += 1
        latency = self._latency.get(operation)
        if latency is None:
            latency = self._latency[operation] = _Latency()
        # bisect_left: the first bound >= seconds, as Prometheus buckets are "le"
        latency.counts[bisect_left(BUCKETS, seconds)] += 1
        latency.sum += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            REQUESTS,
            "HTTP requests, by spec operationId (or 'none') and status.",
            labels=["operation", "status"],
        )
        for (operation, status), (count, created) in self._requests.items():
            requests.add_metric([operation, str(status)], count, created=created)
        yield requests
        duration = HistogramMetricFamily(
            DURATION, "Time from request to response, by spec operationId.", labels=["operation"]
        )
        for operation, latency in self._latency.items():
            cumulative = accumulate(latency.counts)
            duration.add_metric([operation], list(zip(_LE, cumulative, strict=True)), latency.sum)
            labels = {"operation": operation}
            duration.samples.append(Sample(f"{DURATION}_created", labels, latency.created))
        yield duration

    def render(self) -> bytes:
        return generate_latest(self.registry)
