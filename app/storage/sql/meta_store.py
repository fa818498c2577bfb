"""SqlMetaStore: metas, revision headers, index tables and searches in SQL."""

from __future__ import annotations

import contextlib
import sqlite3
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect

from app.errors import (
    BadRequestError,
    ResourceExistsError,
    SpecQLError,
    StorageError,
    UniqueViolationError,
)
from app.records import Referrer, RevisionInfo
from app.resources.compat import describe
from app.resources.spec import ResourceSpec
from app.storage.base import (
    BlobInfo,
    BlobStore,
    Capabilities,
    CompiledSearch,
    MetaStore,
    MetaTransaction,
    RevisionKey,
    RevisionStore,
    StoredResource,
    StoredRevision,
    WriteOp,
)
from app.storage.sql import migrate, operations as ops
from app.storage.sql.record_cache import Commit, RecordCache
from app.storage.sql.runner import PAGE_SIZE, Db, SqliteRunner
from app.storage.sql.statements import Statements

Backfill = Callable[[str, list[str]], Awaitable[None]]
Check = Callable[[str, str | None], Awaitable[None]]


class _Reads:
    """Read methods shared by the store and its transactions."""

    st: Statements
    _readers: dict[str, ops.RowReader]
    _referrer_targets: dict[str, list[tuple[str, str, str]]]

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        raise NotImplementedError

    def _reader(self, model: str) -> ops.RowReader:
        return self._readers[model]

    async def load(
        self, model: str, ids: Sequence[str], *, with_payload: bool = False
    ) -> list[StoredResource | None]:
        return await self._read(ops.load, self.st, self._reader(model), ids, with_payload)  # type: ignore[no-any-return]

    async def revision(
        self, model: str, resource_id: str, revision_id: str, *, with_payload: bool = False
    ) -> StoredRevision | None:
        return await self._read(  # type: ignore[no-any-return]
            ops.revision, self.st, model, resource_id, revision_id, with_payload
        )

    async def revision_infos(
        self, model: str, keys: Sequence[tuple[str, str]]
    ) -> list[RevisionInfo | None]:
        if not keys:
            return []
        return await self._read(ops.revision_infos, self.st, model, keys)  # type: ignore[no-any-return]

    async def revision_pages(
        self, model: str, resource_ids: Sequence[str], *, limit: int, before_number: int | None
    ) -> list[list[RevisionInfo]]:
        if not resource_ids:
            return []
        return await self._read(  # type: ignore[no-any-return]
            ops.revision_pages, self.st, model, resource_ids, limit, before_number
        )

    async def search(
        self, query: CompiledSearch, *, with_payload: bool = False
    ) -> list[StoredResource]:
        stmt = self.st.compiled(query.statement.key, query.statement.build)
        reader = self._reader(query.model)

        positions = query.cursor_positions

        def run(db: Db) -> list[StoredResource]:
            found = []
            for row in db.rows(stmt, query.statement.params):
                item = reader(row, with_payload)
                item.cursor = tuple([row[i] for i in positions])
                found.append(item)
            return found

        return await self._read(run)  # type: ignore[no-any-return]

    async def count(self, query: CompiledSearch) -> int:
        stmt = self.st.compiled(query.statement.key, query.statement.build)

        def run(db: Db) -> int:
            return int(db.rows(stmt, query.statement.params)[0][0])

        return await self._read(run)  # type: ignore[no-any-return]

    async def count_groups(self, query: CompiledSearch) -> list[tuple[Any, int]]:
        stmt = self.st.compiled(query.statement.key, query.statement.build)

        def run(db: Db) -> list[tuple[Any, int]]:
            return [(value, int(n)) for value, n in db.rows(stmt, query.statement.params)]

        return await self._read(run)  # type: ignore[no-any-return]

    async def referrers(
        self, model: str, resource_ids: Sequence[str], *, live_only: bool
    ) -> list[Referrer]:
        targets = self._referrer_targets.get(model, [])
        if not targets or not resource_ids:
            return []
        return await self._read(ops.referrers, self.st, targets, resource_ids, live_only)  # type: ignore[no-any-return]

    async def payload_keys(self, model: str, resource_id: str) -> list[RevisionKey]:
        return await self._read(ops.payload_keys, self.st, model, resource_id)  # type: ignore[no-any-return]

    async def known_payloads(self, keys: Sequence[RevisionKey]) -> set[RevisionKey]:
        return await self._read(ops.known_payloads, self.st, keys)  # type: ignore[no-any-return]


