"""A real ``specql serve`` process on a free port: the example app is seeded
on first start, and every query of the README's GraphiQL tour runs on it."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    folder = tmp_path_factory.mktemp("serve")
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(folder / "data"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    log.close()  # the child has its own handle
    try:
        deadline = time.monotonic() + 120  # a start, however slow; not a hang
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                output = (folder / "serve.log").read_text()
                pytest.fail(f"specql serve did not become ready:\n{output}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _tour() -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_a_tour() -> None:
    assert len(_tour()) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("index", range(4))
def test_readme_tour_runs_on_a_real_server(server: str, index: int) -> None:
    query = _tour()[index]
    response = httpx.post(f"{server}/graphql", json={"query": query}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    data = body["data"]
    if index == 0:
        assert data["posts"]["edges"][0]["node"]["author"]["name"] == "Ada"
    if index == 1:
        names = [u["name"] for u in data["users"]["nodes"]]
        assert names[:2] == ["Ada", "Alan"]
    if index == 2:
        assert data["createUser"]["node"]["meta"]["createdBy"] == "anonymous"
    if index == 3:
        assert {p["title"] for p in data["posts"]["nodes"]} >= {"Hello, SpecQL", "Notes"}


@pytest.mark.slow
def test_graphiql_and_health_on_a_real_server(server: str) -> None:
    page = httpx.get(f"{server}/graphql", headers={"accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert httpx.get(f"{server}/health", timeout=10).json() == {"status": "ok"}
