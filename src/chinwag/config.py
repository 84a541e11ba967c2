"""Settings: frozen, built once, from defaults < config file < ``CHINWAG_*`` env < CLI flags.

This is the only module that reads ``os.environ``. Every setting is listed in :data:`FIELDS`
with its environment variable and help text; ``docs/configuration.md`` documents each one and a
test checks that nothing is left out.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from chinwag import sids

SqliteSynchronous = Literal["NORMAL", "FULL"]


class ConfigError(ValueError):
    """A setting has a value chinwag cannot use; the CLI prints it and exits non-zero."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    database: str = "sqlite:///chinwag.db"
    public_url: str | None = None
    account_sid: str | None = None
    auth_token: str | None = None
    api_key_sid: str | None = None
    api_key_secret: str | None = None
    sqlite_synchronous: SqliteSynchronous = "NORMAL"
    max_body_bytes: int = 1_048_576
    log_level: str = "info"
    workers: int = 1
    pool_size: int = 10
    log_format: str = "text"
    rate_limit_channel: int = 0
    rate_limit_service: int = 0
    webhook_timeout: float = 5.0
    webhook_retries: int = 8
    webhook_retry_base: float = 1.0
    webhook_log_retention: int = 7 * 24 * 3600
    webhook_rest_pre_events: bool = False
    webhook_block_private: bool = False
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_bytes: int = 16_384
    max_connections: int = 1000
    gateway_max_connections: int = 20_000
    gateway_max_connections_per_identity: int = 20
    gateway_max_frame_bytes: int = 1_048_576
    gateway_upstream_rate: int = 50
    gateway_upstream_concurrency: int = 16
    gateway_init_timeout: float = 10.0
    gateway_token_warning: float = 180.0
    gateway_key_check_interval: float = 5.0
    gateway_ping_interval: float = 20.0
    gateway_ping_timeout: float = 20.0
    gateway_write_timeout: float = 5.0
    gateway_max_buffered_bytes: int = 1_048_576
    gateway_max_pending: int = 1000
    gateway_max_pending_per_address: int = 50
    gateway_max_failed_inits: int = 3
    gateway_init_max_frame_bytes: int = 65_536
    gateway_compression: bool = False
    redis_url: str | None = None
    sync_poll_interval: float = 0.0
    admin_console: bool = True
    control_api: bool = False
    development: bool = False
    clock: str = "system"
    typing_throttle: int = 1
    reachability_heartbeat: float = 5.0
    media_max_bytes: int = 16 * 1024 * 1024
    media_quota_bytes: int = 256 * 1024 * 1024
    media_upload_rate: int = 30
    media_unsent_ttl: float = 3600.0
    push_enabled: bool = True
    push_fcm_url: str = "https://fcm.googleapis.com"
    push_apns_url: str | None = None
    push_ca_file: str | None = None


@dataclass(frozen=True)
class Field:
    name: str
    env: str
    help: str


