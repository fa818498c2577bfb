"""Request limits and the error codes clients see: every error has a code,
structured details where there are some, and nothing unexpected leaks."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
from starlette.requests import Request

import schema_gen.limits as limits_module
from app import Registry
from app.api import ApiOptions, create_app
from app.api.auth import user_from_header
from app.errors import FieldProblem, ForbiddenError, UnauthenticatedError
from app.example import build_registry, seed
from app.resources.events import Event
from schema_gen import Limits
from tests.api.conftest import GraphQLClient, MakeClient

GRAPHQL_RESPONSE = "application/graphql-response+json"
LEAKS = ("secret", "/etc/passwd", "SELECT", "Traceback", "RuntimeError", "KeyError")


def limited(**limits: Any) -> ApiOptions:
    return ApiOptions(limits=Limits(**limits))


async def document_error(client: GraphQLClient, query: str) -> dict[str, Any]:
    """The single error of a document refused before execution."""
    response = await client.http.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" not in body, body
    (error,) = body["errors"]
    assert isinstance(error, dict), body
    return error


async def count(client: GraphQLClient, model: str) -> int:
    total: int = (await client.data(f"{{ {model} {{ totalCount }} }}"))[model]["totalCount"]
    return total


def assert_limit(error: dict[str, Any], limit: str, maximum: int, actual: int) -> None:
    assert error["extensions"] == {
        "code": "LIMIT_EXCEEDED",
        "limit": limit,
        "maximum": maximum,
        "actual": actual,
    }, error
    assert limit in error["message"]


def user_input(n: int) -> str:
    return f'{{email: "u{n}@example.org", name: "U{n}"}}'


class Widget(msgspec.Struct):
    name: str
    size: int


def size_is_positive(widget: Widget) -> list[FieldProblem]:
    return [FieldProblem("$.size", "must be positive")] if widget.size <= 0 else []


def name_is_not_blank(widget: Widget) -> None:
    if not widget.name.strip():
        raise ValueError("name must not be blank")


# -- depth, aliases, fragments ---------------------------------------------


async def test_depth_over_the_limit(make_client: MakeClient) -> None:
    client = await make_client(options=limited(max_depth=3))
    assert await client.data("{ posts { nodes { id } } }") == {"posts": {"nodes": []}}
    error = await document_error(client, "{ posts { nodes { author { name } } } }")
    assert_limit(error, "query depth", 3, 4)


async def test_introspection_passes_the_default_limits(make_client: MakeClient) -> None:
    """GraphiQL and codegen introspect 13+ levels deep (ofType chains); the
    schema's own shape is exempt from the depth limit, user fields are not."""
    from graphql import get_introspection_query

    client = await make_client()
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    data = await client.data(query)
    assert "Post" in {t["name"] for t in data["__schema"]["types"]}
    typed = await client.data(
        '{ __type(name: "Post") { fields { type { ofType { ofType { ofType { name } } } } } } }'
    )
    assert typed["__type"]["fields"]
    nested = "{ users { nodes { posts { nodes { author { posts { nodes { author { posts { nodes { author { posts { nodes { id } } } } } } } } } } } } } }"
    assert_limit(await document_error(client, nested), "query depth", 12, 14)


async def test_depth_through_fragments_is_counted(make_client: MakeClient) -> None:
    client = await make_client(options=limited(max_depth=3))
    deep_documents = [
        "{ posts { ...P } } fragment P on PostConnection { nodes { author { name } } }",
        "{ posts { ... on PostConnection { nodes { author { name } } } } }",
        "{ ...Q } fragment Q on Query { posts { ...P } }"
        " fragment P on PostConnection { nodes { ...N } }"
        " fragment N on Post { author { id } }",
        "query { posts { nodes { id } } ...Q }"
        " fragment Q on Query { users { nodes { posts { totalCount } } } }",
    ]
    for query in deep_documents:
        error = await document_error(client, query)
        assert_limit(error, "query depth", 3, 4)
    shallow = "{ ...Q } fragment Q on Query { posts { ...P } } fragment P on PostConnection { nodes { id } }"
    assert await client.data(shallow) == {"posts": {"nodes": []}}


