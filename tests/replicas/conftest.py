"""Real ``specql serve`` processes of the example app on the postgres profile.

``start_replicas`` launches several at once on one PostgreSQL schema and one
S3 prefix (both empty: the replicas race through migrations and seeding), and
returns once every one answers ``/ready``. Tests drive them over HTTP with
``gql``; ``terminate_backends`` kills exactly the PostgreSQL connections of
one process (found through its sockets, so other test runs sharing the
server are left alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.storage.s3 import S3BlobStore
from tests.conftest import BUCKET, DATABASE_URL, drop_schemas
from tests.s3_server import FAKE_KEY_ID, FAKE_SECRET, MotoServer, free_port

PG_PORT = urllib.parse.urlsplit(DATABASE_URL).port or 5432
READY_TIMEOUT = 120.0
# Words that must never reach a client: driver, SQL and endpoint details.
LEAKS = ("traceback", "asyncpg", "sqlalchemy", "postgres", "select ", "s3:", "127.0.0.1")


def unique_name(kind: str) -> str:
    """A fresh PostgreSQL schema / S3 prefix name."""
    return f"{kind}_{uuid.uuid4().hex[:12]}"


def s3_url(endpoint: str, prefix: str, **options: Any) -> str:
    query = urllib.parse.urlencode({"endpoint": endpoint, "region": "us-east-1", **options})
    return f"s3://{BUCKET}/{prefix}?{query}"


class Replica:
    """One ``specql serve`` process (the example app) on the postgres profile."""

    def __init__(self, name: str, folder: Path, schema: str, s3: str, pool_size: int) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"{name}.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SPECQL_")}
        self.env.update(
            SPECQL_DATABASE_SCHEMA=schema,
            SPECQL_POOL_SIZE=str(pool_size),
            AWS_ACCESS_KEY_ID=FAKE_KEY_ID,
            AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
            AWS_DEFAULT_REGION="us-east-1",
        )
        self.s3_url = s3
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from app.cli import main; main()",
                    "serve",
                    "--port",
                    str(self.port),
                    "--profile",
                    "postgres",
                    "--database-url",
                    DATABASE_URL,
                    "--s3-url",
                    self.s3_url,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(f"{self.url}/ready", timeout=2).status_code == 200
        return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def backend_ports(self) -> set[int]:
        """Local ports of this process's TCP connections to PostgreSQL (they
        are ``client_port`` in ``pg_stat_activity``)."""
        inodes = set()
        for fd in Path(f"/proc/{self.pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        ports = set()
        for table in ("tcp", "tcp6"):
            lines = Path(f"/proc/{self.pid}/net/{table}").read_text().splitlines()[1:]
            for line in lines:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == PG_PORT:
                    ports.add(int(local.rsplit(":", 1)[1], 16))
        return ports


@contextlib.contextmanager
def running(replicas: list[Replica]) -> Iterator[list[Replica]]:
    """Start every replica at once; yield once all answer ``/ready``."""
    try:
        for replica in replicas:
            replica.start()
        deadline = time.monotonic() + READY_TIMEOUT
        waiting = list(replicas)
        while waiting:
            try:
                waiting = [r for r in waiting if not r.ready()]
            except RuntimeError as exc:
                pytest.fail(f"{exc}\n{logs(replicas)}")
            if waiting and time.monotonic() > deadline:
                pytest.fail(f"replicas did not become ready:\n{logs(replicas)}")
            time.sleep(0.1)
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


def start_replicas(
    folder: Path, schema: str, s3: str, count: int = 2, pool_size: int = 5
) -> contextlib.AbstractContextManager[list[Replica]]:
    """``count`` replicas on one schema and S3 location, started together."""
    return running([Replica(f"replica{i}", folder, schema, s3, pool_size) for i in range(count)])


def logs(replicas: list[Replica]) -> str:
    return "\n".join(f"--- {r.name}\n{r.log()[-4000:]}" for r in replicas)


async def create_bucket(server: MotoServer) -> None:
    store = S3BlobStore(server.location(BUCKET))
    try:
        await store.ensure_bucket()
    finally:
        await store.close()


@pytest.fixture(scope="module")
def schema() -> Iterator[str]:
    """A PostgreSQL schema of the module's own, dropped afterwards."""
    name = unique_name("replicas")
    yield name
    asyncio.run(drop_schemas({name}))


# -- GraphQL over HTTP -------------------------------------------------------


def client(replica: Replica) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=replica.url,
        timeout=30.0,
        limits=httpx.Limits(max_connections=100),
        trust_env=False,
    )


async def gql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """The response body of one GraphQL request (HTTP 200 under plain JSON)."""
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


