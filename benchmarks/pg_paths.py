"""Where a PostgreSQL read or write spends its time: SpecQL's own path against
stand-ins for each layer, on the same data (postgres-inline, --n items).

    python benchmarks/pg_paths.py             # reads and writes, 5 rounds, medians
    python benchmarks/pg_paths.py --n 2000 --rounds 1

Reads (W1's get, search, count through ``ResourceManager``): ``PgRunner.read``
is swapped, for the length of one measurement, for

* A: SpecQL as it is (SQLAlchemy AsyncEngine, autocommit connection, run_sync,
  ``exec_driver_sql`` and its CursorResult);
* B: the same, but the store's SQL goes straight to the asyncpg connection
  under SQLAlchemy's (``await_only(driver.fetch(...))``: no CursorResult);
* D: no SQLAlchemy at run time: an asyncpg pool (``reset`` disabled) and the
  store operation run in a greenlet (``greenlet_spawn``), as run_sync does;
* F: as D, on one asyncpg connection held by the runner (no pool at all);
* floor: the same SQL on raw asyncpg (``pg_floor.py``), no manager.

The search uses the index that makes it an index scan (``(category, deleted,
price NULLS FIRST)``, added by hand here; see RESULTS.md, "Issue 3"), so its
time is client time rather than a sort of every row of the category.

Writes: SpecQL's create against raw asyncpg running SpecQL's two INSERTs (as
captured from one create) in BEGIN/COMMIT (4 round trips) and as one CTE
statement in autocommit (1 round trip).

Client CPU per call (``time.process_time``) is printed next to the rates: it
moves less than wall time when other processes share the machine.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import asyncpg  # type: ignore[import-untyped]  # noqa: E402
import asyncpg.prepared_stmt  # type: ignore[import-untyped]  # noqa: E402
from bench_profiles import DATABASE_URL, bench_storage  # noqa: E402
from pg_floor import specql_sql  # noqa: E402
from sqlalchemy.util import await_only, greenlet_spawn  # noqa: E402
from workload import CATEGORIES, INDEXED, Item, make_item  # noqa: E402

from app import F, Registry  # noqa: E402
from app.storage.sql import postgres as pg  # noqa: E402

Call = Callable[[], Awaitable[Any]]


class DriverDb(pg.PgDb):
    """B: inside run_sync, the statement goes to the asyncpg connection itself."""

    __slots__ = ()

    def rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        driver = self.conn.connection.driver_connection
        return await_only(driver.fetch(stmt.sql, *stmt.bind(params)))

    def rows_in_order(self, stmt: Any, args: Any) -> list[Any]:
        driver = self.conn.connection.driver_connection
        return await_only(driver.fetch(stmt.sql, *args))


class RawDb:
    """D and F: a bare asyncpg connection (reads only)."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        return await_only(self.conn.fetch(stmt.sql, *stmt.bind(params)))

    def rows_in_order(self, stmt: Any, args: Any) -> list[Any]:
        return await_only(self.conn.fetch(stmt.sql, *args))


def _driver_call(conn: Any, fn: Any, args: Any) -> Any:
    return fn(DriverDb(conn), *args)


async def measure(call: Call, n: int, warmup: int = 50) -> tuple[float, float]:
    """(calls/s, client CPU µs per call)"""
    for _ in range(warmup):
        await call()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        await call()
    return n / (time.perf_counter() - t0), (time.process_time() - c0) / n * 1e6


async def connect(storage: Any) -> Any:
    return await asyncpg.connect(
        storage.settings.database_url, server_settings={"search_path": storage.schema}
    )