class _SqlTransaction(_Reads, MetaTransaction):
    def __init__(self, store: SqlMetaStore) -> None:
        self._store = store
        self.st = store.st
        self._readers = store._readers
        self._referrer_targets = store._referrer_targets

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._store._guard(self._store.runner.in_transaction(fn, *args))

    async def apply(self, write_ops: Sequence[WriteOp]) -> list[Any]:
        return await self._read(ops.apply, self.st, write_ops)  # type: ignore[no-any-return]


class SqlMetaStore(_Reads, MetaStore):
    """The meta store in SQL; a subclass names the database: its runner,
    dialect and how its driver's errors read.

    Args:
        runner: runs store operations (SqliteRunner or PgRunner).
        dialect: compiles every statement.
        capabilities: what this database offers.
    """

    def __init__(self, runner: Any, dialect: sa.engine.Dialect, capabilities: Capabilities):
        self.runner = runner
        self.capabilities = capabilities
        self.dialect = dialect
        self.dialect_name = dialect.name
        self.st = Statements(self.dialect, {})
        self.st.inline = capabilities.inline_payloads
        self._readers: dict[str, ops.RowReader] = {}
        self._referrer_targets: dict[str, list[tuple[str, str, str]]] = {}
        self.schema_changes: list[str] = []  # what the last open() changed

    @abstractmethod
    def _translate(self, exc: Exception) -> Exception | None:
        """The SpecQL error for a driver exception, None to let it pass."""

    async def _guard(self, call: Awaitable[Any]) -> Any:
        """Await ``call``, raising driver exceptions as SpecQL errors (written
        out rather than as ``with self._translating()``: it is on every read)."""
        try:
            return await call
        except SpecQLError:
            raise
        except Exception as exc:
            self._reraise(exc)

    @contextlib.contextmanager
    def _translating(self) -> Iterator[None]:
        """Raise driver exceptions from the block as SpecQL errors."""
        try:
            yield
        except SpecQLError:
            raise
        except Exception as exc:
            self._reraise(exc)

    def _reraise(self, exc: Exception) -> NoReturn:
        translated = self._translate(exc)
        if translated is None:
            raise exc
        raise translated from exc

    def _unique_error(self, table: str, columns: set[str], exc: Exception) -> SpecQLError | None:
        """A taken resource id or unique value, from the table and columns it hit."""
        model = table.removeprefix("specql_m_")
        if not table.startswith("specql_m_") or model not in self.st.specs:
            return None
        if columns == {"resource_id"}:
            op = getattr(exc, "specql_op", None)
            return ResourceExistsError(model, getattr(op, "resource_id", None))
        tables = self.st.tables(model)
        group = tables.unique_group_for_columns(columns)
        if group is None:
            return None
        return UniqueViolationError(model, group, _taken_value(exc, tables, group))

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self._guard(self.runner.read(fn, *args))

    async def open(
        self,
        specs: Sequence[ResourceSpec],
        backfill: Backfill | None = None,
        check: Check | None = None,
        payload_format: str = "msgpack",
    ) -> None:
        spec_list = list(specs)
        self.st.specs.update({s.name: s for s in spec_list})
        for spec in spec_list:
            self._readers[spec.name] = ops.RowReader(self.st, spec.name)
        self.st.readers = self._readers
        self._referrer_targets.clear()
        for spec in self.st.specs.values():
            for f in spec.refs:
                if f.ref is not None and not f.ref.revision:
                    self._referrer_targets.setdefault(f.ref.model, []).append(
                        (spec.name, f.path, f.column)
                    )

        changes: list[str] = []
        shapes = {spec.name: describe(spec.model, payload_format) for spec in spec_list}

        def prepare(conn: sa.Connection) -> tuple[dict[str, str | None], dict[str, list[str]]]:
            migrate.upgrade_system_tables(conn, changes)
            recorded = migrate.recorded_shapes(conn)
            return recorded, migrate.add_model_columns(conn, spec_list, changes)

        recorded, pending = await self._guard(self.runner.ddl(prepare))
        for model, shape in shapes.items():  # before a backfill decodes every resource
            if model in recorded and recorded[model] != shape:
                if check is not None:
                    await check(model, recorded[model])
                changes.append(f"{model}: recorded its changed field shapes")
        for model, paths in pending.items():
            if backfill is not None:
                await backfill(model, paths)
                changes.append(f"{model}: backfilled {', '.join(paths)}")
        new_shapes = {m: s for m, s in shapes.items() if recorded.get(m) != s}

        def finish(conn: sa.Connection) -> None:
            migrate.build_model_indexes(conn, spec_list, changes)
            migrate.record_shapes(conn, new_shapes)

        await self._guard(self.runner.ddl(finish))
        self.schema_changes = changes

    async def close(self) -> None:
        await self.runner.close()

    async def schema_state(
        self, specs: Sequence[ResourceSpec], payload_format: str = "msgpack"
    ) -> migrate.SchemaState:
        """The migration and model-table state, without changing anything."""
        spec_list = list(specs)
        shapes = [describe(spec.model, payload_format) for spec in spec_list]
        return await self._guard(  # type: ignore[no-any-return]
            self.runner.ddl(lambda c: migrate.schema_state(c, spec_list, shapes))
        )

    async def ping(self) -> None:
        def run(db: Db) -> None:
            db.execute_text("SELECT 1")

        await self._read(run)

    async def apply(self, write_ops: Sequence[WriteOp]) -> list[Any]:
        return await self._guard(self.runner.write(ops.apply, self.st, write_ops))  # type: ignore[no-any-return]

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[MetaTransaction]:
        with self._translating():
            async with self.runner.transaction():
                yield _SqlTransaction(self)

    async def backfill_rows(self, model: str) -> AsyncIterator[tuple[str, str, str]]:
        stmt = self.st.current_rows(model)
        rows = await self._read(lambda db: db.rows(stmt, {}))
        for row in rows:
            yield tuple(row)

    async def reindex(
        self, model: str, rows: Sequence[tuple[str, dict[str, Any], dict[str, list[Any]]]]
    ) -> None:
        """Rewrite index values of existing resources (used by backfill)."""
        await self._guard(self.runner.write(ops.reindex, self.st, model, rows))

    async def sample_current(self, spec: ResourceSpec, limit: int) -> list[RevisionKey]:
        return await self._guard(  # type: ignore[no-any-return]
            self.runner.ddl(lambda c: migrate.sample_current(c, spec, limit))
        )


