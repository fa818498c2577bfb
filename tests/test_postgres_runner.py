"""The PostgreSQL runner: statements go to asyncpg on a pool of SpecQL's own.

What is counted here is what reaches the server: each asyncpg call on a
pooled connection is one round trip.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from typing import Any

import asyncpg
import pytest

from app.errors import (
    ConfigurationError,
    NotFoundError,
    ResourceExistsError,
    StorageError,
    UniqueViolationError,
)
from app.storage.sql.postgres import PgOptions, PostgresMetaStore
from app.storage.sql.runner import Compiled, Db
from tests.conftest import DATABASE_URL
from tests.models import Doc, Owner, Pet, User

pytestmark = pytest.mark.parametrize("settings", ["postgres-inline"], indirect=True)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every asyncpg call made while the test runs."""
    log: list[str] = []
    for name in ("fetch", "execute", "executemany"):
        original = getattr(asyncpg.Connection, name)

        def spy(self: Any, sql: str, *args: Any, _original: Any = original, **kw: Any) -> Any:
            log.append(sql.split(None, 1)[0].upper())
            return _original(self, sql, *args, **kw)

        monkeypatch.setattr(asyncpg.Connection, name, spy)
    return log


async def test_a_plain_create_is_one_statement_without_a_transaction(open_manager, sent):
    manager = await open_manager()
    await manager.create(Doc, Doc("warm"))  # statements are prepared on first use
    sent.clear()
    made = await manager.create(Doc, Doc("one trip"), resource_id="d1")
    assert sent == ["WITH"]  # the revision and the meta row in one CTE, autocommit
    assert (await manager.get(Doc, "d1")).data == Doc("one trip")
    [info] = (await manager.history(Doc, "d1")).items
    assert info.revision_id == made.revision_id and info.number == 1


async def test_a_create_with_references_checks_them_in_a_transaction(open_manager, sent):
    manager = await open_manager()
    owner = await manager.create(Owner, Owner("ann"))
    sent.clear()
    await manager.create(Pet, Pet("rex", owner=owner.id))
    assert sent[0] == "BEGIN" and sent[-1] == "COMMIT"
    assert "SELECT" in sent  # the owner is looked up inside the transaction


async def test_a_taken_id_or_value_in_the_one_statement_create_writes_nothing(open_manager):
    manager = await open_manager()
    first = await manager.create(Doc, Doc("first"), resource_id="same")
    with pytest.raises(ResourceExistsError) as taken:
        await manager.create(Doc, Doc("second"), resource_id="same")
    assert "same" in str(taken.value)
    page = await manager.history(Doc, "same")
    assert [i.revision_id for i in page.items] == [first.revision_id]

    await manager.create(User, User("a@example.com"))
    with pytest.raises(UniqueViolationError) as clash:
        await manager.create(User, User("a@example.com"), resource_id="u2")
    assert "a@example.com" in str(clash.value)
    assert not await manager.exists(User, "u2")
    with pytest.raises(NotFoundError):
        await manager.history(User, "u2")


async def test_a_full_pool_answers_with_a_clear_error_after_its_timeout(open_manager):
    manager = await open_manager()  # makes the schema and its tables
    options = manager.stores.meta.options
    store = PostgresMetaStore(
        PgOptions(options.url, schema=options.schema, pool_size=1, pool_timeout=0.2),
        inline_payloads=True,
    )
    await store.open(list(manager.specs.values()))
    try:
        async with store.transaction():  # holds the only connection
            outside = contextvars.Context()  # another request: not inside the transaction
            waiting = asyncio.get_running_loop().create_task(
                store.load("doc", ["missing"]), context=outside
            )
            with pytest.raises(StorageError) as full:
                await waiting
        assert "no connection was free within 0.2 s (all 1 of the pool were in use)" in str(
            full.value
        )
        assert await store.load("doc", ["missing"]) == [None]  # free again afterwards
    finally:
        await store.close()


async def test_a_failed_transaction_returns_its_connection_clean(open_manager):
    manager = await open_manager(pool_size=1)
    await manager.create(User, User("b@example.com"))
    for _ in range(3):  # each failure rolls back; the one pooled connection stays usable
        with pytest.raises(UniqueViolationError):
            await manager.create_many(User, [User("c@example.com"), User("b@example.com")])
    assert not (await manager.search(User, None)).items[1:]
    created = await manager.create(User, User("c@example.com"))
    assert (await manager.get(User, created.id)).data.email == "c@example.com"


BACKEND_PID = Compiled("SELECT pg_backend_pid()", [])


async def _own_store(manager: Any, **options: Any) -> PostgresMetaStore:
    """A store on the manager's schema whose connections carry a name of their
    own, so that only they are counted (other tests share the server)."""
    base = manager.stores.meta.options
    store = PostgresMetaStore(
        PgOptions(
            base.url,
            schema=base.schema,
            application_name=f"specql-test-{uuid.uuid4().hex[:12]}",
            **options,
        ),
        inline_payloads=True,
    )
    await store.open(list(manager.specs.values()))
    return store


async def _sessions(application_name: str) -> set[int]:
    """The backends PostgreSQL has open under ``application_name``."""
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1", application_name
        )
    finally:
        await conn.close()
    return {row["pid"] for row in rows}


async def test_a_burst_larger_than_the_pool_waits_and_opens_no_more_sessions(open_manager):
    # Before, 3 connections were kept and up to 10 more opened for a burst, then
    # closed as they came back: every burst started new PostgreSQL sessions.
    store = await _own_store(await open_manager(), pool_size=3)
    name = store.options.application_name
    runner = store.runner
    try:
        served: list[int] = []
        open_now: set[int] = set()

        def backend(db: Db) -> None:
            served.append(db.rows(BACKEND_PID, {})[0][0])

        for _ in range(5):  # bursts of 12 callers, 4 times the pool
            await asyncio.gather(*(runner.read(backend) for _ in range(12)))
            open_now = await _sessions(name)
            assert len(open_now) <= 3, open_now
        assert len(served) == 60  # every caller was served, waiting for a connection
        assert set(served) == open_now  # no session was opened but the ones still open
    finally:
        await store.close()
    assert await _sessions(name) == set()  # closing the store closes them all


async def test_a_connection_handed_back_inside_a_transaction_is_rolled_back(open_manager):
    store = await _own_store(await open_manager(), pool_size=1)
    runner = store.runner
    try:
        # an operation that leaves a transaction open (its end never ran)
        await runner.read(lambda db: db.execute_text("BEGIN"))
        # the next user of the one connection works outside any transaction
        assert not await runner.read(lambda db: db.conn.is_in_transaction())
        assert await runner.read(lambda db: db.rows(BACKEND_PID, {})[0][0]) in await _sessions(
            store.options.application_name
        )
    finally:
        await store.close()


async def test_a_pool_of_no_connections_is_refused(open_manager):
    manager = await open_manager()
    with pytest.raises(ConfigurationError) as refused:
        await _own_store(manager, pool_size=0)
    assert "pool size must be 1 or more" in str(refused.value)
