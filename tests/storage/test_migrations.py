"""Migrations: an empty database upgrades to exactly the declared schema, on either engine."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chinwag.storage import migrate
from chinwag.storage.schema import metadata
from conftest import Databases

pytestmark = pytest.mark.unit


def _sql(url: str, statement: str) -> None:
    migrate._run(url, lambda conn: conn.exec_driver_sql(statement))


def test_upgrade_from_empty_matches_the_declared_schema(databases: Databases) -> None:
    url = databases.empty()
    migrate.upgrade(url)
    diff = migrate._run(
        url, lambda conn: compare_metadata(MigrationContext.configure(conn), metadata)
    )
    assert diff == []
    tables = migrate._run(url, lambda conn: set(sa.inspect(conn).get_table_names()))
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_schema_state_follows_the_database(databases: Databases) -> None:
    url = databases.empty()
    assert migrate.schema_state(url) == "empty"
    migrate.upgrade(url)
    assert migrate.schema_state(url) == "current"
    assert migrate.current_revision(url) == migrate.head_revision()


def test_schema_state_is_unknown_for_foreign_tables(databases: Databases) -> None:
    url = databases.empty()
    _sql(url, "CREATE TABLE something_else (x INTEGER)")
    assert migrate.schema_state(url) == "unknown"


def test_schema_state_is_unknown_for_an_unrecognised_revision(databases: Databases) -> None:
    url = databases.empty()
    migrate.upgrade(url)
    _sql(url, "UPDATE alembic_version SET version_num = 'not-a-revision'")
    assert migrate.schema_state(url) == "unknown"


def test_upgrade_is_idempotent(databases: Databases) -> None:
    url = databases.new()
    migrate.upgrade(url)
    assert migrate.schema_state(url) == "current"


def test_0002_backfills_tombstones_for_messages_deleted_before_it(databases: Databases) -> None:
    url = databases.empty()
    migrate.upgrade(url, "0001")
    assert migrate.schema_state(url) == "behind"
    _sql(
        url,
        "INSERT INTO channels (sid, account_sid, service_sid, type, created_by, members_count, "
        "messages_count, next_message_index, date_created, date_updated) VALUES "
        "('CH1', 'AC1', 'IS1', 'public', 'system', 0, 3, 5, 0, 0), "
        "('CH2', 'AC1', 'IS1', 'public', 'system', 0, 0, 0, 0, 0)",
    )
    for index in (0, 2, 4):  # 1 and 3 were deleted
        _sql(
            url,
            "INSERT INTO messages (sid, account_sid, service_sid, channel_sid, idx, author, body, "
            f"was_edited, date_created, date_updated) VALUES ('IM{index}', 'AC1', 'IS1', 'CH1', "
            f"{index}, 'system', 'b', false, 0, 0)",
        )
    migrate.upgrade(url)
    assert migrate.schema_state(url) == "current"
    rows = migrate._run(
        url,
        lambda conn: sorted(
            tuple(r)
            for r in conn.exec_driver_sql("SELECT channel_sid, idx FROM message_tombstones")
        ),
    )
    assert rows == [("CH1", 1), ("CH1", 3)]


def test_0005_indexes_existing_memberships_and_invites(databases: Databases) -> None:
    url = databases.empty()
    migrate.upgrade(url, "0004")
    user = "US" + "1" * 32
    _sql(
        url,
        "INSERT INTO users (sid, account_sid, service_sid, identity, joined_channels_count, "
        f"date_created, date_updated) VALUES ('{user}', 'AC1', 'IS1', 'ann', 1, 0, 0)",
    )
    for table, sid, channel in (("members", "MB1", "CH1"), ("invites", "IN1", "CH2")):
        extra = ", created_by" if table == "invites" else ""
        value = ", 'system'" if table == "invites" else ""
        _sql(
            url,
            f"INSERT INTO {table} (sid, account_sid, service_sid, channel_sid, identity, "
            f"date_created, date_updated{extra}) VALUES ('{sid}', 'AC1', 'IS1', '{channel}', "
            f"'ann', 0, 0{value})",
        )
    migrate.upgrade(url)
    rows = migrate._run(
        url,
        lambda conn: sorted(
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT object_sid, item_key, event_id, added_event_id, removed, ref "
                "FROM sync_changes"
            )
        ),
    )
    channels_map = "MC" + "1" * 32
    assert rows == [
        (channels_map, "CH1", 0, 0, False, "MB1"),
        (channels_map, "CH2", 0, 0, False, None),
    ]


def test_0009_leaves_existing_members_without_a_level_or_attributes(
    databases: Databases,
) -> None:
    url = databases.empty()
    migrate.upgrade(url, "0008")
    _sql(
        url,
        "INSERT INTO members (sid, account_sid, service_sid, channel_sid, identity, "
        "date_created, date_updated) VALUES ('MB1', 'AC1', 'IS1', 'CH1', 'ann', 0, 0)",
    )
    migrate.upgrade(url)
    rows = migrate._run(
        url,
        lambda conn: [
            tuple(r)
            for r in conn.exec_driver_sql("SELECT sid, notification_level, attributes FROM members")
        ],
    )
    assert rows == [("MB1", None, None)]  # NULL level reads as "default"


def test_0012_moves_each_upload_into_one_chunk(databases: Databases) -> None:
    url = databases.empty()
    migrate.upgrade(url, "0009")
    migrate._run(
        url,
        lambda conn: conn.execute(
            sa.text(
                "INSERT INTO media (sid, account_sid, service_sid, author, content_type, "
                "category, size, content, date_created, date_updated) "
                "VALUES ('ME1', 'AC1', 'IS1', 'ann', 'image/png', 'media', 3, :c, 0, 0)"
            ),
            {"c": b"\x00\x01\x02"},
        ),
    )
    migrate.upgrade(url)
    chunks = migrate._run(
        url,
        lambda conn: [
            (r[0], r[1], bytes(r[2]))
            for r in conn.exec_driver_sql("SELECT media_sid, seq, data FROM media_chunks")
        ],
    )
    assert chunks == [("ME1", 0, b"\x00\x01\x02")]
    columns = migrate._run(
        url, lambda conn: {c["name"] for c in sa.inspect(conn).get_columns("media")}
    )
    assert "content" not in columns
