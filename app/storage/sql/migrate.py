"""Schema management: alembic for system tables, then per-model tables.

Per-model tables follow the registered specs: a missing table is created; a
new indexed path adds a column (or side table), which the caller backfills
from current revisions before indexes, unique ones included, are built.
Indexes of paths no longer indexed are dropped; their columns stay (harmless,
and dropping columns is costly on SQLite). Each model's field shapes are
recorded too; those that changed since the last open are named for the caller
to check against stored resources (``app.resources.compat``) before the new
shapes are recorded.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory

from alembic import command
from app.errors import ConfigurationError
from app.resources.spec import ResourceSpec
from app.storage.base import RevisionKey
from app.storage.sql.tables import model_tables, models

HEAD = "head"
VERSION_TABLE = "specql_alembic_version"


@dataclasses.dataclass(frozen=True)
class SchemaState:
    """What a database holds against what this SpecQL and registry need.

    Attributes:
        revision: the applied system-table migration, None on an empty database.
        head: the newest migration this installation ships.
        models: per registered model, ``up to date``, ``missing`` or what is pending.
        changed: per model with tables whose shapes differ from those recorded
            at its last open, the recorded ones: the caller checks them against
            stored resources.
    """

    revision: str | None
    head: str | None
    models: dict[str, str]
    changed: dict[str, str | None] = dataclasses.field(default_factory=dict)

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head and all(v == "up to date" for v in self.models.values())


def script_location() -> str:
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "alembic", here.parents[2] / "migrations"):
        if (candidate / "env.py").exists():
            return str(candidate)
    raise ConfigurationError("SpecQL's migration scripts are missing from the installation")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def current_revision(conn: sa.Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade_system_tables(conn: sa.Connection, changes: list[str]) -> None:
    before = current_revision(conn)
    command.upgrade(alembic_config(conn), HEAD)
    after = current_revision(conn)
    if after != before:
        changes.append(f"system tables: migration {before or '(none)'} -> {after}")


def schema_state(conn: sa.Connection, specs: list[ResourceSpec], shapes: list[str]) -> SchemaState:
    """Read (never change) the migration and per-model table state;
    ``shapes`` are the models' current ones (``app.resources.compat``)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    inspector = sa.inspect(conn)
    previous: dict[str, set[str]] = {}
    if inspector.has_table(models.name):
        previous = {
            name: set(json.loads(indexed))
            for name, indexed in conn.execute(sa.select(models.c.name, models.c.indexed))
        }
    state: dict[str, str] = {}
    for spec in specs:
        if spec.name not in previous or not inspector.has_table(model_tables(spec).meta.name):
            state[spec.name] = "missing"
            continue
        new_paths = sorted(set(spec.indexed) - previous[spec.name])
        state[spec.name] = (
            f"pending: new indexed fields {', '.join(new_paths)}" if new_paths else "up to date"
        )
    recorded = recorded_shapes(conn)
    changed = {
        spec.name: recorded.get(spec.name)
        for spec, shape in zip(specs, shapes, strict=True)
        if state[spec.name] != "missing" and recorded.get(spec.name) != shape
    }
    return SchemaState(current_revision(conn), head, state, changed)


