"""Faults under a real ``specql serve`` process on the postgres profile.

PostgreSQL: the process's connections are terminated (``pg_terminate_backend``)
while a request waits inside PostgreSQL, between requests, and during a burst.
A request whose connection dies fails as a masked INTERNAL error; once the
process has seen its connections close, every request succeeds (idle pooled
ones are replaced); nothing is half written.

S3: the endpoint (a moto server of this test's own) stops. Writes fail as
INTERNAL errors without committing meta, ``/ready`` says which stores are
down, and once the endpoint is back (empty: moto keeps nothing across a
restart) writes work again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import drop_schemas
from tests.replicas.conftest import (
    CREATE_POST,
    POST,
    UPDATE_POST,
    Replica,
    assert_clean_internal,
    assert_linear,
    backends_waiting_on_lock,
    client,
    create_bucket,
    data,
    eventually,
    gql,
    history,
    make_author,
    make_post,
    row_locked,
    running,
    s3_url,
    terminate_backends,
    unique_name,
)
from tests.s3_server import FAKE_KEY_ID, FAKE_SECRET, MotoServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def servers(
    moto: MotoServer, schema: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Replica, Replica, MotoServer]]:
    """Two replicas started together (process start-up is most of the cost):
    one on the session's S3 for the PostgreSQL faults, and one on a moto
    server and a schema of its own that the S3 test stops and restarts."""
    folder = tmp_path_factory.mktemp("faults")
    own_schema = unique_name("s3faults")
    try:
        with MotoServer() as own:
            asyncio.run(create_bucket(own))
            # one attempt and short timeouts: a down endpoint fails a request at once
            own_url = s3_url(own.url, own_schema, max_attempts=1, connect_timeout=1, read_timeout=5)
            pg = Replica("pg", folder, schema, s3_url(moto.url, unique_name("faults")), 5)
            s3 = Replica("s3", folder, own_schema, own_url, 5)
            with running([pg, s3]):
                yield pg, s3, own
    finally:
        asyncio.run(drop_schemas({own_schema}))


@pytest.fixture(scope="module")
def replica(servers: tuple[Replica, Replica, MotoServer]) -> Replica:
    return servers[0]


@pytest.fixture
async def http(replica: Replica) -> AsyncIterator[httpx.AsyncClient]:
    async with client(replica) as opened:
        yield opened


async def logged(replica: Replica, *words: str) -> bool:
    """Whether the server's log (stderr) mentions every word, within two
    minutes (a loaded machine writes it late, never that late)."""
    for _ in range(1200):
        text = replica.log()
        if all(word in text for word in words):
            return True
        await asyncio.sleep(0.1)
    return False


@contextlib.asynccontextmanager
async def update_waiting_on_lock(
    replica: Replica,
    schema: str,
    http: httpx.AsyncClient,
    post: dict[str, Any],
    author: str,
    title: str,
) -> AsyncIterator[asyncio.Future[dict[str, Any]]]:
    """An update of ``post`` sent while another session holds its row lock:
    inside the block it waits in PostgreSQL, holding a pooled connection."""

    async def waiting() -> bool:
        return await backends_waiting_on_lock(replica) == 1

    async with row_locked(schema, "post", post["id"]):
        pending = asyncio.ensure_future(
            gql(http, UPDATE_POST, id=post["id"], title=title, author=author)
        )
        await eventually(waiting)
        yield pending


async def test_connection_killed_mid_request_fails_cleanly_and_the_next_succeeds(
    replica: Replica, schema: str, http: httpx.AsyncClient
) -> None:
    author = await make_author(http)
    post = await make_post(http, author, "before")

    # the update waits for the row lock inside PostgreSQL when its connection dies
    async with update_waiting_on_lock(replica, schema, http, post, author, "killed") as pending:
        assert await terminate_backends(replica, waiting_on_lock=True) == 1
        body = await asyncio.wait_for(pending, 30)
    request_id = assert_clean_internal(body)
    assert await logged(replica, request_id, "terminating connection")

    after = data(await gql(http, UPDATE_POST, id=post["id"], title="next", author=author))
    assert after["updatePost"]["node"]["revision"]["number"] == 2
    assert (
        after["updatePost"]["node"]["revision"]["parentRevisionId"]
        == post["revision"]["revisionId"]
    )
    revisions = await history(http, post["id"])
    assert len(revisions) == 2
    assert_linear(revisions)
    assert data(await gql(http, POST, id=post["id"]))["post"]["title"] == "next"


async def test_pooled_connections_killed_between_requests(
    replica: Replica, schema: str, http: httpx.AsyncClient
) -> None:
    author = await make_author(http)
    post = await make_post(http, author, "pooled")

    # two connections in use at once: an update waits on a row lock while reads run
    async with update_waiting_on_lock(replica, schema, http, post, author, "pooled") as pending:
        await asyncio.gather(*(gql(http, POST, id=post["id"]) for _ in range(8)))
    number = data(await pending)["updatePost"]["node"]["revision"]["number"]
    pooled = replica.backend_ports()
    assert len(pooled) >= 2
    assert await terminate_backends(replica) == len(pooled)

    async def closed() -> bool:  # the server has seen its sockets close
        return not pooled & replica.backend_ports()

    await eventually(closed)
    # no request meets a dead pooled connection: concurrent reads, then writes
    bodies = await asyncio.gather(*(gql(http, POST, id=post["id"]) for _ in range(8)))
    assert all(data(body)["post"]["title"] == "pooled" for body in bodies)
    for n in range(3):
        title = f"pooled {n}"
        updated = data(await gql(http, UPDATE_POST, id=post["id"], title=title, author=author))
        assert updated["updatePost"]["node"]["revision"]["number"] == number + n + 1
        assert data(await gql(http, POST, id=post["id"]))["post"]["title"] == title
        created = await make_post(http, author, title)
        assert data(await gql(http, POST, id=created["id"]))["post"]["title"] == title
    assert not pooled & replica.backend_ports()


async def test_connections_killed_during_a_burst(
    replica: Replica, schema: str, http: httpx.AsyncClient
) -> None:
    author = await make_author(http)
    locked, free = [await make_post(http, author, title) for title in ("locked", "free")]
    tag = unique_name("burst")
    creates = {f"{tag}-{n}": f"{tag} created {n}" for n in range(10)}
    updates = {
        post["id"]: [f"{tag} {post['title']} {n}" for n in range(10)] for post in (locked, free)
    }

    async def send() -> list[dict[str, Any]]:
        calls = [
            gql(http, CREATE_POST, id=post_id, title=title, author=author)
            for post_id, title in creates.items()
        ] + [
            gql(http, UPDATE_POST, id=post_id, title=title, author=author)
            for post_id, titles in updates.items()
            for title in titles
        ]
        return await asyncio.wait_for(asyncio.gather(*calls), 60)  # none hangs

    async def waiting() -> bool:
        return await backends_waiting_on_lock(replica) >= 1

    kills, pause = 0, random.Random(7)
    async with row_locked(schema, "post", locked["id"]):
        burst = asyncio.ensure_future(send())
        await eventually(waiting)  # updates of one post are inside PostgreSQL, waiting
        kills += await terminate_backends(replica)
    while not burst.done():  # and again at random points while requests are in flight
        kills += await terminate_backends(replica)
        await asyncio.sleep(pause.uniform(0.005, 0.04))
    bodies = await burst
    assert kills >= 1
    failed = [assert_clean_internal(body) for body in bodies if "errors" in body]
    assert failed, "no request was in flight when its connection died"

    # once the server has seen its killed connections close, every request succeeds
    pooled = replica.backend_ports()
    await terminate_backends(replica)

    async def closed() -> bool:
        return not pooled & replica.backend_ports()

    await eventually(closed)
    for _ in range(3):
        assert data(await gql(http, POST, id=free["id"]))["post"]["id"] == free["id"]

    # nothing half written: every created post is whole or absent, acknowledged ones whole
    acked = {
        b["data"]["createPost"]["node"]["id"]
        for b in bodies
        if "createPost" in (b.get("data") or {})
    }
    for post_id, title in creates.items():
        found = data(await gql(http, POST, id=post_id))["post"]
        if post_id in acked:
            assert found is not None
        if found is not None:
            assert (found["title"], found["body"]) == (title, title)
    listed = data(
        await gql(
            http,
            "query($t: String!) { posts(first: 100, where: {title: {startsWith: $t}}) "
            "{ nodes { id title body } } }",
            t=f"{tag} created",
        )
    )["posts"]["nodes"]
    assert {node["id"] for node in listed} >= acked
    assert all(node["title"] == creates[node["id"]] == node["body"] for node in listed)

    # updates: a linear history holding every acknowledged revision, each with its payload
    acked_revisions = {
        b["data"]["updatePost"]["node"]["revision"]["revisionId"]
        for b in bodies
        if "updatePost" in (b.get("data") or {})
    }
    for post in (locked, free):
        revisions = await history(http, post["id"])
        assert_linear(revisions)
        kept = {r["revisionId"] for r in revisions}
        mine = {
            b["data"]["updatePost"]["node"]["revision"]["revisionId"]
            for b in bodies
            if (b.get("data") or {}).get("updatePost", {}).get("node", {}).get("id") == post["id"]
        }
        assert mine <= kept
        assert 1 + len(mine) <= len(revisions) <= 1 + len(updates[post["id"]])
        for revision in revisions:
            body = await gql(
                http,
                "query($id: ID!, $r: ID!) { post(id: $id, revisionId: $r) { title } }",
                id=post["id"],
                r=revision["revisionId"],
            )
            assert data(body)["post"]["title"] in {post["title"], *updates[post["id"]]}
    assert len(acked) + len(acked_revisions) + len(failed) == len(bodies)


# -- S3 ------------------------------------------------------------------------


COUNT = "{ posts { totalCount } }"
META = "query($id: ID!) { post(id: $id) { id meta { revisionCount currentRevisionId } } }"


async def test_s3_down_writes_fail_without_meta_and_work_once_it_is_back(
    servers: tuple[Replica, Replica, MotoServer],
) -> None:
    _, replica, moto = servers
    secrets = (str(moto.port), FAKE_KEY_ID, FAKE_SECRET, "specql-tests")
    async with client(replica) as http:
        author = await make_author(http)
        post = await make_post(http, author, "kept")
        first = data(await gql(http, UPDATE_POST, id=post["id"], title="kept 2", author=author))
        before = data(await gql(http, COUNT))
        meta_before = data(await gql(http, META, id=post["id"]))

        moto.stop()
        body = await gql(http, CREATE_POST, id="during-outage", title="lost", author=author)
        request_id = assert_clean_internal(body, *secrets)
        assert await logged(replica, request_id, "s3: PutObject")
        body = await gql(http, UPDATE_POST, id=post["id"], title="lost", author=author)
        assert_clean_internal(body, *secrets)

        async def down() -> bool:
            ready = await http.get("/ready")
            return ready.status_code == 503 and ready.json() == {
                "status": "unavailable",
                "checks": {"meta": "up", "revisions": "down", "blobs": "down"},
            }

        await eventually(down)
        # meta-only reads still answer, and show no trace of the failed writes
        assert data(await gql(http, COUNT)) == before
        assert data(await gql(http, META, id=post["id"])) == meta_before
        assert data(await gql(http, META, id="during-outage")) == {"post": None}

        moto.start()  # same port, no buckets
        await create_bucket(moto)

        async def up() -> bool:
            return (await http.get("/ready")).status_code == 200

        await eventually(up)
        assert data(await gql(http, COUNT)) == before
        assert data(await gql(http, META, id=post["id"])) == meta_before

        # writes work again; their payloads are in the new (empty) endpoint
        again = await make_post(http, author, "back", post_id="during-outage")
        assert again["revision"]["number"] == 1
        assert data(await gql(http, POST, id="during-outage"))["post"]["title"] == "back"
        updated = data(await gql(http, UPDATE_POST, id=post["id"], title="back", author=author))
        revision = updated["updatePost"]["node"]["revision"]
        assert revision["number"] == 3
        assert revision["parentRevisionId"] == first["updatePost"]["node"]["revision"]["revisionId"]
        assert data(await gql(http, POST, id=post["id"]))["post"]["title"] == "back"
        revisions = await history(http, post["id"])
        assert len(revisions) == 3
        assert_linear(revisions)
        assert data(await gql(http, COUNT)) == {
            "posts": {"totalCount": before["posts"]["totalCount"] + 1}
        }
