"""GraphQL errors as clients see them: every one carries ``extensions.code``.

One of the two places errors are translated (the other is the store
boundary): a SpecQLError keeps its message, code and structured details;
documents that fail to parse or validate, and variables that cannot be
coerced, are BAD_REQUEST (or the code a limit rule set), except a variable of
a model's input type, whose bad value is VALIDATION_FAILED with the problem's
path in API names (``items[1].unitPrice``); anything else is masked as
INTERNAL with the request id, and logged in full on the server.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLSchema,
    NamedTypeNode,
    VariableDefinitionNode,
)

from app.errors import SpecQLError, StorageError, ValidationFailedError

log = logging.getLogger("specql.graphql")
DATA_INPUT = "specql_data_input"  # extension key on input types built from a model
# graphql-core 3.3 names the field a problem is about in these two messages
_ABOUT_FIELD = re.compile(r"to include required field '(\w+)'|not to include unknown field '(\w+)'")
_FOUND = re.compile(r"[;,] found: .*$", re.DOTALL)  # graphql-core echoes the value as a repr

_DETAILS = {
    "RevisionConflictError": ("resource_id", "expected", "actual"),
    "DraftConflictError": ("resource_id", "expected", "actual"),
    "UniqueViolationError": ("model", "fields", "value"),
    "ResourceDeletedError": ("model", "resource_id"),
    "ResourceExistsError": ("model", "resource_id"),
    "ReferencedError": ("model", "resource_id"),
    "LimitExceededError": ("limit", "maximum", "actual"),
}


def public_message(error: SpecQLError) -> str:
    if isinstance(error, StorageError):
        return "internal error"
    return error.message


def error_extensions(error: SpecQLError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.code}
    if isinstance(error, ValidationFailedError):
        extensions["problems"] = [{"path": p.path, "message": p.message} for p in error.problems]
    for key in _DETAILS.get(type(error).__name__, ()):
        value = error.details.get(key)
        if value is not None:
            extensions[_camel(key)] = msgspec.to_builtins(value)
    field = error.details.get("field")
    if isinstance(field, str):
        extensions["field"] = field
    return extensions


def coercion_error(error: GraphQLError, schema: GraphQLSchema) -> GraphQLError:
    """A variable of a model's input type that graphql-core could not coerce,
    as VALIDATION_FAILED with the problem's path; other errors as they are.

    graphql-core keeps the path only in the message it builds
    (``Variable '$i' has invalid value at .items[1].unitPrice: <reason>``),
    so the path is read back from it, and the error is kept when that fails.
    """
    node = error.nodes[0] if error.nodes else None
    reason = error.original_error
    if not isinstance(node, VariableDefinitionNode) or not isinstance(reason, GraphQLError):
        return error
    type_node: Any = node.type
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type
    named = schema.get_type(type_node.name.value)
    if not isinstance(named, GraphQLInputObjectType) or not named.extensions.get(DATA_INPUT):
        return error
    prefix = f"Variable '${node.variable.name.value}' has invalid value"
    suffix = f": {reason.message}"
    if not (error.message.startswith(prefix) and error.message.endswith(suffix)):
        return error
    path = error.message[len(prefix) : len(error.message) - len(suffix)]
    path = path.removeprefix(" at ").removeprefix(".")
    about = _ABOUT_FIELD.search(reason.message)
    if about is not None:
        field = about[1] or about[2]
        path = f"{path}.{field}" if path else field
    message = _FOUND.sub(".", reason.message)
    return GraphQLError(
        f"invalid {named.name}: {message} at `{path}`",
        error.nodes,
        extensions={"code": "VALIDATION_FAILED", "problems": [{"path": path, "message": message}]},
    )


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """The JSON a client receives for one error."""
    original = error.original_error
    out: dict[str, Any] = {}
    if original is None or error.path is None:
        # no path: the document or the variables were refused before execution
        out["message"] = error.message
        code = (error.extensions or {}).get("code", "BAD_REQUEST")
        out["extensions"] = {**(error.extensions or {}), "code": code}
    elif isinstance(original, SpecQLError) and not isinstance(original, StorageError):
        out["message"] = original.message
        out["extensions"] = error_extensions(original)
    else:
        log.error(
            "request %s: unexpected error at %s",
            request_id,
            ".".join(map(str, error.path or ())),
            exc_info=original,
        )
        out["message"] = f"internal error (request id {request_id})"
        out["extensions"] = {"code": "INTERNAL", "requestId": request_id}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
