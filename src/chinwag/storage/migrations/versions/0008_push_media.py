"""push registrations and media: ERS registrations per user, uploaded media with its bytes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

``push_registrations`` keeps one row per (service, identity, push channel, device token);
``media`` keeps each upload's bytes in the database (so every process of a multi-host
PostgreSQL deployment serves it), and ``messages.media`` (JSON: sid, filename, content type,
size; never changes once sent) marks a media message.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _dates() -> tuple[sa.Column[int], sa.Column[int]]:
    return (
        sa.Column("date_created", sa.BigInteger(), nullable=False),
        sa.Column("date_updated", sa.BigInteger(), nullable=False),
    )


def upgrade() -> None:
    op.create_table(
        "push_registrations",
        _id(),
        sa.Column("sid", sa.Text(), nullable=False),
        sa.Column("account_sid", sa.Text(), nullable=False),
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("channel_type", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("message_types", sa.Text(), nullable=False),
        *_dates(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid"),
        sa.UniqueConstraint(
            "service_sid", "identity", "channel_type", "address", name="uq_push_registrations"
        ),
    )
    op.create_index("ix_push_registrations_service", "push_registrations", ["service_sid", "id"])
    op.create_table(
        "media",
        _id(),
        sa.Column("sid", sa.Text(), nullable=False),
        sa.Column("account_sid", sa.Text(), nullable=False),
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("channel_sid", sa.Text(), nullable=True),
        sa.Column("message_sid", sa.Text(), nullable=True),
        *_dates(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid"),
    )
    op.create_index("ix_media_service", "media", ["service_sid", "id"])
    op.add_column("messages", sa.Column("media", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "media")
    op.drop_table("media")
    op.drop_table("push_registrations")
