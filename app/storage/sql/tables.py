"""System tables (created by the alembic migration) and per-model tables.

Each model gets ``specql_m_<model>``: one row per resource holding its meta
(current revision pointer, times, users, counters, soft-delete flag) and one
typed column per single-valued indexed path, each with a B-tree index. A
list-valued path gets a side table ``specql_l_<model>__<column>`` of
(resource_id, value) rows. When payloads are kept inline, the row also
carries a copy of the current payload (``current_payload``), so that a get or
a search page reads one row per resource and no join. Timestamps are integer microseconds since the
epoch (UTC) so that sorting, comparing and paging are plain integer work on
every dialect.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from app.resources.spec import ResourceSpec, ScalarKind

metadata = sa.MetaData()

revisions = sa.Table(
    "specql_revisions",
    metadata,
    sa.Column("revision_id", sa.String(64), primary_key=True),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("resource_id", sa.String(128), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("parent_revision_id", sa.String(64)),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("data_hash", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("payload", sa.LargeBinary),
    sa.Index("ix_specql_revisions_resource_number", "model", "resource_id", "number", unique=True),
)

models = sa.Table(
    "specql_models",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("indexed", sa.Text, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    # the model's field shapes at the last open (app.resources.compat), JSON
    sa.Column("shape", sa.Text),
)

blobs = sa.Table(
    "specql_blobs",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("content_type", sa.Text, nullable=True),
)

META_COLUMNS = (
    "resource_id",
    "current_revision_id",
    "current_hash",
    "status",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "revision_count",
    "deleted",
    "schema_version",
)

# Text compares byte-wise on PostgreSQL as on SQLite: the same order on every
# dialect, and ``starts_with`` (LIKE 'x%') can use the B-tree index.
_COLUMN_TYPES: dict[ScalarKind, sa.types.TypeEngine[Any]] = {
    "str": sa.Text().with_variant(sa.Text(collation="C"), "postgresql"),
    "int": sa.BigInteger(),
    "float": sa.Float(),
    "bool": sa.Boolean(create_constraint=False),
    "datetime": sa.BigInteger(),
    "date": sa.String(10),
    "uuid": sa.String(36),
    "decimal": sa.Float(),
}


class ModelTables:
    """The SQLAlchemy tables of one model."""

    def __init__(self, spec: ResourceSpec) -> None:
        self.spec = spec
        self.meta_md = sa.MetaData()
        singles = [f for f in spec.indexed.values() if not f.multi]
        self.singles = singles
        self.lists = [f for f in spec.indexed.values() if f.multi]
        name = f"specql_m_{spec.name}"
        self.meta = sa.Table(
            name,
            self.meta_md,
            sa.Column("resource_id", sa.String(128), primary_key=True),
            sa.Column("current_revision_id", sa.String(64), nullable=False),
            sa.Column("current_hash", sa.String(64), nullable=False),
            sa.Column("status", sa.String(8), nullable=False),
            sa.Column("created_at", sa.BigInteger, nullable=False),
            sa.Column("created_by", sa.String(256), nullable=False),
            sa.Column("updated_at", sa.BigInteger, nullable=False),
            sa.Column("updated_by", sa.String(256), nullable=False),
            sa.Column("revision_count", sa.Integer, nullable=False),
            sa.Column("deleted", sa.Boolean(create_constraint=False), nullable=False),
            sa.Column("schema_version", sa.Integer, nullable=False),
            sa.Column("current_payload", sa.LargeBinary),
            *(sa.Column(f.column, _COLUMN_TYPES[f.kind]) for f in singles),
        )
        # Every index carries ``deleted`` right after its first column: searches
        # (live rows by default) then filter and count from the index alone.
        deleted = self.meta.c.deleted
        for column in ("created_at", "updated_at", "created_by", "updated_by"):
            sa.Index(index_name(name, column), self.meta.c[column], deleted)
        # a declared index that starts with a field serves every search the
        # field's own index would: that one is not built (one less B-tree to
        # write on each create and update)
        leading = {spec.indexed[group[0]].column for group in spec.indexes}
        for f in singles:
            if f.column not in leading:
                sa.Index(index_name(name, f.column), self.meta.c[f.column], deleted)
        for group in spec.indexes:
            first, *rest = [self.meta.c[spec.indexed[p].column] for p in group]
            sa.Index(index_name(name, first.name, *(c.name for c in rest)), first, deleted, *rest)
        self.unique_indexes: dict[str, tuple[str, ...]] = {}
        for group in spec.unique_groups:
            columns = [spec.indexed[p].column for p in group]
            uname = index_name(name, *columns, prefix="uq")
            sa.Index(uname, *(self.meta.c[c] for c in columns), unique=True)
            self.unique_indexes[uname] = group
        self.side: dict[str, sa.Table] = {}
        for f in self.lists:
            side_name = f"specql_l_{spec.name}__{f.column}"
            table = sa.Table(
                side_name,
                self.meta_md,
                sa.Column("resource_id", sa.String(128), nullable=False),
                sa.Column("value", _COLUMN_TYPES[f.kind]),
                sa.Index(index_name(side_name, "value"), "value", "resource_id"),
                sa.Index(index_name(side_name, "resource_id"), "resource_id"),
            )
            self.side[f.column] = table

    def unique_group_for_columns(self, columns: set[str]) -> tuple[str, ...] | None:
        for group in self.spec.unique_groups:
            if {self.spec.indexed[p].column for p in group} == columns:
                return group
        return None


def model_tables(spec: ResourceSpec) -> ModelTables:
    """The tables of a spec, built once per spec object."""
    tables: ModelTables | None = spec.__dict__.get("_tables")
    if tables is None:
        tables = spec.__dict__["_tables"] = ModelTables(spec)
    return tables


def index_name(table: str, *columns: str, prefix: str = "ix") -> str:
    """Index names fit PostgreSQL's 63-character limit."""
    name = f"{prefix}_{table}__{'__'.join(columns)}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"{name[:52]}_{digest}"
