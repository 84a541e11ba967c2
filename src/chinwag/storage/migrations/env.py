"""Alembic environment: migrates the connection ``chinwag.storage.migrate`` hands over.

Migrations are run programmatically (``chinwag db upgrade``, or ``serve`` on a new database), so
there is no alembic.ini; ``target_metadata`` lets autogenerate and the schema test compare
against ``chinwag.storage.schema``.
"""

from __future__ import annotations

from alembic import context

from chinwag.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
