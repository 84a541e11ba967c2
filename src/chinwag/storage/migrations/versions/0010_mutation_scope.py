"""mutation scope: applied chat command ids per account, service and identity, with their reply

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

An id was keyed by account and identity only, so the same identity in two services shared its
ids (one service's reply could answer the other's command). The reply is now written in the
transaction of the change, so it is never missing. The rows are retry hints that live for
seconds in practice (an SDK retries within 30 s): the table is recreated empty rather than
migrated, which at worst lets a command retried across the upgrade's restart apply again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("chat_mutations")
    op.create_table(
        "chat_mutations",
        sa.Column("account_sid", sa.Text(), nullable=False),
        sa.Column("service_sid", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("mutation_id", sa.Text(), nullable=False),
        sa.Column("date_created", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_sid", "service_sid", "identity", "mutation_id"),
    )
    op.create_index("ix_chat_mutations_created", "chat_mutations", ["date_created"])


def downgrade() -> None:
    op.drop_table("chat_mutations")
    op.create_table(
        "chat_mutations",
        sa.Column("account_sid", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("mutation_id", sa.Text(), nullable=False),
        sa.Column("date_created", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account_sid", "identity", "mutation_id"),
    )
    op.create_index("ix_chat_mutations_created", "chat_mutations", ["date_created"])
