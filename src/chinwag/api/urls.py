"""URLs one door hands out that point at the other: media travels over plain HTTP (the REST
door's ``/mcs/`` routes) while the client learns where from the socket's Configuration."""

from __future__ import annotations

#: where media lives over plain HTTP, outside Basic auth
PREFIX = "/mcs"


def media_base(public_url: str, service_sid: str) -> str:
    """The ``links.media_service`` of a service's Configuration."""
    return f"{public_url}{PREFIX}/v1/Services/{service_sid}/Media"
