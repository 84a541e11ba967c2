"""chat mutations: the X-Twilio-Mutation-Id of each chat command applied, and its reply

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

A retried command whose id is here is answered with the stored reply instead of being applied
again. Rows are pruned after ``storage.stores.mutations.KEEP_MS``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_table("chat_mutations")
