"""The route-table type and its matcher, for every table of both doors.

A table is a list of :class:`Route` rows (method, path template, name, handler); the REST API's
versions, the control API, the console, media and the requests the SDK sends inside the socket
are all tables of it, each door with its own handler type. :class:`RouteTable` matches a path
as it was sent (still percent-encoded) against the templates' ``/``-separated segments, where a
``{name}`` segment captures one non-empty segment; each door decodes the captured values its own
way after routing, so an encoded ``/`` can never change the resource.

Matching is a dictionary lookup per *layout*: the templates with the same number of segments
and their literal segments at the same positions share one dictionary keyed by those literals.
A table has a handful of layouts (the REST API's routes share a few), tried so that a literal
segment wins over a capture at the first place where two templates differ, as in a router
that walks the path segment by segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

H = TypeVar("H")


@dataclass(frozen=True, slots=True)
class Route(Generic[H]):
    method: str
    #: ``/``-separated; a ``{name}`` segment captures one segment as parameter ``name``
    path: str
    #: what the route is called in metrics and logs (a REST route's spec operationId)
    name: str
    handler: H


@dataclass(frozen=True, slots=True)
class Found(Generic[H]):
    """A path's routes by method, and the segments it captured (still encoded)."""

    routes: Mapping[str, Route[H]]
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Template(Generic[H]):
    #: (position, name) of each capture
    names: tuple[tuple[int, str], ...]
    #: the template's routes by method
    routes: dict[str, Route[H]]


@dataclass(frozen=True, slots=True)
class _Layout(Generic[H]):
    #: positions of the literal segments
    literal: tuple[int, ...]
    #: literal segments -> the template that has them
    templates: dict[tuple[str, ...], _Template[H]]


class RouteTable(Generic[H]):
    """Exact matching of paths against the templates of ``routes``."""

    def __init__(self, routes: Iterable[Route[H]]) -> None:
        layouts: dict[tuple[int, tuple[int, ...]], _Layout[H]] = {}
        for route in routes:
            parts = route.path.split("/")
            literal = tuple(i for i, part in enumerate(parts) if not _is_capture(part))
            names = tuple((i, part[1:-1]) for i, part in enumerate(parts) if _is_capture(part))
            layout = layouts.setdefault((len(parts), literal), _Layout(literal, {}))
            key = tuple(parts[i] for i in literal)
            template = layout.templates.setdefault(key, _Template(names, {}))
            if template.names != names:
                raise ValueError(f"{route.path}: captures named otherwise at the same places")
            if route.method in template.routes:
                raise ValueError(f"{route.method} {route.path}: routed twice")
            template.routes[route.method] = route
        #: segment count -> its layouts, tried in order: at the first position where two
        #: differ, the one with a literal segment there comes first
        self._by_count: dict[int, list[_Layout[H]]] = {}
        for (count, _), layout in sorted(layouts.items(), key=lambda kv: _order(*kv[0])):
            self._by_count.setdefault(count, []).append(layout)

    def find(self, path: str) -> Found[H] | None:
        """The routes of ``path`` and its captured segments, or None when no template fits (a
        capture never matches an empty segment)."""
        parts = path.split("/")
        for layout in self._by_count.get(len(parts), ()):
            template = layout.templates.get(tuple([parts[i] for i in layout.literal]))
            if template is None:
                continue
            params = {name: parts[i] for i, name in template.names}
            if "" not in params.values():
                return Found(template.routes, params)
        return None

    def routes(self) -> Iterator[Route[H]]:
        """Every route, for listings (``chinwag routes``) and contract checks."""
        for layouts in self._by_count.values():
            for layout in layouts:
                for template in layout.templates.values():
                    yield from template.routes.values()


def _order(count: int, literal: tuple[int, ...]) -> tuple[int, ...]:
    """Sorts layouts so that, position by position, a literal segment precedes a capture."""
    return tuple(0 if i in literal else 1 for i in range(count))


def _is_capture(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")
