"""The tables, declared once for both engines.

SQLAlchemy Core is used *only* to declare the schema: Alembic migrations are checked against
this metadata (a test asserts that upgrading an empty database yields exactly these tables).
Runtime queries are hand-written SQL in ``stores/`` — no ORM on the hot path.

Conventions:
- ``id`` is an integer surrogate key (SQLite's rowid) giving every list its creation order,
  which keyset pagination walks; ``sid`` is the public identifier, unique.
- Dates are integer milliseconds (``BigInteger``).
- Nested settings (``webhooks``, ``notifications``, ``webhook_filters``, ``permissions``) are
  JSON text: always read and written whole, never queried into.
- Counters (``members_count``, ``messages_count``, ``joined_channels_count``) and
  ``next_message_index`` are kept in the parent row and changed in the same transaction as the
  child rows, so they are exact; the parent-row update is also what serialises racing writers.
- ``message_tombstones`` remembers the index of every deleted message. Indexes are never reused,
  so a member's unread count is ``next_message_index - 1 - horizon`` minus the tombstones above
  the horizon: an O(1) lookup plus a count over (rare) deletions, instead of counting every
  unread message.
- Sync (docs/realtime.md): ``sync_event_id`` numbers the Sync events of a channel's or a
  user's objects, ``document_event_id`` is the last event of a channel's document, and
  ``messages.added_event_id`` the event that added a message (claimed by the UPDATE that claims
  its index). ``sync_changes`` holds, per Sync object and item, the last event that touched it,
  and stays as a tombstone once the item is removed, so a replay from any event id is complete.
- No foreign keys: every cascade is an explicit statement in a store, so each one is visible
  and its counter adjustments sit beside it.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# An integer primary key that is SQLite's rowid alias, and a 64-bit identity elsewhere.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _counter(name: str) -> sa.Column[int]:
    """A Sync event counter (``realtime/sync``): 0 until the row's first event."""
    return sa.Column(name, sa.BigInteger, nullable=False, server_default="0")


def _dates() -> tuple[sa.Column[int], sa.Column[int]]:
    return (
        sa.Column("date_created", sa.BigInteger, nullable=False),
        sa.Column("date_updated", sa.BigInteger, nullable=False),
    )


accounts = sa.Table(
    "accounts",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("auth_token", sa.Text, nullable=False),
    sa.Column("date_created", sa.BigInteger, nullable=False),
)

credentials = sa.Table(
    "credentials",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("friendly_name", sa.Text),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("sandbox", sa.Boolean),
    sa.Column("certificate", sa.Text),
    sa.Column("private_key", sa.Text),
    sa.Column("api_key", sa.Text),
    sa.Column("secret", sa.Text),
    *_dates(),
    sa.Index("ix_credentials_account", "account_sid", "id"),
)

# API keys sign client access tokens (HS256 needs the secret itself, so it is stored as the
# account's auth token is) and may stand in for the account's credentials on REST calls.
api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("friendly_name", sa.Text),
    sa.Column("secret", sa.Text, nullable=False),
    *_dates(),
    sa.Index("ix_api_keys_account", "account_sid", "id"),
)

