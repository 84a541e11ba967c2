"""Prometheus metrics: request counts and latency by operation and status, database pool.

The registry belongs to the app (no global state), and ``/metrics`` renders it in the text
exposition format. Each process keeps its own numbers; with ``--workers N`` a scrape reaches
one worker, so scrape each process (or each host's single process) separately.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from chinwag.storage.engine import Engine

#: seconds; chinwag requests take ~0.1-1 ms unloaded, a database stall takes up to seconds
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


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


class Metrics:
    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "chinwag_requests",
            "HTTP requests, by spec operationId (or 'none') and status.",
            ["operation", "status"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "chinwag_request_duration_seconds",
            "Time from request to response, by spec operationId.",
            ["operation"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_PoolCollector(engine))
        # labels() takes a lock and builds a key on every call; the label sets are few (40
        # operations times a handful of statuses), so their children are looked up once.
        self._counters: dict[tuple[str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    def observe(self, operation: str, status: int, seconds: float) -> None:
        counter = self._counters.get((operation, status))
        if counter is None:
            counter = self._counters[operation, status] = self._requests.labels(
                operation, str(status)
            )
        counter.inc()
        histogram = self._histograms.get(operation)
        if histogram is None:
            histogram = self._histograms[operation] = self._duration.labels(operation)
        histogram.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
