"""What the executor works out from a document alone, kept across requests.

The HTTP layer caches parsed documents by their text, so the same
``DocumentNode`` (and the same field nodes in it) comes back on every request
with that text. Which fields each selection set groups, which of them the
executor completes inline, and the coerced value of arguments written in the
document are then the same on every request, except where they read
variables:

- ``@skip``/``@include`` (or any directive) with a variable decide which
  fields are collected: the plans are kept per value of every variable a
  directive of the document reads (``variant``), and documents whose
  directives read values that are not plain scalars are not cached.
- an argument reading a variable is coerced again for each new value of the
  variables it reads (kept per value, a bounded number of them).

Plans live as long as their document: an entry is dropped when its document
is garbage collected (the HTTP cache evicting it, or a test's document going
out of scope). Documents with ``@defer``/``@stream`` or fragment variables
are executed without plans.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    Node,
    Undefined,
    VariableNode,
)
from graphql.language import Visitor, visit

_MAX_VARIANTS = 16  # per document and schema: 2**4 combinations of @skip/@include
_MAX_ARGUMENT_VALUES = 64  # per field node: coerced arguments kept per variable values


class _Uncacheable(Exception):
    """A value that cannot take part in a cache key."""


def scalar_key(value: Any) -> Any:
    """A key equal for two variable values only when graphql-core would treat
    them alike: ``True``, ``1`` and ``1.0`` differ, and so do ``0.0`` and
    ``-0.0``. Raises _Uncacheable for anything but plain scalars."""
    if value is None or value is Undefined:
        return value
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return (kind, value)
    if kind is float:
        return (kind, value.hex())
    raise _Uncacheable


def variables_key(names: tuple[str, ...], coerced: dict[str, Any]) -> tuple[Any, ...] | None:
    """The key of the values of ``names`` in a request, None if one cannot be keyed."""
    try:
        return tuple(scalar_key(coerced.get(name, Undefined)) for name in names)
    except _Uncacheable:
        return None


def variables_in(nodes: Iterable[Node]) -> tuple[str, ...]:
    """Names of the variables read anywhere in ``nodes``, sorted."""
    found: set[str] = set()

    class Reader(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            found.add(node.name.value)

    for node in nodes:
        visit(node, Reader())
    return tuple(sorted(found))


class Plans:
    """The plans of one document against one schema, for one variant.

    Attributes:
        collected: graphql-core's collected fields, by (parent type, ids of
            the field nodes) or (root type, id of the operation).
        inline: the executor's inline plan of each grouped field set it has
            collected, by the set's id (the set is kept with it).
        arguments: per (field, id of the field node): the names of the
            variables its arguments read, and the coerced arguments per
            value of them.
    """

    __slots__ = ("arguments", "collected", "inline")

    def __init__(self) -> None:
        self.collected: dict[tuple[Any, ...], Any] = {}
        self.inline: dict[int, tuple[Any, Any]] = {}
        self.arguments: dict[tuple[Any, int], tuple[tuple[str, ...], dict[Any, Any]]] = {}

    def remember_arguments(self, found: dict[Any, Any], key: Any, arguments: Any) -> None:
        if len(found) >= _MAX_ARGUMENT_VALUES:
            found.clear()
        found[key] = arguments


class _DocumentPlans:
    __slots__ = ("cacheable", "directive_variables", "document", "variants")

    def __init__(self, document: weakref.ref[DocumentNode], cacheable: bool, names: Any) -> None:
        self.document = document
        self.cacheable = cacheable
        self.directive_variables: tuple[str, ...] = names
        self.variants: dict[tuple[Any, ...], Plans] = {}


_DOCUMENTS: dict[int, _DocumentPlans] = {}


def plans_for(
    document: DocumentNode, schema: GraphQLSchema, coerced_variables: dict[str, Any]
) -> Plans | None:
    """The plans of a request, None when its document cannot be planned once."""
    key = id(document)
    entry = _DOCUMENTS.get(key)
    if entry is None or entry.document() is not document:
        entry = _DOCUMENTS[key] = _describe(document)
    if not entry.cacheable:
        return None
    values = variables_key(entry.directive_variables, coerced_variables)
    if values is None:
        return None
    variant = (schema, *values)
    plans = entry.variants.get(variant)
    if plans is None:
        if len(entry.variants) >= _MAX_VARIANTS:
            return None
        plans = entry.variants[variant] = Plans()
    return plans


def _describe(document: DocumentNode) -> _DocumentPlans:
    key = id(document)

    def forget(ref: weakref.ref[DocumentNode]) -> None:
        if _DOCUMENTS.get(key) is entry:
            del _DOCUMENTS[key]

    directives: list[DirectiveNode] = []

    class Collector(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            directives.append(node)

    visit(document, Collector())
    cacheable = not any(d.name.value in ("defer", "stream") for d in directives) and not any(
        isinstance(d, FragmentDefinitionNode) and d.variable_definitions
        for d in document.definitions
    )
    entry = _DocumentPlans(weakref.ref(document, forget), cacheable, variables_in(directives))
    return entry
