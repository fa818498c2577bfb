"""The meta store on PostgreSQL, over asyncpg.

Store operations are the same synchronous functions the SQLite store runs
(``operations.py``), over statements SQLAlchemy builds and compiles once for
PostgreSQL (``statements.py``). Each runs in a greenlet (SQLAlchemy's
``greenlet_spawn``), where ``await_only`` turns every statement into an
awaited asyncpg call on a pooled connection, so the event loop never blocks.
SQLAlchemy's engine runs only schema work: measured here, its connection and
result layers were more than half of a get's client time (benchmarks/RESULTS.md).

* Writes take a pooled connection and one transaction each; per-resource
  ordering comes from ``SELECT ... FOR UPDATE`` on the meta row, so replicas
  need no lock of their own. A create with nothing to check is one statement
  in autocommit (a CTE inserting the revision and the meta row): one round
  trip instead of four.
* Reads run in autocommit: one round trip per statement, no BEGIN/ROLLBACK.
* Schema work (alembic, per-model tables) runs under a session advisory lock
  keyed by the schema, so when several replicas start at once exactly one
  applies DDL and the others wait, then find nothing left to do.
* The pool opens at most ``pool_size`` connections, only as demand needs
  them, and keeps every healthy one: callers beyond the size wait for one to
  be handed back (up to ``pool_timeout``). Closing connections handed back
  under a burst made PostgreSQL spend its CPU starting sessions (1,400 to
  2,100 in 15 s of 16 HTTP clients on a pool of 10).
* A dropped connection (server restart, ``pg_terminate_backend``) fails the
  operation that was using it with a StorageError and is thrown away; one
  dropped while idle in the pool is replaced when next checked out.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only, greenlet_spawn

from app.errors import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    StorageError,
)
from app.storage.base import Capabilities, InsertResource, StoredResource, WriteOp
from app.storage.sql import operations as ops
from app.storage.sql.meta_store import Backfill, Check, SqlMetaStore
from app.storage.sql.runner import Compiled, Db
from app.storage.sql.statements import Statements

R = TypeVar("R")

# The transaction the current task is inside, if any (see PgRunner.transaction).
_held: contextvars.ContextVar[_Held | None] = contextvars.ContextVar(
    "specql_pg_transaction", default=None
)


@dataclasses.dataclass(frozen=True)
class PgOptions:
    """Connection settings of the PostgreSQL meta store.

    Attributes:
        url: ``postgresql://user:password@host:port/database`` (``postgres://``
            and ``postgresql+asyncpg://`` are accepted too).
        schema: the PostgreSQL schema holding SpecQL's tables (created when
            missing); None uses the server's search_path.
        pool_size: the most connections open at once per process; each is
            opened when first needed and kept until the store closes.
        pool_timeout: seconds a request waits for a free connection.
        connect_timeout: seconds to establish a connection.
        statement_timeout_ms: the server cancels a statement running longer.
        application_name: what ``pg_stat_activity`` shows for the
            connections (tell replicas or tools apart).
    """

    url: str
    schema: str | None = None
    pool_size: int = 10
    pool_timeout: float = 30.0
    connect_timeout: float = 10.0
    statement_timeout_ms: int = 30_000
    application_name: str = "specql"


def engine_url(url: str) -> sa.URL:
    """A SQLAlchemy asyncpg URL from a user's PostgreSQL URL."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(
            "the database URL is not a URL", "Use postgresql://user@host:5432/database."
        ) from exc
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ConfigurationError(
            f"the database URL names {parsed.drivername!r}, not PostgreSQL",
            "Use postgresql://user@host:5432/database.",
        )
    if not parsed.database:
        raise ConfigurationError(
            "the database URL names no database", "Use postgresql://user@host:5432/database."
        )
    return parsed.set(drivername="postgresql+asyncpg").update_query_dict(
        {"prepared_statement_cache_size": "1000"}
    )


def _schema_name(schema: str) -> str:
    if not schema.replace("_", "").isalnum() or not schema[0].isalpha() or len(schema) > 63:
        raise ConfigurationError(
            f"the database schema {schema!r} is not a plain identifier",
            "Use letters, digits and underscores, starting with a letter (at most 63).",
        )
    return schema


def _server_settings(options: PgOptions) -> dict[str, str]:
    """Session settings every connection starts with (and keeps: no
    operation changes them)."""
    settings = {
        "application_name": options.application_name,
        "statement_timeout": str(int(options.statement_timeout_ms)),
    }
    if options.schema is not None:
        settings["search_path"] = _schema_name(options.schema)
    return settings


