"""Alembic environment for SpecQL's system tables.

SpecQL runs migrations itself (``specql db upgrade``, or automatically when an
embedded store opens) and hands alembic an open connection.
"""

from alembic import context
from app.storage.sql.migrate import VERSION_TABLE
from app.storage.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - offline SQL generation
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()
