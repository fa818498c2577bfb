"""The ``/graphql`` endpoint, following the GraphQL-over-HTTP specification.

- POST with a JSON body, or GET with query parameters (queries only: a
  mutation over GET answers 405).
- ``application/graphql-response+json`` when the client accepts it: a request
  that fails before execution (parse, validation, operation selection,
  variables) answers 4xx with no ``data`` key. Plain ``application/json``
  otherwise, with 200 for every well-formed request.
- Every failure, even of the HTTP request itself, is a GraphQL error body
  with ``extensions.code``; GraphiQL on GET with ``Accept: text/html``.

Parsed and validated documents are cached by their text, so a repeated query
costs neither parsing nor validation.
"""

from __future__ import annotations

import inspect
import logging
import secrets
from collections import OrderedDict
from typing import Any

import msgspec
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app.api.auth import Authenticator
from app.errors import SpecQLError
from app.resources.manager import ResourceManager
from schema_gen.context import GraphQLContext
from schema_gen.errors import coercion_error, error_extensions, format_error, public_message
from schema_gen.executor import InlineLeafExecutor
from schema_gen.limits import Limits, limit_rule

log = logging.getLogger("specql.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_DOCUMENT_CACHE_SIZE = 1_000
_encode = msgspec.json.Encoder().encode
_decode_body = msgspec.json.Decoder().decode
_decode_variables = msgspec.json.Decoder(dict[str, Any] | None).decode


class _Document(msgspec.Struct):
    """A query text once parsed and validated: its document or its errors."""

    document: DocumentNode | None
    errors: list[GraphQLError]
    operations: dict[str | None, OperationDefinitionNode]


class RequestError(Exception):
    """The request failed before execution; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST", **extra: Any):
        super().__init__(message)
        self.status = status  # 0: a GraphQL request error (400, or 200 under plain JSON)
        self.body = {"message": message, "extensions": {"code": code, **extra}}
        self.headers: dict[str, str] = {}


class GraphQLEndpoint:
    """Serves one schema over HTTP; ``handle`` is the Starlette endpoint."""

    def __init__(
        self,
        schema: GraphQLSchema,
        manager: ResourceManager | None,
        *,
        limits: Limits,
        authenticator: Authenticator,
        graphiql_page: str | None,
    ) -> None:
        self.schema = schema
        self.manager = manager
        self.limits = limits
        self.authenticator = authenticator
        self.graphiql_page = graphiql_page
        self._rules = (*specified_rules, limit_rule(limits))
        self._documents: OrderedDict[str, _Document] = OrderedDict()

    async def handle(self, request: Request) -> Response:
        request_id = _request_id(request)
        media = _media_type(request)
        try:
            if request.method == "GET" and self._wants_graphiql(request):
                assert self.graphiql_page is not None
                return HTMLResponse(self.graphiql_page)
            params = await self._params(request)
            response = await self._execute(request, params, media, request_id)
        except RequestError as exc:
            status = exc.status or (400 if media == GRAPHQL_RESPONSE else 200)
            response = _respond({"errors": [exc.body]}, status, media, exc.headers)
        except SpecQLError as exc:  # from the authenticator
            status = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}.get(exc.code, 400)
            body = {"message": public_message(exc), "extensions": error_extensions(exc)}
            response = _respond({"errors": [body]}, status, media)
        except Exception:
            log.exception("request %s failed", request_id)
            body = {
                "message": f"internal error (request id {request_id})",
                "extensions": {"code": "INTERNAL", "requestId": request_id},
            }
            response = _respond({"errors": [body]}, 500, media)
        response.headers["x-request-id"] = request_id
        return response

    def _wants_graphiql(self, request: Request) -> bool:
        return (
            self.graphiql_page is not None
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            query = request.query_params
            variables = query.get("variables")
            try:
                parsed = _decode_variables(variables) if variables else None
            except msgspec.DecodeError:
                raise RequestError(400, "variables must be a JSON object") from None
            return {
                "query": query.get("query"),
                "variables": parsed,
                "operationName": query.get("operationName"),
            }
        if request.method != "POST":
            error = RequestError(405, f"method {request.method} is not allowed; use POST or GET")
            error.headers["allow"] = "GET, POST"
            raise error
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in (JSON, GRAPHQL_RESPONSE) and not content_type.endswith("+json"):
            raise RequestError(
                415, f"content type {content_type or '(none)'!r} is not supported; send {JSON}"
            )
        body = await _read_body(request, self.limits.max_body_bytes)
        try:
            params = _decode_body(body)
        except msgspec.DecodeError:
            raise RequestError(400, "the request body is not valid JSON") from None
        if not isinstance(params, dict):
            raise RequestError(400, "the request body must be a JSON object with a query")
        return params

    def _document(self, query: str) -> _Document:
        found = self._documents.get(query)
        if found is not None:
            self._documents.move_to_end(query)
            return found
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as exc:
            found = _Document(None, [exc], {})
        else:
            errors = validate(self.schema, document, self._rules)
            operations = {
                (d.name.value if d.name else None): d
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
            }
            found = _Document(None if errors else document, list(errors), operations)
        self._documents[query] = found
        if len(self._documents) > _DOCUMENT_CACHE_SIZE:
            self._documents.popitem(last=False)
        return found

    async def _execute(
        self, request: Request, params: dict[str, Any], media: str, request_id: str
    ) -> Response:
        query = params.get("query")
        variables = params.get("variables")
        operation_name = params.get("operationName")
        if not isinstance(query, str) or not query.strip():
            raise RequestError(400, "the request has no query")
        if variables is not None and not isinstance(variables, dict):
            raise RequestError(400, "variables must be a JSON object")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestError(400, "operationName must be a string")
        cached = self._document(query)
        if cached.document is None:
            errors = [format_error(e, request_id) for e in cached.errors]
            status = 400 if media == GRAPHQL_RESPONSE else 200
            return _respond({"errors": errors}, status, media)
        operation = _select_operation(cached, operation_name)
        if request.method == "GET" and operation.operation != OperationType.QUERY:
            error = RequestError(
                405, f"a {operation.operation.value} must be sent with POST, not GET"
            )
            error.headers["allow"] = "POST"
            raise error
        user = self.authenticator(request)
        if inspect.isawaitable(user):
            user = await user
        assert self.manager is not None, "the app serves requests only after startup"
        context = GraphQLContext(
            self.manager, user=user, request_id=request_id, limits=self.limits, request=request
        )
        result = execute(
            self.schema,
            cached.document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=InlineLeafExecutor,
        )
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return _result_response(result, media, request_id, self.schema)


def _select_operation(cached: _Document, name: str | None) -> OperationDefinitionNode:
    operations = cached.operations
    if name is not None:
        if name not in operations:
            raise RequestError(0, f"the document has no operation named {name!r}")
        return operations[name]
    if len(operations) != 1:
        raise RequestError(0, "the document has several operations; say which with operationName")
    return next(iter(operations.values()))


def _result_response(
    result: ExecutionResult, media: str, request_id: str, schema: GraphQLSchema
) -> Response:
    body: dict[str, Any] = {}
    if result.errors:
        if result.data is None and all(e.path is None for e in result.errors):
            # variables could not be coerced: a request error, execution never started
            errors = [coercion_error(e, schema) for e in result.errors]
            body["errors"] = [format_error(e, request_id) for e in errors]
            return _respond(body, 400 if media == GRAPHQL_RESPONSE else 200, media)
        body["errors"] = [format_error(e, request_id) for e in result.errors]
    body["data"] = result.data  # present, even null: execution started
    return _respond(body, 200, media)


def _respond(
    body: dict[str, Any], status: int, media: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(_encode(body), status, headers=headers, media_type=media)


_DRAIN_FACTOR = 4  # an oversized body is read on to this multiple of the limit to size it


def _body_too_large(limit: int, actual: int, exact: bool) -> RequestError:
    size = f"{actual} bytes" if exact else f"over {actual} bytes"
    return RequestError(
        413,
        f"the body is {size}, over the limit of {limit}",
        code="LIMIT_EXCEEDED",
        limit="request body size",
        maximum=limit,
        actual=actual,
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _body_too_large(limit, int(declared), exact=True)
    chunks: list[bytes] = []
    size = 0
    stream = request.stream()
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            break
        chunks.append(chunk)
    else:
        return b"".join(chunks)
    # a chunked body without a length: read (and drop) the rest, within reason,
    # so the error says how large it was
    async for chunk in stream:
        size += len(chunk)
        if size > limit * _DRAIN_FACTOR:
            raise _body_too_large(limit, size, exact=False)
    raise _body_too_large(limit, size, exact=True)


def _media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    if 0 < len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return secrets.token_hex(8)
