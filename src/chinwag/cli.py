"""The ``chinwag`` command: ``serve``, ``db upgrade``, ``webhooks log``, ``routes``.

Every ``serve`` flag has a ``CHINWAG_*`` environment variable (see ``chinwag.config``); flags
win over the environment, which wins over a config file.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from typing import Any

from chinwag import __version__, logs
from chinwag.config import FIELDS, ConfigError, Settings, export_to_environment, load_settings
from chinwag.domain.models import Account
from chinwag.storage import migrate
from chinwag.storage.engine import UnsupportedDatabaseError, create_engine


def _add_setting_flags(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    for field in FIELDS:
        if field.name in names:
            flag = "--" + field.name.replace("_", "-")
            parser.add_argument(
                flag, dest=field.name, default=None, help=f"{field.help} [{field.env}]"
            )
    parser.add_argument("--config", help="TOML file of settings [CHINWAG_CONFIG]")


GRACEFUL_SHUTDOWN_SECONDS = 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chinwag", description=__doc__)
    parser.add_argument("--version", action="version", version=f"chinwag {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API server")
    _add_setting_flags(serve, [f.name for f in FIELDS])
    serve.add_argument(
        "--upgrade",
        action="store_true",
        help="apply pending schema migrations before serving (a new database is always set up)",
    )

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply pending migrations")
    _add_setting_flags(upgrade, ["database"])

    webhooks = sub.add_parser("webhooks", help="webhook deliveries")
    webhooks_sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    log = webhooks_sub.add_parser(
        "log", help="recent webhook deliveries, newest first: state, attempts, last error"
    )
    _add_setting_flags(log, ["database"])
    log.add_argument("--state", choices=("pending", "delivered", "failed"), help="only these")
    log.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    log.add_argument("--json", action="store_true", help="one JSON object per line, with params")

    sub.add_parser("routes", help="list every API route with its spec operation")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    cli = {f.name: getattr(args, f.name, None) for f in FIELDS}
    return load_settings(cli, config_file=args.config)


def _prepare_schema(settings: Settings, upgrade: bool) -> None:
    state = migrate.schema_state(settings.database)
    if state == "empty" or (state == "behind" and upgrade):
        migrate.upgrade(settings.database)
    elif state == "behind":
        raise ConfigError(
            "the database schema is behind this version of chinwag: run `chinwag db upgrade` "
            "(after a backup) or start with `chinwag serve --upgrade`"
        )
    elif state == "unknown":
        raise ConfigError("the database has tables chinwag does not know; refusing to use it")


def _announce_account(account: Account) -> None:
    print(
        "chinwag: generated the API account for this database (the token is shown only once):\n"
        f"  CHINWAG_ACCOUNT_SID={account.sid}\n"
        f"  CHINWAG_AUTH_TOKEN={account.auth_token}",
        flush=True,
    )


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from chinwag.app import create_app, freeze_startup_objects, resolve_account, with_account

    settings = _settings(args)
    create_engine(settings.database)  # reject unsupported URLs before touching anything
    _prepare_schema(settings, args.upgrade)
    logs.configure(settings)
    account, created = asyncio.run(resolve_account(settings))
    if created:
        _announce_account(account)
    settings = with_account(settings, account)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "lifespan": "on",
        "log_level": settings.log_level,
        "access_log": False,
        # SIGTERM: stop accepting, let in-flight requests finish for up to this long, then
        # run the lifespan shutdown (closing the database cleanly) and exit 0.
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        # client connections (Twilsock): refuse oversized messages in the WebSocket layer,
        # and drop peers that stop answering pings
        "ws_max_size": settings.gateway_max_frame_bytes,
        "ws_ping_interval": settings.gateway_ping_interval,
        "ws_ping_timeout": settings.gateway_ping_timeout,
    }
    if sys.platform != "win32":
        options.update(http="httptools", loop="uvloop")
    # uvicorn drains in-flight requests on SIGTERM, then re-raises the signal, which would end
    # the process "killed by SIGTERM". A graceful stop is a success: exit 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    if settings.workers > 1:
        export_to_environment(settings)
        uvicorn.run(
            "chinwag.app:create_app_from_environment",
            factory=True,
            workers=settings.workers,
            **options,
        )
    else:
        app = create_app(settings)
        freeze_startup_objects()
        uvicorn.run(app, **options)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    create_engine(settings.database)
    migrate.upgrade(settings.database)
    print(f"chinwag: schema at revision {migrate.current_revision(settings.database)}")
    return 0


def _webhooks_log(args: argparse.Namespace) -> int:
    from chinwag.webhooks import log

    settings = _settings(args)
    create_engine(settings.database)
    if migrate.schema_state(settings.database) != "current":
        raise ConfigError("the database schema is not current: run `chinwag db upgrade` first")
    deliveries = asyncio.run(log.recent_deliveries(settings.database, args.state, args.limit))
    for delivery in deliveries:
        print(log.as_json(delivery) if args.json else log.as_text(delivery))
    return 0


def _routes() -> int:
    from chinwag.http.routes import ROUTES

    for route in ROUTES:
        print(f"{route.method:<7}{route.path:<60}{route.operation_id}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "db":
            return _db_upgrade(args)
        if args.command == "webhooks":
            return _webhooks_log(args)
        return _routes()
    except (ConfigError, UnsupportedDatabaseError) as exc:
        print(f"chinwag: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
