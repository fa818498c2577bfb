"""Root queries over the example app: get, search with typed where/orderBy,
Relay paging both ways, totalCount, revisions and refs."""

from __future__ import annotations

from tests.api.conftest import GraphQLClient, MakeClient

POST_IDS = "{ posts(orderBy: [{title: ASC}]) { nodes { id title } } }"


async def _post_ids(client: GraphQLClient) -> dict[str, str]:
    data = await client.data(POST_IDS)
    return {n["title"]: n["id"] for n in data["posts"]["nodes"]}


async def test_get_by_id_with_fields_refs_and_referrers(client: GraphQLClient) -> None:
    ids = await _post_ids(client)
    data = await client.data(
        """query($id: ID!) { post(id: $id) {
             id title status tags publishedAt
             author { email name profile { bio website } }
             comments { totalCount nodes { text author { name } } }
             meta { createdBy status isDeleted revisionCount }
             revision { number parentRevisionId status } } }""",
        {"id": ids["Hello, SpecQL"]},
    )
    post = data["post"]
    assert post["id"] == ids["Hello, SpecQL"]
    assert post["status"] == "PUBLISHED"
    assert post["tags"] == ["intro", "news"]
    assert post["publishedAt"].startswith("2026-11-01T00:00:00")
    assert post["author"] == {
        "email": "ada@example.org",
        "name": "Ada",
        "profile": {"bio": "Engines", "website": None},
    }
    assert post["comments"] == {
        "totalCount": 1,
        "nodes": [{"text": "Nice!", "author": {"name": "Alan"}}],
    }
    assert post["meta"] == {
        "createdBy": "seed",
        "status": "STABLE",
        "isDeleted": False,
        "revisionCount": 1,
    }
    assert post["revision"] == {"number": 1, "parentRevisionId": None, "status": "STABLE"}


async def test_unknown_id_is_null_not_an_error(client: GraphQLClient) -> None:
    result = await client.post('{ post(id: "01a20000-0000-7000-8000-000000000000") { id } }')
    assert result == {"data": {"post": None}}


async def test_get_at_an_earlier_revision(client: GraphQLClient) -> None:
    ids = await _post_ids(client)
    post_id = ids["Notes"]
    first = await client.data(
        "query($id: ID!) { post(id: $id) { revision { revisionId } } }", {"id": post_id}
    )
    await client.data(
        """mutation($id: ID!) { patchPost(id: $id, patch: [
             {op: REPLACE, path: "/title", value: "Notes v2"}]) { node { title } } }""",
        {"id": post_id},
    )
    old = await client.data(
        "query($id: ID!, $rev: ID!) { post(id: $id, revisionId: $rev) { title revision { number } } }",
        {"id": post_id, "rev": first["post"]["revision"]["revisionId"]},
    )
    assert old["post"] == {"title": "Notes", "revision": {"number": 1}}
    now = await client.data(
        "query($id: ID!) { post(id: $id) { title revisions { totalCount edges { node { number } } } } }",
        {"id": post_id},
    )
    assert now["post"]["title"] == "Notes v2"
    assert [e["node"]["number"] for e in now["post"]["revisions"]["edges"]] == [2, 1]
    assert now["post"]["revisions"]["totalCount"] == 2


async def test_where_operators_fit_the_field_types(client: GraphQLClient) -> None:
    async def titles(where: str) -> list[str]:
        data = await client.data(
            f"{{ posts(where: {where}, orderBy: [{{title: ASC}}]) {{ nodes {{ title }} }} }}"
        )
        return [n["title"] for n in data["posts"]["nodes"]]

    assert await titles("{status: {eq: PUBLISHED}}") == ["Hello, SpecQL"]
    assert await titles("{status: {in: [DRAFT, PUBLISHED]}}") == ["Hello, SpecQL", "Notes"]
    assert await titles('{title: {startsWith: "No"}}') == ["Notes"]
    assert await titles('{tags: {eq: "news"}}') == ["Hello, SpecQL"]
    assert await titles("{publishedAt: {isNull: true}}") == ["Notes"]
    assert await titles('{publishedAt: {gt: "2026-01-01T00:00:00Z"}}') == ["Hello, SpecQL"]
    assert await titles('{or: [{title: {eq: "Notes"}}, {tags: {eq: "intro"}}]}') == [
        "Hello, SpecQL",
        "Notes",
    ]
    assert await titles('{not: {title: {contains: "Spec"}}}') == ["Notes"]
    assert await titles('{meta: {createdBy: {eq: "seed"}}}') == ["Hello, SpecQL", "Notes"]
    assert await titles('{meta: {createdBy: {eq: "someone else"}}}') == []
    # an operator that does not fit the type is not in the schema at all
    error = await client.error('{ posts(where: {status: {contains: "x"}}) { totalCount } }')
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "contains" in error["message"]


