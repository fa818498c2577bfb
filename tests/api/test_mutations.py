"""Mutations through GraphQL: every write of the manager, batch forms, and
the errors each gives."""

from __future__ import annotations

from tests.api.conftest import GraphQLClient

CREATE_USER = "mutation($i: UserInput!) { createUser(input: $i) { node { id email name revision { revisionId } } } }"


async def _user(client: GraphQLClient, email: str = "new@x.org") -> dict[str, object]:
    data = await client.data(CREATE_USER, {"i": {"email": email, "name": "New"}})
    return data["createUser"]["node"]  # type: ignore[no-any-return]


async def test_create_applies_defaults_and_records_the_user(client: GraphQLClient) -> None:
    user = await _user(client)
    data = await client.data(
        """mutation($i: PostInput!) { createPost(input: $i) { node {
             title status tags publishedAt meta { createdBy updatedBy } author { email } } } }""",
        {"i": {"title": "T", "body": "B", "authorId": user["id"]}},
    )
    assert data["createPost"]["node"] == {
        "title": "T",
        "status": "DRAFT",
        "tags": [],
        "publishedAt": None,
        "meta": {"createdBy": "anonymous", "updatedBy": "anonymous"},
        "author": {"email": "new@x.org"},
    }


async def test_create_with_a_missing_ref_target_fails_with_paths(client: GraphQLClient) -> None:
    error = await client.error(
        "mutation($i: PostInput!) { createPost(input: $i) { node { id } } }",
        {"i": {"title": "T", "body": "B", "authorId": "01a20000-0000-7000-8000-00000000dead"}},
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert [p["path"] for p in error["extensions"]["problems"]] == ["authorId"]
    count = await client.data("{ posts { totalCount } }")
    assert count["posts"]["totalCount"] == 2


async def test_update_with_expected_revision_and_conflict(client: GraphQLClient) -> None:
    user = await _user(client)
    update = """mutation($id: ID!, $i: UserInput!, $rev: ID) {
      updateUser(id: $id, input: $i, expectedRevisionId: $rev) { node {
        name revision { number revisionId } } } }"""
    first_rev = user["revision"]["revisionId"]  # type: ignore[index]
    ok = await client.data(
        update, {"id": user["id"], "i": {"email": "new@x.org", "name": "Renamed"}, "rev": first_rev}
    )
    assert ok["updateUser"]["node"]["name"] == "Renamed"
    assert ok["updateUser"]["node"]["revision"]["number"] == 2
    stale = await client.error(
        update, {"id": user["id"], "i": {"email": "new@x.org", "name": "Lost"}, "rev": first_rev}
    )
    assert stale["extensions"]["code"] == "CONFLICT"
    assert stale["extensions"]["expected"] == first_rev
    assert stale["extensions"]["actual"] == ok["updateUser"]["node"]["revision"]["revisionId"]
    same = await client.data(
        update, {"id": user["id"], "i": {"email": "new@x.org", "name": "Renamed"}}
    )
    assert same["updateUser"]["node"]["revision"]["number"] == 2  # identical data: no new revision


async def test_patch_and_invalid_patch(client: GraphQLClient) -> None:
    user = await _user(client)
    patch = """mutation($id: ID!, $p: [JsonPatchOperation!]!) {
      patchUser(id: $id, patch: $p) { node { name profile { bio } } } }"""
    data = await client.data(
        patch,
        {
            "id": user["id"],
            "p": [
                {"op": "REPLACE", "path": "/name", "value": "Patched"},
                {"op": "ADD", "path": "/profile/bio", "value": "hello"},
            ],
        },
    )
    assert data["patchUser"]["node"] == {"name": "Patched", "profile": {"bio": "hello"}}
    bad = await client.error(
        patch, {"id": user["id"], "p": [{"op": "REPLACE", "path": "/name", "value": 42}]}
    )
    assert bad["extensions"]["code"] == "VALIDATION_FAILED"
    assert bad["extensions"]["problems"][0]["path"] == "name"
    missing = await client.error(
        patch, {"id": user["id"], "p": [{"op": "REMOVE", "path": "/nope"}]}
    )
    assert missing["extensions"]["code"] == "VALIDATION_FAILED"
    assert missing["extensions"]["problems"][0]["path"] == "nope"
    unchanged = await client.data("query($id: ID!) { user(id: $id) { name } }", {"id": user["id"]})
    assert unchanged["user"]["name"] == "Patched"


async def test_drafts_modify_in_place_until_stable(client: GraphQLClient) -> None:
    created = await client.data(
        """mutation { createUser(input: {email: "d@x.org", name: "Draft"}, status: DRAFT) { node {
             id meta { status } } } }"""
    )
    uid = created["createUser"]["node"]["id"]
    assert created["createUser"]["node"]["meta"]["status"] == "DRAFT"
    modify = """mutation($id: ID!, $i: UserInput!) { modifyUser(id: $id, input: $i) { node {
      name revision { number } } } }"""
    data = await client.data(modify, {"id": uid, "i": {"email": "d@x.org", "name": "Edited"}})
    assert data["modifyUser"]["node"] == {"name": "Edited", "revision": {"number": 1}}
    stable = await client.data(
        "mutation($id: ID!) { setUserStatus(id: $id, status: STABLE) { node { meta { status } } } }",
        {"id": uid},
    )
    assert stable["setUserStatus"]["node"]["meta"]["status"] == "STABLE"
    refused = await client.error(modify, {"id": uid, "i": {"email": "d@x.org", "name": "No"}})
    assert refused["extensions"]["code"] == "CONFLICT"


async def test_modify_with_expected_data_hash_refuses_a_stale_read(client: GraphQLClient) -> None:
    made = await client.data(
        """mutation { createUser(input: {email: "h@x.org", name: "Draft"}, status: DRAFT) { node {
             id meta { dataHash } revision { dataHash } } } }"""
    )
    created = made["createUser"]["node"]
    read = created["meta"]["dataHash"]
    assert read == created["revision"]["dataHash"]
    modify = """mutation($id: ID!, $i: UserInput!, $h: String) {
      modifyUser(id: $id, input: $i, expectedDataHash: $h) { node { name meta { dataHash } } } }"""
    first = await client.data(
        modify, {"id": created["id"], "i": {"email": "h@x.org", "name": "A"}, "h": read}
    )
    now = first["modifyUser"]["node"]["meta"]["dataHash"]
    assert first["modifyUser"]["node"]["name"] == "A" and now != read
    stale = await client.error(
        modify, {"id": created["id"], "i": {"email": "h@x.org", "name": "B"}, "h": read}
    )
    assert stale["extensions"] == {
        "code": "CONFLICT",
        "resourceId": created["id"],
        "expected": read,
        "actual": now,
    }
    assert "modified meanwhile" in stale["message"]
    name = await client.data("query($id: ID!) { user(id: $id) { name } }", {"id": created["id"]})
    assert name["user"]["name"] == "A"


async def test_delete_restore_switch_purge(client: GraphQLClient) -> None:
    user = await _user(client)
    uid = user["id"]
    first_rev = user["revision"]["revisionId"]  # type: ignore[index]
    await client.data(
        'mutation($id: ID!) { patchUser(id: $id, patch: [{op: REPLACE, path: "/name", value: "B"}]) { node { id } } }',
        {"id": uid},
    )
    switched = await client.data(
        "mutation($id: ID!, $r: ID!) { switchUserRevision(id: $id, revisionId: $r) { node { name } } }",
        {"id": uid, "r": first_rev},
    )
    assert switched["switchUserRevision"]["node"]["name"] == "New"
    await client.data("mutation($id: ID!) { deleteUser(id: $id) { node { id } } }", {"id": uid})
    again = await client.error(
        "mutation($id: ID!) { deleteUser(id: $id) { node { id } } }", {"id": uid}
    )
    assert again["extensions"]["code"] in ("CONFLICT", "NOT_FOUND")
    restored = await client.data(
        "mutation($id: ID!) { restoreUser(id: $id) { node { name meta { isDeleted } } } }",
        {"id": uid},
    )
    assert restored["restoreUser"]["node"]["meta"]["isDeleted"] is False
    purged = await client.data("mutation($id: ID!) { purgeUser(id: $id) }", {"id": uid})
    assert purged["purgeUser"] == uid
    twice = await client.error("mutation($id: ID!) { purgeUser(id: $id) }", {"id": uid})
    assert twice["extensions"]["code"] == "NOT_FOUND"


async def test_batch_create_reports_per_item(client: GraphQLClient) -> None:
    batch = """mutation($items: [UserInput!]!, $atomic: Boolean!) {
      createUsers(inputs: $items, atomic: $atomic) { ok node { email } error { code message } } }"""
    items = [
        {"email": "b1@x.org", "name": "one"},
        {"email": "ada@example.org", "name": "taken"},
        {"email": "b3@x.org", "name": "three"},
    ]
    data = await client.data(batch, {"items": items, "atomic": False})
    results = data["createUsers"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["error"]["code"] == "CONFLICT"
    assert results[2]["node"] == {"email": "b3@x.org"}

    atomic_items = [{"email": "c1@x.org", "name": "one"}, {"email": "c2@x.org", "name": 5}]
    typed = await client.error(batch, {"items": atomic_items, "atomic": True})
    assert typed["extensions"]["code"] == "VALIDATION_FAILED"  # GraphQL rejects an Int for String
    assert typed["extensions"]["problems"][0]["path"] == "[1].name"
    conflict = await client.data(
        batch,
        {
            "items": [{"email": "c1@x.org", "name": "a"}, {"email": "c1@x.org", "name": "b"}],
            "atomic": True,
        },
    )
    assert [r["ok"] for r in conflict["createUsers"]] == [False, False]
    none = await client.data('{ users(where: {email: {eq: "c1@x.org"}}) { totalCount } }')
    assert none["users"]["totalCount"] == 0


async def test_batch_delete_reports_per_item(client: GraphQLClient) -> None:
    user = await _user(client)
    data = await client.data(
        "mutation($ids: [ID!]!) { deleteUsers(ids: $ids) { ok node { id } error { code } } }",
        {"ids": [user["id"], "01a20000-0000-7000-8000-000000000000"]},
    )
    assert data["deleteUsers"][0] == {"ok": True, "node": {"id": user["id"]}, "error": None}
    assert data["deleteUsers"][1]["error"]["code"] == "NOT_FOUND"


async def test_upload_blob_round_trip(client: GraphQLClient) -> None:
    data = await client.data(
        'mutation { uploadBlob(data: "aGVsbG8=", contentType: "text/plain") { digest size contentType } }'
    )
    blob = data["uploadBlob"]
    assert blob["size"] == 5 and blob["contentType"] == "text/plain"
    assert await client.manager.get_blob(blob["digest"]) == b"hello"