def recorded_shapes(conn: sa.Connection) -> dict[str, str | None]:
    """The field shapes each model had at its last open (None on a database
    from before shapes were recorded)."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(models.name):
        return {}
    if "shape" in {c["name"] for c in inspector.get_columns(models.name)}:
        query = sa.select(models.c.name, models.c.shape)
    else:  # system tables not yet migrated (specql db current reads, never migrates)
        query = sa.select(models.c.name, sa.null())
    return {name: shape for name, shape in conn.execute(query)}


def record_shapes(conn: sa.Connection, shapes: dict[str, str]) -> None:
    for name, shape in shapes.items():
        conn.execute(models.update().where(models.c.name == name).values(shape=shape))


def sample_current(conn: sa.Connection, spec: ResourceSpec, limit: int) -> list[RevisionKey]:
    """Up to ``limit`` current revisions: the least recently written half (the
    likeliest to hold an old shape) and the most recently written one."""
    meta = model_tables(spec).meta
    if not sa.inspect(conn).has_table(meta.name):
        return []
    columns = (meta.c.current_revision_id, meta.c.current_hash)
    found: dict[str, str] = {}
    for order in (
        (meta.c.updated_at.asc(), meta.c.resource_id.asc()),
        (meta.c.updated_at.desc(), meta.c.resource_id.desc()),
    ):
        query = sa.select(*columns).order_by(*order).limit(max(1, limit // 2))
        found.update((revision, data_hash) for revision, data_hash in conn.execute(query))
    return [RevisionKey(spec.name, revision, data_hash) for revision, data_hash in found.items()]


def add_model_columns(
    conn: sa.Connection, specs: list[ResourceSpec], changes: list[str]
) -> dict[str, list[str]]:
    """Create or extend model tables; return the paths each model must backfill:
    every path not indexed at the last successful open (a column kept from an
    earlier indexing holds stale values)."""
    inspector = sa.inspect(conn)
    ops = Operations(MigrationContext.configure(conn))
    previous = {
        name: set(json.loads(indexed))
        for name, indexed in conn.execute(sa.select(models.c.name, models.c.indexed))
    }
    backfill: dict[str, list[str]] = {}
    for spec in specs:
        t = model_tables(spec)
        if not inspector.has_table(t.meta.name):
            _create_table(conn, t.meta)
            for side in t.side.values():
                _create_table(conn, side)
            _record(conn, spec)
            changes.append(f"{spec.name}: created its tables")
            continue
        existing = {c["name"] for c in inspector.get_columns(t.meta.name)}
        for f in t.singles:
            if f.column not in existing:
                ops.add_column(t.meta.name, sa.Column(f.column, t.meta.c[f.column].type))
                changes.append(f"{spec.name}: added a column for {f.path}")
        for f in t.lists:
            if not inspector.has_table(t.side[f.column].name):
                _create_table(conn, t.side[f.column])
                changes.append(f"{spec.name}: added a side table for {f.path}")
        known = previous.get(spec.name, set())
        new_paths = [path for path in spec.indexed if path not in known]
        if new_paths:
            backfill[spec.name] = new_paths
    return backfill


def build_model_indexes(conn: sa.Connection, specs: list[ResourceSpec], changes: list[str]) -> None:
    """Create missing indexes and drop those of paths no longer indexed."""
    inspector = sa.inspect(conn)
    for spec in specs:
        t = model_tables(spec)
        for table in (t.meta, *t.side.values()):
            present = {ix["name"] for ix in inspector.get_indexes(table.name)}
            wanted = {ix.name for ix in table.indexes}
            for index in table.indexes:
                if index.name not in present:
                    try:
                        _create_index(conn, index)
                        changes.append(f"{spec.name}: built index {index.name}")
                    except sa.exc.IntegrityError as exc:
                        group = t.unique_indexes.get(str(index.name), ())
                        raise ConfigurationError(
                            f"model {spec.name!r}: existing resources share values of "
                            f"unique field(s) {', '.join(group)}",
                            "Change or purge the duplicates before declaring the field Unique.",
                        ) from exc
            for name in present - wanted:
                if name and name.startswith(("ix_specql_", "uq_specql_")):
                    conn.execute(sa.text(f'DROP INDEX "{name}"'))
                    changes.append(f"{spec.name}: dropped index {name}")
        _record(conn, spec)


def _create_table(conn: sa.Connection, table: sa.Table) -> None:
    """The table alone: its indexes come from ``build_model_indexes``."""
    conn.execute(sa.schema.CreateTable(table))


def _create_index(conn: sa.Connection, index: sa.Index) -> None:
    """Searches sort nulls first ascending and last descending on every
    dialect (SQLite's order). PostgreSQL's B-tree puts nulls last unless told,
    so there every column is indexed NULLS FIRST: a forward scan then yields
    ASC NULLS FIRST and a backward scan DESC NULLS LAST, and an ordered search
    reads the index in order instead of sorting every matching row."""
    if conn.dialect.name != "postgresql":
        index.create(conn)
        return
    assert index.table is not None
    columns = ", ".join(f'"{column.name}" NULLS FIRST' for column in index.columns)
    unique = "UNIQUE " if index.unique else ""
    conn.exec_driver_sql(f'CREATE {unique}INDEX "{index.name}" ON "{index.table.name}" ({columns})')


def _record(conn: sa.Connection, spec: ResourceSpec) -> None:
    row: dict[str, Any] = {
        "name": spec.name,
        "schema_version": spec.schema_version,
        "indexed": json.dumps(sorted(spec.indexed)),
        "updated_at": int(time.time() * 1_000_000),
    }
    updated = conn.execute(models.update().where(models.c.name == spec.name).values(row)).rowcount
    if not updated:
        conn.execute(models.insert().values(row))
