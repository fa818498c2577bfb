"""The meta store on PostgreSQL: SQLAlchemy's async engine over asyncpg.

Store operations are the same synchronous functions the SQLite store runs
(``operations.py``), over statements compiled for PostgreSQL: each runs in
``AsyncConnection.run_sync``, where SQLAlchemy's greenlet bridge turns every
statement into an awaited asyncpg call, so the event loop never blocks.

* Writes take a pooled connection and one transaction each; per-resource
  ordering comes from ``SELECT ... FOR UPDATE`` on the meta row, so replicas
  need no lock of their own.
* Reads run in autocommit on a pool of their own: one round trip per
  statement, no BEGIN/ROLLBACK (switching a pooled connection in and out of
  autocommit per read cost a second round trip: get 680 -> 2,070/s).
* Schema work (alembic, per-model tables) runs under a session advisory lock
  keyed by the schema, so when several replicas start at once exactly one
  applies DDL and the others wait, then find nothing left to do.
* A dropped connection (server restart, ``pg_terminate_backend``) fails the
  operation that was using it with a StorageError; SQLAlchemy then
  invalidates the pool, and the next operation connects afresh. One dropped
  while idle in the pool is replaced when next checked out.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import await_only

from app.errors import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    StorageError,
)
from app.storage.base import Capabilities
from app.storage.sql.meta_store import Backfill, SqlMetaStore
from app.storage.sql.runner import Compiled, Db

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
        pool_size: connections kept open per process.
        max_overflow: extra connections opened under load, closed when idle.
        pool_timeout: seconds a request waits for a free connection.
        connect_timeout: seconds to establish a connection.
        statement_timeout_ms: the server cancels a statement running longer.
    """

    url: str
    schema: str | None = None
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 30.0
    connect_timeout: float = 10.0
    statement_timeout_ms: int = 30_000


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


def create_engine(options: PgOptions, *, autocommit: bool = False) -> AsyncEngine:
    """An engine and its pool; ``autocommit`` connections stay in autocommit
    for life (switching a pooled connection per checkout costs a round trip)."""
    server_settings = {
        "application_name": "specql",
        "statement_timeout": str(int(options.statement_timeout_ms)),
    }
    if options.schema is not None:
        server_settings["search_path"] = _schema_name(options.schema)
    engine = create_async_engine(
        engine_url(options.url),
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        connect_args={"server_settings": server_settings, "timeout": options.connect_timeout},
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
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
    """Store operations' face of a SQLAlchemy connection (inside ``run_sync``)."""

    __slots__ = ()

    def rows(self, stmt: Compiled, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self.conn.exec_driver_sql(stmt.sql, stmt.bind(params)).fetchall()  # type: ignore[no-any-return]

    def rows_in_order(self, stmt: Compiled, args: Any) -> list[tuple[Any, ...]]:
        return self.conn.exec_driver_sql(stmt.sql, tuple(args)).fetchall()  # type: ignore[no-any-return]

    def execute_text(self, sql: str) -> None:
        self.conn.exec_driver_sql(sql)

    def run(self, stmt: Compiled, params: dict[str, Any]) -> int:
        return self.conn.exec_driver_sql(stmt.sql, stmt.bind(params)).rowcount  # type: ignore[no-any-return]

    def run_many(self, stmt: Compiled, params: Any) -> None:
        if params:
            self.conn.exec_driver_sql(stmt.sql, [stmt.bind(p) for p in params])


class PgReadDb(PgDb):
    """Reads on an autocommit connection, sent to asyncpg directly: no
    transaction to keep in step with SQLAlchemy, and SQLAlchemy's
    CursorResult (built anew for every text statement) was a quarter of a
    get's client time."""

    __slots__ = ("driver",)

    def __init__(self, conn: sa.Connection) -> None:
        super().__init__(conn)
        self.driver: Any = conn.connection.driver_connection

    def rows(self, stmt: Compiled, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return await_only(self.driver.fetch(stmt.sql, *stmt.bind(params)))

    def rows_in_order(self, stmt: Compiled, args: Any) -> list[tuple[Any, ...]]:
        return await_only(self.driver.fetch(stmt.sql, *args))


def _call(conn: sa.Connection, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
    return fn(PgDb(conn), *args)


def _read_call(conn: sa.Connection, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
    return fn(PgReadDb(conn), *args)


class _Held:
    """A multi-step transaction: its connection, used by one step at a time."""

    def __init__(self, runner: PgRunner, conn: AsyncConnection) -> None:
        self.runner = runner
        self.conn = conn
        self.lock = asyncio.Lock()

    async def call(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        async with self.lock:
            return await self.conn.run_sync(_call, fn, args)


class PgRunner:
    """Runs store operations on a pooled asyncpg connection each."""

    def __init__(self, options: PgOptions) -> None:
        self.options = options
        self.engine = create_engine(options)
        self._reads = create_engine(options, autocommit=True)
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the store is closed")

    async def read(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(db, *args)``; inside ``transaction()`` it sees that transaction."""
        self._check_open()
        held = _held.get()
        if held is not None and held.runner is self:
            return await held.call(fn, args)
        async with self._reads.connect() as conn:
            return await conn.run_sync(_read_call, fn, args)

    async def write(self, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(db, *args)`` in one transaction of its own."""
        self._refuse_nested()
        async with self.engine.begin() as conn:
            return await conn.run_sync(_call, fn, args)

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
        async with self.engine.begin() as conn:
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
            await self.engine.dispose()
            await self._reads.dispose()


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

    async def open(self, specs: Any, backfill: Backfill | None = None) -> None:
        schema = self.options.schema
        with self._translating():
            async with self.runner.advisory_lock(f"specql:{schema or ''}"):
                if schema is not None:
                    await self.runner.ddl(
                        lambda c: c.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                    )
                await super().open(specs, backfill)

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
