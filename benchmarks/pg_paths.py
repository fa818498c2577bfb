"""Where a PostgreSQL read or write spends its time: SpecQL's own path against
raw asyncpg running the same SQL, on the same data (postgres-inline, --n items).

    python benchmarks/pg_paths.py             # reads and writes, 5 rounds, medians
    python benchmarks/pg_paths.py --n 2000 --rounds 1

Reads: W1's get, search and count through ``ResourceManager`` against the
same SQL on one raw asyncpg connection (``pg_floor.py``), no manager. The
search uses the index that makes it an index scan, so its time is client time.

Writes: SpecQL's create (one CTE statement in autocommit) against raw asyncpg
sending that same statement, captured from one create.

Client CPU per call (``time.process_time``) is printed next to the rates: it
moves less than wall time when other processes share the machine.
"""

from __future__ import annotations

import argparse
import random
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
from workload import CATEGORIES, INDEXED, Item, make_item  # noqa: E402

from app import F, Registry  # noqa: E402

Call = Callable[[], Awaitable[Any]]


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

    floor = await connect(storage)
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
    paths = {"SpecQL": ops, "floor: raw asyncpg, same SQL": floor_ops}
    found: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        for _ in range(args.rounds):
            for name, calls in paths.items():
                for op, call in calls.items():
                    found.setdefault((name, op), []).append(await measure(call, args.ops))
    finally:
        await floor.close()
    print(
        "| read path | get/s | search/s | count/s | client CPU µs: get | search | count |\n"
        "|---|---:|---:|---:|---:|---:|---:|"
    )
    for name in paths:
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
    original = asyncpg.Connection.execute

    async def spy(self: Any, sql: str, *a: Any, **kw: Any) -> Any:
        captured.append((sql, a))
        return await original(self, sql, *a, **kw)

    asyncpg.Connection.execute = spy
    try:
        await manager.create("item", make_item(rng, 0))
    finally:
        asyncpg.Connection.execute = original
    [(create_sql, create_args)] = captured
    assert create_sql.startswith("WITH"), create_sql
    names = manager.stores.meta.st.insert_resource("item").names
    conn = await connect(storage)

    async def raw_create() -> None:  # fresh ids, the rest as captured
        rid, rev = str(uuid.uuid4()), uuid.uuid4().hex
        fresh = {"resource_id": rid, "r_resource_id": rid}
        fresh |= {"current_revision_id": rev, "r_revision_id": rev}
        await conn.execute(
            create_sql, *(fresh.get(n, v) for n, v in zip(names, create_args, strict=True))
        )

    variants: dict[str, Call] = {
        "SpecQL create (one CTE statement, autocommit)": lambda: manager.create(
            "item", make_item(rng, 1)
        ),
        "raw asyncpg: the same statement": raw_create,
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
