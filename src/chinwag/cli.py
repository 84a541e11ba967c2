"""The ``chinwag`` command: ``serve``, ``db status`` and ``db upgrade`` (in ``cli_db``),
``account show``, ``webhooks log``, ``keys``, ``token``, ``seed``, ``push list``, ``push log``,
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
import json
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from chinwag import __version__, errors, logs
from chinwag.cli_db import add_db_commands, describe_database, opening, run_db
from chinwag.config import FIELDS, ConfigError, Settings, export_to_environment, load_settings
from chinwag.model.records import Account, ApiKey
from chinwag.storage import migrate
from chinwag.storage.engines import UnsupportedDatabaseError, create_engine, sqlite_path
from chinwag.storage.pg_url import DatabaseUrlError

DESCRIPTION = (
    "A self-hosted server for the Twilio Programmable Chat v1 API. Every serve setting is also a "
    "CHINWAG_* environment variable or a key in a TOML file (--config); a flag wins over the "
    "environment, which wins over the file."
)
T = TypeVar("T")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings)}

if TYPE_CHECKING:
    from chinwag.domain.deps import Deps


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
#: settings that choose the database and the account, for the commands working on them
ACCOUNT_SETTINGS = ("database", "account_sid", "auth_token")
TOKEN_KEY_NAME = "chinwag token"


class CommandError(Exception):
    """A command cannot do what it was asked (an unknown key or service); exit status 1."""


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

    db = sub.add_parser("db", help="database schema: status, upgrade")
    for command in add_db_commands(db):
        _add_setting_flags(command, ["database"])

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

    keys = sub.add_parser("keys", help="API keys: they sign access tokens and may call the API")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints its SID and secret, once")
    _add_setting_flags(create, ACCOUNT_SETTINGS)
    create.add_argument("--friendly-name", help="a name to recognise the key by")
    listing = keys_sub.add_parser("list", help="the account's keys: SID, date, name (no secrets)")
    _add_setting_flags(listing, ACCOUNT_SETTINGS)
    delete = keys_sub.add_parser("delete", help="delete a key: what it signed stops working")
    _add_setting_flags(delete, ACCOUNT_SETTINGS)
    delete.add_argument("sid", metavar="SK...")

    token = sub.add_parser("token", help="print an access token for a chat client (development)")
    _add_setting_flags(token, ACCOUNT_SETTINGS)
    token.add_argument("--identity", required=True, help="the chat user the token is for")
    token.add_argument("--service", required=True, metavar="IS...", help="the Chat Service")
    token.add_argument("--ttl", type=int, default=3600, help="seconds valid (3600, max 86400)")
    token.add_argument(
        "--key",
        metavar="SK...",
        help="sign with this key (default: CHINWAG_API_KEY_SID, else a key named "
        f'"{TOKEN_KEY_NAME}", created if missing)',
    )

    seed = sub.add_parser(
        "seed",
        help="load a seed file (or replace the account's state with a snapshot)",
        description="Create the Services, Users, Channels, Members and Messages a seed file "
        "describes, or, for a snapshot file (one with a version), replace the account's state "
        "with it. The format is in docs/testing.md.",
    )
    _add_setting_flags(seed, ACCOUNT_SETTINGS)
    seed.add_argument("file", type=Path, help="the JSON seed or snapshot file")
    push = sub.add_parser("push", help="push registrations chat clients made")
    push_sub = push.add_subparsers(dest="push_command", required=True)
    push_list = push_sub.add_parser(
        "list", help="registrations: SID, service, identity, channel type, token, endpoint"
    )
    _add_setting_flags(push_list, ACCOUNT_SETTINGS)
    push_list.add_argument("--service", metavar="IS...", help="only this Chat Service's")
    push_log = push_sub.add_parser(
        "log", help="recent pushes, newest first: state, attempts, to whom, why one failed"
    )
    _add_setting_flags(push_log, ["database"])
    push_log.add_argument(
        "--state", choices=("pending", "delivered", "failed", "pruned"), help="only these"
    )
    push_log.add_argument("--limit", type=int, default=50, help="at most this many (default: 50)")
    push_log.add_argument("--json", action="store_true", help="one JSON object per line")

    sub.add_parser("routes", help="list every route with its spec operation")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    cli = {f.name: getattr(args, f.name, None) for f in FIELDS}
    return load_settings(cli, config_file=args.config)


def _require_existing(settings: Settings) -> None:
    """Read-only commands never create a database (or its folder) by looking at it."""
    path = sqlite_path(settings.database)
    if path is not None and (path == ":memory:" or not Path(path).is_file()):
        raise ConfigError(f"no chinwag database at {describe_database(settings.database)}")
    with opening(settings.database):
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


def console_url(settings: Settings) -> str:
    """Where a browser finds the console: the public URL, else this host (a wildcard address
    is not one a browser can open: loopback stands in for it)."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/_chinwag/ui/"
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(settings.host, settings.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/_chinwag/ui/"


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
    from chinwag.http.connection import fit_open_file_limit, http_protocol
    from chinwag.realtime.twilsock.websocket import websocket_options

    settings = _settings(args)
    create_engine(settings.database)  # reject unsupported URLs before touching anything
    with opening(settings.database):
        created_database = _prepare_schema(settings, args.upgrade)
        account, created = asyncio.run(resolve_account(settings))
        hidden = asyncio.run(hidden_accounts(settings, account.sid))
    logs.configure(settings)
    new = "new database" if created_database else "database"
    _say(f"{new} {describe_database(settings.database)}")
    if created:
        _announce_account(account)
    _say(f"serving account {account.sid} on http://{settings.host}:{settings.port}")
    if settings.admin_console:
        _say(f"admin console: {console_url(settings)} (sign in with the account SID and token)")
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
        # httptools with chinwag's timeouts and limits, answering in Twilio's JSON
        "http": http_protocol(settings),
        # client connections (Twilsock): chinwag's WebSocket protocol, which refuses oversized
        # messages, drops peers that stop answering pings or reading, and never waits on a close
        **websocket_options(settings),
    }
    if sys.platform != "win32":
        from chinwag.http.accept import UVICORN_LOOP  # uvloop: not on Windows

        # uvloop, accepting every waiting connection in one turn (see chinwag.http.accept)
        options.update(loop=UVICORN_LOOP)
    gateway_connections = fit_open_file_limit(
        settings.max_connections,
        settings.gateway_max_connections,
        gateway_default=settings.gateway_max_connections == _DEFAULTS["gateway_max_connections"],
    )
    settings = dataclasses.replace(settings, gateway_max_connections=gateway_connections)
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


