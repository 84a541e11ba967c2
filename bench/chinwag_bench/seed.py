"""Template databases: one seeded chinwag database per engine and tree, copied for every start.

Seeding over HTTP through chinwag itself gives rows exactly as chinwag writes them; copying a
template per measurement means every run starts from the same state, however many rows the run
before it created. The deep channel's rows are inserted directly (100k HTTP creates would take
minutes), copied from a row chinwag wrote, with the channel's counters updated to match; a
restarted server then checks them.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from .pg import Postgres, Scratch
from .procs import Client, Launch, serving
from .servers import MSG, SERVERS
from .trees import Tree


def _server(engine: str) -> str:
    return "chinwag" if engine == "sqlite" else "chinwag_pg"


def seed_over_http(port: int, seed: int) -> dict[str, Any]:
    """A service, a hot channel of ``seed`` messages and a deep channel of one."""
    c = Client(port)
    svc = c.call("POST", "/v1/Services", {"FriendlyName": "bench"})["sid"]
    ch = c.call("POST", f"/v1/Services/{svc}/Channels", {"FriendlyName": "hot"})["sid"]
    dch = c.call("POST", f"/v1/Services/{svc}/Channels", {"FriendlyName": "deep"})["sid"]
    path = MSG.format(IS=svc, CH=ch)
    sids = [c.call("POST", path, {"Body": "hello"})["sid"] for _ in range(seed)]
    c.call("POST", MSG.format(IS=svc, CH=dch), {"Body": "hello"})  # a real row to copy
    c.close()
    return {"svc": svc, "ch": ch, "dch": dch, "sids": sids}


def build_template(
    engine: str, tree: Tree, launch: Launch, pg: Postgres | None, seed: int, deep: int
) -> dict[str, Any]:
    """Seed a template database for ``engine`` with ``tree``'s chinwag; its description."""
    t0 = time.monotonic()
    if engine == "sqlite":
        path = launch.work / f"template-{tree.name}.db"
        tpl = Scratch(url=f"sqlite:///{path}", path=path)
    else:
        assert pg is not None
        name = pg.create(f"template_{tree.name}")
        tpl = Scratch(url=pg.url(name), pg_db=name)
    with serving(SERVERS[_server(engine)], tree, tpl, launch) as run:
        seeded = seed_over_http(run.port, seed)
    seed_s = time.monotonic() - t0
    if tpl.path is not None:
        if deep > 1:
            insert_deep_sqlite(tpl.path, seeded["dch"], deep)
        template_rows = count_rows(tpl.path)
    else:
        assert pg is not None and tpl.pg_db is not None
        if deep > 1:
            pg.sql(tpl.pg_db, deep_sql_pg(pg, tpl.pg_db, seeded["dch"], deep))
        pg.sql(tpl.pg_db, "VACUUM ANALYZE")  # a copy starts with statistics, like a live db
        template_rows = pg.count(tpl.pg_db)
    ids = {
        "IS": seeded["svc"],
        "CH": seeded["ch"],
        "IM": seeded["sids"][len(seeded["sids"]) // 2],
        "DCH": seeded["dch"],
        "DK": deep * 9 // 10 - 1 if deep > 1 else 0,
    }
    info: dict[str, Any] = {
        "engine": engine,
        "tree": tree.name,
        "ids": ids,
        "seed_messages": seed,
        "deep_messages": max(deep, 1),
        "template_rows": template_rows,
        "seed_http_s": round(seed_s, 2),
        "template": str(tpl.path) if tpl.path else tpl.pg_db,
    }
    check_template(info, tree, launch, pg)
    info["template_s"] = round(time.monotonic() - t0, 2)
    return info


def check_template(info: dict[str, Any], tree: Tree, launch: Launch, pg: Postgres | None) -> None:
    """A restarted server must see the direct inserts: the deep count and a deep page."""
    ids = info["ids"]
    copy = fresh_copy(info, launch.work, pg, f"check_{tree.name}")
    try:
        with serving(SERVERS[_server(info["engine"])], tree, copy, launch) as r:
            c = Client(r.port)
            got = c.call("GET", "/v1/Services/{IS}/Channels/{DCH}".format(**ids))
            page = c.call(
                "GET", "/v1/Services/{IS}/Channels/{DCH}/Messages?PageToken=PT{DK}".format(**ids)
            )
            c.close()
    finally:
        drop_copy(copy, pg)
    deep = info["deep_messages"]
    if got["messages_count"] != deep or (
        deep > 1 and page["messages"][0]["index"] != ids["DK"] + 1
    ):
        raise RuntimeError(f"deep channel check failed: {got['messages_count']}, {page['meta']}")


def insert_deep_sqlite(db: Path, dch: str, deep: int) -> None:
    con = sqlite3.connect(db, isolation_level=None)
    con.row_factory = sqlite3.Row
    proto = con.execute("SELECT * FROM messages WHERE channel_sid = ?", (dch,)).fetchone()
    cols = [k for k in proto.keys() if k != "id"]  # noqa: SIM118 (sqlite3.Row)
    base = dict(proto)
    rows = [
        tuple((base | {"sid": "IM" + uuid.uuid4().hex, "idx": i})[k] for k in cols)
        for i in range(1, deep)
    ]
    con.execute("BEGIN")
    con.executemany(
        f"INSERT INTO messages ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows
    )
    con.execute(
        "UPDATE channels SET messages_count = ?, next_message_index = ?, "
        "last_message_sid = ? WHERE sid = ?",
        (deep, deep, rows[-1][cols.index("sid")], dch),
    )
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def deep_sql_pg(pg: Postgres, db: str, dch: str, deep: int) -> str:
    """SQL copying the deep channel's one real row ``deep - 1`` times (new sid and index)."""
    cols = pg.sql(
        db,
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
        "information_schema.columns WHERE table_schema = current_schema() AND "
        "table_name = 'messages' AND column_name NOT IN ('id', 'sid', 'idx')",
    ).split(",")
    return (
        f"INSERT INTO messages (sid, idx, {', '.join(cols)}) "
        f"SELECT 'IM' || md5(p.sid || ':' || i), i, {', '.join('p.' + c for c in cols)} "
        f"FROM messages p, generate_series(1, {deep - 1}) AS i WHERE p.channel_sid = '{dch}';\n"
        f"UPDATE channels SET messages_count = {deep}, next_message_index = {deep}, "
        f"last_message_sid = (SELECT sid FROM messages WHERE channel_sid = '{dch}' "
        f"ORDER BY idx DESC LIMIT 1) WHERE sid = '{dch}';"
    )


def fresh_copy(info: dict[str, Any], work: Path, pg: Postgres | None, name: str) -> Scratch:
    """A fresh copy of a template database for one server start."""
    if info["engine"] == "sqlite":
        dest = work / f"{name}.db"
        drop_copy(Scratch(path=dest), None)
        shutil.copyfile(info["template"], dest)
        return Scratch(url=f"sqlite:///{dest}", path=dest)
    assert pg is not None
    db = pg.create(name, template=info["template"])
    return Scratch(url=pg.url(db), pg_db=db)


def drop_copy(db: Scratch, pg: Postgres | None) -> None:
    if db.path is not None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{db.path}{suffix}").unlink()
    if db.pg_db is not None and pg is not None:
        pg.drop(db.pg_db)


def count_rows(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        con.close()