async def test_aliases_over_the_limit(make_client: MakeClient) -> None:
    client = await make_client(options=limited(max_aliases=2))
    two = "{ a: posts { totalCount } b: users { totalCount } }"
    assert await client.data(two) == {"a": {"totalCount": 0}, "b": {"totalCount": 0}}
    error = await document_error(
        client, "{ a: posts { totalCount } b: users { totalCount } c: comments { totalCount } }"
    )
    assert_limit(error, "alias count", 2, 3)
    # nested aliases and aliases inside fragments count too
    error = await document_error(
        client,
        "{ a: posts { n: totalCount } ...F } fragment F on Query { c: users { totalCount } }",
    )
    assert_limit(error, "alias count", 2, 3)


async def test_cyclic_fragments_are_rejected_cleanly(make_client: MakeClient) -> None:
    client = await make_client()
    cycles = [
        "{ users { nodes { ...U } } } fragment U on User { posts { nodes { author { ...U } } } }",
        "{ users { nodes { ...A } } }"
        " fragment A on User { posts { nodes { ...B } } }"
        " fragment B on Post { author { ...A } }",
        "{ ...Q } fragment Q on Query { ...Q }",
    ]
    for query in cycles:
        error = await document_error(client, query)
        assert error["extensions"]["code"] == "BAD_REQUEST", error
        assert "Cannot spread fragment" in error["message"], error
        response = await client.http.post(
            "/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE}
        )
        assert response.status_code == 400, response.text
        assert "data" not in response.json()


async def test_fragment_fan_out_is_refused_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each fragment spreads the next twice: 2**20 fields once expanded, from a
    # body under 1 kB. The limit must be found without expanding every copy.
    depth = 20
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(depth)
    )
    query = f"{{ ...F0 }} {fragments} fragment F{depth} on Query {{ __typename }}"
    assert len(query) < 1024
    # Refused during validation: no storage is needed, so none is opened.
    app = create_app(build_registry())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        calls = 0
        measure = limits_module._measure

        def counted(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            return measure(*args)

        monkeypatch.setattr(limits_module, "_measure", counted)
        response = await http.post("/graphql", json={"query": query})
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED", error
    assert error["extensions"]["limit"] == "field count"
    # each fragment is measured once: linear in the document, not 2**depth
    assert calls <= 4 * depth, calls


# -- page and batch sizes --------------------------------------------------


async def test_page_size_over_the_limit(make_client: MakeClient) -> None:
    client = await make_client(options=limited(max_page_size=5))
    await seed(client.manager)
    assert await client.data("{ posts(first: 5) { totalCount } }") == {"posts": {"totalCount": 2}}
    error = await client.error("{ posts(first: 6) { nodes { id } } }")
    assert_limit(error, "first", 5, 6)
    assert error["path"] == ["posts"]
    error = await client.error("{ posts(last: 6) { nodes { id } } }")
    assert_limit(error, "last", 5, 6)
    # connections under a node are bounded too
    error = await client.error("{ users { nodes { posts(first: 6) { totalCount } } } }")
    assert_limit(error, "first", 5, 6)
    error = await client.error("{ users { nodes { revisions(first: 6) { totalCount } } } }")
    assert_limit(error, "first", 5, 6)


async def test_negative_page_size_is_bad_request(client: GraphQLClient) -> None:
    for query in (
        "{ posts(first: -1) { nodes { id } } }",
        "{ posts(last: -1) { nodes { id } } }",
        "{ users { nodes { posts(first: -1) { totalCount } } } }",
    ):
        error = await client.error(query)
        assert error["extensions"] == {"code": "BAD_REQUEST"}, error
        assert "must be at least 1, not -1" in error["message"]


async def test_batch_over_the_limit(make_client: MakeClient) -> None:
    client = await make_client(options=limited(max_batch_size=2))
    two = await client.data(
        f"mutation {{ createUsers(inputs: [{user_input(1)}, {user_input(2)}]) {{ ok }} }}"
    )
    assert two == {"createUsers": [{"ok": True}, {"ok": True}]}
    three = ", ".join(user_input(n) for n in (3, 4, 5))
    for atomic in ("false", "true"):
        error = await client.error(
            f"mutation {{ createUsers(inputs: [{three}], atomic: {atomic}) {{ ok }} }}"
        )
        assert_limit(error, "batch size", 2, 3)
    error = await client.error('mutation { deleteUsers(ids: ["a", "b", "c"]) { ok } }')
    assert_limit(error, "batch size", 2, 3)
    assert await count(client, "users") == 2


# -- INTERNAL: unexpected exceptions are masked ----------------------------


async def test_unexpected_hook_error_is_masked(make_client: MakeClient) -> None:
    registry = build_registry()

    @registry.on("before_create", model="user")
    def explode(event: Event) -> None:
        raise RuntimeError("secret /etc/passwd SELECT")

    client = await make_client(registry=registry)
    response = await client.http.post(
        "/graphql",
        json={"query": f"mutation {{ createUser(input: {user_input(1)}) {{ node {{ id }} }} }}"},
        headers={"x-request-id": "masked-1"},
    )
    assert response.status_code == 200, response.text
    for leak in LEAKS:
        assert leak not in response.text, leak
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "masked-1"}
    assert "masked-1" in error["message"]
    assert error["path"] == ["createUser"]
    assert await count(client, "users") == 0


