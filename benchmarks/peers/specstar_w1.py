"""Workload W1 against specstar (peer benchmark).

Run with the specstar venv's python (see setup_specstar.sh); prints one JSON line.
Uses specstar's Python API (ResourceManager), not HTTP, with the disk backend,
or with ``--postgres URL`` its PostgreSQL storage in a database made for each
run (on URL's server) and dropped after.
"""

import argparse
import json
import random
import tempfile
import time
from importlib.metadata import version

import msgspec
from specstar import QB
from specstar_setup import POOL_MINCONN, fresh_database, make_spec
from workload import CATEGORIES, INDEXED, Item, make_item


def make_manager(rootdir: str, postgres: str | None = None, minconn: int = POOL_MINCONN):
    return make_spec(rootdir, postgres=postgres, minconn=minconn).get_resource_manager(Item)


def timed(n: int, op) -> float:
    """Call op() n times sequentially; return ops/s (0 if n == 0)."""
    if n <= 0:
        return 0.0
    t0 = time.perf_counter()
    for _ in range(n):
        op()
    return n / (time.perf_counter() - t0)


def run_once(args) -> dict:
    if args.postgres:
        with fresh_database(args.postgres) as url:
            return run_on(args, url)
    return run_on(args, None)


def run_on(args, postgres: str | None) -> dict:
    rng = random.Random(42)
    with tempfile.TemporaryDirectory(prefix="specstar-w1-") as rootdir:
        mgr = make_manager(rootdir, postgres, args.minconn)
        items: dict[str, Item] = {}  # resource_id -> current data
        counter = iter(range(args.n))

        def create():
            item = make_item(rng, next(counter))
            items[mgr.create(item).resource_id] = item

        def get():
            rid = rng.choice(ids)
            assert mgr.get(rid).data.name == items[rid].name

        def update():
            rid = rng.choice(ids)
            new = msgspec.structs.replace(
                items[rid], price=round(rng.uniform(1, 1000), 2), stock=rng.randint(0, 500)
            )
            mgr.update(rid, new)  # full replace -> new revision
            items[rid] = new

        def search():
            q = (QB["category"] == rng.choice(CATEGORIES)).sort(QB["price"].desc()).limit(20)
            prices = [m.indexed_data["price"] for m in mgr.search_resources(q)]
            assert len(prices) <= 20 and prices == sorted(prices, reverse=True)

        def count():
            mgr.count_resources(QB["category"] == rng.choice(CATEGORIES))

        res = {"create": timed(args.n, create)}
        ids = list(items)
        res["get"] = timed(args.gets, get)
        res["update"] = timed(args.updates, update)
        res["search"] = timed(args.searches, search)
        res["count"] = timed(args.counts, count)
        # Untimed sanity check: every item is findable by the indexed fields.
        assert mgr.count_resources(QB["price"] >= 0) == args.n
        return {k: round(v, 2) for k, v in res.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--gets", type=int, default=2000)
    p.add_argument("--updates", type=int, default=1000)
    p.add_argument("--searches", type=int, default=200)
    p.add_argument("--counts", type=int, default=200)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="PostgreSQL storage on this server (a fresh database per run) instead of disk",
    )
    p.add_argument(
        "--minconn",
        type=int,
        default=POOL_MINCONN,
        help="connections specstar's pool keeps open (its own default, 0, reconnects per call)",
    )
    args = p.parse_args()
    runs = [run_once(args) for _ in range(args.runs)]
    backend = (
        f"PostgreSQL backend (psycopg2, pool minconn={args.minconn}; meta and resources in "
        "PostgreSQL, a fresh database per run; indexed values in a JSONB column with a GIN "
        "index)"
        if args.postgres
        else "disk backend in a temp dir; disk meta store scans every meta file per "
        "search/count (no real index), so search/count are O(n)"
    )
    notes = (
        f"Python API (SpecStar.get_resource_manager), sync calls; {backend}; "
        f"indexed_fields={INDEXED}. Search returns ResourceMeta (indexed "
        f"values) without data. Update = full replace via manager.update (new revision). "
        f"Sizes: n={args.n} gets={args.gets} updates={args.updates} "
        f"searches={args.searches} counts={args.counts}."
    )
    print(
        json.dumps(
            {"peer": "specstar", "version": version("specstar"), "runs": runs, "notes": notes}
        )
    )


if __name__ == "__main__":
    main()
