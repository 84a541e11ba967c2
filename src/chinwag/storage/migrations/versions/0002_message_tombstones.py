"""message tombstones: O(1) unread counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Records the index of each deleted message so UserChannels can compute unread counts from the
channel's next index instead of counting messages. Existing deletions are backfilled: every
index below a channel's ``next_message_index`` with no message row was deleted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_tombstones",
        sa.Column("channel_sid", sa.Text(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel_sid", "idx"),
    )
    op.execute(
        "WITH RECURSIVE seq(channel_sid, idx, last) AS ("
        " SELECT sid, CAST(0 AS BIGINT), next_message_index - 1 FROM channels"
        " WHERE next_message_index > 0"
        " UNION ALL SELECT channel_sid, idx + 1, last FROM seq WHERE idx < last)"
        " INSERT INTO message_tombstones (channel_sid, idx)"
        " SELECT channel_sid, idx FROM seq WHERE NOT EXISTS"
        " (SELECT 1 FROM messages m WHERE m.channel_sid = seq.channel_sid AND m.idx = seq.idx)"
    )


def downgrade() -> None:
    op.drop_table("message_tombstones")
