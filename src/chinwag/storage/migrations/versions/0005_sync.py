"""sync: per-object event ids and the change index that makes Sync replay complete

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Counters in the owner rows (``channels.sync_event_id``, ``channels.document_event_id``,
``users.sync_event_id``) number the Sync events of a channel's and a user's objects;
``messages.added_event_id`` is the event that added each message, claimed by the same UPDATE
that claims its index. ``sync_changes`` holds, per Sync object and item, the last event that
touched it (a tombstone once removed). Existing memberships and invites are indexed with event
id 0: clients see them as history, and a later channel delete can find them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _counter(table: str, column: str) -> None:
    op.add_column(table, sa.Column(column, sa.BigInteger(), nullable=False, server_default="0"))


def upgrade() -> None:
    _counter("channels", "sync_event_id")
    _counter("channels", "document_event_id")
    _counter("users", "sync_event_id")
    _counter("messages", "added_event_id")
    op.create_table(
        "sync_changes",
        sa.Column("object_sid", sa.Text(), nullable=False),
        sa.Column("item_key", sa.Text(), nullable=False),
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("added_event_id", sa.BigInteger(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("object_sid", "item_key"),
    )
    op.create_index("ix_sync_changes_events", "sync_changes", ["object_sid", "event_id"])
    op.create_index("ix_sync_changes_key", "sync_changes", ["item_key"])
    op.create_index("ix_sync_changes_service", "sync_changes", ["service_sid"])
    op.execute(
        "INSERT INTO sync_changes (object_sid, item_key, service_sid, event_id, added_event_id,"
        " removed, ref) SELECT 'MC' || substr(u.sid, 3), m.channel_sid, m.service_sid, 0, 0,"
        " FALSE, m.sid FROM members m JOIN users u"
        " ON u.service_sid = m.service_sid AND u.identity = m.identity"
    )
    op.execute(
        "INSERT INTO sync_changes (object_sid, item_key, service_sid, event_id, added_event_id,"
        " removed, ref) SELECT 'MC' || substr(u.sid, 3), i.channel_sid, i.service_sid, 0, 0,"
        " FALSE, NULL FROM invites i JOIN users u"
        " ON u.service_sid = i.service_sid AND u.identity = i.identity"
    )


def downgrade() -> None:
    op.drop_table("sync_changes")
    for table, column in (
        ("messages", "added_event_id"),
        ("users", "sync_event_id"),
        ("channels", "document_event_id"),
        ("channels", "sync_event_id"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