async def test_users_by_nested_indexed_path_and_id(client: GraphQLClient) -> None:
    data = await client.data('{ users(where: {name: {eq: "Ada"}}) { nodes { id } } }')
    ada = data["users"]["nodes"][0]["id"]
    found = await client.data(
        "query($id: ID!) { users(where: {id: {eq: $id}}) { nodes { email } } }", {"id": ada}
    )
    assert found["users"]["nodes"] == [{"email": "ada@example.org"}]
    none = await client.data(
        "{ users(where: {profile: {website: {isNull: false}}}) { totalCount } }"
    )
    assert none["users"]["totalCount"] == 0


async def test_relay_paging_forwards_and_backwards(make_client: MakeClient) -> None:
    client = await make_client()
    for i in range(7):
        await client.data(
            "mutation($i: UserInput!) { createUser(input: $i) { node { id } } }",
            {"i": {"email": f"p{i}@x.org", "name": f"n{i}"}},
        )
    query = """query($first: Int, $after: String, $last: Int, $before: String) {
      users(orderBy: [{name: DESC}], first: $first, after: $after, last: $last, before: $before) {
        totalCount edges { cursor node { name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await client.data(query, {"first": 3, "after": after}))["users"]
        assert page["totalCount"] == 7
        seen += [e["node"]["name"] for e in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"n{i}" for i in range(6, -1, -1)]
    last = (await client.data(query, {"last": 2}))["users"]
    assert [e["node"]["name"] for e in last["edges"]] == ["n1", "n0"]
    assert last["pageInfo"]["hasPreviousPage"] is True
    before = await client.data(query, {"last": 2, "before": last["pageInfo"]["startCursor"]})
    assert [e["node"]["name"] for e in before["users"]["edges"]] == ["n3", "n2"]


async def test_order_by_takes_one_field_per_item(client: GraphQLClient) -> None:
    error = await client.error("{ posts(orderBy: [{title: ASC, status: DESC}]) { totalCount } }")
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "exactly one field" in error["message"]
    data = await client.data(
        "{ posts(orderBy: [{status: DESC}, {meta: {createdAt: ASC}}]) { nodes { title } } }"
    )
    assert [n["title"] for n in data["posts"]["nodes"]] == ["Hello, SpecQL", "Notes"]


async def test_deleted_resources_only_when_asked(client: GraphQLClient) -> None:
    ids = await _post_ids(client)
    deleted = await client.data(
        "mutation($id: ID!) { deletePost(id: $id) { node { id meta { isDeleted } } } }",
        {"id": ids["Notes"]},
    )
    assert deleted["deletePost"]["node"]["meta"]["isDeleted"] is True
    visible = await client.data("{ posts { totalCount nodes { title } } }")
    assert visible["posts"]["nodes"] == [{"title": "Hello, SpecQL"}]
    assert visible["posts"]["totalCount"] == 1
    everything = await client.data("{ posts(includeDeleted: true) { totalCount } }")
    assert everything["posts"]["totalCount"] == 2
    gone = await client.data("query($id: ID!) { post(id: $id) { id } }", {"id": ids["Notes"]})
    assert gone["post"] is None
    kept = await client.data(
        "query($id: ID!) { post(id: $id, includeDeleted: true) { title } }", {"id": ids["Notes"]}
    )
    assert kept["post"] == {"title": "Notes"}


async def test_foreign_or_garbled_cursor_is_bad_request(client: GraphQLClient) -> None:
    first = await client.data(
        "{ posts(first: 1, orderBy: [{title: ASC}]) { pageInfo { endCursor } } }"
    )
    cursor = first["posts"]["pageInfo"]["endCursor"]
    other_sort = await client.error(
        "query($c: String!) { posts(first: 1, after: $c, orderBy: [{title: DESC}]) { totalCount } }",
        {"c": cursor},
    )
    assert other_sort["extensions"]["code"] == "BAD_REQUEST"
    garbled = await client.error('{ posts(after: "%%%not-a-cursor") { totalCount } }')
    assert garbled["extensions"]["code"] == "BAD_REQUEST"
    assert "cursor" in garbled["message"]
