"""Workload W1: the resource core on one storage profile, optionally side by
side with the peer specstar (run in its own venv, see peers/).

    python benchmarks/w1.py                 # SpecQL only, disk profile, 3 runs, median
    python benchmarks/w1.py --peer specstar # both, in one run
    python benchmarks/w1.py --profile postgres-inline --peer specstar
    python benchmarks/w1.py --write         # also rewrite the profile's W1 block of RESULTS.md

Profiles (see bench_profiles.py): ``disk``; ``postgres-inline`` (PostgreSQL
alone, a schema made for the run and dropped after); ``postgres`` (the same,
plus payloads in S3 on a moto server the script starts). On the PostgreSQL
profiles specstar runs on its own PostgreSQL storage (psycopg2, a database made
for each run and dropped after), and each run also times the raw asyncpg floor
(``pg_floor.py``: SpecQL's own get, search and count SQL on one connection)
on the same tables right after SpecQL's phases.

Each phase runs sequentially (one await after another), as a single client
would; data and choices come from ``random.Random(42)`` in the same order as
the peer runner, so both sides do the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import msgspec
from bench_profiles import DATABASE_URL, PROFILES, bench_storage
from pg_floor import measure_floor, specql_sql
from workload import CATEGORIES, INDEXED, Item, make_item, specstar_python

from app import F, Registry

HERE = Path(__file__).resolve().parent
PHASES = ("create", "get", "update", "search", "count", "batch_create")
FLOOR_PHASES = ("get", "search", "count")
# The issue's measurements on the postgres profile, ops/s (issue 3).
ISSUE_SPECSTAR_PG = {"create": 268.0, "get": 582.0, "update": 101.0, "search": 22.0, "count": 550.0}
ISSUE_FLOOR = {"get": 8560.0, "search": 4110.0}
TARGET_VS_SPECSTAR_PG = 3.0
TARGET_VS_FLOOR = 0.4


async def run_once(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(42)
    registry = Registry()
    registry.add_model(
        Item,
        indexed=INDEXED,
        indexes=[("category", "price")] if args.composite else [],
    )
    with bench_storage(args.profile, database_url=args.database_url) as storage:
        manager = await registry.open(storage.settings)
        items: dict[str, Item] = {}
        result: dict[str, float] = {}

        t0 = time.perf_counter()
        for i in range(args.n):
            item = make_item(rng, i)
            items[(await manager.create("item", item)).id] = item
        result["create"] = args.n / (time.perf_counter() - t0)
        ids = list(items)

        t0 = time.perf_counter()
        for _ in range(args.gets):
            rid = rng.choice(ids)
            assert (await manager.get("item", rid)).data.name == items[rid].name
        result["get"] = args.gets / (time.perf_counter() - t0)

        t0 = time.perf_counter()
        for _ in range(args.updates):
            rid = rng.choice(ids)
            new = msgspec.structs.replace(
                items[rid], price=round(rng.uniform(1, 1000), 2), stock=rng.randint(0, 500)
            )
            await manager.update("item", rid, new)
            items[rid] = new
        result["update"] = args.updates / (time.perf_counter() - t0)

        per_category = {c: sum(i.category == c for i in items.values()) for c in CATEGORIES}
        t0 = time.perf_counter()
        for _ in range(args.searches):
            category = rng.choice(CATEGORIES)
            page = await manager.search(
                "item", F("category") == category, sort=["-price"], limit=20
            )
            prices = [r.data.price for r in page.items]
            assert len(prices) == min(20, per_category[category]), prices
            assert prices == sorted(prices, reverse=True), prices
        result["search"] = args.searches / (time.perf_counter() - t0)

        t0 = time.perf_counter()
        for _ in range(args.counts):
            await manager.count("item", F("category") == rng.choice(CATEGORIES))
        result["count"] = args.counts / (time.perf_counter() - t0)
        assert await manager.count("item", F("price") >= 0) == args.n

        if storage.schema is not None:
            # the floor: the same SQL on raw asyncpg, on the same rows as the reads above
            floor = await measure_floor(
                args.database_url,
                storage.schema,
                specql_sql(manager),
                ids,
                gets=args.gets,
                searches=args.searches,
                counts=args.counts,
            )
            result.update({f"floor_{k}": v for k, v in floor.items()})

        batch = [make_item(rng, args.n + i) for i in range(args.n)]
        t0 = time.perf_counter()
        for start in range(0, len(batch), 1000):
            await manager.create_many("item", batch[start : start + 1000])
        result["batch_create"] = len(batch) / (time.perf_counter() - t0)

        await manager.close()
    return result


def run_peer(args: argparse.Namespace) -> dict[str, object]:
    python = specstar_python()
    backend = [] if args.profile == "disk" else ["--postgres", args.database_url]
    out = subprocess.run(
        [
            python,
            str(HERE / "peers" / "specstar_w1.py"),
            *backend,
            "--n",
            str(args.n),
            "--gets",
            str(args.gets),
            "--updates",
            str(args.updates),
            "--searches",
            str(args.peer_searches),
            "--counts",
            str(args.peer_searches),
            "--runs",
            str(args.runs),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def median(runs: list[dict[str, float]], phase: str) -> float:
    values = [r[phase] for r in runs if phase in r]
    return statistics.median(values) if values else 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--gets", type=int, default=2000)
    p.add_argument("--updates", type=int, default=1000)
    p.add_argument("--searches", type=int, default=200)
    p.add_argument("--counts", type=int, default=200)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--profile", choices=PROFILES, default="disk")
    p.add_argument(
        "--database-url",
        default=DATABASE_URL,
        help="PostgreSQL for the postgres profiles (a schema per run is made and dropped)",
    )
    p.add_argument(
        "--composite",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="declare the (category, price) index the W1 search uses",
    )
    p.add_argument("--peer", choices=["specstar"], default=None)
    p.add_argument(
        "--peer-searches",
        type=int,
        default=None,
        help="searches and counts for the peer (default 20 on disk, where it scans every "
        "file: ~1/s at n=10,000; else --searches)",
    )
    p.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = p.parse_args()
    if args.peer_searches is None:
        args.peer_searches = 20 if args.profile == "disk" else args.searches

    try:
        import uvloop

        runner = uvloop.run
        loop_name = "uvloop"
    except ImportError:
        runner = asyncio.run
        loop_name = "asyncio"
    load_before = os.getloadavg()
    runs = [runner(run_once(args)) for _ in range(args.runs)]
    ours = {ph: median(runs, ph) for ph in PHASES}
    floor = {ph: median(runs, f"floor_{ph}") for ph in FLOOR_PHASES if f"floor_{ph}" in runs[0]}
    peer = run_peer(args) if args.peer else None
    theirs = {ph: median(peer["runs"], ph) for ph in PHASES} if peer else {}  # type: ignore[arg-type]
    load_after = os.getloadavg()

    table = results_table(args, loop_name, ours, theirs if peer else None, floor)
    checks = targets_table(ours, theirs if peer else None, floor) if args.profile != "disk" else ""
    print(table)
    if checks:
        print()
        print(checks)
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print(json.dumps({"specql_runs": runs, "peer": peer}, indent=1), file=sys.stderr)
    if args.write:
        write_results(table, checks, args, peer, (load_before, load_after))


def results_table(
    args: argparse.Namespace,
    loop_name: str,
    ours: dict[str, float],
    theirs: dict[str, float] | None,
    floor: dict[str, float],
) -> str:
    head = f"| operation | SpecQL {args.profile} ({loop_name}) ops/s |"
    rule = "|---|---:|"
    backend = "disk" if args.profile == "disk" else "postgres"
    if theirs is not None:
        head += f" specstar {backend} ops/s | ratio |"
        rule += "---:|---:|"
    if floor:
        head += " raw asyncpg floor ops/s | SpecQL ÷ floor |"
        rule += "---:|---:|"
    lines = [head, rule]
    for ph in PHASES:
        row = f"| {ph} | {ours[ph]:,.0f} |"
        if theirs is not None:
            other = theirs.get(ph, 0.0)
            row += f" {other:,.1f} | {ours[ph] / other:,.1f}x |" if other else " n/a | |"
        if floor:
            row += f" {floor[ph]:,.0f} | {ours[ph] / floor[ph]:.0%} |" if ph in floor else " | |"
        lines.append(row)
    return "\n".join(lines)


def targets_table(
    ours: dict[str, float], theirs: dict[str, float] | None, floor: dict[str, float]
) -> str:
    """Issue 3's W1 targets: every operation ≥ 3x specstar-postgres, get and search
    ≥ 40 % of the raw asyncpg floor; against this run's peer and floor, and
    against the numbers quoted in the issue."""
    lines = ["| target | needed | measured | met |", "|---|---:|---:|---|"]

    def row(name: str, need: float, got: float, shown: str) -> None:
        lines.append(f"| {name} | ≥ {need:,.0f}/s | {shown} | {'yes' if got >= need else 'no'} |")

    for ph in ("create", "get", "update", "search", "count"):
        if theirs and theirs.get(ph):
            need = TARGET_VS_SPECSTAR_PG * theirs[ph]
            row(
                f"{ph} ≥ 3x specstar (this run: {theirs[ph]:,.1f}/s)",
                need,
                ours[ph],
                f"{ours[ph]:,.0f}/s ({ours[ph] / theirs[ph]:,.1f}x)",
            )
        quoted = ISSUE_SPECSTAR_PG[ph]
        row(
            f"{ph} ≥ 3x specstar (issue: {quoted:,.0f}/s)",
            TARGET_VS_SPECSTAR_PG * quoted,
            ours[ph],
            f"{ours[ph]:,.0f}/s ({ours[ph] / quoted:,.1f}x)",
        )
    for ph in ("get", "search"):
        if ph in floor:
            row(
                f"{ph} ≥ 40% of floor (this run: {floor[ph]:,.0f}/s)",
                TARGET_VS_FLOOR * floor[ph],
                ours[ph],
                f"{ours[ph]:,.0f}/s ({ours[ph] / floor[ph]:.0%})",
            )
        quoted = ISSUE_FLOOR[ph]
        row(
            f"{ph} ≥ 40% of floor (issue: {quoted:,.0f}/s)",
            TARGET_VS_FLOOR * quoted,
            ours[ph],
            f"{ours[ph]:,.0f}/s ({ours[ph] / quoted:.0%})",
        )
    return "\n".join(lines)


def write_results(
    table: str,
    checks: str,
    args: argparse.Namespace,
    peer: dict[str, object] | None,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
) -> None:
    import datetime as dt
    import platform

    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    key = "W1" if args.profile == "disk" else f"W1-{args.profile}"
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    if args.profile == "disk":
        peer_note = (
            f" specstar {peer['version']}: searches and counts "
            f"{args.peer_searches} per run (its disk store scans every file)."
            if peer
            else ""
        )
        title = "W1: resource core, disk profile"
        load_note = ""
    else:
        peer_note = (
            f" specstar {peer['version']} on its PostgreSQL storage (psycopg2, meta and "
            f"resources in PostgreSQL, a database per run), {args.peer_searches} searches and "
            "counts per run."
            if peer
            else ""
        )
        title = f"W1: resource core, {args.profile} profile" + (
            " (PostgreSQL + moto S3)" if args.profile == "postgres" else " (PostgreSQL only)"
        )
        load_note = (
            f" Load average {loads[0][0]:.2f} before, {loads[1][0]:.2f} after (1 min)."
            " The floor is SpecQL's own SQL for get, search and count on raw asyncpg, one"
            " connection, on the same tables in the same run (`pg_floor.py`)."
        )
    body = (
        f"{start}\n## {title}\n\n"
        f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, {platform.system()}. n={args.n}, "
        f"gets={args.gets}, updates={args.updates}, searches={args.searches}, "
        f"counts={args.counts}; median of {args.runs} runs; sequential calls. "
        "SpecQL searches return the data of each hit; specstar's return metas only."
        + peer_note
        + load_note
        + f"\n\n{table}\n"
        + (f"\n{checks}\n" if checks else "")
        + f"{end}"
    )
    if start in text:
        text = text[: text.index(start)] + body + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
