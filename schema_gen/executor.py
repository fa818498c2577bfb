"""The GraphQL executor SpecQL runs: graphql-core's, with plain fields
completed inline.

Most fields of a SpecQL result are plain: an attribute of the node (``name``,
``price``, ``tags``) or of an object the resolvers built (a connection's
``edges``, an edge's ``node``, ``meta``, a nested Struct), read by
Strawberry's default resolver. graphql-core executes each one in full: a path
entry, a ResolveInfo, Strawberry's resolver wrapper, an awaitable check, then
completion, and for an object the collection of its sub-fields. Measured on
W2's search (20 edges, each a node of 7 fields), that per-field work was most
of the request's time.

This executor gives such fields a shortcut: read the attribute and complete
the value in place. A leaf (a scalar or an enum, or a list of them) is coerced
with the field's own type, except that a built-in scalar's value that its
serializer would return unchanged (a ``str`` for String or ID, an ``int`` in
32 bits for Int, a finite ``float`` for Float, a ``bool``) is kept without
the call; an object (or a list of them) qualifies when every field selected
on it does, and becomes a dict of those fields. What it covers
is decided once per selection set per request, from the schema and the
document alone: a field qualifies when its resolver is Strawberry's default
one (no custom resolver, no field extensions), it takes no arguments, and its
object type is concrete with no ``is_type_of`` check. Everything else (refs,
connections, custom resolvers, ``__typename``, deferred fragments) goes
through graphql-core as before; so does any field whose value the shortcut
cannot complete (a null in a non-null position, a value the type cannot
coerce, a list that is not a list or tuple), as a whole, so errors and their
paths are graphql-core's own. The shortcut only reads attributes, so handing
a field over after a partial attempt changes nothing.

What depends on the document alone is worked out on its first execution and
kept with the document (``schema_gen/document_plans.py``): the fields each
selection set collects, which of them are completed inline, and the coerced
arguments of resolvers that only read them (``SHARES_ARGUMENTS``), per value
of the variables they read.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from math import isfinite
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    DocumentNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    Undefined,
    get_argument_values,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import CollectedFields
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.pyutils import Path

from schema_gen.document_plans import Plans, plans_for, variables_in, variables_key

STRAWBERRY_FIELD = "strawberry-definition"  # GraphQLField.extensions key of Strawberry
# GraphQLField.extensions key: the resolver never changes the argument values it
# gets, so a query may hand it the same coerced values on every request.
SHARES_ARGUMENTS = "specql-shares-arguments"


class _NotInline(Exception):
    """The shortcut cannot complete this value; graphql-core will."""


class _Plain(abc.ABC):
    """How to complete one plain field inline: read the attribute, then
    complete the value (or each item of a list) with ``one``."""

    __slots__ = ("get", "is_list", "item_non_null", "name", "non_null")

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

    def complete(self, source: Any) -> Any:
        return self.finish(self.get(source, self.name))

    def finish(self, value: Any) -> Any:
        """The completed value of the attribute read."""
        if value is None:
            if self.non_null:
                raise _NotInline
            return None
        if not self.is_list:
            return self.one(value)
        if not isinstance(value, (list, tuple)):
            raise _NotInline  # other iterables may be one-shot: leave them to graphql-core
        items: list[Any] = []
        for item in value:
            if item is None:
                if self.item_non_null:
                    raise _NotInline
                items.append(None)
            else:
                items.append(self.one(item))
        return items

    @abc.abstractmethod
    def one(self, value: Any) -> Any:
        """The completed value of one non-null item (raise _NotInline to
        leave the whole field to graphql-core)."""


# Values graphql-core's built-in scalars serialize to themselves: of exactly
# this Python type, and passing the check (None: every value of the type).
# Anything else goes through the scalar's own serializer.
_INT32 = range(GRAPHQL_MIN_INT, GRAPHQL_MAX_INT + 1)
_AS_IS: dict[GraphQLScalarType, tuple[type, Callable[[Any], bool] | None]] = {
    GraphQLString: (str, None),
    GraphQLID: (str, None),
    GraphQLBoolean: (bool, None),
    GraphQLInt: (int, _INT32.__contains__),
    GraphQLFloat: (float, isfinite),
}


class _Leaf(_Plain):
    """A plain field of a scalar or enum type (or a list of one)."""

    __slots__ = ("as_is", "check", "coerce")

    def __init__(self, name: str, get: Callable[[Any, str], Any], field: GraphQLField) -> None:
        super().__init__(name, get, field)
        leaf = get_named_type(field.type)
        assert is_leaf_type(leaf)
        self.coerce = leaf.coerce_output_value
        self.as_is: type | None = None
        self.check: Callable[[Any], bool] | None = None
        if isinstance(leaf, GraphQLScalarType) and leaf in _AS_IS:
            self.as_is, self.check = _AS_IS[leaf]

    def finish(self, value: Any) -> Any:
        as_is, check = self.as_is, self.check
        if self.is_list and as_is is not None and type(value) is list:
            for item in value:
                if type(item) is not as_is or (check is not None and not check(item)):
                    break
            else:
                return list(value)  # every item as it is: a list of tags, say
        return super().finish(value)

    def one(self, value: Any) -> Any:
        if type(value) is self.as_is and (self.check is None or self.check(value)):
            return value
        coerced = self.coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NotInline
        return coerced


class _Object(_Plain):
    """A plain field of an object type (or a list of one) whose selected
    fields are all plain: an edge's ``node``, a connection's ``edges``.

    ``one`` reads each field and keeps a built-in scalar's value as it is
    (``_AS_IS``) without a call; a W2 search page completes ~140 leaves."""

    __slots__ = ("fields", "steps")

    def __init__(
        self,
        name: str,
        get: Callable[[Any, str], Any],
        field: GraphQLField,
        fields: list[tuple[str, _Plain]],
    ) -> None:
        super().__init__(name, get, field)
        self.fields = fields
        self.steps = [
            (response_name, part.get, part.name, *_as_is(part), part)
            for response_name, part in fields
        ]

    def one(self, value: Any) -> Any:
        completed = {}
        for response_name, get, attribute, as_is, check, part in self.steps:
            found = get(value, attribute)
            if type(found) is as_is and (check is None or check(found)):
                completed[response_name] = found
            else:
                completed[response_name] = part.finish(found)
        return completed


def _as_is(part: _Plain) -> tuple[type | None, Callable[[Any], bool] | None]:
    """What a field's value may be to be kept as it is (none for lists and objects)."""
    if isinstance(part, _Leaf) and not part.is_list:
        return part.as_is, part.check
    return None, None