class SqliteMetaStore(SqlMetaStore):
    """The meta store on SQLite (a file, or memory).

    Args:
        path: the SQLite file, or None for an in-memory database.
        inline_payloads: keep revision payloads in the revisions table, written
            in the same transaction as the meta change.
        readers: reader threads for a file database.
        record_cache_bytes: memory for current records (see ``RecordCache``);
            0 reads every record from the database.
        page_size: bytes per page of a database file this creates (see
            ``SqliteRunner``); an existing file keeps its own.
    """

    runner: SqliteRunner

    def __init__(
        self,
        path: str | None,
        *,
        inline_payloads: bool = True,
        readers: int = 1,
        record_cache_bytes: int = 64 * 1024 * 1024,
        page_size: int = PAGE_SIZE,
    ):
        super().__init__(
            SqliteRunner(path, readers=readers, page_size=page_size),
            sqlite_dialect.dialect(paramstyle="qmark"),
            Capabilities(
                transactions=True,
                inline_payloads=inline_payloads,
                durable=path is not None,
                shared=path is not None,
            ),
        )
        self.records = (
            RecordCache(self.runner.commits, record_cache_bytes, payloads=inline_payloads)
            if record_cache_bytes > 0
            else None
        )

    async def load(
        self, model: str, ids: Sequence[str], *, with_payload: bool = False
    ) -> list[StoredResource | None]:
        """Records from the cache where it has them, the rest in one read
        (inside a transaction of ours, all from it: it may have changed them)."""
        cache = self.records
        if cache is None or self.runner.in_own_transaction():
            return await super().load(model, ids, with_payload=with_payload)
        version = cache.current()
        found = [cache.get(model, i, with_payload) for i in ids]
        missing = [i for i, record in zip(ids, found, strict=True) if record is None]
        if not missing:
            return found
        loaded = await super().load(model, missing, with_payload=with_payload)
        fresh = [record for record in loaded if record is not None]
        cache.fill(version, fresh)
        if len(missing) == len(ids):
            return loaded
        by_id = {record.meta.resource_id: record for record in fresh}
        return [
            record if record is not None else by_id.get(i)
            for i, record in zip(ids, found, strict=True)
        ]

    async def search(
        self, query: CompiledSearch, *, with_payload: bool = False
    ) -> list[StoredResource]:
        """With the record cache: the page's ids and cursor values from SQL,
        the records from memory (those missing in one more read), unless
        anything was committed meanwhile: then the whole page from SQL."""
        cache = self.records
        if cache is None or query.keys is None or self.runner.in_own_transaction():
            return await super().search(query, with_payload=with_payload)
        version = cache.current()
        stmt = self.st.compiled(query.keys.key, query.keys.build)
        params = query.keys.params
        rows = await self._read(lambda db: db.rows(stmt, params))
        records = await self.load(query.model, [row[0] for row in rows], with_payload=with_payload)
        page = []
        for row, record in zip(rows, records, strict=True):
            if record is None:
                break
            page.append(StoredResource(record.meta, record.data_hash, record.payload, row[1:]))
        if len(page) < len(rows) or not cache.unchanged(version):
            return await super().search(query, with_payload=with_payload)
        return page

    async def close(self) -> None:
        self.records = None  # a closed store answers nothing, not even from memory
        await super().close()

    async def apply(self, write_ops: Sequence[WriteOp]) -> list[Any]:
        cache = self.records
        if cache is None:
            return await super().apply(write_ops)

        def committed(results: list[Any], commit: Commit | None) -> None:
            cache.written(commit, write_ops, results)

        return await self._guard(  # type: ignore[no-any-return]
            self.runner.write(ops.apply, self.st, write_ops, on_commit=committed)
        )

    def _translate(self, exc: Exception) -> Exception | None:
        if isinstance(exc, sqlite3.IntegrityError):
            text = str(exc)
            if "UNIQUE constraint failed:" in text:
                columns = text.split("UNIQUE constraint failed:", 1)[1].strip().split(", ")
                table = columns[0].split(".")[0]
                found = self._unique_error(table, {c.split(".", 1)[1] for c in columns}, exc)
                if found is not None:
                    return found
            return StorageError(f"sqlite integrity error: {text}")
        if isinstance(exc, (OverflowError, sqlite3.InterfaceError, sqlite3.ProgrammingError)):
            return BadRequestError(
                "a value cannot be stored or compared: numbers must fit in 64 bits and "
                "values must be text, numbers, booleans or null"
            )
        if isinstance(exc, (sqlite3.Error, sa.exc.SQLAlchemyError)):
            return StorageError(f"sqlite: {exc}")
        return None


