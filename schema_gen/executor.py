"""The GraphQL executor SpecQL runs: graphql-core's, with plain leaf fields
completed inline.

Most fields of a SpecQL result are plain leaves: an attribute of the node
(``name``, ``price``, ``tags``), a scalar or an enum, or a list of them, read
by Strawberry's default resolver. graphql-core executes each one in full:
a path entry, a ResolveInfo, Strawberry's resolver wrapper, an awaitable
check, then completion. Measured on W2's search (20 items of 7 fields, about
160 fields a request), that per-field work was most of the request's time.

This executor gives such fields a shortcut: read the attribute, coerce the
value with the field's own type, and place it in the result. What it covers
is decided once per selection set per request, from the schema alone:
a field qualifies when its resolver is Strawberry's default one (no custom
resolver, no field extensions), it takes no arguments, and its type is a
leaf or a list of leaves. Everything else (refs, connections, meta, custom
resolvers, errors) goes through graphql-core as before; so does any value the
shortcut cannot complete (a null in a non-null position, a value the type
cannot coerce), so errors and their paths are graphql-core's own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.pyutils import Path

STRAWBERRY_FIELD = "strawberry-definition"  # GraphQLField.extensions key of Strawberry


class _NotInline(Exception):
    """The shortcut cannot complete this value; graphql-core will."""


class _Leaf:
    """How to complete one plain leaf field inline."""

    __slots__ = ("coerce", "get", "is_list", "item_non_null", "name", "non_null")

    def __init__(self, name: str, get: Callable[[Any, str], Any], field: GraphQLField) -> None:
        self.name = name
        self.get = get
        kind = field.type
        self.non_null = isinstance(kind, GraphQLNonNull)
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        self.is_list = isinstance(kind, GraphQLList)
        self.item_non_null = False
        if isinstance(kind, GraphQLList):
            kind = kind.of_type
            self.item_non_null = isinstance(kind, GraphQLNonNull)
            if isinstance(kind, GraphQLNonNull):
                kind = kind.of_type
        assert is_leaf_type(kind)
        leaf: GraphQLLeafType = kind
        self.coerce = leaf.coerce_output_value

    def complete(self, source: Any) -> Any:
        value = self.get(source, self.name)
        if value is None:
            if self.non_null:
                raise _NotInline
            return None
        if not self.is_list:
            return self._one(value)
        if isinstance(value, (str, bytes, dict)):
            raise _NotInline
        items: list[Any] = []
        for item in value:
            if item is None:
                if self.item_non_null:
                    raise _NotInline
                items.append(None)
            else:
                items.append(self._one(item))
        return items

    def _one(self, value: Any) -> Any:
        coerced = self.coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NotInline
        return coerced


def _inline_leaf(field: GraphQLField | None, node_has_arguments: bool) -> _Leaf | None:
    """The shortcut for a field, None when graphql-core must execute it."""
    if field is None or field.args or node_has_arguments:
        return None
    if not getattr(field.resolve, "_is_default", False):
        return None  # a custom resolver, or not Strawberry's basic field
    definition = (field.extensions or {}).get(STRAWBERRY_FIELD)
    if definition is None or definition.base_resolver is not None or definition.extensions:
        return None
    kind = field.type
    while isinstance(kind, (GraphQLNonNull, GraphQLList)):
        kind = kind.of_type
    if not is_leaf_type(kind):
        return None
    return _Leaf(definition.python_name, definition.default_resolver, field)


_Plan = tuple[Any, dict[str, Any], list[tuple[str, _Leaf]]]


class InlineLeafExecutor(IncrementalExecutor):
    """graphql-core's executor, completing plain leaf fields inline."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plans: dict[int, _Plan] = self.__dict__.setdefault("_inline_plans", {})
        plan = plans.get(id(grouped_field_set))
        if plan is None:
            plan = plans[id(grouped_field_set)] = self._plan(parent_type, grouped_field_set)
        _, rest, leaves = plan
        if not leaves:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        inline: dict[str, Any] = {}
        fallback: dict[str, Any] = {}
        for response_name, leaf in leaves:
            try:
                inline[response_name] = leaf.complete(source_value)
            except Exception:
                fallback[response_name] = grouped_field_set[response_name]
        if fallback:
            rest = {**rest, **fallback}
        if not rest:
            return self._ordered(grouped_field_set, inline, {})
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(others):
            return self._ordered_later(grouped_field_set, inline, others)
        return self._ordered(grouped_field_set, inline, others)  # type: ignore[arg-type]

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        """(the grouped field set, the fields graphql-core executes, the
        inline leaves). The plan holds its grouped field set, so the id it is
        filed under cannot be reused while the request runs."""
        rest: dict[str, Any] = {}
        leaves: list[tuple[str, _Leaf]] = []
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            leaf = None
            if len(details) == 1:  # one node per response name: nothing to merge
                field = self.schema.get_field(parent_type, node.name.value)
                leaf = _inline_leaf(field, bool(node.arguments))
            if leaf is None:
                rest[response_name] = details
            else:
                leaves.append((response_name, leaf))
        return grouped_field_set, rest, leaves

    @staticmethod
    def _ordered(
        grouped_field_set: Any, inline: dict[str, Any], others: dict[str, Any]
    ) -> dict[str, Any]:
        """Results in selection order, as the specification asks."""
        return {
            name: inline[name] if name in inline else others[name]
            for name in grouped_field_set
            if name in inline or name in others
        }

    async def _ordered_later(
        self, grouped_field_set: Any, inline: dict[str, Any], others: Awaitable[dict[str, Any]]
    ) -> dict[str, Any]:
        return self._ordered(grouped_field_set, inline, await others)
