"""media chunks and quota: an upload's bytes in chunks, indexes for the quota and the expiry

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Bytes move from ``media.content`` to ``media_chunks`` (one row per chunk of at most 256 KiB),
so an upload is stored and served a chunk at a time: no statement holds it whole. An existing
upload becomes one chunk. ``ix_media_author`` serves the per-user quota and upload rate,
``ix_media_unsent`` the expiry of uploads no message carries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_chunks",
        sa.Column("media_sid", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("media_sid", "seq"),
    )
    op.execute("INSERT INTO media_chunks (media_sid, seq, data) SELECT sid, 0, content FROM media")
    with op.batch_alter_table("media") as batch:
        batch.drop_column("content")
    op.create_index("ix_media_author", "media", ["service_sid", "author"])
    op.create_index("ix_media_unsent", "media", ["message_sid", "date_created"])


def downgrade() -> None:
    op.drop_index("ix_media_unsent", "media")
    op.drop_index("ix_media_author", "media")
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("content", sa.LargeBinary(), nullable=False, server_default=""))
    bind = op.get_bind()
    content: dict[str, list[bytes]] = {}
    for sid, data in bind.execute(
        sa.text("SELECT media_sid, data FROM media_chunks ORDER BY media_sid, seq")
    ):
        content.setdefault(sid, []).append(bytes(data))
    for sid, chunks in content.items():
        bind.execute(
            sa.text("UPDATE media SET content = :content WHERE sid = :sid"),
            {"content": b"".join(chunks), "sid": sid},
        )
    op.drop_table("media_chunks")
