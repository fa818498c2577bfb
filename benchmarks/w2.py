"""Workload W2: GraphQL over HTTP on one storage profile, optionally side by
side with the peer specstar (its own venv and server, see peers/README.md).

    python benchmarks/w2.py                          # SpecQL only, disk, 15 s per load
    python benchmarks/w2.py --duration 3             # smoke run
    python benchmarks/w2.py --peer specstar --write  # both, and rewrite the W2 block of RESULTS.md
    python benchmarks/w2.py --profile postgres-inline --peer specstar

Profiles are W1's (``bench_profiles.py``): ``disk``, ``postgres-inline``
(PostgreSQL in a schema made for the run, dropped after) and ``postgres``
(plus S3 on a moto server the script starts). The server gets the same stores
through ``SPECQL_*`` variables. On the PostgreSQL profiles specstar's server
runs on its PostgreSQL storage, in a database made for the run.

What it does, per side:

1. Loads --n items (W1's data: ``make_item`` with ``random.Random(42)``,
   ``item-0`` .. ``item-{n-1}``) into fresh stores. SpecQL: through
   the Python API (``registry.open(settings)``, ``create_many`` in
   batches); specstar: its server loads them itself on start
   (``peers/specstar_w2_server.py --fresh``). The ids go to a JSON file.
2. Starts one server process: ``specql serve benchmarks/w2_models.py`` (uvicorn,
   one process, uvloop when installed), or specstar's W2 server.
3. Checks one answer of (a) and (b) against the generated data, then runs
   ``loadgen/run.mjs`` (autocannon, closed loop) for each load with
   --connections connections for --duration seconds:
   (a) one item by id, all fields; (b) category = X, price desc, first 20,
   all fields; (c) create one item (GraphQL ``createItem``; specstar has no
   mutations, so its (c) is ``POST /item`` over REST).
   Any connection error, non-2xx status, GraphQL ``errors`` or null/empty
   ``data`` field makes the run fail (exit 1, RESULTS.md left alone).
4. Prints the table; with --write replaces the W2 block of RESULTS.md.

Load bodies: ``loadgen/w2/specql_*.json`` and ``peers/w2_specstar/*.json``.
Needs ``(cd benchmarks/loadgen && npm ci)`` once, and for the peer
``peers/setup_specstar.sh`` (run by this script).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_profiles import DATABASE_URL, PROFILES, bench_storage, fresh_database  # noqa: E402
from w2_models import registry  # noqa: E402
from workload import CATEGORIES, Item, make_item, specstar_python  # noqa: E402

LOADGEN = HERE / "loadgen"
LOADS = ("a", "b", "c")
LOAD_NAMES = {
    "a": "(a) get one item by id",
    "b": "(b) category = X, price desc, first 20",
    "c": "(c) create one item",
}
# PostGraphile, measured on the disk profile (numbers from the issue), req/s.
POSTGRAPHILE = {"a": 1715.0, "b": 1143.0, "c": 1779.0}
TARGET_VS_POSTGRAPHILE = 0.5
TARGET_VS_SPECSTAR = 10.0


def markers(profile: str) -> tuple[str, str]:
    """The RESULTS.md block of a profile's W2 run."""
    key = "W2" if profile == "disk" else f"W2-{profile}"
    return f"<!-- {key}:start -->", f"<!-- {key}:end -->"


# -- helpers -----------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[w2] {msg}", file=sys.stderr, flush=True)


