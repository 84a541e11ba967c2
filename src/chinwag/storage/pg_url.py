"""A ``postgresql://`` URL as asyncpg takes it, for the server's pool and for migrations alike.

asyncpg reads libpq's TLS parameters (``sslmode``, ``sslrootcert``, ``sslcert``, ``sslkey``)
from the URL itself. SQLAlchemy's asyncpg dialect instead passes query parameters on as keyword
arguments asyncpg does not take, so ``?sslmode=require`` crashed start-up in the migration
step; migrations therefore connect through :func:`connect` too, and both paths read one URL the
same way. ``ssl=`` (SQLAlchemy's spelling) is accepted as another name for ``sslmode``; asyncpg
alone would have sent it to the server as a setting, which the server refuses.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_SSL_BOOLEANS = {"true": "require", "on": "require", "1": "require"} | {
    "false": "disable",
    "off": "disable",
    "0": "disable",
}


class DatabaseUrlError(ValueError):
    """The URL asks for something chinwag cannot do; the CLI prints it on one line."""


def dsn(url: str) -> str:
    """``url`` with ``ssl=`` spelled ``sslmode=`` and the mode checked (default ``prefer``)."""
    parts = urlsplit(url)
    params = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in ("ssl", "sslmode"):
            mode = value.lower()
            mode = _SSL_BOOLEANS.get(mode, mode) if name == "ssl" else mode
            if mode not in SSL_MODES:
                raise DatabaseUrlError(
                    f"{name}={value!r} in the database URL: use sslmode={'|'.join(SSL_MODES)}"
                )
            params.append(("sslmode", mode))
        else:
            params.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(params)))


async def connect(url: str) -> Any:
    """One asyncpg connection to ``url`` (for migrations; the server uses a pool)."""
    import asyncpg

    return await asyncpg.connect(dsn(url))


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