def _read_only(args: argparse.Namespace, read: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    """Run ``read`` against an existing chinwag database; nothing is created or changed."""
    settings = _settings(args)
    create_engine(settings.database)
    _require_existing(settings)
    with opening(settings.database):
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


async def _account(deps: Deps, settings: Settings, *, create: bool) -> Account | None:
    """The account the server uses; ``create`` generates (and announces) one if there is none."""
    from chinwag.app import configured_account
    from chinwag.domain.accounts import ensure_account, find_account

    if not create:
        return await find_account(deps, configured_account(settings))
    account, generated = await ensure_account(deps, configured_account(settings))
    if generated:
        _announce_account(account)
    return account


def _date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _keys_async(settings: Settings, args: argparse.Namespace) -> None:
    from chinwag.app import open_deps
    from chinwag.domain import api_keys

    async with open_deps(settings) as deps:
        account = await _account(deps, settings, create=args.keys_command == "create")
        if args.keys_command == "create":
            assert account is not None
            key = await api_keys.create_api_key(deps, account.sid, args.friendly_name)
            print(f"sid:    {key.sid}\nsecret: {key.secret}")
            print("chinwag: keep the secret now: it is shown only this once", file=sys.stderr)
        elif args.keys_command == "list":
            for key in await api_keys.list_api_keys(deps, account.sid) if account else []:
                print(f"{key.sid}  {_date(key.date_created)}  {key.friendly_name or ''}".rstrip())
        else:
            try:
                await api_keys.delete_api_key(deps, account.sid if account else "", args.sid)
            except errors.NotFoundError:
                raise CommandError(f"no API key {args.sid} in this database") from None
            print(f"chinwag: deleted API key {args.sid}")


def _keys(args: argparse.Namespace) -> int:
    settings = _settings(args)
    create_engine(settings.database)
    if args.keys_command != "create":
        _require_existing(settings)
    with opening(settings.database):
        if args.keys_command == "create":
            _prepare_schema(settings, upgrade=False)
        asyncio.run(_keys_async(settings, args))
    return 0


async def _token_key(deps: Deps, settings: Settings, account: Account, sid: str | None) -> ApiKey:
    """The key ``chinwag token`` signs with: the one asked for, the configured one, or its own."""
    from chinwag.domain import api_keys

    if settings.api_key_sid and settings.api_key_secret:
        await api_keys.ensure_api_key(
            deps, account.sid, settings.api_key_sid, settings.api_key_secret
        )
    wanted = sid or settings.api_key_sid
    if wanted is not None:
        key = await api_keys.find_api_key(deps, account.sid, wanted)
        if key is None:
            raise CommandError(f"no API key {wanted} in this database")
        return key
    key, created = await api_keys.named_api_key(deps, account.sid, TOKEN_KEY_NAME)
    if created:
        print(f'chinwag: created API key {key.sid} ("{TOKEN_KEY_NAME}")', file=sys.stderr)
    return key


async def _token_async(settings: Settings, args: argparse.Namespace) -> str:
    from chinwag.app import open_deps
    from chinwag.domain import services
    from chinwag.domain.access_tokens import mint_token
    from chinwag.domain.deps import Caller
    from chinwag.model.events import API_ACTOR

    async with open_deps(settings) as deps:
        account = await _account(deps, settings, create=True)
        assert account is not None
        try:
            await services.fetch_service(deps, Caller(account.sid, API_ACTOR), args.service)
        except errors.NotFoundError:
            raise CommandError(f"no Service {args.service} in this database") from None
        key = await _token_key(deps, settings, account, args.key)
        return mint_token(
            key_sid=key.sid,
            secret=key.secret,
            account_sid=account.sid,
            identity=args.identity,
            service_sid=args.service,
            now_s=deps.clock.now_ms() // 1000,
            ttl_s=args.ttl,
        )


def _token(args: argparse.Namespace) -> int:
    from chinwag.domain import validation
    from chinwag.domain.access_tokens import MAX_LIFETIME_S

    settings = _settings(args)
    if not 0 < args.ttl <= MAX_LIFETIME_S:
        raise ConfigError(f"--ttl must be between 1 and {MAX_LIFETIME_S} seconds")
    try:
        validation.check_identity(args.identity)
    except errors.ChinwagError as exc:
        raise ConfigError(f"--identity: {exc.message}") from None
    create_engine(settings.database)
    with opening(settings.database):
        _prepare_schema(settings, upgrade=False)
        token = asyncio.run(_token_async(settings, args))
    print(token)
    return 0


async def _seed_async(settings: Settings, data: Any) -> str:
    from chinwag.app import open_deps
    from chinwag.domain import control
    from chinwag.domain.deps import Caller
    from chinwag.model.events import API_ACTOR

    async with open_deps(settings) as deps:
        account = await _account(deps, settings, create=True)
        assert account is not None
        caller = Caller(account.sid, API_ACTOR)
        if isinstance(data, dict) and "version" in data:
            rows = await control.import_snapshot(deps, caller, data)
            return f"imported {rows} rows"
        created = await control.seed(deps, caller, data)
        return "\n".join(f"{s.sid} {s.friendly_name}" for s in created)


def _seed(args: argparse.Namespace) -> int:
    """``chinwag seed FILE``: straight into the database, no server needed."""
    settings = _settings(args)
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read {args.file}: {exc}") from None
    create_engine(settings.database)
    with opening(settings.database):
        _prepare_schema(settings, upgrade=False)
        try:
            print(asyncio.run(_seed_async(settings, data)))
        except errors.ChinwagError as exc:
            raise CommandError(f"{args.file}: {exc.message}") from None
    return 0


def _routes() -> int:
    from chinwag.http.control import CONTROL_ROUTES
    from chinwag.http.routes import V1, V2, V3

    routes = (*V1, *V2, *V3, *CONTROL_ROUTES)
    rows = [(route.method, route.path, route.name) for route in routes]
    rows += [("GET", path, "(no credentials)") for path in ("/", "/healthz", "/metrics")]
    method_width = max(len(method) for method, _, _ in rows) + 2
    path_width = max(len(path) for _, path, _ in rows) + 2
    for method, path, operation in rows:
        print(f"{method:<{method_width}}{path:<{path_width}}{operation}")
    return 0


async def _push_list_async(settings: Settings, service_sid: str | None) -> None:
    from chinwag.app import open_deps
    from chinwag.domain import push_registrations

    async with open_deps(settings) as deps:
        account = await _account(deps, settings, create=False)
        found = (
            await push_registrations.list_push_registrations(deps, account.sid, service_sid)
            if account
            else []
        )
        for r in found:
            print(
                f"{r.sid}  {r.service_sid}  {r.identity}  {r.channel_type}  {r.address}  "
                f"{r.endpoint}  {_date(r.date_created)}"
            )


def _push(args: argparse.Namespace) -> int:
    if args.push_command == "log":
        return _push_log(args)
    _read_only(args, lambda settings: _push_list_async(settings, args.service))
    return 0


def _push_log(args: argparse.Namespace) -> int:
    from chinwag.push import log

    pushes = _read_only(
        args, lambda settings: log.recent_pushes(settings.database, args.state, args.limit)
    )
    if args.json:
        for push in pushes:
            print(log.as_json(push))
    elif not pushes:
        print("no pushes" + (f" in state {args.state}" if args.state else ""))
    else:
        print(log.TEXT_HEADER)
        for push in pushes:
            print(log.as_text(push))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "db":
            return run_db(args, _settings(args))
        if args.command == "account":
            return _account_show(args)
        if args.command == "webhooks":
            return _webhooks_log(args)
        if args.command == "keys":
            return _keys(args)
        if args.command == "token":
            return _token(args)
        if args.command == "seed":
            return _seed(args)
        if args.command == "push":
            return _push(args)
        return _routes()
    except (ConfigError, UnsupportedDatabaseError, DatabaseUrlError) as exc:
        print(f"chinwag: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"chinwag: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