async def test_unexpected_validator_error_is_masked(make_client: MakeClient) -> None:
    # ValueError means "invalid"; any other exception of a validator is a bug.
    def broken(widget: Widget) -> None:
        raise KeyError("secret /etc/passwd SELECT")

    registry = Registry()
    registry.add_model(Widget, validators=[broken])
    client = await make_client(registry=registry)
    response = await client.http.post(
        "/graphql",
        json={"query": 'mutation { createWidget(input: {name: "w", size: 1}) { node { id } } }'},
    )
    for leak in LEAKS:
        assert leak not in response.text, leak
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert response.headers["x-request-id"] == error["extensions"]["requestId"]


async def test_unexpected_authenticator_error_is_masked(make_client: MakeClient) -> None:
    def broken(request: Request) -> str:
        raise RuntimeError("secret /etc/passwd SELECT")

    client = await make_client(options=ApiOptions(authenticator=broken))
    response = await client.http.post("/graphql", json={"query": "{ users { totalCount } }"})
    assert response.status_code == 500
    for leak in LEAKS:
        assert leak not in response.text, leak
    assert "data" not in response.json()
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_specql_error_from_a_hook_keeps_its_code(make_client: MakeClient) -> None:
    registry = build_registry()

    @registry.on("before_create", model="user")
    async def read_only(event: Event) -> None:
        raise ForbiddenError(f"{event.user} may not create users")

    client = await make_client(registry=registry)
    error = await client.error(
        f"mutation {{ createUser(input: {user_input(1)}) {{ node {{ id }} }} }}"
    )
    assert error["extensions"] == {"code": "FORBIDDEN"}, error
    assert error["message"] == "anonymous may not create users"
    assert await count(client, "users") == 0


# -- VALIDATION_FAILED -----------------------------------------------------


async def test_validator_problems_are_validation_failed(make_client: MakeClient) -> None:
    registry = Registry()
    registry.add_model(Widget, validators=[size_is_positive, name_is_not_blank])
    client = await make_client(registry=registry)
    created = await client.data(
        'mutation { createWidget(input: {name: "w", size: 2}) { node { size } } }'
    )
    assert created == {"createWidget": {"node": {"size": 2}}}

    error = await client.error(
        'mutation { createWidget(input: {name: " ", size: 0}) { node { id } } }'
    )
    assert error["extensions"] == {
        "code": "VALIDATION_FAILED",
        "problems": [
            {"path": "size", "message": "must be positive"},
            {"path": "", "message": "name must not be blank"},  # the whole input
        ],
    }, error
    assert error["path"] == ["createWidget"]
    assert await count(client, "widgets") == 1


