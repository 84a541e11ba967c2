"""presence: server process heartbeats, who is connected to which process, who was ever online

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "presence_processes",
        sa.Column("process_id", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("process_id"),
    )
    op.create_table(
        "presence_connections",
        sa.Column("process_id", sa.Text(), nullable=False),
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("process_id", "service_sid", "identity"),
    )
    op.create_index(
        "ix_presence_connections_user", "presence_connections", ["service_sid", "identity"]
    )
    op.create_table(
        "presence_seen",
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("service_sid", "identity"),
    )


def downgrade() -> None:
    op.drop_table("presence_seen")
    op.drop_table("presence_connections")
    op.drop_table("presence_processes")
