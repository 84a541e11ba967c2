"""The bus's counters as Prometheus metrics (registered on the app's registry)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from chinwag.events.local import LocalBus


class BusCollector(Collector):
    def __init__(self, bus: LocalBus) -> None:
        self._bus = bus

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "chinwag_bus_events_dropped",
            "Events not delivered to an async subscriber whose queue was full.",
            value=self._bus.dropped,
        )
        yield CounterMetricFamily(
            "chinwag_bus_events_undecodable",
            "Messages from the event transport that were not events this version knows.",
            value=self._bus.undecodable,
        )
