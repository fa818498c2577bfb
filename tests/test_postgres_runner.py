"""The PostgreSQL runner: statements go to asyncpg on a pool of SpecQL's own.

What is counted here is what reaches the server: each asyncpg call on a
pooled connection is one round trip.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import asyncpg
import pytest

from app.errors import NotFoundError, ResourceExistsError, StorageError, UniqueViolationError
from app.storage.sql.postgres import PgOptions, PostgresMetaStore
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
        PgOptions(
            options.url, schema=options.schema, pool_size=1, max_overflow=0, pool_timeout=0.2
        ),
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
        assert "no connection was free within 0.2 s" in str(full.value)
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
