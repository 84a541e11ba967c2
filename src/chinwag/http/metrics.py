"""Prometheus metrics: request counts and latency by operation and status, database pool,
and the client gateway (connections, frames, upstream requests, auth failures).

The registry belongs to the app (no global state), and ``/metrics`` renders it in the text
exposition format. Each process keeps its own numbers; with ``--workers N`` a scrape reaches
one worker, so scrape each process (or each host's single process) separately.

Requests are counted in plain dicts and turned into metric families only when scraped.
prometheus_client's ``Counter`` and ``Histogram`` take a lock and search their buckets on every
update, a noticeable share of a message fetch. Updates and scrapes both run on the event loop
thread, so the plain numbers need no lock.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from chinwag.api.counters import GatewayCounters
from chinwag.storage.engines import Engine

#: seconds: from an unloaded request's fraction of a millisecond to a database stall's seconds
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: the ``le`` labels; ``repr`` writes these bounds as Go does (prometheus_client's own
#: ``floatToGoString`` is untyped, and ``mypy --strict`` refuses the call)
_LE = [*(repr(bound) for bound in BUCKETS), "+Inf"]

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