FIELDS: tuple[Field, ...] = (
    Field("host", "CHINWAG_HOST", "Interface to listen on."),
    Field("port", "CHINWAG_PORT", "TCP port to listen on."),
    Field(
        "database",
        "CHINWAG_DATABASE",
        "Database URL: sqlite:///relative.db, sqlite:////absolute/path.db.",
    ),
    Field(
        "public_url",
        "CHINWAG_PUBLIC_URL",
        "Base URL used in url, links and meta URLs (default: from the request's Host and "
        "X-Forwarded-* headers).",
    ),
    Field(
        "account_sid",
        "CHINWAG_ACCOUNT_SID",
        "Account SID allowed to call the API (AC + 32 hex). Unset: generated on first start.",
    ),
    Field("auth_token", "CHINWAG_AUTH_TOKEN", "Auth token for the account."),
    Field(
        "api_key_sid",
        "CHINWAG_API_KEY_SID",
        "API key (SK + 32 hex) that serve makes exist for the account, to sign access tokens.",
    ),
    Field("api_key_secret", "CHINWAG_API_KEY_SECRET", "Secret of that API key."),
    Field(
        "sqlite_synchronous",
        "CHINWAG_SQLITE_SYNCHRONOUS",
        "NORMAL survives a process kill; FULL also survives power loss, at a write cost.",
    ),
    Field(
        "max_body_bytes",
        "CHINWAG_MAX_BODY_BYTES",
        "Largest request body accepted (413 above); the default fits the largest legal request.",
    ),
    Field("log_level", "CHINWAG_LOG_LEVEL", "debug, info, warning, error or critical."),
    Field("workers", "CHINWAG_WORKERS", "Server processes sharing the port."),
    Field("pool_size", "CHINWAG_POOL_SIZE", "PostgreSQL connections per process."),
    Field("log_format", "CHINWAG_LOG_FORMAT", "Access log lines as text or json."),
    Field(
        "rate_limit_channel",
        "CHINWAG_RATE_LIMIT_CHANNEL",
        "Mutations per second per channel (Twilio: 30); 0 turns the limit off.",
    ),
    Field(
        "rate_limit_service",
        "CHINWAG_RATE_LIMIT_SERVICE",
        "Channel/user/role mutations per second per service (Twilio: 30); 0 is off.",
    ),
    Field(
        "webhook_timeout",
        "CHINWAG_WEBHOOK_TIMEOUT",
        "Seconds a webhook endpoint has to answer (Twilio: 5).",
    ),
    Field(
        "webhook_retries",
        "CHINWAG_WEBHOOK_RETRIES",
        "Retries of a post-event after a connection error, timeout, 429 or 5xx.",
    ),
    Field(
        "webhook_retry_base",
        "CHINWAG_WEBHOOK_RETRY_BASE",
        "Seconds before the first retry; each next retry waits twice as long (at most 300).",
    ),
    Field(
        "webhook_log_retention",
        "CHINWAG_WEBHOOK_LOG_RETENTION",
        "Seconds finished webhook deliveries stay in the delivery log.",
    ),
    Field(
        "webhook_rest_pre_events",
        "CHINWAG_WEBHOOK_REST_PRE_EVENTS",
        "true: REST API mutations fire pre-event webhooks too (moderating back-ends).",
    ),
    Field(
        "webhook_block_private",
        "CHINWAG_WEBHOOK_BLOCK_PRIVATE",
        "true: never call webhook URLs that resolve to private or loopback addresses.",
    ),
    Field(
        "header_timeout",
        "CHINWAG_HEADER_TIMEOUT",
        "Seconds a new connection has to send its request line and headers (408 after).",
    ),
    Field(
        "body_timeout",
        "CHINWAG_BODY_TIMEOUT",
        "Seconds a request body may pause between two reads (408 after; nothing is stored).",
    ),
    Field(
        "max_header_bytes",
        "CHINWAG_MAX_HEADER_BYTES",
        "Largest request line plus headers accepted (431 above).",
    ),
    Field(
        "max_connections",
        "CHINWAG_MAX_CONNECTIONS",
        "Open connections per process; past it the one waiting longest on its client closes.",
    ),
    Field(
        "gateway_max_connections",
        "CHINWAG_GATEWAY_MAX_CONNECTIONS",
        "Client (Twilsock) connections one process holds; past it, init is answered 429.",
    ),
    Field(
        "gateway_max_connections_per_identity",
        "CHINWAG_GATEWAY_MAX_CONNECTIONS_PER_IDENTITY",
        "Client connections one identity of a service may hold per process (429 past it).",
    ),
    Field(
        "gateway_max_frame_bytes",
        "CHINWAG_GATEWAY_MAX_FRAME_BYTES",
        "Largest WebSocket message a client may send; a larger one closes the connection.",
    ),
    Field(
        "gateway_upstream_rate",
        "CHINWAG_GATEWAY_UPSTREAM_RATE",
        "Upstream requests per second per connection (bursts of as many); more get 429.",
    ),
    Field(
        "gateway_upstream_concurrency",
        "CHINWAG_GATEWAY_UPSTREAM_CONCURRENCY",
        "Upstream requests one connection may have in progress at once; more get 429.",
    ),
    Field(
        "gateway_init_timeout",
        "CHINWAG_GATEWAY_INIT_TIMEOUT",
        "Seconds a new connection has to complete init before it is closed.",
    ),
    Field(
        "gateway_token_warning",
        "CHINWAG_GATEWAY_TOKEN_WARNING",
        "Seconds before a client's token expires that it is told (tokenAboutToExpire).",
    ),
    Field(
        "gateway_key_check_interval",
        "CHINWAG_GATEWAY_KEY_CHECK_INTERVAL",
        "Seconds between checks that connected clients' API keys still exist.",
    ),
    Field(
        "gateway_ping_interval",
        "CHINWAG_GATEWAY_PING_INTERVAL",
        "Seconds between WebSocket pings to each client connection.",
    ),
    Field(
        "gateway_ping_timeout",
        "CHINWAG_GATEWAY_PING_TIMEOUT",
        "Seconds a client has to answer a ping before its connection is dropped.",
    ),
    Field(
        "gateway_write_timeout",
        "CHINWAG_GATEWAY_WRITE_TIMEOUT",
        "Seconds a write to a client connection may wait for the client to read; past it the "
        "connection is dropped, as is one that is closing and does not take its last frames.",
    ),
    Field(
        "gateway_max_buffered_bytes",
        "CHINWAG_GATEWAY_MAX_BUFFERED_BYTES",
        "Bytes waiting to be sent to one client connection; past it, close 308 (reconnect).",
    ),
    Field(
        "gateway_max_pending",
        "CHINWAG_GATEWAY_MAX_PENDING",
        "Client connections that have not completed init, per process; past it the oldest "
        "of them is closed.",
    ),
    Field(
        "gateway_max_pending_per_address",
        "CHINWAG_GATEWAY_MAX_PENDING_PER_ADDRESS",
        "Client connections one address may hold before init; past it the handshake gets 429.",
    ),
    Field(
        "gateway_max_failed_inits",
        "CHINWAG_GATEWAY_MAX_FAILED_INITS",
        "Refused inits one connection may send; the next refusal closes it (401).",
    ),
    Field(
        "gateway_init_max_frame_bytes",
        "CHINWAG_GATEWAY_INIT_MAX_FRAME_BYTES",
        "Largest WebSocket message before init completes (an init is a token and a few "
        "fields); a larger one closes the connection.",
    ),
    Field(
        "gateway_compression",
        "CHINWAG_GATEWAY_COMPRESSION",
        "true: accept permessage-deflate from clients that offer it (the SDK and browsers "
        "do); costs memory and CPU per connection (docs/performance.md).",
    ),
    Field(
        "redis_url",
        "CHINWAG_REDIS_URL",
        "Redis carrying Sync wake-ups and typing between server processes (redis://host:port/db).",
    ),
    Field(
        "sync_poll_interval",
        "CHINWAG_SYNC_POLL_INTERVAL",
        "Seconds between database reads of each subscribed Sync object without a wake-up; "
        "0: 1 s when several processes may write (workers > 1 or redis_url), else never.",
    ),
    Field(
        "admin_console",
        "CHINWAG_ADMIN_CONSOLE",
        "Serve the live admin console at /_chinwag/ui and its /_chinwag/ endpoints.",
    ),
    Field(
        "control_api",
        "CHINWAG_CONTROL_API",
        "true: serve /_chinwag/ (reset, snapshot, seed, clock) to the account's credentials "
        "(off by default: it can wipe the account).",
    ),
    Field(
        "development",
        "CHINWAG_DEVELOPMENT",
        "true: development mode, which turns the control API on. Never in production.",
    ),
    Field(
        "clock",
        "CHINWAG_CLOCK",
        "system, or controllable: starts as system time, then /_chinwag/clock sets or advances it.",
    ),
    Field(
        "typing_throttle",
        "CHINWAG_TYPING_THROTTLE",
        "Seconds during which a second typing call of one user in one channel is not fanned "
        "out (per process); 0: no throttle.",
    ),
    Field(
        "reachability_heartbeat",
        "CHINWAG_REACHABILITY_HEARTBEAT",
        "Seconds between a process's presence heartbeats; the users of a process that stops "
        "beating go offline within 4 times this.",
    ),
    Field(
        "media_max_bytes",
        "CHINWAG_MEDIA_MAX_BYTES",
        "Largest media upload in bytes (stored in the database; Twilio allowed 150 MB).",
    ),
    Field(
        "media_quota_bytes",
        "CHINWAG_MEDIA_QUOTA_BYTES",
        "Bytes of media one chat user may have stored, sent or not (413 past it).",
    ),
    Field(
        "media_upload_rate",
        "CHINWAG_MEDIA_UPLOAD_RATE",
        "Media uploads one chat user may make per minute (429 past it).",
    ),
    Field(
        "media_unsent_ttl",
        "CHINWAG_MEDIA_UNSENT_TTL",
        "Seconds an upload no message carries is kept; then it and its bytes are deleted.",
    ),
    Field(
        "push_enabled",
        "CHINWAG_PUSH_ENABLED",
        "Send push notifications to FCM and APNs; false: nothing is sent.",
    ),
    Field("push_fcm_url", "CHINWAG_PUSH_FCM_URL", "Base URL of FCM's HTTP v1 API."),
    Field(
        "push_apns_url",
        "CHINWAG_PUSH_APNS_URL",
        "Base URL of APNs for every credential (default: Apple's production or sandbox host, "
        "by the credential's Sandbox).",
    ),
    Field(
        "push_ca_file",
        "CHINWAG_PUSH_CA_FILE",
        "PEM file of extra CA certificates trusted for FCM's and APNs's TLS.",
    ),
)

