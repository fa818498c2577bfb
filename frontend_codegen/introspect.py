"""Where the schema comes from: the registry or a running server, both read
through the same introspection query, so both give the same client.

``type_depth=6`` keeps the query at depth 12, the server's default
``max_depth``; it still reads types wrapped five deep (``[[Post!]!]!``).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    graphql_sync,
)

from frontend_codegen.errors import CodegenError

if TYPE_CHECKING:
    from app.registry import Registry

INTROSPECTION_QUERY = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
    one_of=True,
    type_depth=6,
)


def from_registry(registry: Registry) -> GraphQLSchema:
    """The schema ``specql schema`` prints, as a client sees it.

    Raises:
        ConfigurationError: the registry's models do not make a schema.
    """
    from schema_gen import build_schema

    registry.check()
    built, _ = build_schema(registry.specs)
    result = graphql_sync(built._schema, INTROSPECTION_QUERY)
    if result.errors:
        raise CodegenError(f"introspection failed: {result.errors[0].message}")
    return from_introspection(result.data, "the registry")


def from_url(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 30
) -> GraphQLSchema:
    """The schema a server at ``url`` serves.

    Raises:
        CodegenError: the server cannot be reached, or answers something
            that is not the result of the introspection query.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise CodegenError(f"--url must be an http:// or https:// URL, not {url!r}")
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": INTROSPECTION_QUERY}).encode(),
        headers={
            "content-type": "application/json",
            "accept": "application/json",
            **(headers or {}),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:  # a GraphQL error may come with a 4xx
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise CodegenError(f"cannot reach {url}: {reason}") from exc
    try:
        answer = json.loads(body)
    except ValueError:
        raise CodegenError(f"{url} did not answer GraphQL (HTTP {status}, not JSON)") from None
    if not isinstance(answer, dict):
        raise CodegenError(f"{url} did not answer GraphQL (HTTP {status}, not a JSON object)")
    errors = answer.get("errors")
    if isinstance(errors, list) and errors:
        message = errors[0].get("message") if isinstance(errors[0], dict) else errors[0]
        raise CodegenError(f"{url} refused the introspection query: {message}")
    return from_introspection(answer.get("data"), f"{url} (HTTP {status})")


def from_introspection(data: Any, source: str) -> GraphQLSchema:
    """A client schema from an introspection result (``{"__schema": ...}``)."""
    if not isinstance(data, dict) or not isinstance(data.get("__schema"), dict):
        raise CodegenError(f"{source} did not answer GraphQL (no data.__schema in the answer)")
    try:
        return build_client_schema(data)  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError, GraphQLError) as exc:
        raise CodegenError(f"{source} answered an unusable introspection result: {exc}") from exc