def create_engine(options: PgOptions) -> AsyncEngine:
    """SQLAlchemy's engine for schema work: two connections, one holding the
    advisory lock while the other applies DDL."""
    server_settings = _server_settings(options)
    engine = create_async_engine(
        engine_url(options.url),
        pool_size=2,
        max_overflow=0,
        pool_timeout=options.pool_timeout,
        connect_args={"server_settings": server_settings, "timeout": options.connect_timeout},
    )
    sa.event.listen(engine.sync_engine.pool, "checkout", _replace_if_closed)
    return engine


def _replace_if_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server closed while it sat idle (restart,
    ``pg_terminate_backend``) is replaced at checkout: asyncpg already knows
    it is closed, so this costs no round trip, unlike ``pool_pre_ping``."""
    if dbapi_connection.driver_connection.is_closed():
        raise sa.exc.DisconnectionError("the server closed this pooled connection")


class PgDb(Db):
    """Store operations' face of one asyncpg connection, inside a greenlet
    (``greenlet_spawn``), where ``await_only`` turns each call into an awaited
    round trip without blocking the event loop."""

    __slots__ = ()

    def rows(self, stmt: Compiled, params: dict[str, Any]) -> list[Any]:
        return await_only(self.conn.fetch(stmt.sql, *stmt.bind(params)))

    def rows_in_order(self, stmt: Compiled, args: Any) -> list[Any]:
        return await_only(self.conn.fetch(stmt.sql, *args))

    def execute_text(self, sql: str) -> None:
        await_only(self.conn.execute(sql))

    def run(self, stmt: Compiled, params: dict[str, Any]) -> int:
        status: str = await_only(self.conn.execute(stmt.sql, *stmt.bind(params)))
        return _row_count(status)

    def run_many(self, stmt: Compiled, params: Any) -> None:
        if params:
            await_only(self.conn.executemany(stmt.sql, [stmt.bind(p) for p in params]))


def _row_count(status: str) -> int:
    """The row count of a command tag (``UPDATE 3``, ``INSERT 0 1``)."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


def _connection_lost(exc: BaseException) -> bool:
    """Whether a connection that raised ``exc`` may be mid-protocol or gone:
    a cancelled call, a network error, a driver-side failure."""
    return not isinstance(exc, Exception) or isinstance(
        exc, (OSError, asyncio.TimeoutError, asyncpg.InterfaceError)
    )


class _Connections:
    """asyncpg connections handed out last-in first-out, at most ``pool_size``
    open; a caller finding them all in use waits for one to come back.

    asyncpg's own ``Pool`` cost ~85 µs of CPU per acquire and release here,
    and SQLAlchemy's pool on top ~115 µs more (benchmarks/RESULTS.md); a list
    and a semaphore cost a few. A connection the server closed while it sat
    idle (restart, ``pg_terminate_backend``) is dropped at checkout: asyncpg
    already knows it is closed, so this costs no round trip.
    """

    def __init__(self, options: PgOptions) -> None:
        if options.pool_size < 1:
            raise ConfigurationError(
                f"the PostgreSQL pool size must be 1 or more, not {options.pool_size!r}",
                "Set SPECQL_POOL_SIZE to e.g. 10.",
            )
        self.options = options
        url = engine_url(options.url)
        self._dsn = url.set(
            drivername="postgresql",
            query={k: v for k, v in url.query.items() if k != "prepared_statement_cache_size"},
        )
        self._idle: list[asyncpg.Connection] = []
        self._open: set[asyncpg.Connection] = set()
        self._slots: asyncio.Semaphore | None = None

    async def acquire(self) -> asyncpg.Connection:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.options.pool_size)
        if self._slots.locked():
            try:
                # a timeout scope, not wait_for: no task per waiting caller
                async with asyncio.timeout(self.options.pool_timeout):
                    await self._slots.acquire()
            except TimeoutError:
                raise StorageError(
                    f"postgres: no connection was free within {self.options.pool_timeout} s "
                    f"(all {self.options.pool_size} of the pool were in use)"
                ) from None
        else:
            await self._slots.acquire()
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            self._open.discard(conn)
        try:
            conn = await self._connect()
        except BaseException:
            self._slots.release()
            raise
        self._open.add(conn)
        return conn

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn.render_as_string(hide_password=False),
            server_settings=_server_settings(self.options),
            timeout=self.options.connect_timeout,
            statement_cache_size=1000,
        )

    async def release(self, conn: asyncpg.Connection, reusable: bool) -> None:
        """Take a connection back; a healthy one is always kept. One still
        inside a transaction (its end never ran) is rolled back first, so the
        next user never works in it: asyncpg tracks the transaction status the
        server reports, so the check costs no round trip."""
        try:
            if reusable and conn.is_in_transaction():
                reusable = False  # until the rollback is through (it may fail or be cancelled)
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
                    reusable = True
        finally:
            if reusable and not conn.is_closed():
                self._idle.append(conn)
            else:
                conn.terminate()
                self._open.discard(conn)
            assert self._slots is not None
            self._slots.release()

    async def close(self) -> None:
        self._idle.clear()
        for conn in list(self._open):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
            conn.terminate()
        self._open.clear()