CONFIG_FILE_ENV = "CHINWAG_CONFIG"
CLOCKS = ("system", "controllable")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def load_settings(
    cli: Mapping[str, Any] | None = None,
    *,
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build :class:`Settings`; later sources override earlier ones.

    ``cli`` holds only the flags the user actually gave (``None`` values are ignored), so a
    flag's absence never hides an environment variable.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or env.get(CONFIG_FILE_ENV)
    if path:
        values.update(_read_file(Path(path)))
    for field in FIELDS:
        if field.env in env and env[field.env] != "":
            values[field.name] = env[field.env]
    values.update({k: v for k, v in (cli or {}).items() if v is not None})
    return _coerce(values)


def export_to_environment(settings: Settings) -> None:
    """Write ``settings`` as ``CHINWAG_*`` variables, for worker processes to load them back.

    ``serve --workers N`` resolves flags, file and account once in the parent; the workers
    inherit the environment and call :func:`load_settings`.
    """
    for field in FIELDS:
        value = getattr(settings, field.name)
        if value is None:
            os.environ.pop(field.env, None)
        else:
            os.environ[field.env] = str(value)
    os.environ.pop(CONFIG_FILE_ENV, None)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    known = {f.name for f in FIELDS}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown settings in {path}: {', '.join(sorted(unknown))}")
    return dict(data)


def _coerce(values: dict[str, Any]) -> Settings:
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if types[name] == "bool":
            out[name] = _boolean(name, value)
        elif types[name] == "float":
            try:
                out[name] = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{name} must be a number, got {value!r}") from None
        elif types[name] == "int":
            try:
                out[name] = int(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{name} must be an integer, got {value!r}") from None
        else:
            out[name] = str(value)
    settings = Settings(**out)
    _validate(settings)
    return settings


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _validate(s: Settings) -> None:
    if s.sqlite_synchronous not in ("NORMAL", "FULL"):
        raise ConfigError("sqlite_synchronous must be NORMAL or FULL")
    if not 0 <= s.port <= 65535:
        raise ConfigError("port must be between 0 and 65535")
    if s.log_level not in LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {s.log_level!r}")
    if s.log_format not in ("text", "json"):
        raise ConfigError("log_format must be text or json")
    if s.rate_limit_channel < 0 or s.rate_limit_service < 0:
        raise ConfigError("rate limits must be 0 (off) or a positive number per second")
    if s.workers < 1 or s.pool_size < 1:
        raise ConfigError("workers and pool_size must be at least 1")
    if not 0 < s.webhook_timeout <= 60 or s.webhook_retry_base <= 0:
        raise ConfigError("webhook_timeout must be in (0, 60] and webhook_retry_base above 0")
    if s.webhook_retries < 0 or s.webhook_log_retention < 0:
        raise ConfigError("webhook_retries and webhook_log_retention cannot be negative")
    if s.max_body_bytes < 1024 or s.max_header_bytes < 1024:
        raise ConfigError("max_body_bytes and max_header_bytes must be at least 1024")
    if s.header_timeout <= 0 or s.body_timeout <= 0:
        raise ConfigError("header_timeout and body_timeout must be above 0")
    if s.clock not in CLOCKS:
        raise ConfigError(f"clock must be one of {', '.join(CLOCKS)}, got {s.clock!r}")
    if s.clock == "controllable" and s.workers > 1:
        raise ConfigError("a controllable clock needs workers = 1 (each process has its own)")
    if s.max_connections < 1:
        raise ConfigError("max_connections must be at least 1")
    if min(s.media_max_bytes, s.media_quota_bytes, s.media_upload_rate) < 1:
        raise ConfigError("media_max_bytes, media_quota_bytes and media_upload_rate must be >= 1")
    if s.media_unsent_ttl <= 0:
        raise ConfigError("media_unsent_ttl must be above 0 seconds")
    gateway_counts = (
        s.gateway_max_connections,
        s.gateway_max_connections_per_identity,
        s.gateway_max_pending,
        s.gateway_max_pending_per_address,
        s.gateway_max_failed_inits,
    )
    if min(gateway_counts) < 1:
        raise ConfigError("gateway connection limits must be at least 1")
    if s.gateway_max_buffered_bytes < 65_536:
        raise ConfigError("gateway_max_buffered_bytes must be at least 65536")
    if min(s.gateway_upstream_rate, s.gateway_upstream_concurrency) < 1:
        raise ConfigError("gateway_upstream_rate and gateway_upstream_concurrency must be >= 1")
    if s.gateway_max_frame_bytes < 4096:
        raise ConfigError("gateway_max_frame_bytes must be at least 4096")
    if s.gateway_init_max_frame_bytes < 20_480:
        raise ConfigError(
            "gateway_init_max_frame_bytes must be at least 20480 (an init carries a token of up "
            "to 16 KiB)"
        )
    gateway_seconds = (
        s.gateway_init_timeout,
        s.gateway_key_check_interval,
        s.gateway_ping_interval,
        s.gateway_ping_timeout,
        s.gateway_write_timeout,
    )
    if min(gateway_seconds) <= 0 or s.gateway_token_warning < 0:
        raise ConfigError("gateway timeouts and intervals must be above 0 seconds")
    if (s.account_sid is None) != (s.auth_token is None):
        raise ConfigError("set both account_sid and auth_token, or neither")
    if s.account_sid is not None and not sids.looks_like(sids.ACCOUNT, s.account_sid):
        raise ConfigError("account_sid must be AC followed by 32 hex digits")
    if (s.api_key_sid is None) != (s.api_key_secret is None):
        raise ConfigError("set both api_key_sid and api_key_secret, or neither")
    if s.api_key_sid is not None and not sids.looks_like(sids.API_KEY, s.api_key_sid):
        raise ConfigError("api_key_sid must be SK followed by 32 hex digits")
    if s.public_url is not None and not s.public_url.startswith(("http://", "https://")):
        raise ConfigError("public_url must start with http:// or https://")
    if s.redis_url is not None and not s.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("redis_url must start with redis://, rediss:// or unix://")
    if s.sync_poll_interval < 0:
        raise ConfigError("sync_poll_interval cannot be negative")
    if s.typing_throttle < 0:
        raise ConfigError("typing_throttle cannot be negative")
    if s.reachability_heartbeat <= 0:
        raise ConfigError("reachability_heartbeat must be above 0 seconds")
    for name in ("push_fcm_url", "push_apns_url"):
        url = getattr(s, name)
        if url is not None and not url.startswith("https://"):
            raise ConfigError(f"{name} must start with https://")
    if s.push_ca_file is not None and not Path(s.push_ca_file).is_file():
        raise ConfigError(f"push_ca_file {s.push_ca_file} is not a readable file")


def control_api_on(s: Settings) -> bool:
    """Whether ``/_chinwag/`` control routes are served: asked for, or development mode."""
    return s.control_api or s.development


def sync_poll_interval(s: Settings) -> float | None:
    """Seconds between unprompted reads of each Sync feed; None: only when woken.

    One process sees every commit it must announce; several (workers, or hosts sharing Redis)
    poll as well, so a lost or undeliverable hint only delays an event.
    """
    if s.sync_poll_interval > 0:
        return s.sync_poll_interval
    return 1.0 if s.workers > 1 or s.redis_url is not None else None