def _taken_value(exc: Exception, tables: Any, group: tuple[str, ...]) -> Any:
    """The value that broke a unique index, from the op being applied."""
    op = getattr(exc, "specql_op", None)
    values = getattr(op, "values", None)
    if values is None:
        values = getattr(getattr(op, "revision", None), "values", None)
    if values is None:
        return None
    found = [values.get(tables.spec.indexed[p].column) for p in group]
    return found[0] if len(found) == 1 else tuple(found)


class SqlRevisionStore(RevisionStore):
    """Payloads kept inline in the meta store's revisions table.

    Writes happen inside the meta store's transaction (``inline_payloads``);
    this store only reads them back by key, for history and switches.
    """

    capabilities = Capabilities(inline_payloads=True)

    def __init__(self, meta: SqlMetaStore) -> None:
        self.meta = meta

    async def put_many(self, items: Sequence[tuple[RevisionKey, bytes]]) -> None:
        raise StorageError("inline payloads are written with the meta transaction")

    async def get_many(self, keys: Sequence[RevisionKey]) -> list[bytes | None]:
        ids = [k.revision_id for k in keys]
        st = self.meta.st

        def run(db: Db) -> dict[str, tuple[str, bytes]]:
            found: dict[str, tuple[str, bytes]] = {}
            for start in range(0, len(ids), ops.CHUNK):
                chunk = ids[start : start + ops.CHUNK]
                rows = db.rows(st.payloads(len(chunk)), {f"i{k}": v for k, v in enumerate(chunk)})
                for rid, data_hash, payload in rows:
                    found[rid] = (data_hash, payload)
            return found

        found = await self.meta._read(run)
        result: list[bytes | None] = []
        for key in keys:
            hit = found.get(key.revision_id)
            result.append(hit[1] if hit is not None and hit[0] == key.data_hash else None)
        return result

    async def delete_many(self, keys: Sequence[RevisionKey]) -> None:
        """Inline payloads go with their revision rows on purge."""


