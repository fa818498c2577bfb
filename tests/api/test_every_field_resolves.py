"""Every field a mutation's answer type declares resolves, for every mutation.

The selection is built from the served schema itself (introspection), so a
field added later is covered without touching this file: every field of the
answer type, and of the types below it a few levels deep, including list
fields, nested Structs, unions, refs, referrer connections and revisions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    Undefined,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
)

from app.api import ApiOptions
from schema_gen.limits import Limits
from tests.api.conftest import GraphQLClient, MakeClient
from tests.models import build_registry as build_test_registry

OPTIONS = ApiOptions(limits=Limits(max_depth=30, max_fields=100_000, max_tokens=1_000_000))


def every_field(kind: Any, depth: int) -> str:
    """A selection of every field of ``kind`` (arguments left to their defaults)
    down to ``depth`` object levels."""
    named = get_named_type(kind)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLUnionType):
        members = " ".join(f"... on {m.name} {every_field(m, depth)}" for m in named.types)
        return "{ __typename " + members + " }"
    assert isinstance(named, GraphQLObjectType)
    if depth == 0:
        return "{ __typename }"
    parts = ["__typename"]
    for name, field in named.fields.items():
        required = [
            a
            for a in field.args.values()
            if isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined
        ]
        if not required:
            parts.append(name + " " + every_field(field.type, depth - 1))
    return "{ " + " ".join(parts) + " }"


async def served_schema(client: GraphQLClient) -> Any:
    return build_client_schema(await client.data(get_introspection_query()))


def leaves(value: Any) -> int:
    """How many non-null values an answer holds (to see it is not empty)."""
    if isinstance(value, dict):
        return sum(leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(leaves(v) for v in value)
    return int(value is not None)


class Mutations:
    """Runs each mutation of one model with every answer field selected."""

    def __init__(self, client: GraphQLClient, schema: Any, model: str, plural: str) -> None:
        self.client = client
        self.schema = schema
        self.type = model[0].upper() + model[1:]
        self.model = model
        self.plural = plural[0].upper() + plural[1:]
        self.seen: set[str] = set()

    async def run(self, name: str, arguments: str, variables: dict[str, Any]) -> Any:
        field = self.schema.mutation_type.fields[name]
        self.seen.add(name)
        declared = ", ".join(f"${k}: {self._type_of(k)}" for k in variables)
        head = f"mutation({declared})" if declared else "mutation"
        document = f"{head} {{ {name}({arguments}) {every_field(field.type, 5)} }}"
        result = await self.client.post(document, variables)
        assert "errors" not in result, (name, result["errors"])
        answer = result["data"][name]
        assert answer is not None and leaves(answer) > 0, (name, answer)
        return answer

    def _type_of(self, variable: str) -> str:
        return f"{self.type}Input!" if variable in ("i", "j") else "ID!"

    async def all(self, make: Callable[[int], dict[str, Any]], change: dict[str, Any]) -> None:
        """Every mutation of the model, on resources made by ``make(n)`` (a
        new value for each n, for models with unique fields), changed by
        ``change``."""
        t, many = self.type, self.plural
        value = make(0)
        changed = {**value, **change}
        made = await self.run(f"create{t}", "input: $i", {"i": value})
        assert made["changed"] is True
        rid = made["node"]["id"]
        first_revision = made["node"]["revision"]["revisionId"]
        updated = await self.run(f"update{t}", "id: $id, input: $i", {"id": rid, "i": changed})
        assert updated["changed"] is True
        same = await self.run(f"update{t}", "id: $id, input: $i", {"id": rid, "i": changed})
        assert same["changed"] is False
        await self.run(f"patch{t}", "id: $id, patch: []", {"id": rid})
        draft = await self.run(f"create{t}", "input: $i, status: DRAFT", {"i": make(1)})
        draft_id = draft["node"]["id"]
        modified = {**make(1), **change}
        edited = await self.run(f"modify{t}", "id: $id, input: $i", {"id": draft_id, "i": modified})
        assert edited["changed"] is True
        again = await self.run(f"modify{t}", "id: $id, input: $i", {"id": draft_id, "i": modified})
        assert again["changed"] is False and again["node"]["meta"] == edited["node"]["meta"]
        stable = await self.run(f"set{t}Status", "id: $id, status: STABLE", {"id": draft_id})
        assert stable["changed"] is True and stable["node"]["revision"]["status"] == "STABLE"
        still = await self.run(f"set{t}Status", "id: $id, status: STABLE", {"id": draft_id})
        assert still["changed"] is False and still["node"]["meta"] == stable["node"]["meta"]
        switched = await self.run(
            f"switch{t}Revision", "id: $id, revisionId: $r", {"id": rid, "r": first_revision}
        )
        assert switched["changed"] is True
        assert switched["node"]["revision"]["revisionId"] == first_revision
        same_place = await self.run(
            f"switch{t}Revision", "id: $id, revisionId: $r", {"id": rid, "r": first_revision}
        )
        assert same_place["changed"] is False
        assert same_place["node"]["meta"] == switched["node"]["meta"]
        deleted = await self.run(f"delete{t}", "id: $id", {"id": rid})
        assert deleted["node"]["meta"]["isDeleted"] is True
        restored = await self.run(f"restore{t}", "id: $id", {"id": rid})
        assert restored["node"]["meta"]["isDeleted"] is False
        items = await self.run(f"create{many}", "inputs: [$i, $j]", {"i": make(2), "j": make(3)})
        assert all(item["ok"] for item in items), items
        atomic = await self.run(f"create{many}", "inputs: [$i], atomic: true", {"i": make(4)})
        assert atomic[0]["ok"], atomic
        gone = await self.run(
            f"delete{many}", "ids: [$a, $b]", {"a": items[0]["node"]["id"], "b": draft_id}
        )
        assert [item["ok"] for item in gone] == [True, True], gone
        assert await self.run(f"purge{t}", "id: $id", {"id": rid}) == rid


def mutations_of(schema: Any, type_name: str, plural: str) -> set[str]:
    t, many = type_name, plural[0].upper() + plural[1:]
    return {
        name
        for name in schema.mutation_type.fields
        if name.endswith((t, f"{t}Status", f"{t}Revision", many))
    }


async def test_every_answer_field_of_every_example_mutation(make_client: MakeClient) -> None:
    client = await make_client(options=OPTIONS)
    schema = await served_schema(client)
    ada = await client.data(
        'mutation { createUser(input: {email: "ada@example.org", name: "Ada"}) { node { id } } }'
    )
    ada_id = ada["createUser"]["node"]["id"]
    users = Mutations(client, schema, "user", "users")
    await users.all(
        lambda n: {"email": f"grace{n}@example.org", "name": "Grace", "profile": {"bio": "COBOL"}},
        {"name": "Grace H.", "profile": {"bio": "Navy"}},
    )
    post = {"title": "T", "body": "B", "authorId": ada_id, "tags": ["a", "b"]}
    posts = Mutations(client, schema, "post", "posts")
    await posts.all(lambda n: post, {"tags": ["c"], "status": "PUBLISHED"})
    made = await client.data(
        "mutation($i: PostInput!) { createPost(input: $i) { node { id } } }", {"i": post}
    )
    comment = {"postId": made["createPost"]["node"]["id"], "authorId": ada_id, "text": "hi"}
    comments = Mutations(client, schema, "comment", "comments")
    await comments.all(lambda n: comment, {"text": "hello"})
    blob = await client.data('mutation { uploadBlob(data: "AAEC") { digest size contentType } }')
    assert blob["uploadBlob"]["size"] == 3
    seen = users.seen | posts.seen | comments.seen | {"uploadBlob"}
    assert seen == set(schema.mutation_type.fields), set(schema.mutation_type.fields) - seen


@pytest.mark.parametrize("model", ["everything", "club", "toy"])
async def test_every_answer_field_for_every_field_kind(make_client: MakeClient, model: str) -> None:
    """A model with every field kind (nested Structs, lists of them, sets,
    dicts, unions, enums, blobs), and models with list-valued refs."""
    client = await make_client(build_test_registry(), options=OPTIONS)
    schema = await served_schema(client)
    owner = await client.data('mutation { createOwner(input: {name: "O"}) { node { id } } }')
    owner_id = owner["createOwner"]["node"]["id"]
    blob = await client.data('mutation { uploadBlob(data: "AAEC") { digest } }')
    values: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "everything": (
            {
                "point": {"x": 1, "y": 2},
                "points": [{"x": 3, "y": 4}],
                "labels": ["a"],
                "scores": {"m": 1},
                "maybe": None,
                "mode": "fast",
                "color": "GREEN",
                "level": "HIGH",
                "at": "2026-11-23T10:00:00+00:00",
                "day": "2026-11-23",
                "uid": "12345678-1234-5678-1234-567812345678",
                "amount": "12.50",
                "shape": {"square": {"side": 2.5}},
                "file": {"digest": blob["uploadBlob"]["digest"], "size": 3},
            },
            {"maybe": 7, "points": [], "shape": {"circle": {"radius": 1.0}}},
        ),
        "club": ({"name": "C", "members": [owner_id]}, {"name": "D"}),
        "toy": ({"name": "T", "owner": owner_id, "sharers": [owner_id]}, {"name": "U"}),
    }
    value, change = values[model]
    plural = {"everything": "everythings", "club": "clubs", "toy": "toys"}[model]
    runner = Mutations(client, schema, model, plural)
    await runner.all(lambda n: value, change)
    type_name = model[0].upper() + model[1:]
    assert runner.seen == mutations_of(schema, type_name, plural)


async def test_every_field_of_every_query_resolves(make_client: MakeClient) -> None:
    """Reads, the same way: every root query field of every model, with every
    field selected, and with only the fields served without the payload."""
    from app.example import seed

    client = await make_client(options=OPTIONS)
    await seed(client.manager)
    schema = await served_schema(client)
    await client.data(
        "mutation($id: ID!) { deletePost(id: $id) { changed } }",
        {"id": (await client.manager.search("post", {"title": {"eq": "Notes"}})).items[0].id},
    )
    for name, field in schema.query_type.fields.items():
        if name.startswith("__") or name not in {"users", "posts", "comments"}:
            continue
        for include_deleted in ("false", "true"):
            document = (
                f"{{ {name}(includeDeleted: {include_deleted}) {every_field(field.type, 5)} }}"
            )
            result = await client.data(document)
            nodes = result[name]["nodes"]
            assert nodes and leaves(nodes) > 0, (name, result)
            one = name[:-1]
            single = schema.query_type.fields[one]
            for node in nodes:
                got = await client.data(
                    f"query($id: ID!) {{ {one}(id: $id, includeDeleted: true) "
                    f"{every_field(single.type, 5)} }}",
                    {"id": node["id"]},
                )
                assert got[one]["id"] == node["id"]
