"""The /graphql endpoint as the GraphQL-over-HTTP specification describes it,
plus GraphiQL, /health, /ready and request ids, over the real ASGI app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from app.api import ApiOptions
from app.api.graphiql import ASSET_FILES
from schema_gen import Limits
from tests.api.conftest import GraphQLClient, MakeClient

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# Requests that fail before execution: each is a GraphQL request error.
DOCUMENT_ERRORS: dict[str, dict[str, Any]] = {
    "parse": {"query": "{ posts { nodes { title } "},
    "validation": {"query": "{ posts { nodes { noSuchField } } }"},
    "unknown operation": {
        "query": "query A { posts { totalCount } }",
        "operationName": "B",
    },
    "several operations": {
        "query": "query A { posts { totalCount } } query B { users { totalCount } }",
    },
    "variable type": {
        "query": "query ($n: Int) { posts(first: $n) { totalCount } }",
        "variables": {"n": "ten"},
    },
}


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def error_body(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    """The errors of a GraphQL error response that has no data entry."""
    assert response.status_code == status, response.text
    assert media_type(response) in (JSON, GRAPHQL_RESPONSE), response.headers
    body = response.json()
    assert "data" not in body, body
    errors = body["errors"]
    assert isinstance(errors, list) and errors, body
    for error in errors:
        assert isinstance(error["message"], str) and error["message"], error
        assert isinstance(error["extensions"]["code"], str), error
    return errors


async def count_users(client: GraphQLClient) -> int:
    total: int = (await client.data("{ users { totalCount } }"))["users"]["totalCount"]
    return total


# -- POST ------------------------------------------------------------------


async def test_post_json_answers_json_by_default(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", json={"query": "{ posts(orderBy: [{title: ASC}]) { nodes { title } } }"}
    )
    assert response.status_code == 200, response.text
    assert media_type(response) == JSON
    body = response.json()
    assert "errors" not in body
    assert body["data"] == {"posts": {"nodes": [{"title": "Hello, SpecQL"}, {"title": "Notes"}]}}


async def test_graphql_response_media_type_when_accepted(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql",
        json={"query": "{ posts { totalCount } }"},
        headers={"accept": f"{GRAPHQL_RESPONSE}, {JSON};q=0.9"},
    )
    assert response.status_code == 200, response.text
    assert media_type(response) == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"posts": {"totalCount": 2}}}


@pytest.mark.parametrize("body", DOCUMENT_ERRORS.values(), ids=DOCUMENT_ERRORS.keys())
async def test_request_errors_are_400_without_data_under_graphql_response(
    client: GraphQLClient, body: dict[str, Any]
) -> None:
    response = await client.http.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE})
    error_body(response, 400)
    assert media_type(response) == GRAPHQL_RESPONSE


@pytest.mark.parametrize("body", DOCUMENT_ERRORS.values(), ids=DOCUMENT_ERRORS.keys())
async def test_request_errors_are_200_under_plain_json(
    client: GraphQLClient, body: dict[str, Any]
) -> None:
    # GraphQL-over-HTTP: with application/json every well-formed request gets
    # 200, whatever GraphQL request error it raises.
    response = await client.http.post("/graphql", json=body, headers={"accept": JSON})
    assert response.status_code == 200, response.text
    assert media_type(response) == JSON
    errors = response.json()["errors"]
    assert errors and all(e["extensions"]["code"] for e in errors)


@pytest.mark.parametrize("name", ["parse", "validation"])
async def test_document_errors_have_no_data_under_plain_json(
    client: GraphQLClient, name: str
) -> None:
    response = await client.http.post("/graphql", json=DOCUMENT_ERRORS[name])
    errors = error_body(response, 200)
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"
    assert "locations" in errors[0]


async def test_variable_errors_have_no_data_under_plain_json(client: GraphQLClient) -> None:
    # A variable that cannot be coerced is a request error: execution never
    # starts, so the response must not have a data entry (GraphQL spec 7.1.2).
    response = await client.http.post("/graphql", json=DOCUMENT_ERRORS["variable type"])
    (error,) = error_body(response, 200)
    assert "$n" in error["message"]


async def test_field_error_nulling_data_is_200_under_graphql_response(
    client: GraphQLClient,
) -> None:
    # Execution started: a field error that nulls the whole data is a partial
    # response with "data": null, not a request error (GraphQL-over-HTTP:
    # data null -> 2xx).
    response = await client.http.post(
        "/graphql",
        json={
            "query": 'mutation { deletePost(id: "no-such-post") { node { id } } }',
        },
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["path"] == ["deletePost"]


async def test_operation_name_selects_the_operation(client: GraphQLClient) -> None:
    body = {
        "query": "query A { posts { totalCount } } query B { users { totalCount } }",
        "operationName": "B",
    }
    response = await client.http.post("/graphql", json=body)
    assert response.json() == {"data": {"users": {"totalCount": 2}}}


# -- GET -------------------------------------------------------------------


async def test_get_runs_a_query_with_variables(client: GraphQLClient) -> None:
    response = await client.http.get(
        "/graphql",
        params={
            "query": "query ($n: Int) { posts(first: $n, orderBy: [{title: ASC}]) "
            "{ nodes { title } } }",
            "variables": '{"n": 1}',
        },
    )
    assert response.status_code == 200, response.text
    assert media_type(response) == JSON
    assert response.json() == {"data": {"posts": {"nodes": [{"title": "Hello, SpecQL"}]}}}


async def test_get_with_operation_name(client: GraphQLClient) -> None:
    response = await client.http.get(
        "/graphql",
        params={
            "query": "query A { posts { totalCount } } query B { users { totalCount } }",
            "operationName": "A",
        },
    )
    assert response.json() == {"data": {"posts": {"totalCount": 2}}}


async def test_mutation_over_get_is_405_and_does_not_run(client: GraphQLClient) -> None:
    mutation = 'mutation { createUser(input: {email: "g@example.org", name: "G"}) { node { id } } }'
    for accept in (JSON, GRAPHQL_RESPONSE):
        response = await client.http.get(
            "/graphql", params={"query": mutation}, headers={"accept": accept}
        )
        (error,) = error_body(response, 405)
        assert media_type(response) == accept
        assert "POST" in response.headers["allow"]
        assert "mutation" in error["message"]
    assert await count_users(client) == 2


async def test_get_variables_must_be_a_json_object(client: GraphQLClient) -> None:
    for variables in ("not json", "[1, 2]", '"n"'):
        response = await client.http.get(
            "/graphql",
            params={"query": "{ posts { totalCount } }", "variables": variables},
        )
        (error,) = error_body(response, 400)
        assert "variables" in error["message"]
        assert error["extensions"]["code"] == "BAD_REQUEST"


# -- malformed requests ----------------------------------------------------


MALFORMED: dict[str, tuple[bytes, str]] = {
    "empty query": (b'{"query": ""}', "query"),
    "blank query": (b'{"query": "   "}', "query"),
    "missing query": (b'{"variables": {}}', "query"),
    "query not a string": (b'{"query": 42}', "query"),
    "not json": (b"{not json", "JSON"),
    "empty body": (b"", "JSON"),
    "json array": (b'[{"query": "{ posts { totalCount } }"}]', "JSON object"),
    "json string": (b'"{ posts { totalCount } }"', "JSON object"),
    "variables array": (b'{"query": "{ posts { totalCount } }", "variables": [1]}', "variables"),
    "variables string": (
        b'{"query": "{ posts { totalCount } }", "variables": "{}"}',
        "variables",
    ),
    "operationName not a string": (
        b'{"query": "{ posts { totalCount } }", "operationName": 3}',
        "operationName",
    ),
}


async def test_malformed_request_is_400_bad_request(client: GraphQLClient) -> None:
    for case, (content, problem) in MALFORMED.items():
        for accept in (JSON, GRAPHQL_RESPONSE):
            response = await client.http.post(
                "/graphql",
                content=content,
                headers={"content-type": JSON, "accept": accept},
            )
            (error,) = error_body(response, 400)
            assert problem in error["message"], (case, error)
            assert error["extensions"]["code"] == "BAD_REQUEST", (case, error)


async def test_unsupported_content_type_is_415(client: GraphQLClient) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await client.http.post(
            "/graphql",
            content=b'{"query": "{ posts { totalCount } }"}',
            headers={"content-type": content_type},
        )
        (error,) = error_body(response, 415)
        assert content_type in error["message"]


async def test_json_content_type_with_charset_is_accepted(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql",
        content=b'{"query": "{ posts { totalCount } }"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.json() == {"data": {"posts": {"totalCount": 2}}}


async def test_other_methods_are_405(client: GraphQLClient) -> None:
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.http.request(
            method, "/graphql", json={"query": "{ posts { totalCount } }"}
        )
        (error,) = error_body(response, 405)
        assert method in error["message"]
        assert "POST" in response.headers["allow"]


# -- body size -------------------------------------------------------------


async def test_body_over_the_limit_is_413(make_client: MakeClient) -> None:
    client = await make_client(options=ApiOptions(limits=Limits(max_body_bytes=2000)))
    small = await client.http.post("/graphql", json={"query": "{ users { totalCount } }"})
    assert small.json() == {"data": {"users": {"totalCount": 0}}}

    padded = {"query": "{ users { totalCount } }" + " " * 2000}
    response = await client.http.post("/graphql", json=padded)
    (error,) = error_body(response, 413)
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["maximum"] == 2000
    size = len(response.request.content)
    assert error["extensions"]["actual"] == size
    assert error["message"] == f"the body is {size} bytes, over the limit of 2000"


async def test_streamed_body_over_the_limit_is_413(make_client: MakeClient) -> None:
    # No content-length: the limit must hold while the body is read.
    client = await make_client(options=ApiOptions(limits=Limits(max_body_bytes=2000)))

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ users { totalCount } }'
        for _ in range(10):
            yield b" " * 500
        yield b'"}'

    response = await client.http.post("/graphql", content=chunks(), headers={"content-type": JSON})
    assert "content-length" not in response.request.headers
    (error,) = error_body(response, 413)
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    sent = len(b'{"query": "{ users { totalCount } }') + 10 * 500 + 2
    assert error["extensions"]["actual"] == sent  # read to the end, within 4x the limit
    assert error["extensions"]["maximum"] == 2000


async def test_streamed_body_far_over_the_limit_reports_a_lower_bound(
    make_client: MakeClient,
) -> None:
    client = await make_client(options=ApiOptions(limits=Limits(max_body_bytes=1000)))

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1000

    response = await client.http.post("/graphql", content=chunks(), headers={"content-type": JSON})
    (error,) = error_body(response, 413)
    actual = error["extensions"]["actual"]
    assert 4000 < actual <= 5000
    assert error["message"] == f"the body is over {actual} bytes, over the limit of 1000"


# -- GraphiQL --------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


async def test_graphiql_page_loads_only_local_assets(client: GraphQLClient) -> None:
    response = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200, response.text
    assert media_type(response) == "text/html"
    links = _Links()
    links.feed(response.text)
    assert sorted(links.urls) == sorted(f"/graphiql/static/{name}" for name in ASSET_FILES)
    for url in links.urls:
        asset = await client.http.get(url)
        assert asset.status_code == 200, url
        assert media_type(asset) == ASSET_FILES[url.rsplit("/", 1)[1]]
        assert asset.content


async def test_graphiql_asset_types(client: GraphQLClient) -> None:
    css = await client.http.get("/graphiql/static/graphiql.min.css")
    js = await client.http.get("/graphiql/static/graphiql.min.js")
    assert (css.status_code, media_type(css)) == (200, "text/css")
    assert (js.status_code, media_type(js)) == (200, "text/javascript")


async def test_unknown_graphiql_asset_is_404(client: GraphQLClient) -> None:
    for name in ("nope.js", "README.md", "LICENSE.react", "..%2Fapp.py"):
        response = await client.http.get(f"/graphiql/static/{name}")
        assert response.status_code == 404, name


async def test_browser_get_with_a_query_runs_it(client: GraphQLClient) -> None:
    response = await client.http.get(
        "/graphql",
        params={"query": "{ posts { totalCount } }"},
        headers={"accept": "text/html,application/json;q=0.9"},
    )
    assert response.json() == {"data": {"posts": {"totalCount": 2}}}


async def test_graphiql_can_be_turned_off(make_client: MakeClient) -> None:
    client = await make_client(options=ApiOptions(graphiql=False))
    page = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert media_type(page) != "text/html"
    (error,) = error_body(page, 400)
    assert "query" in error["message"]
    asset = await client.http.get("/graphiql/static/graphiql.min.js")
    assert asset.status_code == 404


# -- health, readiness, request ids ----------------------------------------


async def test_health(client: GraphQLClient) -> None:
    response = await client.http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready(client: GraphQLClient) -> None:
    response = await client.http.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


async def test_request_id_is_echoed(client: GraphQLClient) -> None:
    for body in ({"query": "{ posts { totalCount } }"}, {"query": "{"}):
        response = await client.http.post(
            "/graphql", json=body, headers={"x-request-id": "req-42-abc"}
        )
        assert response.headers["x-request-id"] == "req-42-abc"
    response = await client.http.put("/graphql", headers={"x-request-id": "req-43"})
    assert response.headers["x-request-id"] == "req-43"


async def test_request_id_is_generated_when_absent_or_unusable(client: GraphQLClient) -> None:
    seen = set()
    for headers in ({}, {}, {"x-request-id": "has spaces"}, {"x-request-id": "x" * 200}):
        response = await client.http.post(
            "/graphql", json={"query": "{ posts { totalCount } }"}, headers=headers
        )
        request_id = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9A-Za-z-]{8,64}", request_id), request_id
        assert request_id not in ("has spaces", "x" * 200)
        seen.add(request_id)
    assert len(seen) == 4
