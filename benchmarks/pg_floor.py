"""The raw asyncpg floor: SpecQL's own SQL for W1's get-by-id, search and count,
run with plain asyncpg on one connection, sequentially, as ops/s.

    python benchmarks/pg_floor.py               # loads --n items (postgres-inline), then measures
    python benchmarks/pg_floor.py --n 1000 --ops 500

The statements are the ones the store compiled and cached while SpecQL ran one
get, one search and one count (read from its statement cache, so the text, the
casts and the parameters are exactly SpecQL's); the floor then runs them with
``conn.fetch`` (asyncpg prepares and caches each statement on first use) and
decodes nothing beyond asyncpg's records. W1 on a postgres profile calls
``measure_floor`` on its own data after timing SpecQL, so both sides read the
same tables in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_profiles import DATABASE_URL, bench_storage  # noqa: E402
from workload import CATEGORIES, INDEXED, Item, make_item  # noqa: E402


@dataclass
class FloorSql:
    """SpecQL's compiled SQL for the three reads W1 times."""

    get: str
    search: str
    count: str


def specql_sql(manager: Any) -> FloorSql:
    """The statements SpecQL ran for W1's get, search and count, from the meta
    store's statement cache (run one of each through the manager first)."""
    cache = manager.stores.meta.st._cache  # the compiled text, exactly as sent
    get = search = count = None
    for compiled in cache.values():
        sql = " ".join(compiled.sql.split())
        if not sql.startswith("SELECT") or "FROM specql_m_item" not in sql:
            continue
        if "resource_id IN ($1)" in sql and (get is None or "current_payload" in sql):
            get = compiled.sql  # with the payload on postgres-inline; meta only with S3
        elif "ORDER BY specql_m_item.f_price DESC" in sql and "f_category = $1" in sql:
            search = compiled.sql
        elif sql.startswith("SELECT count(*)") and "f_category = $1" in sql:
            count = compiled.sql
    missing = [n for n, s in (("get", get), ("search", search), ("count", count)) if s is None]
    if missing:
        raise SystemExit(
            f"SpecQL's statement cache has no {', '.join(missing)} statement; run one of "
            "each through the manager first"
        )
    assert get is not None and search is not None and count is not None
    return FloorSql(get, search, count)


async def measure_floor(
    url: str,
    schema: str,
    sql: FloorSql,
    ids: list[str],
    *,
    gets: int,
    searches: int,
    counts: int,
    seed: int = 7,
) -> dict[str, float]:
    """ops/s of each statement on one asyncpg connection, one call after another."""
    import asyncpg  # type: ignore[import-untyped]

    rng = random.Random(seed)
    conn = await asyncpg.connect(url, server_settings={"search_path": schema})
    try:
        # warm up: prepare each statement once, touch the pages
        await conn.fetch(sql.get, ids[0])
        await conn.fetch(sql.search, CATEGORIES[0], 20)
        await conn.fetch(sql.count, CATEGORIES[0])
        result: dict[str, float] = {}
        t0 = time.perf_counter()
        for _ in range(gets):
            rows = await conn.fetch(sql.get, rng.choice(ids))
            assert len(rows) == 1
        result["get"] = gets / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(searches):
            rows = await conn.fetch(sql.search, rng.choice(CATEGORIES), 20)
            assert rows
        result["search"] = searches / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(counts):
            await conn.fetchval(sql.count, rng.choice(CATEGORIES))
        result["count"] = counts / (time.perf_counter() - t0)
        return result
    finally:
        await conn.close()


async def standalone(args: argparse.Namespace) -> dict[str, Any]:
    from app import F, Registry

    registry = Registry()
    registry.add_model(Item, indexed=INDEXED, indexes=[("category", "price")])
    rng = random.Random(42)
    with bench_storage("postgres-inline", database_url=args.database_url) as storage:
        manager = await registry.open(storage.settings)
        try:
            ids: list[str] = []
            for start in range(0, args.n, 1000):
                batch = [make_item(rng, i) for i in range(start, min(args.n, start + 1000))]
                ids.extend(r.id for r in await manager.create_many("item", batch))
            await manager.get("item", ids[0])
            await manager.search("item", F("category") == CATEGORIES[0], sort=["-price"], limit=20)
            await manager.count("item", F("category") == CATEGORIES[0])
            sql = specql_sql(manager)
            assert storage.schema is not None
            floor = await measure_floor(
                args.database_url,
                storage.schema,
                sql,
                ids,
                gets=args.ops,
                searches=args.ops,
                counts=args.ops,
            )
        finally:
            await manager.close()
    return {"n": args.n, "floor": floor, "sql": vars(sql)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="items to load first")
    p.add_argument("--ops", type=int, default=2000, help="calls of each statement")
    p.add_argument("--database-url", default=DATABASE_URL)
    args = p.parse_args()
    try:
        import uvloop

        result = uvloop.run(standalone(args))
    except ImportError:
        result = asyncio.run(standalone(args))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