async def reads(args: argparse.Namespace, manager: Any, storage: Any, ids: list[str]) -> None:
    admin = await connect(storage)
    await admin.execute(
        "CREATE INDEX ix_paths_nulls_first ON specql_m_item "
        "(f_category, deleted, f_price NULLS FIRST)"
    )
    await admin.execute("VACUUM ANALYZE specql_m_item")
    await admin.close()

    rng = random.Random(7)
    await manager.get("item", ids[0])
    await manager.search("item", F("category") == CATEGORIES[0], sort=["-price"], limit=20)
    await manager.count("item", F("category") == CATEGORIES[0])
    sql = specql_sql(manager)

    async def no_reset(conn: Any) -> None:
        """asyncpg's pool resets each released connection; variant D skips it."""

    pool = await asyncpg.create_pool(
        storage.settings.database_url,
        min_size=2,
        max_size=10,
        server_settings={"search_path": storage.schema},
        reset=no_reset,
    )
    held = await connect(storage)
    floor = await connect(storage)

    async def read_b(self: Any, fn: Any, *a: Any) -> Any:
        async with self._reads.connect() as conn:
            return await conn.run_sync(_driver_call, fn, a)

    async def read_d(self: Any, fn: Any, *a: Any) -> Any:
        async with pool.acquire() as conn:
            return await greenlet_spawn(fn, RawDb(conn), *a)

    async def read_f(self: Any, fn: Any, *a: Any) -> Any:
        return await greenlet_spawn(fn, RawDb(held), *a)

    original = pg.PgRunner.read
    variants = {
        "A: SpecQL as it is": original,
        "B: A, SQL to the asyncpg connection (no CursorResult)": read_b,
        "D: asyncpg pool + greenlet, no SQLAlchemy": read_d,
        "F: one held asyncpg connection + greenlet": read_f,
    }
    ops: dict[str, Call] = {
        "get": lambda: manager.get("item", rng.choice(ids)),
        "search": lambda: manager.search(
            "item", F("category") == rng.choice(CATEGORIES), sort=["-price"], limit=20
        ),
        "count": lambda: manager.count("item", F("category") == rng.choice(CATEGORIES)),
    }
    floor_ops: dict[str, Call] = {
        "get": lambda: floor.fetch(sql.get, rng.choice(ids)),
        "search": lambda: floor.fetch(sql.search, rng.choice(CATEGORIES), 20),
        "count": lambda: floor.fetch(sql.count, rng.choice(CATEGORIES)),
    }
    found: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        for _ in range(args.rounds):
            for name, read in variants.items():
                pg.PgRunner.read = read  # type: ignore[method-assign,assignment]
                for op, call in ops.items():
                    found.setdefault((name, op), []).append(await measure(call, args.ops))
            pg.PgRunner.read = original  # type: ignore[method-assign]
            for op, call in floor_ops.items():
                found.setdefault(("floor: raw asyncpg, same SQL", op), []).append(
                    await measure(call, args.ops)
                )
    finally:
        pg.PgRunner.read = original  # type: ignore[method-assign]
        await pool.close()
        await held.close()
        await floor.close()
    print(
        "| read path | get/s | search/s | count/s | client CPU µs: get | search | count |\n"
        "|---|---:|---:|---:|---:|---:|---:|"
    )
    for name in [*variants, "floor: raw asyncpg, same SQL"]:
        rates = [statistics.median(r for r, _ in found[(name, op)]) for op in ops]
        cpus = [statistics.median(c for _, c in found[(name, op)]) for op in ops]
        print(
            f"| {name} | "
            + " | ".join(f"{r:,.0f}" for r in rates)
            + " | "
            + " | ".join(f"{c:,.0f}" for c in cpus)
            + " |"
        )


async def writes(args: argparse.Namespace, manager: Any, storage: Any) -> None:
    rng = random.Random(11)
    captured: list[tuple[str, tuple[Any, ...]]] = []
    original = asyncpg.prepared_stmt.PreparedStatement.fetch

    async def spy(self: Any, *a: Any, **kw: Any) -> Any:
        captured.append((self.get_query(), a))
        return await original(self, *a, **kw)

    asyncpg.prepared_stmt.PreparedStatement.fetch = spy
    try:
        await manager.create("item", make_item(rng, 0))
    finally:
        asyncpg.prepared_stmt.PreparedStatement.fetch = original
    inserts = [c for c in captured if c[0].startswith("INSERT")]
    (meta_sql, meta_args), (rev_sql, rev_args) = inserts
    assert "specql_m_item" in meta_sql and "specql_revisions" in rev_sql
    shifted = re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + len(rev_args)}", meta_sql)
    one_statement = f"WITH r AS ({rev_sql}) {shifted}"
    conn = await connect(storage)

    def fresh() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        rid, rev = str(uuid.uuid4()), uuid.uuid4().hex
        return (rid, rev, *meta_args[2:]), (rev, rev_args[1], rid, *rev_args[3:])

    async def four_round_trips() -> None:
        m, r = fresh()
        async with conn.transaction():
            await conn.fetch(meta_sql, *m)
            await conn.fetch(rev_sql, *r)

    async def one_round_trip() -> None:
        m, r = fresh()
        await conn.fetch(one_statement, *r, *m)

    variants: dict[str, Call] = {
        "SpecQL create (BEGIN, 2 INSERTs, COMMIT via SQLAlchemy)": lambda: manager.create(
            "item", make_item(rng, 1)
        ),
        "raw asyncpg: BEGIN, SpecQL's 2 INSERTs, COMMIT (4 round trips)": four_round_trips,
        "raw asyncpg: the 2 INSERTs as one CTE, autocommit (1 round trip)": one_round_trip,
    }
    found: dict[str, list[tuple[float, float]]] = {}
    try:
        for _ in range(args.rounds):
            for name, call in variants.items():
                found.setdefault(name, []).append(await measure(call, args.write_ops))
    finally:
        await conn.close()
    print("\n| write path | creates/s | client CPU µs per create |\n|---|---:|---:|")
    for name, runs in found.items():
        rate = statistics.median(r for r, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"| {name} | {rate:,.0f} | {cpu:,.0f} |")


async def main(args: argparse.Namespace) -> None:
    registry = Registry()
    registry.add_model(Item, indexed=INDEXED, indexes=[("category", "price")])
    with bench_storage("postgres-inline", database_url=args.database_url) as storage:
        manager = await registry.open(storage.settings)
        try:
            rng = random.Random(42)
            ids: list[str] = []
            for start in range(0, args.n, 1000):
                batch = [make_item(rng, i) for i in range(start, min(args.n, start + 1000))]
                ids.extend(r.id for r in await manager.create_many("item", batch))
            await reads(args, manager, storage, ids)
            await writes(args, manager, storage)
        finally:
            await manager.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--ops", type=int, default=1000, help="calls per read measurement")
    p.add_argument("--write-ops", type=int, default=1000, help="creates per write measurement")
    p.add_argument("--rounds", type=int, default=5, help="rounds; medians are printed")
    p.add_argument("--database-url", default=DATABASE_URL)
    import uvloop

    uvloop.run(main(p.parse_args()))