class _Held:
    """A multi-step transaction: its connection, used by one step at a time."""

    def __init__(self, runner: PgRunner, conn: asyncpg.Connection) -> None:
        self.runner = runner
        self.conn = conn
        self.lock = asyncio.Lock()

    async def call(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        async with self.lock:
            return await greenlet_spawn(fn, PgDb(self.conn), *args)


class PgRunner:
    """Runs store operations on pooled asyncpg connections.

    Statements are SQLAlchemy-built and compiled once (``statements.py``) and
    sent to asyncpg directly; SQLAlchemy's engine serves only schema work
    (alembic, model tables), where its migration tooling is worth its cost.
    """

    def __init__(self, options: PgOptions) -> None:
        self.options = options
        self.engine = create_engine(options)  # schema work only
        self._pool = _Connections(options)
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the store is closed")

    async def read(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(db, *args)`` in autocommit; inside ``transaction()`` it
        sees that transaction."""
        self._check_open()
        held = _held.get()
        if held is not None and held.runner is self:
            return await held.call(fn, args)
        conn = await self._pool.acquire()
        try:
            result = await greenlet_spawn(fn, PgDb(conn), *args)
        except BaseException as exc:
            await self._pool.release(conn, not _connection_lost(exc))
            raise
        await self._pool.release(conn, True)
        return result

    async def write(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(db, *args)`` in one transaction of its own."""
        self._refuse_nested()
        async with self._transaction() as conn:
            return await greenlet_spawn(fn, PgDb(conn), *args)

    async def autocommit(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(db, *args)`` without a transaction around it: for one
        statement that is atomic by itself, saving the BEGIN and COMMIT
        round trips."""
        self._refuse_nested()
        return await self.read(fn, *args)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        conn = await self._pool.acquire()
        try:
            await conn.execute("BEGIN")
            yield conn
            await conn.execute("COMMIT")
        except BaseException as exc:
            await self._pool.release(conn, not _connection_lost(exc))  # rolls back
            raise
        await self._pool.release(conn, True)

    async def ddl(self, fn: Callable[[sa.Connection], R]) -> R:
        """Run ``fn(sqlalchemy_connection)`` in one transaction (schema work)."""
        self._check_open()
        async with self.engine.begin() as conn:
            return await conn.run_sync(fn)

    async def in_transaction(self, fn: Callable[..., R], *args: Any) -> R:
        held = _held.get()
        if held is None or held.runner is not self:
            raise StorageError("no transaction is open")
        return await held.call(fn, args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A multi-step write transaction on one connection."""
        self._refuse_nested()
        async with self._transaction() as conn:
            token = _held.set(_Held(self, conn))
            try:
                yield
            finally:
                _held.reset(token)

    @contextlib.asynccontextmanager
    async def advisory_lock(self, name: str) -> AsyncIterator[None]:
        """Hold a session advisory lock while the block runs (other processes
        asking for the same name wait)."""
        self._check_open()
        key = zlib.crc32(name.encode())
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
            await conn.commit()
            try:
                yield
            finally:
                with contextlib.suppress(sa.exc.DBAPIError):
                    await conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
                    await conn.commit()

    def _refuse_nested(self) -> None:
        self._check_open()
        held = _held.get()
        if held is not None and held.runner is self:
            raise BadRequestError(
                "a write was attempted from inside a delete or purge transaction (a "
                "before-hook or validator); write from an after-hook instead"
            )

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._pool.close()
            await self.engine.dispose()


# SQLSTATE classes and codes PostgreSQL answers with (see its "Error Codes" appendix).
_UNIQUE_VIOLATION = "23505"
_RETRY_LATER = {"40001": "a serialization failure", "40P01": "a deadlock"}
_STATEMENT_TIMEOUT = "57014"


def _driver_error(exc: BaseException) -> BaseException | None:
    """The asyncpg exception under SQLAlchemy's and its adapter's wrappers."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__module__.startswith("asyncpg"):
            return seen
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


class PostgresMetaStore(SqlMetaStore):
    """The meta store on PostgreSQL.

    Args:
        options: connection and pool settings.
        inline_payloads: keep revision payloads in the revisions table (the
            ``postgres-inline`` choice, for teams without an object store).
    """

    def __init__(self, options: PgOptions, *, inline_payloads: bool = False) -> None:
        super().__init__(
            PgRunner(options),
            asyncpg_dialect.dialect(),  # type: ignore[no-untyped-call]
            Capabilities(transactions=True, inline_payloads=inline_payloads),
        )
        self.options = options

    async def open(
        self,
        specs: Any,
        backfill: Backfill | None = None,
        check: Check | None = None,
        payload_format: str = "msgpack",
    ) -> None:
        schema = self.options.schema
        with self._translating():
            async with self.runner.advisory_lock(f"specql:{schema or ''}"):
                if schema is not None:
                    await self.runner.ddl(
                        lambda c: c.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                    )
                await super().open(specs, backfill, check, payload_format)
        await self.runner.engine.dispose()  # schema work is done: close its connections

    async def apply(self, write_ops: Sequence[WriteOp]) -> list[Any]:
        if len(write_ops) == 1:
            op = write_ops[0]
            if isinstance(op, InsertResource) and not op.revision.refs and not op.revision.lists:
                return [await self._guard(self.runner.autocommit(_insert_alone, self.st, op))]
        return await super().apply(write_ops)

    def _translate(self, exc: Exception) -> Exception | None:
        driver = _driver_error(exc)
        state = getattr(driver, "sqlstate", None)
        if state == _UNIQUE_VIOLATION:
            table = getattr(driver, "table_name", None) or ""
            constraint = getattr(driver, "constraint_name", None) or ""
            columns = self._constraint_columns(table, constraint)
            found = self._unique_error(table, columns, exc) if columns else None
            return found or StorageError(f"postgres: unique violation on {constraint}")
        if state in _RETRY_LATER:
            return ConflictError(
                f"a concurrent write got in the way ({_RETRY_LATER[state]}); retry the request"
            )
        if state == _STATEMENT_TIMEOUT:
            return StorageError(
                f"postgres: statement cancelled after {self.options.statement_timeout_ms} ms"
            )
        if state is not None and state.startswith("22"):  # data exception
            return BadRequestError(
                "a value cannot be stored or compared: numbers must fit in 64 bits and "
                "text must not contain NUL characters"
            )
        if isinstance(exc, (OverflowError, sa.exc.DBAPIError)) and _is_argument_error(exc):
            return BadRequestError(
                "a value cannot be stored or compared: numbers must fit in 64 bits and "
                "values must be text, numbers, booleans or null"
            )
        if driver is not None or isinstance(
            exc, (sa.exc.SQLAlchemyError, ConnectionError, asyncio.TimeoutError)
        ):
            return StorageError(f"postgres: {type(driver or exc).__name__}: {driver or exc}")
        return None

    def _constraint_columns(self, table: str, constraint: str) -> set[str]:
        if constraint == f"{table}_pkey":
            return {"resource_id"}
        model = table.removeprefix("specql_m_")
        if model not in self.st.specs:
            return set()
        tables = self.st.tables(model)
        group = tables.unique_indexes.get(constraint)
        if group is None:
            return set()
        return {tables.spec.indexed[p].column for p in group}


def _is_argument_error(exc: BaseException) -> bool:
    """asyncpg refused to encode a parameter (wrong type, out of range)."""
    text = str(_driver_error(exc) or exc)
    return "invalid input for query argument" in text or isinstance(exc, OverflowError)


def _insert_alone(db: Db, st: Statements, op: InsertResource) -> StoredResource:
    """A create with no references to check and no list values: the meta row
    and the first revision in one statement, atomic without a transaction."""
    row = ops.meta_row(st, op)
    first = ops.revision_row(
        op.model, op.resource_id, op.revision, 1, None, op.schema_version, st.inline
    )
    try:
        db.run(st.insert_resource(op.model), {**row, **{f"r_{k}": v for k, v in first.items()}})
    except Exception as exc:
        exc.specql_op = op  # type: ignore[attr-defined]  # names the id on a conflict
        raise
    return ops.written_record(st, op.model, row)
