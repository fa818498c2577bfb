"""Workload W1: the resource core on the disk profile, optionally side by side
with the peer specstar (run in its own venv, see peers/).

    python benchmarks/w1.py                 # SpecQL only, 3 runs, median
    python benchmarks/w1.py --peer specstar # both, in one run
    python benchmarks/w1.py --write         # also rewrite the W1 part of RESULTS.md

Each phase runs sequentially (one await after another), as a single client
would; data and choices come from ``random.Random(42)`` in the same order as
the peer runner, so both sides do the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from workload import CATEGORIES, INDEXED, Item, make_item, specstar_python

from app import F, Registry

HERE = Path(__file__).resolve().parent
PHASES = ("create", "get", "update", "search", "count", "batch_create")


async def run_once(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(42)
    registry = Registry()
    registry.add_model(
        Item,
        indexed=INDEXED,
        indexes=[("category", "price")] if args.composite else [],
    )
    with tempfile.TemporaryDirectory(prefix="specql-w1-") as data_dir:
        manager = await registry.open(profile="disk", data_dir=data_dir)
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

        batch = [make_item(rng, args.n + i) for i in range(args.n)]
        t0 = time.perf_counter()
        for start in range(0, len(batch), 1000):
            await manager.create_many("item", batch[start : start + 1000])
        result["batch_create"] = len(batch) / (time.perf_counter() - t0)
        await manager.close()
    return result


def run_peer(args: argparse.Namespace) -> dict[str, object]:
    python = specstar_python()
    out = subprocess.run(
        [
            python,
            str(HERE / "peers" / "specstar_w1.py"),
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
        default=20,
        help="searches and counts for the peer (it scans: ~1/s at n=10,000)",
    )
    p.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = p.parse_args()

    try:
        import uvloop

        runner = uvloop.run
        loop_name = "uvloop"
    except ImportError:
        runner = asyncio.run
        loop_name = "asyncio"
    runs = [runner(run_once(args)) for _ in range(args.runs)]
    ours = {ph: median(runs, ph) for ph in PHASES}
    peer = run_peer(args) if args.peer else None
    theirs = {ph: median(peer["runs"], ph) for ph in PHASES} if peer else {}  # type: ignore[arg-type]

    lines = [
        f"| operation | SpecQL disk ({loop_name}) ops/s |"
        + (" specstar disk ops/s | ratio |" if peer else ""),
        "|---|---:|" + ("---:|---:|" if peer else ""),
    ]
    for ph in PHASES:
        row = f"| {ph} | {ours[ph]:,.0f} |"
        if peer:
            other = theirs.get(ph, 0.0)
            row += f" {other:,.1f} | {ours[ph] / other:,.1f}x |" if other else " n/a | |"
        lines.append(row)
    table = "\n".join(lines)
    print(table)
    print(json.dumps({"specql_runs": runs, "peer": peer}, indent=1), file=sys.stderr)
    if args.write:
        write_results(table, args, peer)


def write_results(table: str, args: argparse.Namespace, peer: dict[str, object] | None) -> None:
    import datetime as dt
    import os
    import platform

    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start, end = "<!-- W1:start -->", "<!-- W1:end -->"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    body = (
        f"{start}\n## W1: resource core, disk profile\n\n"
        f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, {platform.system()}. n={args.n}, "
        f"gets={args.gets}, updates={args.updates}, searches={args.searches}, "
        f"counts={args.counts}; median of {args.runs} runs; sequential calls. "
        "SpecQL searches return the data of each hit; specstar's return metas only."
        + (
            f" specstar {peer['version']}: searches and counts "
            f"{args.peer_searches} per run (its disk store scans every file)."
            if peer
            else ""
        )
        + f"\n\n{table}\n{end}"
    )
    if start in text:
        text = text[: text.index(start)] + body + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
