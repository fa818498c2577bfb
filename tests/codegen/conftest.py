"""Fixtures for the TypeScript client: the generated files of each golden
case, the pinned ``tsc`` (installed by ``npm ci`` from package-lock.json when
missing), ``node``, and real ``specql serve`` processes."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.api.serve import load_registry
from frontend_codegen import OutputFile, generate, introspect

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TSC = HERE / "node_modules" / ".bin" / "tsc"
SPECQL = [sys.executable, "-c", "from app.cli import main; main()"]

# golden case -> the MODELS argument of the CLI (None: the bundled example app)
CASES: dict[str, str | None] = {
    "example": None,
    "field_types": "tests.models:build_registry",
    "shapes": "tests.codegen.cases.shapes:build_registry",
}

# tsc flags for a strict check of code meant for browsers and Node 20 alike:
# no DOM or Node typings, so the client can only lean on what it declares
TSC_FLAGS = [
    "--strict",
    "--target",
    "ES2022",
    "--module",
    "ES2022",
    "--moduleResolution",
    "bundler",
    "--lib",
    "ES2022",
    "--skipLibCheck",
    "--noUnusedLocals",
    "--noUnusedParameters",
    "--noFallthroughCasesInSwitch",
    "--pretty",
    "false",
]


def generated(case: str) -> list[OutputFile]:
    return generate(introspect.from_registry(load_registry(CASES[case])))


def write_client(case: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for file in generated(case):
        (folder / file.path).write_text(file.text)
    return folder


@pytest.fixture(scope="session")
def tsc() -> Path:
    """The TypeScript compiler pinned in tests/codegen/package-lock.json."""
    if not TSC.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install the pinned TypeScript (tests/codegen)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return TSC


@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node (20 or newer) is needed to run the generated client")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= 20, version.stdout
    return found


def run_tsc(tsc: Path, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tsc), *TSC_FLAGS, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(models: str | None, folder: Path, *options: str) -> Iterator[str]:
    """A real ``specql serve`` on a free port with a fresh data dir; yields
    the GraphQL URL."""
    port = free_port()
    log_path = folder / "serve.log"
    command = [*SPECQL, "serve", *([models] if models else [])]
    command += ["--port", str(port), "--data-dir", str(folder / "data"), *options]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a start, however slow; not a hang
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"specql serve did not become ready:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield f"{base}/graphql"
    finally:
        process.terminate()
        process.wait(timeout=10)
