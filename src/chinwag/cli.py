"""The ``chinwag`` command: ``serve``, ``db upgrade``, ``account show``, ``webhooks log``,
``routes``.

Every ``serve`` flag has a ``CHINWAG_*`` environment variable (see ``chinwag.config``); flags
win over the environment, which wins over a config file. Start-up failures the operator can fix
(a bad setting, a database that cannot be opened) are one ``chinwag: …`` line on stderr and
exit status 2, never a traceback. Only the access log (``--log-format json``) writes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from chinwag import __version__, logs
from chinwag.config import FIELDS, ConfigError, Settings, export_to_environment, load_settings
from chinwag.domain.models import Account
from chinwag.storage import migrate
from chinwag.storage.engines import UnsupportedDatabaseError, create_engine, sqlite_path
from chinwag.storage.open_errors import open_failure
from chinwag.storage.pg_url import DatabaseUrlError, redacted

DESCRIPTION = (
    "A self-hosted server for the Twilio Programmable Chat v1 API. Every serve setting is also a "
    "CHINWAG_* environment variable or a key in a TOML file (--config); a flag wins over the "
    "environment, which wins over the file."
)
T = TypeVar("T")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings)}


def _add_setting_flags(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    for field in FIELDS:
        if field.name in names:
            flag = "--" + field.name.replace("_", "-")
            default = _DEFAULTS[field.name]
            shown = "" if default is None else f" (default: {default})"
            parser.add_argument(
                flag,
                dest=field.name,
                default=None,
                help=f"{field.help}{shown} [{field.env}]".replace("%", "%%"),
            )
    parser.add_argument("--config", help="TOML file of settings [CHINWAG_CONFIG]")


GRACEFUL_SHUTDOWN_SECONDS = 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chinwag", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"chinwag {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API server", description="Run the API server.")
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

    account = sub.add_parser("account", help="the API account stored in the database")
    account_sub = account.add_subparsers(dest="account_command", required=True)
    show = account_sub.add_parser(
        "show", help="print the stored account SID and auth token (changes nothing)"
    )
    _add_setting_flags(show, ["database"])

    webhooks = sub.add_parser("webhooks", help="webhook deliveries")
    webhooks_sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    log = webhooks_sub.add_parser(
        "log", help="recent webhook deliveries, newest first: state, attempts, last error"
    )
    _add_setting_flags(log, ["database"])
    log.add_argument("--state", choices=("pending", "delivered", "failed"), help="only these")
    log.add_argument("--limit", type=int, default=50, help="at most this many (default: 50)")
    log.add_argument("--json", action="store_true", help="one JSON object per line, with params")

    sub.add_parser("routes", help="list every route with its spec operation")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    cli = {f.name: getattr(args, f.name, None) for f in FIELDS}
    return load_settings(cli, config_file=args.config)


def describe_database(url: str) -> str:
    """The database as an operator recognises it: an absolute path, or the URL sans password."""
    path = sqlite_path(url)
    if path is None:
        return redacted(url)
    return path if path == ":memory:" else str(Path(path).resolve())


@contextmanager
def _opening(url: str) -> Iterator[None]:
    """Turn a database that cannot be opened into one :class:`ConfigError` line."""
    try:
        yield
    except Exception as exc:
        reason = open_failure(exc)
        if reason is None:
            raise
        raise ConfigError(f"cannot open the database {describe_database(url)}: {reason}") from None


def _require_existing(settings: Settings) -> None:
    """Read-only commands never create a database (or its folder) by looking at it."""
    path = sqlite_path(settings.database)
    if path is not None and (path == ":memory:" or not Path(path).is_file()):
        raise ConfigError(f"no chinwag database at {describe_database(settings.database)}")
    with _opening(settings.database):
        state = migrate.schema_state(settings.database)
    if state == "empty":
        raise ConfigError(f"no chinwag database at {describe_database(settings.database)}")
    if state != "current":
        raise ConfigError("the database schema is not current: run `chinwag db upgrade` first")


def _prepare_schema(settings: Settings, upgrade: bool) -> bool:
    """Set up or check the schema; True if the database was new."""
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
    return state == "empty"


def _say(text: str) -> None:
    print(f"chinwag: {text}", file=sys.stderr, flush=True)


def _announce_account(account: Account) -> None:
    _say(
        "generated the API account for this database (the token is shown only once; "
        "`chinwag account show` prints it again):\n"
        f"  CHINWAG_ACCOUNT_SID={account.sid}\n"
        f"  CHINWAG_AUTH_TOKEN={account.auth_token}"
    )


def _warn_hidden(account: Account, hidden: list[str]) -> None:
    if hidden:
        _say(
            f"warning: the configured account {account.sid} (CHINWAG_ACCOUNT_SID) is not the "
            f"only one in this database: the API hides everything of {', '.join(hidden)}. "
            "Unset CHINWAG_ACCOUNT_SID/CHINWAG_AUTH_TOKEN to serve the stored account, or use "
            "another database."
        )


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from chinwag.app import (
        create_app,
        freeze_startup_objects,
        hidden_accounts,
        resolve_account,
        with_account,
    )

    settings = _settings(args)
    create_engine(settings.database)  # reject unsupported URLs before touching anything
    with _opening(settings.database):
        created_database = _prepare_schema(settings, args.upgrade)
        account, created = asyncio.run(resolve_account(settings))
        hidden = asyncio.run(hidden_accounts(settings, account.sid))
    logs.configure(settings)
    new = "new database" if created_database else "database"
    _say(f"{new} {describe_database(settings.database)}")
    if created:
        _announce_account(account)
    _say(f"serving account {account.sid} on http://{settings.host}:{settings.port}")
    _warn_hidden(account, hidden)
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
    with _opening(settings.database):
        migrate.upgrade(settings.database)
        revision = migrate.current_revision(settings.database)
    print(f"chinwag: schema at revision {revision}")
    return 0


def _read_only(args: argparse.Namespace, read: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    """Run ``read`` against an existing chinwag database; nothing is created or changed."""
    settings = _settings(args)
    create_engine(settings.database)
    _require_existing(settings)
    with _opening(settings.database):
        return asyncio.run(read(settings))


def _account_show(args: argparse.Namespace) -> int:
    from chinwag.app import stored_account

    account = _read_only(args, stored_account)
    if account is None:
        settings = _settings(args)
        raise ConfigError(
            f"no account is stored in {describe_database(settings.database)}: it was only ever "
            "served with CHINWAG_ACCOUNT_SID/CHINWAG_AUTH_TOKEN set"
        )
    print(f"CHINWAG_ACCOUNT_SID={account.sid}\nCHINWAG_AUTH_TOKEN={account.auth_token}")
    return 0


def _webhooks_log(args: argparse.Namespace) -> int:
    from chinwag.webhooks import log

    deliveries = _read_only(
        args, lambda settings: log.recent_deliveries(settings.database, args.state, args.limit)
    )
    if args.json:
        for delivery in deliveries:
            print(log.as_json(delivery))
    elif not deliveries:
        print("no webhook deliveries" + (f" in state {args.state}" if args.state else ""))
    else:
        print(log.TEXT_HEADER)
        for delivery in deliveries:
            print(log.as_text(delivery))
    return 0


def _routes() -> int:
    from chinwag.http.auth import OPEN_PATHS
    from chinwag.http.routes import ROUTES

    rows = [(route.method, route.path, route.operation_id) for route in ROUTES]
    rows += [("GET", path, "(no credentials)") for path in sorted(OPEN_PATHS)]
    method_width = max(len(method) for method, _, _ in rows) + 2
    path_width = max(len(path) for _, path, _ in rows) + 2
    for method, path, operation in rows:
        print(f"{method:<{method_width}}{path:<{path_width}}{operation}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "db":
            return _db_upgrade(args)
        if args.command == "account":
            return _account_show(args)
        if args.command == "webhooks":
            return _webhooks_log(args)
        return _routes()
    except (ConfigError, UnsupportedDatabaseError, DatabaseUrlError) as exc:
        print(f"chinwag: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