async def test_wrong_variable_type_of_an_input_is_validation_failed_with_its_path(
    client: GraphQLClient,
) -> None:
    error = await client.error(
        "mutation ($input: UserInput!) { createUser(input: $input) { node { id } } }",
        {"input": {"email": "x@example.org", "name": 42}},
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED", error
    assert error["extensions"]["problems"] == [
        {"path": "name", "message": "String cannot represent a non string value: 42"}
    ]
    # a variable that is not a model's data stays a request error
    other = await client.error("query ($id: ID!) { user(id: $id) { id } }", {"id": {"x": 1}})
    assert other["extensions"] == {"code": "BAD_REQUEST"}, other


# -- CONFLICT --------------------------------------------------------------

POST_FIELDS = "id authorId meta { currentRevisionId }"


async def draft_post(client: GraphQLClient) -> dict[str, Any]:
    data = await client.data(
        f'{{ posts(where: {{title: {{eq: "Notes"}}}}) {{ nodes {{ {POST_FIELDS} }} }} }}'
    )
    (post,) = data["posts"]["nodes"]
    assert isinstance(post, dict), data
    return post


UPDATE_POST = """
mutation ($id: ID!, $author: ID!, $title: String!, $expected: ID) {
  updatePost(id: $id, input: {title: $title, body: "b", authorId: $author},
             expectedRevisionId: $expected) { node { meta { currentRevisionId } } }
}"""


async def test_stale_expected_revision_is_conflict(client: GraphQLClient) -> None:
    post = await draft_post(client)
    first = post["meta"]["currentRevisionId"]
    variables = {"id": post["id"], "author": post["authorId"], "expected": first}
    updated = await client.data(UPDATE_POST, {**variables, "title": "Notes 2"})
    second = updated["updatePost"]["node"]["meta"]["currentRevisionId"]
    assert second != first

    error = await client.error(UPDATE_POST, {**variables, "title": "Notes 3"})
    assert error["extensions"] == {
        "code": "CONFLICT",
        "resourceId": post["id"],
        "expected": first,
        "actual": second,
    }, error
    error = await client.error(
        "mutation ($id: ID!, $expected: ID) { patchPost(id: $id, expectedRevisionId: $expected,"
        ' patch: [{op: REPLACE, path: "/title", value: "x"}]) { node { id } } }',
        {"id": post["id"], "expected": first},
    )
    assert error["extensions"]["code"] == "CONFLICT"
    assert (error["extensions"]["expected"], error["extensions"]["actual"]) == (first, second)


async def test_taken_unique_value_is_conflict_naming_the_field(client: GraphQLClient) -> None:
    error = await client.error(
        'mutation { createUser(input: {email: "ada@example.org", name: "Other"}) { node { id } } }'
    )
    extensions = error["extensions"]
    assert extensions["code"] == "CONFLICT", error
    assert extensions["fields"] == ["email"]
    assert extensions["value"] == "ada@example.org"
    assert "email" in error["message"]
    assert await count(client, "users") == 2


# -- NOT_FOUND -------------------------------------------------------------


async def test_update_of_unknown_id_is_not_found(client: GraphQLClient) -> None:
    post = await draft_post(client)
    error = await client.error(
        UPDATE_POST, {"id": "no-such-post", "author": post["authorId"], "title": "t"}
    )
    assert error["extensions"]["code"] == "NOT_FOUND", error
    assert error["path"] == ["updatePost"]
    assert "no-such-post" in error["message"]


async def test_get_of_unknown_id_is_null_without_errors(client: GraphQLClient) -> None:
    result = await client.post('{ post(id: "unknown") { id title } user(id: "x") { id } }')
    assert result == {"data": {"post": None, "user": None}}


# -- who is acting ---------------------------------------------------------

CREATE_USER = """
mutation ($input: UserInput!) {
  createUser(input: $input) { node { id meta { createdBy updatedBy } revision { createdBy } } }
}"""
UPDATE_USER = """
mutation ($id: ID!, $input: UserInput!) {
  updateUser(id: $id, input: $input) { node { meta { createdBy updatedBy } } }
}"""


async def test_acting_user_comes_from_the_authenticator(make_client: MakeClient) -> None:
    client = await make_client(options=ApiOptions(authenticator=user_from_header("x-specql-user")))
    ada = {"email": "ada@example.org", "name": "Ada"}
    created = await client.data(CREATE_USER, {"input": ada}, headers={"x-specql-user": "grace"})
    user = created["createUser"]["node"]
    assert user["meta"] == {"createdBy": "grace", "updatedBy": "grace"}
    assert user["revision"] == {"createdBy": "grace"}

    updated = await client.data(
        UPDATE_USER,
        {"id": user["id"], "input": {**ada, "name": "Ada L."}},
        headers={"x-specql-user": "linus"},
    )
    assert updated["updateUser"]["node"]["meta"] == {"createdBy": "grace", "updatedBy": "linus"}

    anonymous = await client.data(CREATE_USER, {"input": {"email": "b@example.org", "name": "B"}})
    assert anonymous["createUser"]["node"]["meta"] == {
        "createdBy": "anonymous",
        "updatedBy": "anonymous",
    }


async def test_malformed_user_header_is_bad_request(make_client: MakeClient) -> None:
    client = await make_client(options=ApiOptions(authenticator=user_from_header("x-specql-user")))
    response = await client.http.post(
        "/graphql",
        json={"query": "{ users { totalCount } }"},
        headers={"x-specql-user": "not a user!"},
    )
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert "x-specql-user" in error["message"]


def bearer(request: Request) -> str:
    token = request.headers.get("authorization", "")
    if token == "Bearer forbidden":
        raise ForbiddenError("this token may not use the API")
    if token != "Bearer good":
        raise UnauthenticatedError("a valid bearer token is required")
    return "token-user"


async def async_bearer(request: Request) -> str:
    return bearer(request)


async def test_authenticator_refusals(make_client: MakeClient) -> None:
    for authenticator in (bearer, async_bearer):
        client = await make_client(options=ApiOptions(authenticator=authenticator))
        for accept in ("application/json", GRAPHQL_RESPONSE):
            response = await client.http.post(
                "/graphql",
                json={"query": "{ users { totalCount } }"},
                headers={"accept": accept},
            )
            assert response.status_code == 401, response.text
            body = response.json()
            assert "data" not in body
            assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
            assert body["errors"][0]["message"] == "a valid bearer token is required"

        response = await client.http.post(
            "/graphql",
            json={"query": "{ users { totalCount } }"},
            headers={"authorization": "Bearer forbidden"},
        )
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN"}

        created = await client.data(
            CREATE_USER,
            {"input": {"email": "t@example.org", "name": "T"}},
            headers={"authorization": "Bearer good"},
        )
        assert created["createUser"]["node"]["meta"]["createdBy"] == "token-user"


async def test_input_cannot_set_the_acting_user(client: GraphQLClient) -> None:
    attempts = [
        'mutation { createUser(input: {email: "m@example.org", name: "M",'
        ' createdBy: "mallory"}) { node { id } } }',
        'mutation { createUser(input: {email: "m@example.org", name: "M"},'
        ' createdBy: "mallory") { node { id } } }',
        'mutation { createUser(input: {email: "m@example.org", name: "M",'
        ' meta: {createdBy: "mallory"}}) { node { id } } }',
    ]
    for query in attempts:
        error = await document_error(client, query)
        assert error["extensions"] == {"code": "BAD_REQUEST"}, error
        assert "createdBy" in error["message"] or "meta" in error["message"], error
    # through a variable, the unknown field is refused too
    error = await client.error(
        "mutation ($input: UserInput!) { createUser(input: $input) { node { id } } }",
        {"input": {"email": "m@example.org", "name": "M", "createdBy": "mallory"}},
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert error["extensions"]["problems"][0]["path"] == "createdBy"
    assert await count(client, "users") == 2
