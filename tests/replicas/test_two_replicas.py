"""Two ``specql serve`` processes on one PostgreSQL schema and one S3 prefix,
started together on an empty schema, behave as one server: no lost update,
conflicts and unique constraints hold across them, and a write through one is
readable through the other at once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.replicas.conftest import (
    CREATE_USER,
    POST,
    UPDATE_POST,
    Replica,
    assert_linear,
    client,
    data,
    gql,
    history,
    make_author,
    make_post,
    only_error,
    s3_url,
    start_replicas,
    unique_name,
)
from tests.s3_server import MotoServer

pytestmark = pytest.mark.slow

Clients = tuple[httpx.AsyncClient, httpx.AsyncClient]


@pytest.fixture(scope="module")
def replicas(
    moto: MotoServer, schema: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Replica]]:
    folder = tmp_path_factory.mktemp("replicas")
    with start_replicas(folder, schema, s3_url(moto.url, unique_name("replicas"))) as started:
        yield started


@pytest.fixture
async def ab(replicas: list[Replica]) -> AsyncIterator[Clients]:
    async with client(replicas[0]) as a, client(replicas[1]) as b:
        yield a, b


def test_both_ready_after_racing_through_migrations_and_seeding(
    replicas: list[Replica],
) -> None:
    for replica in replicas:
        ready = httpx.get(f"{replica.url}/ready", timeout=10)
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "checks": {"meta": "up", "revisions": "up", "blobs": "up"},
        }
        health = httpx.get(f"{replica.url}/health", timeout=10)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
    # both found the schema empty: the example data is there once, not twice
    query = {"query": "{ users(includeDeleted: true) { totalCount } posts { totalCount } }"}
    for replica in replicas:
        body = httpx.post(f"{replica.url}/graphql", json=query, timeout=10).json()
        assert data(body) == {"users": {"totalCount": 2}, "posts": {"totalCount": 2}}


async def test_concurrent_updates_through_both_lose_nothing(ab: Clients) -> None:
    a, b = ab
    author = await make_author(a)
    posts = [await make_post(a, author, "first"), await make_post(b, author, "second")]
    per_post = 40

    async def update(http: httpx.AsyncClient, post_id: str, title: str) -> dict[str, Any]:
        body = await gql(http, UPDATE_POST, id=post_id, title=title, author=author)
        result: dict[str, Any] = data(body)["updatePost"]["node"]
        assert result["title"] == title
        return result

    calls = [
        update((a, b)[i % 2], post["id"], f"{post['title']} {i}")
        for post in posts
        for i in range(per_post)
    ]
    acks = await asyncio.gather(*calls)

    for post, other in zip(posts, (b, a), strict=True):
        mine = [ack for ack in acks if ack["id"] == post["id"]]
        assert len(mine) == per_post
        revisions = await history(other, post["id"])
        assert len(revisions) == per_post + 1
        assert_linear(revisions)
        by_id = {r["revisionId"]: r for r in revisions}
        assert revisions[-1]["revisionId"] == post["revision"]["revisionId"]
        for ack in mine:  # what each replica acknowledged is exactly what was kept
            assert by_id[ack["revision"]["revisionId"]] == ack["revision"]
        last = max(mine, key=lambda ack: ack["revision"]["number"])
        assert last["revision"] == revisions[0]
        for http in (a, b):
            current = data(await gql(http, POST, id=post["id"]))["post"]
            assert current["title"] == last["title"]
            assert current["meta"] == {
                "revisionCount": per_post + 1,
                "currentRevisionId": revisions[0]["revisionId"],
            }


async def test_expected_revision_conflicts_are_detected_across_replicas(ab: Clients) -> None:
    a, b = ab
    author = await make_author(b)
    post = await make_post(a, author, "contested")
    rounds = 8
    for n in range(rounds):
        first, second = (a, b) if n % 2 else (b, a)
        current = data(await gql(first, POST, id=post["id"]))["post"]["meta"]["currentRevisionId"]
        bodies = await asyncio.gather(
            *(
                gql(
                    http,
                    UPDATE_POST,
                    id=post["id"],
                    title=f"{n} {side}",
                    author=author,
                    expected=current,
                )
                for http, side in ((first, "first"), (second, "second"))
            )
        )
        won = [body for body in bodies if "errors" not in body]
        lost = [body for body in bodies if "errors" in body]
        assert len(won) == 1 and len(lost) == 1, bodies
        winner = won[0]["data"]["updatePost"]["node"]["revision"]
        assert winner["parentRevisionId"] == current
        error = only_error(lost[0])
        assert error["extensions"] == {
            "code": "CONFLICT",
            "resourceId": post["id"],
            "expected": current,
            "actual": winner["revisionId"],
        }
    revisions = await history(a, post["id"])
    assert len(revisions) == rounds + 1
    assert_linear(revisions)


async def test_a_write_through_one_is_readable_through_the_other(ab: Clients) -> None:
    a, b = ab
    author = await make_author(a)
    for n, (writer, reader) in zip(range(10), itertools.cycle([(a, b), (b, a)]), strict=False):
        created = await make_post(writer, author, f"seen {n}")
        seen = data(await gql(reader, POST, id=created["id"]))["post"]
        assert seen["title"] == f"seen {n}"
        assert seen["meta"]["currentRevisionId"] == created["revision"]["revisionId"]
        found = data(
            await gql(
                reader,
                "query($t: String!) { posts(where: {title: {eq: $t}}) { nodes { id } } }",
                t=f"seen {n}",
            )
        )
        assert found["posts"]["nodes"] == [{"id": created["id"]}]

        updated = data(
            await gql(reader, UPDATE_POST, id=created["id"], title=f"changed {n}", author=author)
        )["updatePost"]["node"]
        seen = data(await gql(writer, POST, id=created["id"]))["post"]
        assert seen["title"] == f"changed {n}"
        assert seen["meta"]["currentRevisionId"] == updated["revision"]["revisionId"]


UPDATE_USER = """
mutation($id: ID!, $email: String!) {
  updateUser(id: $id, input: {email: $email, name: "Renamed"}) { node { id email } }
}"""


async def test_unique_email_holds_across_replicas(ab: Clients) -> None:
    a, b = ab
    count = "query($e: String!) { users(where: {email: {eq: $e}}) { totalCount } }"
    for n in range(6):
        email = f"{unique_name('taken')}@example.org"
        pair = (a, b) if n % 2 else (b, a)
        bodies = await asyncio.gather(
            *(gql(http, CREATE_USER, email=email, name=f"racer {i}") for i, http in enumerate(pair))
        )
        won = [body for body in bodies if "errors" not in body]
        lost = [body for body in bodies if "errors" in body]
        assert len(won) == 1 and len(lost) == 1, bodies
        assert won[0]["data"]["createUser"]["node"]["email"] == email
        error = only_error(lost[0])
        assert error["extensions"]["code"] == "CONFLICT"
        assert error["extensions"]["fields"] == ["email"]
        assert error["extensions"]["value"] == email
        for http in (a, b):
            assert data(await gql(http, count, e=email)) == {"users": {"totalCount": 1}}

    # two existing users renamed to the same new email, one through each
    first = await make_author(a)
    second = await make_author(b)
    email = f"{unique_name('renamed')}@example.org"
    renamed = await asyncio.gather(
        gql(a, UPDATE_USER, id=first, email=email), gql(b, UPDATE_USER, id=second, email=email)
    )
    won = [body for body in renamed if "errors" not in body]
    lost = [body for body in renamed if "errors" in body]
    assert len(won) == 1 and len(lost) == 1, renamed
    assert only_error(lost[0])["extensions"]["fields"] == ["email"]
    for http in (a, b):
        assert data(await gql(http, count, e=email)) == {"users": {"totalCount": 1}}
