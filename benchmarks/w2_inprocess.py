"""W2's search request (load b) driven through the ASGI app in-process, for
CPU per request without HTTP clients or a second process.

    python benchmarks/w2_inprocess.py                   # measure this tree
    python benchmarks/w2_inprocess.py --profile         # pyinstrument, one round
    python benchmarks/w2_inprocess.py --compare /tmp/base --rounds 6
    python benchmarks/w2_inprocess.py --compare /tmp/base --stub-store

It loads W1's items (``w2.load_specql``: 10,000 by default) into a disk-profile
data directory once (``--data-dir``, kept for the next run), builds the app
as ``specql serve benchmarks/w2_models.py`` does (``build_app``, GC tuned as
the CLI tunes it), opens it through its lifespan and sends the exact body of
``loadgen/w2/specql_b_search.json`` (a random category per request) from
--tasks concurrent tasks straight into the ASGI callable, on uvloop. Each
round reports the process's CPU time (``time.process_time``: the event loop
and the SQLite thread) divided by the requests answered. Warm-up answers are
checked in full, measured ones by their count of nodes. ``--stub-store``
replays each search's first page, leaving the cost above the store (less
noisy: the SQLite thread's share swings from round to round).

No HTTP server runs, so a request costs less here than in ``specql serve``
(uvicorn, sockets, a machine shared with the load generator): compare trees
with it, and read absolute numbers from ``w2.py``.

``--compare TREE`` alternates rounds between this tree and another checkout
(e.g. ``git worktree add /tmp/base HEAD~1``), each round in a fresh
subprocess with the tree first on ``sys.path``, and prints both medians.
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
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BODY = json.loads((HERE / "loadgen" / "w2" / "specql_b_search.json").read_text())
CATEGORIES = json.loads((HERE / "loadgen" / "w2" / "categories.json").read_text())
DEFAULT_DATA = Path(tempfile.gettempdir()) / "specql-w2-inprocess"


def settings_for(data_dir: Path) -> Any:
    from app import Settings

    return Settings(profile="disk", data_dir=str(data_dir))


def ensure_data(data_dir: Path, n: int) -> None:
    """Load n items into data_dir unless a previous run did."""
    done = data_dir / "loaded.json"
    if done.exists() and json.loads(done.read_text()) == n:
        return
    sys.path.insert(0, str(HERE))
    from w2 import load_specql

    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(load_specql(settings_for(data_dir), n, 1_000))
    done.write_text(json.dumps(n))


def _scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


BODIES = [json.dumps({**BODY, "variables": {"c": c}}).encode() for c in CATEGORIES]


async def request(app: Any, rng: random.Random, check: bool) -> None:
    body = rng.choice(BODIES)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(body), receive, send)
    assert sent[0]["status"] == 200, sent
    if check:  # the warm-up checks every answer; measured rounds only count nodes
        answer = json.loads(sent[1]["body"])
        assert "errors" not in answer and len(answer["data"]["items"]["edges"]) == 20, answer
    else:
        assert sent[1]["body"].count(b'"node":') == 20, sent


def stub_search(manager: Any) -> None:
    """Answer each search with the page the store gave the first time: what is
    left is the request's cost above the store (``--stub-store``)."""
    real = manager.search
    pages: dict[str, Any] = {}

    async def search(model: str, filter_: Any, **options: Any) -> Any:
        key = json.dumps([model, filter_, repr(options)])
        if key not in pages:
            pages[key] = await real(model, filter_, **options)
        return pages[key]

    manager.search = search


async def measure(
    data_dir: Path, rounds: int, requests: int, tasks: int, profile: bool, stub: bool
) -> None:
    import gc

    sys.path.insert(0, str(HERE))
    from app.api.serve import build_app

    print(f"app from {sys.modules['app'].__file__}", file=sys.stderr)
    app = build_app(str(HERE / "w2_models.py"), settings_for(data_dir))
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    rng = random.Random(7)

    async def run(count: int, check: bool = False) -> None:
        async def worker(share: int) -> None:
            for _ in range(share):
                await request(app, rng, check)

        await asyncio.gather(*(worker(count // tasks) for _ in range(tasks)))

    async with app.router.lifespan_context(app):
        if stub:
            stub_search(app.graphql.manager)
        await run(max(tasks, requests // 4), check=True)  # warm up: documents, plans, caches
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="disabled")
            profiler.start()
            await run(requests)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            return
        for _ in range(rounds):
            done = requests // tasks * tasks
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await run(requests)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            print(json.dumps({"cpu_us": cpu / done * 1e6, "req_s": done / wall}), flush=True)


def _run_tree(tree: Path, args: argparse.Namespace) -> list[dict[str, float]]:
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--data-dir",
        str(args.data_dir),
        "--requests",
        str(args.requests),
        "--tasks",
        str(args.tasks),
        "--rounds",
        "1",
        *(["--stub-store"] if args.stub_store else []),
    ]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def compare(args: argparse.Namespace) -> None:
    trees = {"this": HERE.parent, "other": Path(args.compare).resolve()}
    got: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for i in range(args.rounds):
        order = list(trees) if i % 2 == 0 else list(reversed(trees))
        for name in order:
            rounds = _run_tree(trees[name], args)
            got[name].extend(rounds)
            shown = ", ".join(f"{r['cpu_us']:,.0f} us ({r['req_s']:,.0f}/s)" for r in rounds)
            print(f"round {i + 1} {name}: {shown}", flush=True)
    for name, results in got.items():
        cpu = statistics.median(r["cpu_us"] for r in results)
        rate = statistics.median(r["req_s"] for r in results)
        print(f"{name} ({trees[name]}): median {cpu:,.0f} us CPU/request, {rate:,.0f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000, help="per round")
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--stub-store", action="store_true", help="replay each search's page")
    parser.add_argument("--compare", help="another checkout to alternate rounds with")
    args = parser.parse_args()
    ensure_data(args.data_dir, args.n)
    if args.compare:
        compare(args)
        return
    import uvloop  # what ``specql serve`` runs on (uvicorn's loop="auto")

    uvloop.run(
        measure(
            args.data_dir, args.rounds, args.requests, args.tasks, args.profile, args.stub_store
        )
    )


if __name__ == "__main__":
    main()
