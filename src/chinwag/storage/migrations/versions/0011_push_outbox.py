"""push outbox: events to push, the pushes to each device, and the registration's credential

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

``push_events`` holds one row per change that may notify (a new message, an add, invite or
removal), written in the change's transaction; the push dispatcher turns each into one
``push_deliveries`` row per registered device, in one transaction that also deletes the event,
and sends those with retries. ``push_deliveries`` is also the push log. A registration keeps
the credential its client's access token named (``push_credential_sid``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_PENDING = sa.text("state = 'pending'")


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("push_registrations") as batch:
        batch.add_column(sa.Column("credential_sid", sa.Text(), nullable=True))
    op.create_table(
        "push_events",
        _id(),
        sa.Column("account_sid", sa.Text(), nullable=False),
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("channel_sid", sa.Text(), nullable=False),
        sa.Column("message_sid", sa.Text(), nullable=True),
        sa.Column("message_index", sa.BigInteger(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=True),
        sa.Column("locked_until", sa.BigInteger(), nullable=True),
        sa.Column("date_created", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "push_deliveries",
        _id(),
        sa.Column("account_sid", sa.Text(), nullable=False),
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("registration_sid", sa.Text(), nullable=False),
        sa.Column("channel_type", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("credential_sid", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("channel_sid", sa.Text(), nullable=False),
        sa.Column("message_sid", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("date_created", sa.BigInteger(), nullable=False),
        sa.Column("date_updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_push_deliveries_due",
        "push_deliveries",
        ["next_attempt_at"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_index("ix_push_deliveries_updated", "push_deliveries", ["date_updated"])


def downgrade() -> None:
    op.drop_table("push_deliveries")
    op.drop_table("push_events")
    with op.batch_alter_table("push_registrations") as batch:
        batch.drop_column("credential_sid")