def assert_clean_internal(body: dict[str, Any], *secrets: str) -> str:
    """The body is one masked INTERNAL error; returns its request id."""
    error = only_error(body)
    request_id = error["extensions"]["requestId"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert error["message"] == f"internal error (request id {request_id})"
    text = json.dumps(body).lower()
    for word in (*LEAKS, *secrets):
        assert word.lower() not in text, body
    return str(request_id)


CREATE_USER = """
mutation($email: String!, $name: String!) {
  createUser(input: {email: $email, name: $name}) { node { id email } }
}"""

CREATE_POST = """
mutation($id: ID, $title: String!, $author: ID!) {
  createPost(id: $id, input: {title: $title, body: $title, authorId: $author}) { node {
    id title revision { revisionId number parentRevisionId }
  } }
}"""

UPDATE_POST = """
mutation($id: ID!, $title: String!, $author: ID!, $expected: ID) {
  updatePost(id: $id, expectedRevisionId: $expected,
             input: {title: $title, body: $title, authorId: $author}) { node {
    id title revision { revisionId number parentRevisionId }
  } }
}"""

POST = """
query($id: ID!) {
  post(id: $id) { id title body meta { revisionCount currentRevisionId } }
}"""

HISTORY = """
query($id: ID!, $after: String) {
  post(id: $id) {
    revisions(first: 25, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { revisionId number parentRevisionId } }
    }
  }
}"""


async def history(http: httpx.AsyncClient, post_id: str) -> list[dict[str, Any]]:
    """Every revision of a post, newest first, walking all pages."""
    revisions: list[dict[str, Any]] = []
    after = None
    while True:
        page = data(await gql(http, HISTORY, id=post_id, after=after))["post"]["revisions"]
        revisions += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert page["totalCount"] == len(revisions)
            return revisions
        after = page["pageInfo"]["endCursor"]


def assert_linear(revisions: list[dict[str, Any]]) -> None:
    """Numbers N..1 without gaps, each parent the revision before it."""
    numbers = [r["number"] for r in revisions]
    assert numbers == list(range(len(revisions), 0, -1))
    oldest_first = revisions[::-1]
    assert oldest_first[0]["parentRevisionId"] is None
    for parent, child in itertools.pairwise(oldest_first):
        assert child["parentRevisionId"] == parent["revisionId"]
    assert len({r["revisionId"] for r in revisions}) == len(revisions)


async def make_author(http: httpx.AsyncClient) -> str:
    email = f"{unique_name('author')}@example.org"
    author: str = data(await gql(http, CREATE_USER, email=email, name="Author"))["createUser"][
        "node"
    ]["id"]
    return author


async def make_post(
    http: httpx.AsyncClient, author: str, title: str, post_id: str | None = None
) -> dict[str, Any]:
    body = await gql(http, CREATE_POST, id=post_id, title=title, author=author)
    post: dict[str, Any] = data(body)["createPost"]["node"]
    return post


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 120.0) -> None:
    """Wait until ``check()`` is true (the timeout only catches a check that
    never comes true, not a slow machine)."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"{check.__name__} stayed false for {timeout}s"
        await asyncio.sleep(0.05)


# -- PostgreSQL --------------------------------------------------------------


async def terminate_backends(replica: Replica, *, waiting_on_lock: bool = False) -> int:
    """Terminate the replica's PostgreSQL connections (only those waiting on
    a lock, if asked); returns how many were terminated."""
    ports = sorted(replica.backend_ports())
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        rows = await conn.fetch(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'specql'
              AND client_addr = '127.0.0.1' AND client_port = ANY($1::int[])
              AND pid <> pg_backend_pid()
              AND (NOT $2 OR wait_event_type = 'Lock')
            """,
            ports,
            waiting_on_lock,
        )
    finally:
        await conn.close()
    return sum(1 for row in rows if row[0])


async def backends_waiting_on_lock(replica: Replica) -> int:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        count: int = await conn.fetchval(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND client_port = ANY($1::int[])
              AND wait_event_type = 'Lock'
            """,
            sorted(replica.backend_ports()),
        )
    finally:
        await conn.close()
    return count


@contextlib.asynccontextmanager
async def row_locked(schema: str, model: str, resource_id: str) -> Any:
    """Hold ``FOR UPDATE`` on a resource's meta row: the replicas' writes to
    it wait inside PostgreSQL until the block ends."""
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        async with conn.transaction():
            found = await conn.fetchval(
                f'SELECT resource_id FROM "{schema}".specql_m_{model} '
                "WHERE resource_id = $1 FOR UPDATE",
                resource_id,
            )
            assert found == resource_id
            yield
    finally:
        await conn.close()
