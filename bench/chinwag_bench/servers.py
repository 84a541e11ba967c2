"""What is measured: the servers (chinwag on each engine, the baseline apps) and their requests.

The baseline apps come from the perf-baseline study and accept exactly the credentials below, so
chinwag is configured with the same ones and every server gets byte-identical requests from the
same wrk script.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "perf-token"
WRK_AUTH = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
# The ids the baseline apps are asked for (they answer any); chinwag gets its seeded ids instead
FIXED = {"IS": "IS" + "0" * 32, "CH": "CH" + "0" * 32, "IM": "IM" + "0" * 32}

MSG = "/v1/Services/{IS}/Channels/{CH}/Messages"
# a 50-row page 90% deep into the deep channel, as a client following next_page_url reaches it
DEEP_PATH = "/v1/Services/{IS}/Channels/{DCH}/Messages?PageSize=50&Page=1800&PageToken=PT{DK}"
UVICORN_FLAGS = (
    *("--loop", "uvloop", "--http", "httptools"),
    *("--no-access-log", "--log-level", "warning"),
)

OPS = ("create", "fetch", "list")
ENGINES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Server:
    key: str
    kind: str  # "uvicorn" (a baseline app module) or "chinwag"
    module: str = ""
    env: tuple[tuple[str, str], ...] = ()
    sqlite: bool = False  # baseline app creates its own SQLite file (SQLITE_PATH)
    pg: bool = False  # baseline app needs an empty PostgreSQL database (PG_DSN)
    engine: str = ""  # the database this server measures ("" for none)
    #: a script of this package that replaces the ``chinwag`` command (with its arguments) or
    #: ``uvicorn`` (called with the module and the port): the bound's measuring devices
    script: str = ""

    @property
    def counts(self) -> bool:
        """A baseline app with a ``/_count`` endpoint (rows it committed)."""
        return self.sqlite or self.pg


@dataclass(frozen=True)
class Config:
    """One measured request shape on one server."""

    id: str
    server: str
    label: str
    method: str
    path: str  # format string over FIXED (baselines) or the seeded ids (chinwag)
    ops: tuple[str, ...]  # the operations of the table this measurement serves
    body: str | None = None
    status: int = 200
    extra: bool = False  # only with --extras
    deep: bool = False  # only with --deep > 1


SQLITE3_NORMAL = (("DB_KIND", "sqlite3"), ("SQLITE_SYNC", "NORMAL"))
SERVERS = {
    s.key: s
    for s in (
        Server("raw", "uvicorn", "raw_asgi"),
        Server(
            "starlette_asyncpg",
            "uvicorn",
            "starlette_db",
            (("DB_KIND", "asyncpg"),),
            pg=True,
            engine="postgresql",
        ),
        Server("starlette", "uvicorn", "starlette_app"),
        Server(
            "starlette_sqlite3",
            "uvicorn",
            "starlette_db",
            SQLITE3_NORMAL,
            sqlite=True,
            engine="sqlite",
        ),
        Server("chinwag", "chinwag", engine="sqlite"),
        Server("domain_only", "chinwag", engine="sqlite", script="domain_only.py"),
        Server("raw_on_chinwag", "uvicorn", "raw_asgi", script="bare_on_chinwag.py"),
        Server("chinwag_pg", "chinwag", engine="postgresql"),
        Server("chinwag_granian", "chinwag", engine="sqlite", script="on_granian.py"),
    )
}


def _create(cid: str, server: str, label: str, extra: bool = False) -> Config:
    return Config(cid, server, label, "POST", MSG, ("create",), "Body=hello", 201, extra)


# Listed in run order: each round runs them all, baselines next to the chinwag figure they anchor.
CONFIGS = (
    Config("raw.get", "raw", "bare GET (raw ASGI)", "GET", MSG + "/{IM}", ("fetch", "list")),
    Config("chinwag.fetch", "chinwag", "chinwag fetch message", "GET", MSG + "/{IM}", ("fetch",)),
    Config(
        "chinwag.list",
        "chinwag",
        "chinwag list, page of 50",
        "GET",
        MSG + "?PageSize=50",
        ("list",),
    ),
    Config(
        "chinwag.list_deep",
        "chinwag",
        "chinwag list, page of 50 at depth 90 % (PageToken)",
        "GET",
        DEEP_PATH,
        ("list",),
        deep=True,
    ),
    _create("raw.post", "raw", "bare POST (raw ASGI)"),
    _create("chinwag.create", "chinwag", "chinwag create message"),
    _create("asyncpg.create", "starlette_asyncpg", "minimal asyncpg handler create (hot channel)"),
    _create("chinwag_pg.create", "chinwag_pg", "chinwag PG create message"),
    Config(
        "chinwag_pg.fetch",
        "chinwag_pg",
        "chinwag PG fetch message",
        "GET",
        MSG + "/{IM}",
        ("fetch",),
        extra=True,
    ),
    Config(
        "chinwag_pg.list",
        "chinwag_pg",
        "chinwag PG list, page of 50",
        "GET",
        MSG + "?PageSize=50",
        ("list",),
        extra=True,
    ),
    Config(
        "starlette.get",
        "starlette",
        "bare Starlette GET",
        "GET",
        MSG + "/{IM}",
        ("fetch", "list"),
        extra=True,
    ),
    _create("starlette_sqlite3.create", "starlette_sqlite3", "Starlette + sqlite3 create", True),
)


def select(
    only: list[str],
    engines: tuple[str, ...],
    extras: bool,
    deep: int,
    profile: bool,
    uses: dict[str, set[str]],
) -> list[Config]:
    """The configurations a run measures, in run order.

    ``uses`` maps a baseline's config id to the chinwag config ids compared with it: a baseline
    runs only when one of those does (no bare GET in a PostgreSQL-create-only run).
    """
    candidates = []
    for c in CONFIGS:
        server = SERVERS[c.server]
        if server.engine and server.engine not in engines:
            continue
        if only and not set(c.ops) & set(only):
            continue
        if (c.extra and not extras) or (c.deep and deep <= 1):
            continue
        if profile and server.kind != "chinwag":
            continue
        candidates.append(c)
    ids = {c.id for c in candidates if SERVERS[c.server].kind == "chinwag"}
    return [c for c in candidates if c.id in ids or uses.get(c.id, set()) & ids]


def key(config_id: str, tree: str | None) -> str:
    """The name of a measurement series: a chinwag config of a named tree is ``id@tree``.

    Baselines are shared by all trees, so their series never carry a tree name.
    """
    chinwag = config_id.split(".", 1)[0] in ("chinwag", "chinwag_pg")
    return f"{config_id}@{tree}" if tree and chinwag else config_id
