"""member client fields: a member's notification level and attributes, for chat clients

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

The twilio-chat SDK sets a per-channel notification level (``default`` or ``muted``) on the
user's membership and attributes on a member; Chat v1's REST API shows neither, so they are
columns of ``members`` that only the Sync views read. Both are nullable: NULL is the level
``default`` and no attributes, which is what existing members showed before, and what a
snapshot taken before this revision (without the columns) imports as.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("notification_level", sa.Text(), nullable=True))
        batch.add_column(sa.Column("attributes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("attributes")
        batch.drop_column("notification_level")