class SqlBlobStore(BlobStore):
    """Blob contents in the meta database (``specql_blobs``), for deployments
    without an object store. Each call is its own short transaction."""

    capabilities = Capabilities(transactions=False)

    def __init__(self, meta: SqlMetaStore) -> None:
        self.meta = meta

    async def put(self, digest: str, content: bytes, content_type: str | None = None) -> None:
        st = self.meta.st
        row = {
            "digest": _digest(digest),
            "size": len(content),
            "content": content,
            "content_type": content_type,
        }

        def run(db: Db) -> None:
            if not db.rows(st.blob_digests(1), {"i0": digest}):
                db.run(st.insert_blob(), row)

        try:
            await self.meta._guard(self.meta.runner.write(run))
        except StorageError:
            if not (await self.exists([digest]))[0]:
                raise
            # stored meanwhile by a concurrent writer: same digest, same content

    async def get(self, digest: str) -> bytes | None:
        stmt = self.meta.st.blob_content()
        rows = await self.meta._read(lambda db: db.rows(stmt, {"digest": _digest(digest)}))
        return bytes(rows[0][0]) if rows else None

    async def exists(self, digests: Sequence[str]) -> list[bool]:
        st = self.meta.st
        wanted = [_digest(d) for d in digests]

        def run(db: Db) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(wanted), ops.CHUNK):
                chunk = wanted[start : start + ops.CHUNK]
                params = {f"i{k}": v for k, v in enumerate(chunk)}
                found.update(r[0] for r in db.rows(st.blob_digests(len(chunk)), params))
            return found

        found = await self.meta._read(run)
        return [d in found for d in wanted]

    async def stat(self, digests: Sequence[str]) -> list[BlobInfo | None]:
        st = self.meta.st
        wanted = [_digest(d) for d in digests]

        def run(db: Db) -> dict[str, BlobInfo]:
            found: dict[str, BlobInfo] = {}
            for start in range(0, len(wanted), ops.CHUNK):
                chunk = wanted[start : start + ops.CHUNK]
                params = {f"i{k}": v for k, v in enumerate(chunk)}
                for digest, size, kind in db.rows(st.blob_infos(len(chunk)), params):
                    found[digest] = BlobInfo(size, kind)
            return found

        found = await self.meta._read(run)
        return [found.get(d) for d in wanted]

    async def delete(self, digest: str) -> None:
        stmt = self.meta.st.delete_blob()
        await self.meta._guard(
            self.meta.runner.write(lambda db: db.run(stmt, {"digest": _digest(digest)}))
        )


def _digest(digest: str) -> str:
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise StorageError(f"not a sha256 digest: {digest!r}")
    return digest