def post_json(url: str, body: Any, timeout: float = 30.0) -> tuple[int, Any]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU time all processes spent busy (not idle or iowait), from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_idle(proc: subprocess.Popen[bytes], limit: float = 180.0) -> float:
    """Wait until the server burns < 5% CPU over half a second (a client that
    stopped may leave queued requests behind). Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        before = cpu_seconds(proc.pid)
        time.sleep(0.5)
        if cpu_seconds(proc.pid) - before < 0.025:
            return time.monotonic() - t0
    raise SystemExit(f"server {proc.pid} still busy after {limit:.0f} s")


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown cpu",
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "node": subprocess.run(
            ["node", "--version"], capture_output=True, text=True
        ).stdout.strip(),
        "loadavg_before": os.getloadavg(),
    }


def server_stack(python: str) -> str:
    """The event loop and HTTP parser uvicorn (loop="auto", http="auto") picks
    in the given interpreter."""
    code = (
        "import importlib.util as u, importlib.metadata as m;"
        "print(m.version('uvicorn'), bool(u.find_spec('uvloop')), bool(u.find_spec('httptools')))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    ver, uvloop, httptools = out.stdout.split()
    return (
        f"uvicorn {ver}, {'uvloop' if uvloop == 'True' else 'asyncio'} loop, "
        f"{'httptools' if httptools == 'True' else 'h11'} HTTP parser"
    )


class Server:
    """One server subprocess with its log file; stopped with SIGTERM."""

    def __init__(
        self, name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        log(f"starting {name}: {' '.join(argv)}")
        self.proc = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=HERE.parent,
            env={**os.environ, **(env or {})},
        )

    def wait_ready(self, check: Any, limit: float) -> None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, ValueError):  # not listening yet
                if check():
                    log(f"{self.name} ready after {time.monotonic() - t0:.1f} s")
                    return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name} not ready after {limit:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                log(f"{self.name} ignored SIGTERM for 30 s; killing it")
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def run_load(
    args: argparse.Namespace,
    server: Server,
    *,
    url: str,
    body_file: Path,
    ids_file: Path | None,
    warmup: float,
) -> dict[str, Any]:
    argv = [
        "node",
        str(LOADGEN / "run.mjs"),
        "--url",
        url,
        "--body-file",
        str(body_file),
        "--connections",
        str(args.connections),
        "--duration",
        str(args.duration),
        "--warmup",
        str(warmup),
        "--timeout",
        str(args.timeout),
    ]
    if ids_file is not None:
        argv += ["--ids-file", str(ids_file)]
    waited = wait_idle(server.proc)
    cpu0 = cpu_seconds(server.proc.pid)
    busy0 = busy_seconds()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, cwd=LOADGEN)
    wall = time.monotonic() - t0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1 = busy_seconds()
    if out.returncode != 0:
        raise SystemExit(f"run.mjs failed ({out.returncode}):\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    # CPU over the whole run.mjs call (warm-up included), as a share of one core
    server_s = cpu_seconds(server.proc.pid) - cpu0
    loadgen_s = children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime
    result["server_cpu"] = server_s / wall
    result["loadgen_cpu"] = loadgen_s / wall
    # everything else on the machine (other processes, this script, the kernel's own threads)
    result["other_cpu"] = max(0.0, busy1 - busy0 - server_s - loadgen_s) / wall
    result["server_rss_mib"] = rss_mib(server.proc.pid)
    result["idle_wait_s"] = round(waited, 1)
    if server.proc.poll() is not None:
        raise SystemExit(f"{server.name} died during the load:\n{server.log_tail()}")
    return result


def problems_of(side: str, load: str, r: dict[str, Any]) -> list[str]:
    found = []
    for key in ("errors", "timeouts", "non2xx", "graphql_errors", "null_data"):
        if r.get(key):
            found.append(f"{side} {load}: {key}={r[key]}")
    if r.get("graphql_error_samples"):
        found.append(f"{side} {load}: samples {r['graphql_error_samples']}")
    if not r.get("requests"):
        found.append(f"{side} {load}: no responses at all")
    return found


def expected_page(items: list[Item], category: str) -> list[float]:
    return sorted((it.price for it in items if it.category == category), reverse=True)[:20]


# -- SpecQL ------------------------------------------------------------------


async def load_specql(settings: Any, n: int, batch: int) -> tuple[list[str], list[Item]]:
    rng = random.Random(42)
    items = [make_item(rng, i) for i in range(n)]
    manager = await registry.open(settings)
    try:
        ids: list[str] = []
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            results = await manager.create_many("item", items[start : start + batch])
            ids.extend(r.id for r in results)
        took = time.perf_counter() - t0
        assert await manager.count("item") == n
    finally:
        await manager.close()
    log(f"specql: loaded {n} items in {took:.1f} s ({n / took:,.0f}/s)")
    return ids, items


def specql_argv(args: argparse.Namespace) -> list[str]:
    """``specql serve``; the stores come from the ``SPECQL_*`` environment."""
    script = Path(sys.executable).parent / "specql"
    head = (
        [str(script)]
        if script.exists()
        else [
            sys.executable,
            "-c",
            "import sys; from app.cli import main; sys.argv[0] = 'specql'; main()",
        ]
    )
    return [
        *head,
        "serve",
        str(HERE / "w2_models.py"),
        "--port",
        str(args.port),
    ]


def run_specql(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    with bench_storage(args.profile, database_url=args.database_url) as storage:
        return run_specql_on(args, work, storage)


def run_specql_on(args: argparse.Namespace, work: Path, storage: Any) -> dict[str, Any]:
    ids, items = asyncio.run(load_specql(storage.settings, args.n, args.batch))
    ids_file = work / "specql-ids.json"
    ids_file.write_text(json.dumps(ids))

    base = f"http://127.0.0.1:{args.port}"
    server = Server("specql serve", specql_argv(args), work / "specql-server.log", env=storage.env)
    results: dict[str, Any] = {
        "stack": server_stack(sys.executable),
        "storage": storage.label,
        "loads": {},
    }
    try:
        server.wait_ready(
            lambda: urllib.request.urlopen(base + "/health", timeout=2).status == 200, 60
        )
        status, ready = post_json(
            base + "/graphql", {"query": "{ items(first: 1) { totalCount } }"}
        )
        assert status == 200 and ready["data"]["items"]["totalCount"] == args.n, ready

        # one answer of (a) and (b), checked against the generated data
        doc_a = json.loads((LOADGEN / "w2" / "specql_a_get.json").read_text())
        doc_a["variables"]["id"] = ids[7]
        status, got = post_json(base + "/graphql", doc_a)
        node = got["data"]["item"]
        assert status == 200 and "errors" not in got, got
        want = items[7]
        assert (node["id"], node["name"], node["category"], node["price"], node["tags"]) == (
            ids[7],
            want.name,
            want.category,
            want.price,
            want.tags,
        ), (node, want)
        doc_b = json.loads((LOADGEN / "w2" / "specql_b_search.json").read_text())
        for category in CATEGORIES[:3]:
            doc_b["variables"]["c"] = category
            status, got = post_json(base + "/graphql", doc_b)
            assert status == 200 and "errors" not in got, got
            nodes = [e["node"] for e in got["data"]["items"]["edges"]]
            assert [x["price"] for x in nodes] == expected_page(items, category), nodes
            assert all(x["category"] == category for x in nodes)

        plan = {
            "a": (base + "/graphql", LOADGEN / "w2" / "specql_a_get.json", ids_file),
            "b": (
                base + "/graphql",
                LOADGEN / "w2" / "specql_b_search.json",
                LOADGEN / "w2" / "categories.json",
            ),
            "c": (base + "/graphql", LOADGEN / "w2" / "specql_c_create.json", None),
        }
        for load in args.loads:
            url, body, idf = plan[load]
            log(f"specql {load}: {args.connections} connections, {args.duration} s")
            r = run_load(args, server, url=url, body_file=body, ids_file=idf, warmup=args.warmup)
            results["loads"][load] = r
            log(f"specql {load}: {summary(r)}")
        if "c" in args.loads:
            status, got = post_json(
                base + "/graphql", {"query": "{ items(first: 1) { totalCount } }"}
            )
            total = got["data"]["items"]["totalCount"]
            results["count_after_create"] = total
            created = results["loads"]["c"]["requests"]
            if total < args.n + created:
                raise SystemExit(
                    f"specql: {total} items after (c), expected >= {args.n} + {created}"
                )
    finally:
        results["exit_code"] = server.stop()
        text = server.log_path.read_text(errors="replace")
        results["log_problems"] = [
            line for line in text.splitlines() if "Traceback" in line or "ERROR" in line
        ][:10]
        if results["log_problems"]:
            log(f"specql server log:\n{server.log_tail()}")
    return results


# -- specstar ----------------------------------------------------------------


def run_specstar(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    if args.profile == "disk":
        return run_specstar_on(args, work, None)
    with fresh_database(args.database_url, prefix="specstar_w2") as url:
        return run_specstar_on(args, work, url)


def run_specstar_on(args: argparse.Namespace, work: Path, postgres: str | None) -> dict[str, Any]:
    python = specstar_python()
    rng = random.Random(42)
    items = [make_item(rng, i) for i in range(args.n)]
    data_dir = work / "specstar"
    base = f"http://127.0.0.1:{args.peer_port}"
    server = Server(
        "specstar server",
        [
            python,
            str(HERE / "peers" / "specstar_w2_server.py"),
            "--port",
            str(args.peer_port),
            "--data-dir",
            str(data_dir),
            "--n",
            str(args.n),
            "--fresh",
            *(["--postgres", postgres] if postgres else []),
        ],
        work / "specstar-server.log",
    )
    version = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('specstar'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    results: dict[str, Any] = {"stack": server_stack(python), "version": version, "loads": {}}
    try:
        server.wait_ready(
            lambda: post_json(base + "/graphql", {"query": "{ __typename }"}, timeout=2)[0] == 200,
            900,
        )
        ids_file = data_dir / "ids.json"
        ids = json.loads(ids_file.read_text())
        doc_a = json.loads((HERE / "peers" / "w2_specstar" / "a_get.json").read_text())
        doc_a["variables"]["id"] = ids[7]
        status, got = post_json(base + "/graphql", doc_a)
        assert status == 200 and "errors" not in got and got["data"]["item"], got
        assert got["data"]["item"]["data"]["name"] == items[7].name, got
        doc_b = json.loads((HERE / "peers" / "w2_specstar" / "b_search.json").read_text())
        doc_b["variables"]["c"] = CATEGORIES[0]
        status, got = post_json(base + "/graphql", doc_b, timeout=120)
        assert status == 200 and "errors" not in got, got
        prices = [x["data"]["price"] for x in got["data"]["item_list"]]
        assert prices == expected_page(items, CATEGORIES[0]), prices

        peer = HERE / "peers" / "w2_specstar"
        plan = {
            "a": (base + "/graphql", peer / "a_get.json", ids_file, args.warmup),
            # no warm-up for (b): ~1 s per search, the warm-up's queue would spill into the run
            "b": (base + "/graphql", peer / "b_search.json", LOADGEN / "w2" / "categories.json", 0),
            "c": (base + "/item", peer / "c_create_rest.json", None, args.warmup),
        }
        for load in args.loads:
            url, body, idf, warmup = plan[load]
            log(f"specstar {load}: {args.connections} connections, {args.duration} s")
            r = run_load(args, server, url=url, body_file=body, ids_file=idf, warmup=warmup)
            results["loads"][load] = r
            log(f"specstar {load}: {summary(r)}")
    finally:
        results["exit_code"] = server.stop()
    return results


# -- report ------------------------------------------------------------------


def summary(r: dict[str, Any]) -> str:
    return (
        f"{r['requests_per_s']:,.1f} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
        f"{r['requests']} requests, server CPU {r['server_cpu']:.0%}, "
        f"loadgen CPU {r['loadgen_cpu']:.0%}, other CPU {r['other_cpu']:.0%}"
    )


def fmt_ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.1f}" if v >= 10 else f"{v:,.2f}"


def tables(
    ours: dict[str, Any], peer: dict[str, Any] | None, loads: list[str]
) -> tuple[str, str, bool]:
    head = "| load | SpecQL req/s | p50 ms | p99 ms |"
    rule = "|---|---:|---:|---:|"
    if peer:
        head += " specstar req/s | p50 ms | p99 ms | SpecQL ÷ specstar |"
        rule += "---:|---:|---:|---:|"
    head += " PostGraphile req/s | SpecQL ÷ PostGraphile |"
    rule += "---:|---:|"
    lines = [head, rule]
    checks = ["| target | needed | measured | met |", "|---|---:|---:|---|"]
    all_met = True
    for load in loads:
        o = ours["loads"][load]
        row = (
            f"| {LOAD_NAMES[load]} | {o['requests_per_s']:,.0f} |"
            f" {fmt_ms(o['p50_ms'])} | {fmt_ms(o['p99_ms'])} |"
        )
        if peer:
            t = peer["loads"][load]
            ratio = (
                o["requests_per_s"] / t["requests_per_s"] if t["requests_per_s"] else float("inf")
            )
            row += (
                f" {t['requests_per_s']:,.1f} | {fmt_ms(t['p50_ms'])} | {fmt_ms(t['p99_ms'])} |"
                f" {ratio:,.1f}x |"
            )
        pg = POSTGRAPHILE[load]
        row += f" {pg:,.0f} | {o['requests_per_s'] / pg:.2f} |"
        lines.append(row)

        need = TARGET_VS_POSTGRAPHILE * pg
        met = o["requests_per_s"] >= need
        all_met &= met
        checks.append(
            f"| {LOAD_NAMES[load]}: ≥ 50% of PostGraphile ({pg:,.0f}) | ≥ {need:,.0f} req/s |"
            f" {o['requests_per_s']:,.0f} req/s ({o['requests_per_s'] / pg:.0%}) |"
            f" {'yes' if met else 'no'} |"
        )
        if peer:
            t = peer["loads"][load]
            need = TARGET_VS_SPECSTAR * t["requests_per_s"]
            met = o["requests_per_s"] >= need
            all_met &= met
            ratio = (
                o["requests_per_s"] / t["requests_per_s"] if t["requests_per_s"] else float("inf")
            )
            checks.append(
                f"| {LOAD_NAMES[load]}: ≥ 10x specstar ({t['requests_per_s']:,.1f}) |"
                f" ≥ {need:,.0f} req/s | {ratio:,.1f}x | {'yes' if met else 'no'} |"
            )
    return "\n".join(lines), "\n".join(checks), all_met


def cpu_table(ours: dict[str, Any], peer: dict[str, Any] | None, loads: list[str]) -> str:
    lines = [
        "| load | SpecQL server CPU | load generator | other | SpecQL RSS after |"
        + (" specstar server CPU | load generator | other |" if peer else ""),
        "|---|---:|---:|---:|---:|" + ("---:|---:|---:|" if peer else ""),
    ]
    for load in loads:
        o = ours["loads"][load]
        row = (
            f"| {LOAD_NAMES[load]} | {o['server_cpu']:.0%} | {o['loadgen_cpu']:.0%} |"
            f" {o['other_cpu']:.0%} | {o['server_rss_mib']:,.0f} MiB |"
        )
        if peer:
            t = peer["loads"][load]
            row += f" {t['server_cpu']:.0%} | {t['loadgen_cpu']:.0%} | {t['other_cpu']:.0%} |"
        lines.append(row)
    return "\n".join(lines)


def write_results(
    args: argparse.Namespace,
    env: dict[str, Any],
    ours: dict[str, Any],
    peer: dict[str, Any] | None,
    table: str,
    checks: str,
    cpu: str,
) -> None:
    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start, end = markers(args.profile)
    load1, load5, _ = env["loadavg_before"]
    after1, _, _ = env["loadavg_after"]
    on_disk = args.profile == "disk"
    peer_note = (
        f" specstar {peer['version']} ({peer['stack']}) ran the same loads right after, on its"
        " own (`peers/specstar_w2_server.py`: GraphQL via its `GraphQLRouteTemplate`,"
        + (
            " disk backend, W1's setup)."
            if on_disk
            else " its PostgreSQL backend for meta and resources, W1's setup, a database"
            " made for the run)."
        )
        + " **specstar's GraphQL schema has no mutations, so its (c) is"
        " `POST /item` over REST**, not GraphQL. Its (b) had no warm-up"
        + (
            " (each search scans all meta files, ~1 s at 10,000 items, so its p50/p99 are"
            " mostly queueing)."
            if on_disk
            else "."
        )
        if peer
        else ""
    )
    storage_note = (
        ""
        if on_disk
        else f" Stores: {ours['storage']} (`bench_profiles.py`), a PostgreSQL schema made for"
        " the run and dropped after; the server opens them through `SPECQL_*` variables."
    )
    profile_flag = "" if on_disk else f" --profile {args.profile}"
    body = f"""{start}
