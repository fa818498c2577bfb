"""Errors about arguments and ids speak the API's vocabulary: the argument
names a client sent (``first``, ``last``, ``id``), never the manager's."""

from __future__ import annotations

import pytest

from app.errors import BadRequestError
from app.example import User
from tests.api.conftest import GraphQLClient

PAGES = [
    ("{ posts(first: 0) { totalCount } }", "first", 0),
    ("{ posts(last: -3) { totalCount } }", "last", -3),
    ("{ users { nodes { posts(first: 0) { totalCount } } } }", "first", 0),
    ("{ posts { nodes { revisions(first: 0) { totalCount } } } }", "first", 0),
]


@pytest.mark.parametrize(("query", "argument", "value"), PAGES)
async def test_page_sizes_below_one_name_the_argument(
    client: GraphQLClient, query: str, argument: str, value: int
) -> None:
    result = await client.post(query)
    (error,) = result["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert error["message"] == f"{argument} must be at least 1, not {value}"
    assert "limit" not in error["message"]


@pytest.mark.parametrize("given", ["   ", " ada", "ada\t", "\u00a0x"])
async def test_ids_with_whitespace_at_either_end_are_refused(
    client: GraphQLClient, given: str
) -> None:
    before = await client.data("{ users { totalCount } }")
    error = await client.error(
        'mutation($id: ID) { createUser(id: $id, input: {email: "w@example.org", name: "W"})'
        " { node { id } } }",
        {"id": given},
    )
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "whitespace" in error["message"]
    assert await client.data("{ users { totalCount } }") == before
    with pytest.raises(BadRequestError, match="whitespace"):
        await client.manager.create(User, User("v@example.org", "V"), resource_id=given)
    assert await client.data("{ users { totalCount } }") == before


async def test_ids_with_inner_spaces_are_kept(client: GraphQLClient) -> None:
    made = await client.data(
        'mutation { createUser(id: "ada lovelace", input: {email: "al@example.org", name: "A"})'
        " { node { id } } }"
    )
    assert made["createUser"]["node"]["id"] == "ada lovelace"
    found = await client.data('{ user(id: "ada lovelace") { name } }')
    assert found == {"user": {"name": "A"}}
