"""Which URLs an outgoing webhook may call, and the address it must connect to.

Webhook URLs are set by API clients, so a server reachable from a private network could be
made to call its own neighbours (server-side request forgery). With ``block_private`` on, a URL
is allowed only when *every* address its host resolves to is globally routable, and the
request then connects to one of those checked addresses rather than resolving the name again:
a DNS answer that changes between the check and the connection (DNS rebinding) cannot redirect
it. With ``block_private`` off (the default, for local development) nothing is resolved here.

URLs are parsed with httpx, the client that sends them, so the policy and the request can never
disagree about which host a URL names.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")

# Checked in order, so an address gets its most specific name (127.0.0.1 is also "private").
_REASONS = (
    (lambda ip: ip.is_unspecified, "an unspecified address"),
    (lambda ip: ip.is_loopback, "a loopback address"),
    (lambda ip: ip.is_link_local, "a link-local address"),
    (lambda ip: ip.is_multicast, "a multicast address"),
    (lambda ip: ip in _SHARED_ADDRESS_SPACE, "a shared (carrier-grade NAT) address"),
    (lambda ip: ip.is_reserved, "a reserved address"),
    (lambda ip: ip.is_private, "a private address"),
    (lambda ip: not ip.is_global, "not a globally routable address"),
)


class BlockedTarget(Exception):
    """A webhook URL that must not be called; the message says why, for the delivery log."""


@dataclass(frozen=True)
class ResolvedTarget:
    """A webhook URL that passed the policy.

    Attributes:
        url: The URL as configured.
        pinned_ip: The checked address to connect to, or ``None`` when the policy did not
            resolve the host (``block_private`` off) and the HTTP client resolves it itself.
    """

    url: str
    pinned_ip: str | None = None


async def resolve_target(url: str, *, block_private: bool) -> ResolvedTarget:
    """Check ``url`` against the policy and, when blocking private targets, pin its address.

    Raises:
        BlockedTarget: The URL is not http(s), has no host, or (with ``block_private``) one of
            its host's addresses is not globally routable.
        OSError: The host name could not be resolved (a network problem, worth retrying).
    """
    host, port = _host_and_port(url)
    if not block_private:
        return ResolvedTarget(url)
    addresses = await _resolve(host, port)
    for ip in addresses:
        reason = address_problem(ip)
        if reason is not None:
            raise BlockedTarget(_blocked_message(host, ip, reason))
    return ResolvedTarget(url, str(addresses[0]))


def address_problem(ip: IPAddress) -> str | None:
    """Why a webhook must not connect to ``ip`` (e.g. "a private address"), or ``None``.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by that
    address too, since the packets may end up there.
    """
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        reason = address_problem(embedded)
        if reason is not None:
            return reason
    for applies, reason in _REASONS:
        if applies(ip):
            return reason
    return None


def _host_and_port(url: str) -> tuple[str, int]:
    """The ASCII host (IDNA-encoded, IPv6 without brackets) and port ``url`` connects to."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BlockedTarget(f"invalid URL: {exc}") from exc
    if parsed.scheme not in _DEFAULT_PORTS:
        raise BlockedTarget(f"only http and https URLs are allowed, not {parsed.scheme!r}")
    if not parsed.raw_host:
        raise BlockedTarget("the URL has no host")
    return parsed.raw_host.decode("ascii"), parsed.port or _DEFAULT_PORTS[parsed.scheme]


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, with the running loop's resolver."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.ipv4_mapped or ip.sixtofour


def _blocked_message(host: str, ip: IPAddress, reason: str) -> str:
    """ "10.0.0.1 is a private address" or "db.internal resolves to 10.0.0.1, a private ..."."""
    if host == str(ip):
        return f"{ip} is {reason}"
    return f"{host} resolves to {ip}, {reason}"
