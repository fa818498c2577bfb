"""Workload W2 peer server: specstar's GraphQL (and REST) routes over HTTP.

Run with the specstar venv's python (see setup_specstar.sh, which also installs
strawberry-graphql and uvicorn):

    benchmarks/.venv-specstar/bin/python benchmarks/peers/specstar_w2_server.py --port 8100

On start it opens (or creates) a specstar disk store in --data-dir (with
``--postgres URL``: meta and resources on specstar's PostgreSQL storage in that
database, blobs and ids.json still in --data-dir) and, unless
that store is already loaded, loads --n items made exactly as in W1
(``random.Random(42)``, names ``item-0`` .. ``item-{n-1}``). The resource ids of
the loaded items are written to ``<data-dir>/ids.json`` (a JSON array), which
the load generator takes as ``--ids-file`` for the get-by-id load. That file is
written only once loading has finished, and it marks the store as loaded.

Then it serves, on http://HOST:PORT, with one uvicorn process and no access log:

- ``POST /graphql``: specstar's ``GraphQLRouteTemplate`` (strawberry). Query
  fields ``item(resourceId: ...)`` and ``item_list(query: ...)``; no mutations.
- ``POST /item`` (and the rest of specstar's default REST routes): used for the
  create load, because specstar's GraphQL schema has no mutation type.

Creates done by a load run add items to the store; pass --fresh to wipe
--data-dir and load again.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from specstar import SpecStar
from specstar_setup import make_spec
from workload import Item, make_item


def load(spec: SpecStar, data_dir: Path, n: int) -> list[str]:
    ids_path = data_dir / "ids.json"
    if ids_path.exists():
        ids = json.loads(ids_path.read_text())
        if len(ids) == n:
            print(f"[w2-server] store already loaded: {n} ids in {ids_path}", file=sys.stderr)
            return ids
        sys.exit(f"{ids_path} holds {len(ids)} ids, not --n {n}; use --fresh")
    mgr = spec.get_resource_manager(Item)
    rng = random.Random(42)
    ids = []
    t0 = time.perf_counter()
    for i in range(n):
        ids.append(mgr.create(make_item(rng, i)).resource_id)
        if (i + 1) % 2000 == 0:
            print(f"[w2-server] loaded {i + 1}/{n}", file=sys.stderr)
    took = time.perf_counter() - t0
    print(f"[w2-server] loaded {n} items in {took:.1f} s ({n / took:.0f}/s)", file=sys.stderr)
    tmp = ids_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(ids))
    os.replace(tmp, ids_path)
    return ids


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--data-dir",
        default=str(Path(tempfile.gettempdir()) / "specstar-w2"),
        help="specstar disk store (default: $TMPDIR/specstar-w2); ids.json goes here",
    )
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--fresh", action="store_true", help="wipe --data-dir first, then load")
    p.add_argument("--load-only", action="store_true", help="load (if needed) and exit")
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="specstar's PostgreSQL storage in this (empty) database instead of disk",
    )
    args = p.parse_args()

    data_dir = Path(args.data_dir)
    if args.fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "store").mkdir(exist_ok=True)

    spec = make_spec(str(data_dir / "store"), graphql=True, postgres=args.postgres)
    load(spec, data_dir, args.n)
    if args.load_only:
        return

    app = FastAPI()
    with warnings.catch_warnings():
        # Startup advisories (forbid_unknown_fields, default query limit, ...): not relevant here.
        warnings.simplefilter("ignore")
        spec.apply(app)
    print(
        f"[w2-server] specstar {version('specstar')}, strawberry-graphql "
        f"{version('strawberry-graphql')}: POST http://{args.host}:{args.port}/graphql, "
        f"POST http://{args.host}:{args.port}/item; ids in {data_dir / 'ids.json'}",
        file=sys.stderr,
    )
    logging.getLogger("specstar").setLevel(logging.ERROR)
    uvicorn.run(
        app, host=args.host, port=args.port, workers=1, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
