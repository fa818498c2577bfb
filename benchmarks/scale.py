"""Scale benchmark (issue 3): load --n Items through the batch path on
PostgreSQL, then time W1's reads against the full table.

    python benchmarks/scale.py                    # 1,000,000 items, postgres-inline
    python benchmarks/scale.py --n 20000          # smoke run
    python benchmarks/scale.py --keep             # keep the schema (its name is printed)
    python benchmarks/scale.py --schema NAME      # reuse a kept schema: no load, reads only

1. Load: ``make_item`` with ``random.Random(42)`` (W1's items), ``create_many``
   in batches of --batch, one batch after another. Load throughput counts the
   time inside ``create_many`` only (making the items is not timed); the wall
   time with item making is printed too.
2. ``VACUUM ANALYZE`` on the model's table (untimed): what autovacuum does on
   its own shortly after a bulk load; it gives the planner statistics and
   the visibility map that index-only counts read.
3. --ops calls each, one after another, after --warmup untimed calls:
   search ``category == X order by price desc first 20`` (random category;
   each page checked: 20 items of that category, prices descending), count
   ``category == X``, and get by a random id (checked). p50 / p99 latency in ms.
4. ``EXPLAIN (ANALYZE, BUFFERS)`` of SpecQL's search and count SQL (read from
   the store's statement cache) for one category.

The default profile is postgres-inline: PostgreSQL alone, so the load is not
bounded by the moto server that stands in for S3 on the ``postgres`` profile
(moto stores each object through a Python HTTP server, about 100 puts/s here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import asyncpg  # type: ignore[import-untyped]  # noqa: E402
from bench_profiles import DATABASE_URL, PROFILES, bench_storage  # noqa: E402
from pg_floor import specql_sql  # noqa: E402
from workload import CATEGORIES, INDEXED, Item, make_item  # noqa: E402

from app import F, Registry  # noqa: E402

# Issue 3's targets at 1,000,000 resources.
TARGETS = {"search_p50_ms": 5.0, "get_p50_ms": 2.0, "load_per_s": 5000.0}


def log(msg: str) -> None:
    print(f"[scale] {msg}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "ops_per_s": round(1000 / statistics.fmean(ms), 1),
    }


async def load(manager: Any, n: int, batch: int) -> tuple[list[str], dict[str, Any]]:
    rng = random.Random(42)
    ids: list[str] = []
    in_store = 0.0
    wall0 = time.perf_counter()
    next_report = 100_000
    for start in range(0, n, batch):
        items = [make_item(rng, i) for i in range(start, min(n, start + batch))]
        t0 = time.perf_counter()
        done = await manager.create_many("item", items)
        in_store += time.perf_counter() - t0
        ids.extend(r.id for r in done)
        if len(ids) >= next_report:
            log(f"loaded {len(ids):,} ({len(ids) / in_store:,.0f}/s in create_many)")
            next_report += 100_000
    wall = time.perf_counter() - wall0
    return ids, {
        "n": n,
        "batch": batch,
        "create_many_s": round(in_store, 1),
        "wall_s": round(wall, 1),
        "load_per_s": round(n / in_store, 1),
        "load_per_s_wall": round(n / wall, 1),
    }


async def existing_ids(storage: Any) -> list[str]:
    conn = await asyncpg.connect(
        storage.settings.database_url, server_settings={"search_path": storage.schema}
    )
    try:
        return [r[0] for r in await conn.fetch("SELECT resource_id FROM specql_m_item")]
    finally:
        await conn.close()


async def vacuum_analyze(storage: Any) -> float:
    conn = await asyncpg.connect(
        storage.settings.database_url, server_settings={"search_path": storage.schema}
    )
    try:
        t0 = time.perf_counter()
        await conn.execute("VACUUM ANALYZE specql_m_item")
        return time.perf_counter() - t0
    finally:
        await conn.close()


async def explain(storage: Any, manager: Any) -> dict[str, str]:
    sql = specql_sql(manager)
    conn = await asyncpg.connect(
        storage.settings.database_url, server_settings={"search_path": storage.schema}
    )
    try:
        plans = {}
        for name, text, args in (
            ("search", sql.search, (CATEGORIES[3], 20)),
            ("count", sql.count, (CATEGORIES[3],)),
            ("get", sql.get, None),
        ):
            if args is None:
                args = (await conn.fetchval("SELECT resource_id FROM specql_m_item LIMIT 1"),)
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + text, *args)
            plans[name] = "\n".join(r[0] for r in rows)
        return plans
    finally:
        await conn.close()


async def timed(ops: int, warmup: int, call: Any) -> list[float]:
    for _ in range(warmup):
        await call()
    ms = []
    for _ in range(ops):
        t0 = time.perf_counter()
        await call()
        ms.append((time.perf_counter() - t0) * 1000)
    return ms


async def reads(manager: Any, ids: list[str], ops: int, warmup: int) -> dict[str, Any]:
    rng = random.Random(7)

    async def search() -> None:
        category = rng.choice(CATEGORIES)
        page = await manager.search("item", F("category") == category, sort=["-price"], limit=20)
        prices = [r.data.price for r in page.items]
        assert len(prices) == 20 and prices == sorted(prices, reverse=True), prices
        assert all(r.data.category == category for r in page.items)

    async def count() -> None:
        assert await manager.count("item", F("category") == rng.choice(CATEGORIES)) > 0

    async def get() -> None:
        rid = rng.choice(ids)
        assert (await manager.get("item", rid)).id == rid

    out: dict[str, Any] = {}
    for name, call in (("search", search), ("count", count), ("get", get)):
        out[name] = summary(await timed(ops, warmup, call))
        log(f"{name}: {out[name]}")
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    registry = Registry()
    registry.add_model(Item, indexed=INDEXED, indexes=[("category", "price")])
    result: dict[str, Any] = {"profile": args.profile, "loadavg_before": os.getloadavg()}
    with bench_storage(
        args.profile, database_url=args.database_url, schema=args.schema, keep=args.keep
    ) as storage:
        result["schema"] = storage.schema
        manager = await registry.open(storage.settings)
        try:
            if args.schema:
                ids = await existing_ids(storage)
                log(f"reusing schema {args.schema}: {len(ids):,} items, no load")
            else:
                log(f"loading {args.n:,} items in batches of {args.batch} ({storage.label})")
                ids, result["load"] = await load(manager, args.n, args.batch)
                log(f"load: {result['load']}")
            result["count_all"] = await manager.count("item")
            assert result["count_all"] == len(ids), (result["count_all"], len(ids))
            result["loadavg_before_reads"] = os.getloadavg()
            if storage.schema is not None:
                result["vacuum_analyze_s"] = round(await vacuum_analyze(storage), 1)
            result["reads"] = await reads(manager, ids, args.ops, args.warmup)
            result["loadavg_after"] = os.getloadavg()
            if storage.schema is not None:
                result["explain"] = await explain(storage, manager)
        finally:
            await manager.close()
        if args.keep:
            log(f"schema kept: {storage.schema} (reuse with --schema {storage.schema})")
    return result


def report(result: dict[str, Any]) -> str:
    reads = result["reads"]
    lines = [
        f"| measure ({result['count_all']:,} items, {result['profile']}) | value | target | met |",
        "|---|---:|---:|---|",
    ]
    if "load" in result:
        got = result["load"]["load_per_s"]
        need = TARGETS["load_per_s"]
        lines.append(
            f"| load (create_many, batches of {result['load']['batch']}) | {got:,.0f}/s"
            f" ({result['load']['load_per_s_wall']:,.0f}/s with item making) | ≥ {need:,.0f}/s |"
            f" {'yes' if got >= need else 'no'} |"
        )
    for name, target in (("search", "search_p50_ms"), ("count", None), ("get", "get_p50_ms")):
        r = reads[name]
        bound = f"≤ {TARGETS[target]:g} ms" if target else ""
        met = ("yes" if r["p50_ms"] <= TARGETS[target] else "no") if target else ""
        lines.append(f"| {name} p50 | {r['p50_ms']:.2f} ms | {bound} | {met} |")
        lines.append(f"| {name} p99 | {r['p99_ms']:.2f} ms | | |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=1000, help="items per create_many call")
    p.add_argument("--ops", type=int, default=1000, help="timed calls of each read")
    p.add_argument("--warmup", type=int, default=50, help="untimed calls of each read first")
    p.add_argument(
        "--profile", choices=[x for x in PROFILES if x != "disk"], default="postgres-inline"
    )
    p.add_argument("--database-url", default=DATABASE_URL)
    p.add_argument("--keep", action="store_true", help="keep the schema after the run")
    p.add_argument("--schema", help="reuse this kept schema (postgres-inline): no load")
    p.add_argument("--json-out", type=Path, help="also write the raw result here")
    args = p.parse_args()
    if args.schema:
        args.keep = True  # never drop data this run did not make
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    text = json.dumps(result, indent=1)
    print(text, file=sys.stderr)
    if args.json_out:
        args.json_out.write_text(text)
    print(report(result))


if __name__ == "__main__":
    main()
