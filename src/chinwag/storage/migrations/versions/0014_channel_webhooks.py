"""channel webhooks: the v2 Channel Webhook resource, and per-delivery retry limits

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06

``channel_webhooks`` holds up to five targets per channel. Their deliveries go through the
same outbox as a Service's post-events; ``webhook_deliveries.retries`` carries a channel
webhook's ``retry_count`` (NULL: the server's ``--webhook-retries``) and ``webhook_sid`` the
webhook a delivery was made for, for the delivery log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_webhooks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sid", sa.Text(), nullable=False),
        sa.Column("account_sid", sa.Text(), nullable=False),
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("channel_sid", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("triggers", sa.Text(), nullable=False),
        sa.Column("flow_sid", sa.Text(), nullable=True),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("date_created", sa.BigInteger(), nullable=False),
        sa.Column("date_updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid"),
    )
    op.create_index("ix_channel_webhooks_channel", "channel_webhooks", ["channel_sid", "id"])
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("retries", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("webhook_sid", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("webhook_sid")
        batch.drop_column("retries")
    op.drop_index("ix_channel_webhooks_channel", "channel_webhooks")
    op.drop_table("channel_webhooks")
