"""Every SQL statement the meta store runs, built with SQLAlchemy Core and
compiled once per dialect and shape, then cached as text."""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa

from app.resources.spec import ResourceSpec
from app.storage.sql.runner import Compiled
from app.storage.sql.tables import META_COLUMNS, ModelTables, blobs, model_tables, revisions

CACHE_SIZE = 2048
REVISION_COLUMNS = (
    "revision_id",
    "resource_id",
    "model",
    "number",
    "parent_revision_id",
    "status",
    "created_at",
    "created_by",
    "data_hash",
    "size",
    "schema_version",
)


def compile_statement(stmt: Any, dialect: sa.engine.Dialect) -> Compiled:
    compiled = stmt.compile(dialect=dialect)
    names = compiled.positiontup or []
    fixed = {k: v for k, v in compiled.params.items() if k in names and v is not None}
    result = Compiled(compiled.string, names)
    if fixed:
        return _CompiledWithFixed(result.sql, names, fixed)
    return result


class _CompiledWithFixed(Compiled):
    __slots__ = ("fixed",)

    def __init__(self, sql: str, names: Any, fixed: dict[str, Any]) -> None:
        super().__init__(sql, names)
        self.fixed = fixed

    def bind(self, params: dict[str, Any]) -> tuple[Any, ...]:
        merged = {**self.fixed, **params}
        return tuple([merged[n] for n in self.names])


def params(names: Any) -> list[sa.BindParameter[Any]]:
    return [sa.bindparam(n) for n in names]