def _default_getter(field: GraphQLField | None, node_has_arguments: bool) -> Any:
    """The Strawberry definition of a field its default resolver reads
    (no arguments, no custom resolver, no extensions), else None."""
    if field is None or field.args or node_has_arguments:
        return None
    if not getattr(field.resolve, "_is_default", False):
        return None  # a custom resolver, or not Strawberry's basic field
    definition = (field.extensions or {}).get(STRAWBERRY_FIELD)
    if definition is None or definition.base_resolver is not None or definition.extensions:
        return None
    return definition


_Plan = tuple[Any, dict[str, Any], list[tuple[str, _Plain]]]


class InlineLeafExecutor(IncrementalExecutor):
    """graphql-core's executor, completing plain leaf fields inline, with what
    depends on the document alone (collected fields, inline plans, arguments
    written in the document) planned once per document (``document_plans``)."""

    _plans: Plans | None = None

    @classmethod
    def build(cls, schema: GraphQLSchema, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        executor = super().build(schema, document, *args, **kwargs)
        if isinstance(executor, InlineLeafExecutor):
            executor._plans = plans_for(document, schema, executor.variable_values.coerced)
        return executor

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        new_defer_usages: Any,
    ) -> Any:
        plans = self._plans
        if plans is not None and not new_defer_usages:
            key = (root_type, id(self.operation))
            cached = plans.collected.get(key)
            if cached is None:
                cached = plans.collected[key] = CollectedFields(grouped_field_set, [], [])
                plans.inline[id(grouped_field_set)] = (grouped_field_set, None)
            grouped_field_set = cached.grouped_field_set
        return super().execute_collected_root_fields(
            root_type, root_value, grouped_field_set, serially, new_defer_usages
        )

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> Any:
        plans = self._plans
        if plans is None:
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type, id(self.operation), *[id(d.node) for d in field_details_list])
        found = plans.collected.get(key)
        if found is None:
            found = super().collect_subfields(return_type, field_details_list)
            if not found.new_defer_usages:
                plans.collected[key] = found
                plans.inline[id(found.grouped_field_set)] = (found.grouped_field_set, None)
        return found

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        _, rest, plain = self._plan_of(parent_type, grouped_field_set)
        if not plain:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        inline: dict[str, Any] = {}
        fallback: dict[str, Any] = {}
        for response_name, part in plain:
            try:
                inline[response_name] = part.complete(source_value)
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

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        """Run one field. A field whose resolver shares its arguments (get-by-id,
        connections) takes them from the document's plans, coerced once per
        value of the variables they read; any other field runs as graphql-core
        runs it. Resolution, completion and field errors use graphql-core's
        own steps, so answers and error paths are the same."""
        node = field_details_list[0].node
        field_def = self._planned_arguments_field(parent_type, node)
        if field_def is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        return_type = field_def.type
        nodes = [details.node for details in field_details_list]
        info = self.build_resolve_info(field_def, nodes, parent_type, path)
        try:
            assert self._plans is not None
            arguments = self._arguments(self._plans, field_def, node)
            result = self._resolver_of(field_def)(source, info, **arguments)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(completed, return_type, field_details_list, path)
        return completed

    def _planned_arguments_field(
        self, parent_type: GraphQLObjectType, node: Any
    ) -> GraphQLField | None:
        """The field definition when its arguments come from the plans."""
        if self._plans is None or not node.arguments:
            return None
        field_def = self.schema.get_field(parent_type, node.name.value)
        if field_def is None or not field_def.extensions.get(SHARES_ARGUMENTS):
            return None
        return field_def

    def _resolver_of(self, field_def: GraphQLField) -> Any:
        resolve = field_def.resolve or self.field_resolver
        if self.middleware_manager:
            return self.middleware_manager.get_field_resolver(resolve)
        return resolve

    async def _await_completed(
        self, completed: Awaitable[Any], return_type: Any, field_details_list: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def _arguments(self, plans: Plans, field_def: GraphQLField, node: Any) -> dict[str, Any]:
        """graphql-core's coerced arguments of ``node``, kept per value of the
        variables they read (plain scalars only)."""
        key = (id(field_def), id(node))
        kept = plans.arguments.get(key)
        if kept is None:
            kept = plans.arguments[key] = (variables_in(node.arguments), {})
        names, by_values = kept
        values = variables_key(names, self.variable_values.coerced)
        found = None if values is None else by_values.get(values)
        if found is None:
            found = get_argument_values(
                field_def, node, self.variable_values, None, self.hide_suggestions
            )
            if values is not None:
                plans.remember_arguments(by_values, values, found)
        return found

    def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        kept = self._plans.inline if self._plans is not None else {}
        slot = kept.get(id(grouped_field_set))
        if slot is not None:  # a grouped field set of the document's plans
            plan: _Plan | None = slot[1]
            if plan is None:
                plan = self._plan(parent_type, grouped_field_set)
                kept[id(grouped_field_set)] = (grouped_field_set, plan)
            return plan
        plans: dict[int, _Plan] = self.__dict__.setdefault("_inline_plans", {})
        plan = plans.get(id(grouped_field_set))
        if plan is None:
            plan = plans[id(grouped_field_set)] = self._plan(parent_type, grouped_field_set)
        return plan

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        """(the grouped field set, the fields graphql-core executes, the
        plain fields completed inline). The plan holds its grouped field set,
        so the id it is filed under cannot be reused while the request runs."""
        rest: dict[str, Any] = {}
        plain: list[tuple[str, _Plain]] = []
        for response_name, details in grouped_field_set.items():
            part = self._plain(parent_type, details)
            if part is None:
                rest[response_name] = details
            else:
                plain.append((response_name, part))
        return grouped_field_set, rest, plain

    def _plain(self, parent_type: GraphQLObjectType, details: Any) -> _Plain | None:
        """The shortcut for one response name, None when graphql-core must
        execute it. An object field qualifies when every field selected on it
        does; its selection is collected by graphql-core's own (memoized)
        ``collect_subfields``, so directives and fragments apply as usual."""
        node = details[0].node
        field = self.schema.get_field(parent_type, node.name.value)
        definition = _default_getter(field, any(d.node.arguments for d in details))
        if definition is None:
            return None
        assert field is not None
        get, name = definition.default_resolver, definition.python_name
        kind = get_named_type(field.type)
        if is_leaf_type(kind):
            # one node per response name: nothing to merge
            return _Leaf(name, get, field) if len(details) == 1 else None
        if not isinstance(kind, GraphQLObjectType) or kind.is_type_of is not None:
            return None  # abstract types and is_type_of checks need graphql-core's info
        grouped, defer_usages, *_ = self.collect_subfields(kind, details)
        if defer_usages:
            return None
        _, rest, plain = self._plan_of(kind, grouped)
        if rest or not plain:
            return None
        return _Object(name, get, field, plain)

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
