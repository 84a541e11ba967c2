"""chat v2: the service settings Chat v2 adds, and who last updated a message

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

Chat v2's Service has a notification log switch, a placeholder text for media messages without
text, and retry counts for the pre- and post-event webhooks; v1 shows none of them, so existing
services take the values Twilio gives a new one (off, none, 0, 0). The per-kind notification
sounds and the new-message badge switch live in the ``notifications`` JSON beside ``enabled``
and ``template``, so they need no column. A v2 Message says who last updated it
(``last_updated_by``): NULL for every message until then, as for one never updated.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs (both engines have them): a batch copy of each table would leave the
    # old copy's pages free in an SQLite file
    op.add_column(
        "services",
        sa.Column(
            "notifications_log_enabled", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.add_column("services", sa.Column("media_compatibility_message", sa.Text(), nullable=True))
    op.add_column(
        "services",
        sa.Column("pre_webhook_retry_count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "services",
        sa.Column("post_webhook_retry_count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("messages", sa.Column("last_updated_by", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("last_updated_by")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("post_webhook_retry_count")
        batch.drop_column("pre_webhook_retry_count")
        batch.drop_column("media_compatibility_message")
        batch.drop_column("notifications_log_enabled")