# Mutation ids of chat commands (``X-Twilio-Mutation-Id``) already applied, per account, service
# and identity, each with its reply: both are written in the transaction of the change.
chat_mutations = sa.Table(
    "chat_mutations",
    metadata,
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("identity", sa.Text, nullable=False),
    sa.Column("mutation_id", sa.Text, nullable=False),
    sa.Column("date_created", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("account_sid", "service_sid", "identity", "mutation_id"),
    sa.Index("ix_chat_mutations_created", "date_created"),
)

services = sa.Table(
    "services",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("friendly_name", sa.Text, nullable=False),
    sa.Column("default_service_role_sid", sa.Text),
    sa.Column("default_channel_role_sid", sa.Text),
    sa.Column("default_channel_creator_role_sid", sa.Text),
    sa.Column("read_status_enabled", sa.Boolean, nullable=False),
    sa.Column("reachability_enabled", sa.Boolean, nullable=False),
    sa.Column("typing_indicator_timeout", sa.Integer, nullable=False),
    sa.Column("consumption_report_interval", sa.Integer, nullable=False),
    sa.Column("limit_channel_members", sa.Integer, nullable=False),
    sa.Column("limit_user_channels", sa.Integer, nullable=False),
    sa.Column("pre_webhook_url", sa.Text),
    sa.Column("post_webhook_url", sa.Text),
    sa.Column("webhook_method", sa.Text),
    sa.Column("webhook_filters", sa.Text),
    sa.Column("webhooks", sa.Text, nullable=False),
    sa.Column("notifications", sa.Text, nullable=False),
    *_dates(),
    # Chat v2's settings (0013); the sounds and badge switch are in ``notifications``
    sa.Column("notifications_log_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("media_compatibility_message", sa.Text),
    sa.Column("pre_webhook_retry_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("post_webhook_retry_count", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_services_account", "account_sid", "id"),
)

roles = sa.Table(
    "roles",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("friendly_name", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("permissions", sa.Text, nullable=False),
    *_dates(),
    sa.Index("ix_roles_service", "service_sid", "id"),
)

users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("identity", sa.Text, nullable=False),
    sa.Column("friendly_name", sa.Text),
    sa.Column("role_sid", sa.Text),
    sa.Column("attributes", sa.Text),
    sa.Column("joined_channels_count", sa.Integer, nullable=False),
    *_dates(),
    _counter("sync_event_id"),
    sa.UniqueConstraint("service_sid", "identity", name="uq_users_identity"),
    sa.Index("ix_users_service", "service_sid", "id"),
)

# Push registrations a chat client made through ERS (docs/clients.md): one per user, push
# channel and device token, so registering again replaces. ``message_types`` is JSON text.
push_registrations = sa.Table(
    "push_registrations",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("identity", sa.Text, nullable=False),
    sa.Column("channel_type", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("endpoint", sa.Text, nullable=False),
    sa.Column("message_types", sa.Text, nullable=False),
    *_dates(),
    # the credential the registering client's access token named (0010): pushes use it
    sa.Column("credential_sid", sa.Text),
    sa.UniqueConstraint(
        "service_sid", "identity", "channel_type", "address", name="uq_push_registrations"
    ),
    sa.Index("ix_push_registrations_service", "service_sid", "id"),
)

channels = sa.Table(
    "channels",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("friendly_name", sa.Text),
    sa.Column("unique_name", sa.Text),
    sa.Column("attributes", sa.Text),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("members_count", sa.Integer, nullable=False),
    sa.Column("messages_count", sa.Integer, nullable=False),
    sa.Column("next_message_index", sa.BigInteger, nullable=False),
    sa.Column("last_message_sid", sa.Text),
    *_dates(),
    _counter("sync_event_id"),
    _counter("document_event_id"),
    sa.UniqueConstraint("service_sid", "unique_name", name="uq_channels_unique_name"),
    sa.Index("ix_channels_service", "service_sid", "id"),
    sa.Index("ix_channels_service_type", "service_sid", "type", "id"),
)

members = sa.Table(
    "members",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("channel_sid", sa.Text, nullable=False),
    sa.Column("identity", sa.Text, nullable=False),
    sa.Column("role_sid", sa.Text),
    sa.Column("last_consumed_message_index", sa.BigInteger),
    sa.Column("last_consumption_timestamp", sa.BigInteger),
    *_dates(),
    # 0009: set by clients and by Chat v2 (v1's Member shows neither); NULL level is "default"
    sa.Column("notification_level", sa.Text),
    sa.Column("attributes", sa.Text),
    sa.UniqueConstraint("channel_sid", "identity", name="uq_members_identity"),
    sa.Index("ix_members_channel", "channel_sid", "id"),
    sa.Index("ix_members_user", "service_sid", "identity"),
)

invites = sa.Table(
    "invites",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("channel_sid", sa.Text, nullable=False),
    sa.Column("identity", sa.Text, nullable=False),
    sa.Column("role_sid", sa.Text),
    sa.Column("created_by", sa.Text, nullable=False),
    *_dates(),
    sa.UniqueConstraint("channel_sid", "identity", name="uq_invites_identity"),
    sa.Index("ix_invites_channel", "channel_sid", "id"),
    sa.Index("ix_invites_user", "service_sid", "identity"),
)

# Channel webhooks (``domain/channel_webhooks.py``, v2 only): at most five per channel.
# ``filters`` and ``triggers`` are JSON lists; ``url``/``method`` are NULL for ``studio``.
channel_webhooks = sa.Table(
    "channel_webhooks",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("channel_sid", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("method", sa.Text),
    sa.Column("filters", sa.Text, nullable=False),
    sa.Column("triggers", sa.Text, nullable=False),
    sa.Column("flow_sid", sa.Text),
    sa.Column("retry_count", sa.Integer, nullable=False),
    *_dates(),
    sa.Index("ix_channel_webhooks_channel", "channel_sid", "id"),
)

messages = sa.Table(
    "messages",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("channel_sid", sa.Text, nullable=False),
    sa.Column("idx", sa.BigInteger, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("attributes", sa.Text),
    sa.Column("was_edited", sa.Boolean, nullable=False),
    *_dates(),
    _counter("added_event_id"),
    sa.Column("media", sa.Text),
    # who last updated the message (Chat v2, 0013)
    sa.Column("last_updated_by", sa.Text),
    sa.UniqueConstraint("channel_sid", "idx", name="uq_messages_index"),
)

# Media uploaded by chat clients (docs/clients.md), bytes included: in the database, so every
# process of a PostgreSQL deployment serves every upload. ``channel_sid``/``message_sid`` are
# set once a message carries it; the message keeps a copy of the metadata in ``messages.media``
# (it never changes), so reading messages needs no join. ``ix_media_author`` serves the per-user
# quota and upload rate, ``ix_media_unsent`` the expiry of uploads no message carries (0010).
media = sa.Table(
    "media",
    metadata,
    _id(),
    sa.Column("sid", sa.Text, nullable=False, unique=True),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("filename", sa.Text),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("channel_sid", sa.Text),
    sa.Column("message_sid", sa.Text),
    *_dates(),
    sa.Index("ix_media_service", "service_sid", "id"),
    sa.Index("ix_media_author", "service_sid", "author"),
    sa.Index("ix_media_unsent", "message_sid", "date_created"),
)

# An upload's bytes, in chunks of at most 256 KiB in order (0010): stored and served a chunk at
# a time, so no statement or buffer holds an upload whole.
media_chunks = sa.Table(
    "media_chunks",
    metadata,
    sa.Column("media_sid", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

message_tombstones = sa.Table(
    "message_tombstones",
    metadata,
    sa.Column("channel_sid", sa.Text, primary_key=True),
    sa.Column("idx", sa.BigInteger, primary_key=True),
)

# The webhook outbox and delivery log in one table (see ``stores/webhooks.py``). A row is
# written in the same transaction as the change it reports, so an acknowledged change never
# loses its post-event; the dispatcher delivers pending rows and keeps finished ones for
# ``webhook_log_retention`` seconds so an operator can see why a delivery failed.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    _id(),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    # deliveries with the same key go out one at a time, in id (= commit) order
    sa.Column("ordering_key", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
    sa.Column("locked_until", sa.BigInteger),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    *_dates(),
    # a channel webhook's delivery: its own retry limit (NULL: the server's --webhook-retries)
    # and the webhook it was made for, which the delivery log names
    sa.Column("retries", sa.Integer),
    sa.Column("webhook_sid", sa.Text),
    sa.Index(
        "ix_webhook_deliveries_pending",
        "ordering_key",
        "id",
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    ),
    sa.Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    ),
    sa.Index("ix_webhook_deliveries_updated", "date_updated"),
)

# The push outbox (``storage/stores/push_outbox.py``, docs/push.md). ``push_events``: one row
# per change that may notify, written in the change's transaction and deleted when the
# dispatcher has turned it into ``push_deliveries``: one row per device, sent with retries and
# kept for the push log. ``body`` is the new message's text, ``actor`` who caused the push,
# ``recipient`` the one user notified (NULL: the channel's members).
push_events = sa.Table(
    "push_events",
    metadata,
    _id(),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("channel_sid", sa.Text, nullable=False),
    sa.Column("message_sid", sa.Text),
    sa.Column("message_index", sa.BigInteger),
    sa.Column("body", sa.Text),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text),
    sa.Column("locked_until", sa.BigInteger),
    sa.Column("date_created", sa.BigInteger, nullable=False),
)

push_deliveries = sa.Table(
    "push_deliveries",
    metadata,
    _id(),
    sa.Column("account_sid", sa.Text, nullable=False),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("identity", sa.Text, nullable=False),
    sa.Column("registration_sid", sa.Text, nullable=False),
    sa.Column("channel_type", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("credential_sid", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("channel_sid", sa.Text, nullable=False),
    sa.Column("message_sid", sa.Text),
    # the push's text and keys, rendered once for every device of the event (JSON)
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
    sa.Column("locked_until", sa.BigInteger),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    *_dates(),
    sa.Index(
        "ix_push_deliveries_due",
        "next_attempt_at",
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    ),
    sa.Index("ix_push_deliveries_updated", "date_updated"),
)

# Per Sync object and item: the last event that touched it (``realtime/sync/projection.py``).
# Items of the messages list appear only once edited or removed: additions are found through
# ``messages.added_event_id``. ``ref`` is the member SID of a joined user-channels-map item.
sync_changes = sa.Table(
    "sync_changes",
    metadata,
    sa.Column("object_sid", sa.Text, primary_key=True),
    sa.Column("item_key", sa.Text, primary_key=True),
    sa.Column("service_sid", sa.Text, nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("added_event_id", sa.BigInteger, nullable=False),
    sa.Column("removed", sa.Boolean, nullable=False),
    sa.Column("ref", sa.Text),
    sa.Index("ix_sync_changes_events", "object_sid", "event_id"),
    sa.Index("ix_sync_changes_key", "item_key"),
    sa.Index("ix_sync_changes_service", "service_sid"),
)

# Reachability (docs/clients.md): each server process keeps a heartbeat row whose
# ``expires_at`` it pushes forward; ``presence_connections`` has one row per (process, user)
# with at least one open client connection there. A user is online while a row of theirs
# exists; rows of a process whose heartbeat expired are swept by the surviving processes.
# ``presence_seen`` remembers who was ever online (REST shows ``null`` for the others).
presence_processes = sa.Table(
    "presence_processes",
    metadata,
    sa.Column("process_id", sa.Text, primary_key=True),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)

presence_connections = sa.Table(
    "presence_connections",
    metadata,
    sa.Column("process_id", sa.Text, primary_key=True),
    sa.Column("service_sid", sa.Text, primary_key=True),
    sa.Column("identity", sa.Text, primary_key=True),
    sa.Index("ix_presence_connections_user", "service_sid", "identity"),
)

presence_seen = sa.Table(
    "presence_seen",
    metadata,
    sa.Column("service_sid", sa.Text, primary_key=True),
    sa.Column("identity", sa.Text, primary_key=True),
)