## W2: GraphQL over HTTP, {args.profile} profile

Measured {dt.date.today().isoformat()} on {env["cores"]} cores ({env["cpu"]}), \
Python {env["python"]}, {env["system"]}, Node {env["node"]}; load average before the run \
{load1:.2f} / {load5:.2f} (1 / 5 min), after it {after1:.2f} (1 min). n={args.n} items \
(W1's data) loaded through the Python API, then one `specql serve benchmarks/w2_models.py` \
process ({ours["stack"]}). Each load: \
autocannon 9.0.0 (`loadgen/run.mjs`, closed loop, same machine) with {args.connections} \
connections for {args.duration:g} s after a {args.warmup:g} s warm-up; p50/p99 are exact \
per-response latencies. Every response body was checked: no connection errors, non-2xx \
statuses or GraphQL `errors`, and no null/empty `data` field in a 1-in-10 sample. Loads ran in \
the order a, b, c; (c) keeps its creates.{storage_note}{peer_note}

{table}

Targets (PostGraphile's req/s as measured for the issue on the disk profile):

{checks}

CPU during each load, as a share of one core over the whole `run.mjs` call (warm-up \
included; {env["cores"]} cores in all, the load generator runs on the same machine; "other" is \
everything else that ran meanwhile, from `/proc/stat`, and shows whether the machine was quiet):

{cpu}

Reproduce: `(cd benchmarks/loadgen && npm ci)`, then \
`.venv/bin/python benchmarks/w2.py{profile_flag}{" --peer specstar" if peer else ""}` \
(`--duration 3` for a smoke run; `--write` rewrites this block).
{end}"""
    if start in text:
        text = text[: text.index(start)] + body + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    path.write_text(text)
    log(f"wrote the W2 block of {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="items to load")
    p.add_argument("--batch", type=int, default=1000, help="create_many batch size for loading")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--duration", type=float, default=15, help="seconds per load")
    p.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each load")
    p.add_argument("--timeout", type=float, default=30, help="autocannon request timeout, s")
    p.add_argument("--loads", default="abc", help="which loads, in order (default abc)")
    p.add_argument("--profile", choices=PROFILES, default="disk")
    p.add_argument(
        "--database-url",
        default=DATABASE_URL,
        help="PostgreSQL for the postgres profiles (a schema per run is made and dropped)",
    )
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--peer", choices=["specstar"], default=None)
    p.add_argument("--peer-port", type=int, default=8766)
    p.add_argument("--keep", action="store_true", help="keep the work directory (data, logs)")
    p.add_argument("--json-out", type=Path, help="also write the raw results here")
    p.add_argument(
        "--write", action="store_true", help="replace the W2 block of benchmarks/RESULTS.md"
    )
    args = p.parse_args()
    args.loads = [c for c in args.loads if c in LOADS]
    if not (LOADGEN / "node_modules" / "autocannon").is_dir():
        raise SystemExit("autocannon missing: run (cd benchmarks/loadgen && npm ci)")

    env = machine()
    log(f"load average before: {env['loadavg_before']}")
    work = Path(tempfile.mkdtemp(prefix="w2-"))
    try:
        ours = run_specql(args, work)
        peer = run_specstar(args, work) if args.peer else None
        env["loadavg_after"] = os.getloadavg()
    finally:
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    problems = [pr for load, r in ours["loads"].items() for pr in problems_of("specql", load, r)]
    if ours["log_problems"]:
        problems.append(f"specql server log: {ours['log_problems']}")
    if peer:
        problems += [
            pr for load, r in peer["loads"].items() for pr in problems_of("specstar", load, r)
        ]

    table, checks, all_met = tables(ours, peer, args.loads)
    cpu = cpu_table(ours, peer, args.loads)
    raw = {
        "machine": env,
        "args": {k: v for k, v in vars(args).items() if k != "json_out"},
        "specql": ours,
        "peer": peer,
        "problems": problems,
    }
    print(json.dumps(raw, indent=1, default=str), file=sys.stderr)
    if args.json_out:
        args.json_out.write_text(json.dumps(raw, indent=1, default=str))
    print(table)
    print()
    print(checks)
    print()
    print(cpu)
    print(f"\nall targets met: {'yes' if all_met else 'no'}")
    if problems:
        print("\nPROBLEMS (RESULTS.md not written):\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    if args.write:
        write_results(args, env, ours, peer, table, checks, cpu)


if __name__ == "__main__":
    main()