class Statements:
    """Compiled statements of one store, by shape."""

    def __init__(self, dialect: sa.engine.Dialect, specs: dict[str, ResourceSpec]) -> None:
        self.dialect = dialect
        self.specs = specs
        self.for_update = dialect.name == "postgresql"
        self._cache: dict[Hashable, Compiled] = {}
        self.readers: dict[str, Any] = {}  # model -> operations.RowReader
        self.inline = False  # payloads written into the revisions table
        self._layouts: dict[str, tuple[str, ...]] = {}
        self._row_getters: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {}

    def compiled(self, key: Hashable, build: Callable[[], Any]) -> Compiled:
        """The statement of a shape, compiled once. Past ``CACHE_SIZE`` shapes
        (search shapes are caller-made) the oldest half is dropped."""
        stmt = self._cache.get(key)
        if stmt is None:
            if len(self._cache) >= CACHE_SIZE:
                for old in list(self._cache)[: CACHE_SIZE // 2]:
                    del self._cache[old]
            stmt = self._cache[key] = compile_statement(build(), self.dialect)
        return stmt

    def tables(self, model: str) -> ModelTables:
        return model_tables(self.specs[model])

    # revisions ---------------------------------------------------------
    def insert_revision(self) -> Compiled:
        cols = (*REVISION_COLUMNS, "payload")
        return self.compiled(
            "insert_revision",
            lambda: revisions.insert().values({c: sa.bindparam(c) for c in cols}),
        )

    def revision(self, with_payload: bool) -> Compiled:
        def build() -> Any:
            cols = [revisions.c[c] for c in REVISION_COLUMNS]
            if with_payload:
                cols.append(revisions.c.payload)
            return sa.select(*cols).where(
                revisions.c.revision_id == sa.bindparam("revision_id"),
                revisions.c.resource_id == sa.bindparam("resource_id"),
                revisions.c.model == sa.bindparam("model"),
            )

        return self.compiled(("revision", with_payload), build)

    def revisions_page(self, bounded: bool) -> Compiled:
        def build() -> Any:
            stmt = sa.select(*(revisions.c[c] for c in REVISION_COLUMNS)).where(
                revisions.c.model == sa.bindparam("model"),
                revisions.c.resource_id == sa.bindparam("resource_id"),
            )
            if bounded:
                stmt = stmt.where(revisions.c.number < sa.bindparam("before"))
            return stmt.order_by(revisions.c.number.desc()).limit(sa.bindparam("limit"))

        return self.compiled(("revisions_page", bounded), build)

    def revision_pages(self, n: int, bounded: bool) -> Compiled:
        """The newest ``limit`` revisions (numbers below ``before``) of each
        of ``n`` resources, by resource then newest first."""

        def build() -> Any:
            cols = [revisions.c[c] for c in REVISION_COLUMNS]
            rank = sa.func.row_number().over(
                partition_by=revisions.c.resource_id, order_by=revisions.c.number.desc()
            )
            inner = sa.select(*cols, rank.label("specql_rank")).where(
                revisions.c.model == sa.bindparam("model"),
                revisions.c.resource_id.in_(params(f"i{k}" for k in range(n))),
            )
            if bounded:
                inner = inner.where(revisions.c.number < sa.bindparam("before"))
            ranked = inner.subquery("ranked")
            return (
                sa.select(*(ranked.c[c] for c in REVISION_COLUMNS))
                .where(ranked.c.specql_rank <= sa.bindparam("limit"))
                .order_by(ranked.c.resource_id, ranked.c.specql_rank)
            )

        return self.compiled(("revision_pages", n, bounded), build)

    def revision_infos(self, n: int) -> Compiled:
        return self.compiled(
            ("revision_infos", n),
            lambda: sa.select(*(revisions.c[c] for c in REVISION_COLUMNS)).where(
                revisions.c.model == sa.bindparam("model"),
                revisions.c.revision_id.in_(params(f"i{k}" for k in range(n))),
            ),
        )

    def update_revision_payload(self) -> Compiled:
        return self.compiled(
            "update_revision_payload",
            lambda: (
                revisions.update()
                .where(revisions.c.revision_id == sa.bindparam("rid"))
                .values(
                    data_hash=sa.bindparam("data_hash"),
                    size=sa.bindparam("size"),
                    payload=sa.bindparam("payload"),
                )
            ),
        )

    def set_revision_status(self) -> Compiled:
        return self.compiled(
            "set_revision_status",
            lambda: (
                revisions.update()
                .where(revisions.c.revision_id == sa.bindparam("rid"))
                .values(status=sa.bindparam("status"))
            ),
        )

    def payload_keys(self) -> Compiled:
        return self.compiled(
            "payload_keys",
            lambda: sa.select(revisions.c.revision_id, revisions.c.data_hash).where(
                revisions.c.model == sa.bindparam("model"),
                revisions.c.resource_id == sa.bindparam("resource_id"),
            ),
        )

    def delete_revisions(self) -> Compiled:
        return self.compiled(
            "delete_revisions",
            lambda: revisions.delete().where(
                revisions.c.model == sa.bindparam("model"),
                revisions.c.resource_id == sa.bindparam("resource_id"),
            ),
        )

    def existing_revisions(self, n: int) -> Compiled:
        return self.compiled(
            ("existing_revisions", n),
            lambda: sa.select(revisions.c.revision_id).where(
                revisions.c.model == sa.bindparam("model"),
                revisions.c.revision_id.in_(params(f"i{k}" for k in range(n))),
            ),
        )

    def revision_hashes(self, n: int) -> Compiled:
        return self.compiled(
            ("revision_hashes", n),
            lambda: sa.select(
                revisions.c.model, revisions.c.revision_id, revisions.c.data_hash
            ).where(revisions.c.revision_id.in_(params(f"i{k}" for k in range(n)))),
        )

    def payloads(self, n: int) -> Compiled:
        return self.compiled(
            ("payloads", n),
            lambda: sa.select(
                revisions.c.revision_id, revisions.c.data_hash, revisions.c.payload
            ).where(revisions.c.revision_id.in_(params(f"i{k}" for k in range(n)))),
        )

    # blobs (kept in the database) -------------------------------------------
    def insert_blob(self) -> Compiled:
        return self.compiled(
            "insert_blob",
            lambda: blobs.insert().values(
                digest=sa.bindparam("digest"),
                size=sa.bindparam("size"),
                content=sa.bindparam("content"),
                content_type=sa.bindparam("content_type"),
            ),
        )

    def blob_infos(self, n: int) -> Compiled:
        return self.compiled(
            ("blob_infos", n),
            lambda: sa.select(blobs.c.digest, blobs.c.size, blobs.c.content_type).where(
                blobs.c.digest.in_(params(f"i{k}" for k in range(n)))
            ),
        )

    def blob_content(self) -> Compiled:
        return self.compiled(
            "blob_content",
            lambda: sa.select(blobs.c.content).where(blobs.c.digest == sa.bindparam("digest")),
        )

    def blob_digests(self, n: int) -> Compiled:
        return self.compiled(
            ("blob_digests", n),
            lambda: sa.select(blobs.c.digest).where(
                blobs.c.digest.in_(params(f"i{k}" for k in range(n)))
            ),
        )

    def delete_blob(self) -> Compiled:
        return self.compiled(
            "delete_blob",
            lambda: blobs.delete().where(blobs.c.digest == sa.bindparam("digest")),
        )

    # model tables --------------------------------------------------------
    def meta_select_columns(self, t: ModelTables) -> list[Any]:
        return [t.meta.c[c] for c in META_COLUMNS] + [t.meta.c[f.column] for f in t.singles]

    def load(self, model: str, n: int, with_payload: bool) -> Compiled:
        def build() -> Any:
            t = self.tables(model)
            cols = self.meta_select_columns(t)
            if with_payload:
                cols.append(t.meta.c.current_payload)
            return sa.select(*cols).where(
                t.meta.c.resource_id.in_(params(f"i{k}" for k in range(n)))
            )

        # Its only parameters are the n ids, in order: see Db.rows_in_order.
        return self.compiled(("load", model, n, with_payload), build)

    def insert_meta(self, model: str) -> Compiled:
        def build() -> Any:
            t = self.tables(model)
            cols = [*META_COLUMNS, "current_payload", *(f.column for f in t.singles)]
            return t.meta.insert().values({c: sa.bindparam(c) for c in cols})

        return self.compiled(("insert_meta", model), build)

    def insert_resource(self, model: str) -> Compiled:
        """PostgreSQL: the meta row and the first revision in one statement
        (the revision's parameters are prefixed ``r_``)."""

        def build() -> Any:
            t = self.tables(model)
            cols = [*META_COLUMNS, "current_payload", *(f.column for f in t.singles)]
            revision = (
                revisions.insert()
                .values({c: sa.bindparam(f"r_{c}") for c in (*REVISION_COLUMNS, "payload")})
                .cte("specql_first_revision")
            )
            return t.meta.insert().values({c: sa.bindparam(c) for c in cols}).add_cte(revision)

        return self.compiled(("insert_resource", model), build)

    def meta_layout(self, model: str) -> tuple[str, ...]:
        """Column names of a meta row as loads and searches return it."""
        layout = self._layouts.get(model)
        if layout is None:
            t = self.tables(model)
            layout = self._layouts[model] = (*META_COLUMNS, *(f.column for f in t.singles))
        return layout

    def row_of(self, model: str, row: dict[str, Any]) -> tuple[Any, ...]:
        """A row dict (every layout column present) as a tuple in layout order."""
        getter = self._row_getters.get(model)
        if getter is None:
            getter = self._row_getters[model] = operator.itemgetter(*self.meta_layout(model))
        return getter(row)

    def current(self, model: str) -> Compiled:
        def build() -> Any:
            m = self.tables(model).meta
            stmt = sa.select(*(m.c[c] for c in self.meta_layout(model))).where(
                m.c.resource_id == sa.bindparam("resource_id")
            )
            return stmt.with_for_update() if self.for_update else stmt

        return self.compiled(("current", model), build)

    def update_columns(self, model: str, columns: tuple[str, ...]) -> Compiled:
        """UPDATE of exactly these meta columns of one resource (``rid``)."""

        def build() -> Any:
            m = self.tables(model).meta
            return (
                m.update()
                .where(m.c.resource_id == sa.bindparam("rid"))
                .values({c: sa.bindparam(c) for c in columns})
            )

        return self.compiled(("update_columns", model, columns), build)

    def reindex(self, model: str) -> Compiled:
        def build() -> Any:
            t = self.tables(model)
            return (
                t.meta.update()
                .where(t.meta.c.resource_id == sa.bindparam("rid"))
                .values({f.column: sa.bindparam(f.column) for f in t.singles})
            )

        return self.compiled(("reindex", model), build)

    def set_meta_status(self, model: str) -> Compiled:
        def build() -> Any:
            m = self.tables(model).meta
            return (
                m.update()
                .where(
                    m.c.resource_id == sa.bindparam("rid"),
                    m.c.current_revision_id == sa.bindparam("revision_id"),
                )
                .values(status=sa.bindparam("status"))
            )

        return self.compiled(("set_meta_status", model), build)

    def delete_meta(self, model: str) -> Compiled:
        def build() -> Any:
            m = self.tables(model).meta
            return m.delete().where(m.c.resource_id == sa.bindparam("rid"))

        return self.compiled(("delete_meta", model), build)

    def delete_side(self, model: str, column: str) -> Compiled:
        def build() -> Any:
            side = self.tables(model).side[column]
            return side.delete().where(side.c.resource_id == sa.bindparam("rid"))

        return self.compiled(("delete_side", model, column), build)

    def insert_side(self, model: str, column: str) -> Compiled:
        def build() -> Any:
            side = self.tables(model).side[column]
            return side.insert().values(
                resource_id=sa.bindparam("rid"), value=sa.bindparam("value")
            )

        return self.compiled(("insert_side", model, column), build)

    def live_ids(self, model: str, n: int) -> Compiled:
        def build() -> Any:
            m = self.tables(model).meta
            return sa.select(m.c.resource_id).where(
                m.c.resource_id.in_(params(f"i{k}" for k in range(n))),
                m.c.deleted == sa.false(),
            )

        return self.compiled(("live_ids", model, n), build)

    def referrers(self, model: str, column: str, n: int) -> Compiled:
        """Rows of ``model`` whose ``column`` holds one of n ids."""

        def build() -> Any:
            t = self.tables(model)
            ids = params(f"i{k}" for k in range(n))
            if column in t.side:
                side = t.side[column]
                return (
                    sa.select(side.c.resource_id, t.meta.c.deleted)
                    .select_from(side.join(t.meta, t.meta.c.resource_id == side.c.resource_id))
                    .where(side.c.value.in_(ids))
                    .distinct()
                )
            return sa.select(t.meta.c.resource_id, t.meta.c.deleted).where(
                t.meta.c[column].in_(ids)
            )

        return self.compiled(("referrers", model, column, n), build)

    def current_rows(self, model: str) -> Compiled:
        def build() -> Any:
            m = self.tables(model).meta
            return sa.select(m.c.resource_id, m.c.current_revision_id, m.c.current_hash)

        return self.compiled(("current_rows", model), build)
