"""Loading: every resolved field (refs, list refs, referrers through single
and list refs, revision, revisions, totalCount) costs a number of store calls
that does not grow with the list, and a selection without data fields reads
no payload."""

from __future__ import annotations

import collections
import dataclasses
from typing import Annotated, Any

import msgspec
import pytest

from app import Ref, Registry, Settings
from app.example import Comment, Post, User
from app.storage.base import MetaReader
from tests.api.conftest import GraphQLClient, MakeClient
from tests.conftest import PROFILES

LOADING_PROFILES = ["memory", "disk", "disk-files", "postgres-inline"]


@pytest.fixture(params=LOADING_PROFILES)
def api_settings(request: pytest.FixtureRequest, tmp_path: Any) -> Settings:
    """The loading tests also run on PostgreSQL and on file payloads."""
    return dataclasses.replace(PROFILES[request.param], data_dir=str(tmp_path / "data"))


def count_store_calls(client: GraphQLClient) -> collections.Counter[str]:
    """Count calls into the real stores of the client's manager (every read
    of the meta store, and payload reads); calls that fetch payloads are also
    counted under ``payload``."""
    counts: collections.Counter[str] = collections.Counter()
    stores = client.manager.stores

    def wrap(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            counts["total"] += 1
            if kwargs.get("with_payload") or name == "get_many":
                counts["payload"] += 1
            return await original(*args, **kwargs)

        setattr(owner, name, counted)

    for name in sorted(MetaReader.__abstractmethods__):
        wrap(stores.meta, name)
    wrap(stores.revisions, "get_many")
    return counts


async def seed_posts(client: GraphQLClient, posts: int, users: int = 5) -> None:
    manager = client.manager
    authors = [
        (await manager.create(User, User(f"u{i}@example.org", f"user {i}"))).id
        for i in range(users)
    ]
    created = await manager.create_many(
        Post, [Post(f"post {i}", "body", authors[i % users]) for i in range(posts)]
    )
    await manager.create_many(Comment, [Comment(r.id, authors[0], "first!") for r in created[::2]])


NESTED = """
query($first: Int!) {
  posts(first: $first) {
    nodes {
      title
      author { name profile { bio } posts(first: 2) { totalCount nodes { title } } }
      comments { totalCount nodes { text author { email } } }
    }
  }
}
"""


async def test_store_round_trips_do_not_grow_with_the_list(make_client: MakeClient) -> None:
    rounds = {}
    for size in (5, 50):
        client = await make_client()
        await seed_posts(client, size)
        counts = count_store_calls(client)
        data = await client.data(NESTED, {"first": size})
        nodes = data["posts"]["nodes"]
        assert len(nodes) == size
        assert all(n["author"]["name"].startswith("user ") for n in nodes)
        assert sum(n["comments"]["totalCount"] for n in nodes) == (size + 1) // 2
        assert all(n["author"]["posts"]["totalCount"] == size // 5 for n in nodes)
        rounds[size] = counts["total"]
    assert rounds[5] == rounds[50], rounds
    # posts, authors, authors' posts + count, comments + count, commenters
    assert rounds[50] <= 12, rounds


async def test_referrer_page_cursor_continues_for_one_parent(make_client: MakeClient) -> None:
    client = await make_client()
    await seed_posts(client, 6, users=2)
    first = await client.data(
        """{ users(orderBy: [{name: ASC}]) { nodes { id
             posts(first: 2, orderBy: [{title: ASC}]) {
               pageInfo { hasNextPage endCursor } nodes { title } } } } }"""
    )
    user = first["users"]["nodes"][0]
    assert [p["title"] for p in user["posts"]["nodes"]] == ["post 0", "post 2"]
    assert user["posts"]["pageInfo"]["hasNextPage"] is True
    more = await client.data(
        """query($id: ID!, $after: String!) { user(id: $id) {
             posts(first: 2, after: $after, orderBy: [{title: ASC}]) { nodes { title } } } }""",
        {"id": user["id"], "after": user["posts"]["pageInfo"]["endCursor"]},
    )
    assert [p["title"] for p in more["user"]["posts"]["nodes"]] == ["post 4"]


async def test_selecting_only_meta_and_indexed_fields_reads_no_payload(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    await seed_posts(client, 10)
    counts = count_store_calls(client)
    data = await client.data(
        """{ posts(first: 10) { totalCount edges { cursor node {
               id title status authorId
               meta { createdAt updatedBy revisionCount }
               revision { number } } } } }"""
    )
    assert len(data["posts"]["edges"]) == 10
    assert all(e["node"]["title"].startswith("post ") for e in data["posts"]["edges"])
    post_id = data["posts"]["edges"][0]["node"]["id"]
    one = await client.data(
        "query($id: ID!) { post(id: $id) { id title meta { createdBy } } }", {"id": post_id}
    )
    assert one["post"]["title"].startswith("post ")
    assert counts["payload"] == 0, counts

    await client.data("{ posts(first: 3) { nodes { body } } }")
    assert counts["payload"] >= 1, counts


# -- one test per resolved field kind: 5 and 50 parents cost the same -------------


class Player(msgspec.Struct):
    name: str


class Team(msgspec.Struct):
    name: str
    lead_id: Annotated[str | None, Ref("player", on_delete="set_null")] = None
    player_ids: Annotated[list[str], Ref("player", on_delete="set_null")] = []


def team_registry() -> Registry:
    registry = Registry()
    registry.add_model(Player, indexed=["name"])
    registry.add_model(Team, indexed=["name"])
    return registry


async def seed_teams(client: GraphQLClient, size: int) -> None:
    """``size`` players and teams: team i is led by player i and has players
    i, i+1 and i+2 (so each player is in three teams); every team has two
    revisions."""
    manager = client.manager
    players = await manager.create_many(Player, [Player(f"player {i:02}") for i in range(size)])
    ids = [p.id for p in players]
    teams = await manager.create_many(
        Team,
        [
            Team(f"team {i:02}", ids[i], [ids[(i + k) % size] for k in range(3)])
            for i in range(size)
        ],
    )
    for i, team in enumerate(teams):
        await manager.update(
            Team,
            team.id,
            Team(f"team {i:02}", ids[i], [ids[(i + k) % size] for k in range(3)][::-1]),
        )


TEAMS = "query($n: Int!) { teams(first: $n, orderBy: [{name: ASC}]) { nodes { %s } } }"
PLAYERS = "query($n: Int!) { players(first: $n, orderBy: [{name: ASC}]) { nodes { %s } } }"

KINDS = {
    "ref": TEAMS % "lead { name }",
    "list-ref": TEAMS % "players { name }",
    "referrers": PLAYERS % "teamsByLead(first: 5) { nodes { id name } }",
    "referrers-with-data": PLAYERS % "teamsByLead(first: 5) { nodes { playerIds } }",
    "referrers-total-count": PLAYERS % "teamsByLead { totalCount }",
    "referrers-last": PLAYERS % "teamsByLead(last: 2) { nodes { id } }",
    "list-referrers": PLAYERS
    % "teamsByPlayers(first: 2) { pageInfo { hasNextPage endCursor } nodes { id } }",
    "list-referrers-with-data": PLAYERS % "teamsByPlayers(first: 5) { nodes { playerIds } }",
    "list-referrers-total-count": PLAYERS % "teamsByPlayers { totalCount }",
    "list-referrers-last": PLAYERS % "teamsByPlayers(last: 2) { nodes { id } }",
    "revision": TEAMS % "revision { number createdBy }",
    "revisions": TEAMS
    % "revisions(first: 1) { pageInfo { hasNextPage } edges { cursor node { number } } }",
    "revisions-after": TEAMS % 'revisions(first: 5, after: "2") { edges { node { number } } }',
    "revisions-total-count": TEAMS % "revisions { totalCount }",
    "total-count": "query($n: Int!) { teams(first: $n) { totalCount nodes { id } } }",
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_store_calls_per_field_kind_do_not_grow_with_the_list(
    make_client: MakeClient, kind: str
) -> None:
    calls = {}
    for size in (5, 50):
        client = await make_client(registry=team_registry())
        await seed_teams(client, size)
        counts = count_store_calls(client)
        data = await client.data(KINDS[kind], {"n": size})
        assert len(next(iter(data.values()))["nodes"]) == size
        calls[size] = counts
    assert calls[5] == calls[50], calls


# -- and the batched answers are the answers of one read per parent ---------------

CONNECTION = """totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id name } }"""


@pytest.mark.parametrize(
    ("arguments", "where"),
    [
        ("first: 2", None),
        ("first: 2, orderBy: [{name: DESC}]", None),
        ("last: 2", None),
        ("first: 5", '{name: {ne: "team 01"}}'),
        ("first: 5, includeDeleted: true", None),
        ("last: 1, includeDeleted: true, orderBy: [{name: DESC}]", None),
    ],
)
@pytest.mark.parametrize(
    ("field", "path"), [("teamsByLead", "leadId"), ("teamsByPlayers", "playerIds")]
)
async def test_referrer_connections_answer_what_a_search_per_parent_answers(
    make_client: MakeClient, arguments: str, where: str | None, field: str, path: str
) -> None:
    client = await make_client(registry=team_registry())
    await seed_teams(client, 6)
    manager = client.manager
    team = (await manager.search(Team, {"name": {"eq": "team 03"}})).items[0]
    await manager.delete(Team, team.id)
    player = (await manager.search(Player, {"name": {"eq": "player 04"}})).items[0]
    await manager.delete(Player, player.id)  # its teams forget it (set_null)
    filtered = f"{arguments}, where: {where}" if where else arguments
    data = await client.data(
        f"""{{ players(includeDeleted: true, orderBy: [{{name: ASC}}]) {{
              nodes {{ id {field}({filtered}) {{ {CONNECTION} }} }} }} }}"""
    )
    nodes = data["players"]["nodes"]
    assert len(nodes) == 6
    for node in nodes:
        parent = f'{path}: {{eq: "{node["id"]}"}}'
        scope = f"{{{parent}, and: [{where}]}}" if where else f"{{{parent}}}"
        alone = await client.data(f"{{ teams(where: {scope}, {arguments}) {{ {CONNECTION} }} }}")
        assert node[field] == alone["teams"], (node["id"], arguments)
    assert sum(n[field]["totalCount"] for n in nodes) > 0


async def test_list_referrer_cursors_continue_for_one_parent(make_client: MakeClient) -> None:
    client = await make_client(registry=team_registry())
    await seed_teams(client, 6)
    first = await client.data(
        """{ players(orderBy: [{name: ASC}]) { nodes { id
             teamsByPlayers(first: 2, orderBy: [{name: ASC}]) {
               pageInfo { hasNextPage endCursor } nodes { name } } } } }"""
    )
    player = first["players"]["nodes"][0]  # in teams 00, 04 and 05
    assert [t["name"] for t in player["teamsByPlayers"]["nodes"]] == ["team 00", "team 04"]
    assert player["teamsByPlayers"]["pageInfo"]["hasNextPage"] is True
    more = await client.data(
        """query($id: ID!, $after: String!) { player(id: $id) {
             teamsByPlayers(first: 2, after: $after, orderBy: [{name: ASC}]) {
               totalCount nodes { name } } } }""",
        {"id": player["id"], "after": player["teamsByPlayers"]["pageInfo"]["endCursor"]},
    )
    assert more["player"]["teamsByPlayers"] == {"totalCount": 3, "nodes": [{"name": "team 05"}]}
    last = await client.data(
        """{ players(orderBy: [{name: ASC}]) { nodes { teamsByPlayers(last: 2) {
             pageInfo { hasPreviousPage startCursor } nodes { name } } } } }"""
    )
    page = last["players"]["nodes"][0]["teamsByPlayers"]
    assert [t["name"] for t in page["nodes"]] == ["team 04", "team 05"]
    before = await client.data(
        """query($id: ID!, $before: String!) { player(id: $id) {
             teamsByPlayers(last: 2, before: $before) { nodes { name } } } }""",
        {"id": player["id"], "before": page["pageInfo"]["startCursor"]},
    )
    assert before["player"]["teamsByPlayers"]["nodes"] == [{"name": "team 00"}]


REVISIONS = """id revision { number revisionId createdBy }
  revisions(first: 1, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { number revisionId parentRevisionId } } }"""


@pytest.mark.parametrize("after", [None, "2", "1"])
async def test_revisions_of_a_list_are_the_revisions_of_each_node(
    make_client: MakeClient, after: str | None
) -> None:
    client = await make_client(registry=team_registry())
    await seed_teams(client, 4)
    manager = client.manager
    team = (await manager.search(Team, {"name": {"eq": "team 02"}})).items[0]
    await manager.update(Team, team.id, Team("team 02 again"))
    listed = await client.data(
        f"query($after: String) {{ teams(orderBy: [{{name: ASC}}]) {{ nodes {{ {REVISIONS} }} }} }}",
        {"after": after},
    )
    nodes = listed["teams"]["nodes"]
    assert [n["revisions"]["totalCount"] for n in nodes] == [2, 2, 3, 2]
    for node in nodes:
        alone = await client.data(
            f"query($id: ID!, $after: String) {{ team(id: $id) {{ {REVISIONS} }} }}",
            {"id": node["id"], "after": after},
        )
        assert node == alone["team"]
        history = await manager.history(Team, node["id"], limit=1, after=after)
        assert [e["node"]["revisionId"] for e in node["revisions"]["edges"]] == [
            r.revision_id for r in history.items
        ]


async def test_revision_of_a_node_read_at_a_revision_is_that_revision(
    make_client: MakeClient,
) -> None:
    client = await make_client(registry=team_registry())
    await seed_teams(client, 4)
    team = (await client.manager.search(Team, {"name": {"eq": "team 00"}})).items[0]
    [older, newer] = reversed((await client.manager.history(Team, team.id)).items)
    data = await client.data(
        """query($id: ID!, $rev: ID!) { old: team(id: $id, revisionId: $rev) {
             revision { revisionId number } }
           now: team(id: $id) { revision { revisionId number } } }""",
        {"id": team.id, "rev": older.revision_id},
    )
    assert data["old"]["revision"] == {"revisionId": older.revision_id, "number": 1}
    assert data["now"]["revision"] == {"revisionId": newer.revision_id, "number": 2}
