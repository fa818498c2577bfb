"""Request limits and the validation rules that enforce them before execution.

Depth and alias counts are checked on the parsed document, so an abusive
query is refused (``LIMIT_EXCEEDED``, naming the limit) before any resolver
runs; page sizes and batch sizes are checked by the resolvers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds on one GraphQL request.

    Attributes:
        max_depth: deepest field nesting of an operation.
        max_aliases: aliased fields in one document.
        max_fields: field selections in one operation, fragments expanded
            (a simple complexity bound).
        max_page_size: the largest ``first``/``last``.
        default_page_size: page size when neither is given.
        max_batch_size: items in one batch mutation.
        max_body_bytes: size of a request body.
        max_tokens: tokens the parser reads before giving up.
    """

    max_depth: int = 12
    max_aliases: int = 30
    max_fields: int = 2_000
    max_page_size: int = 1_000
    default_page_size: int = 20
    max_batch_size: int = 1_000
    max_body_bytes: int = 4 * 1024 * 1024
    max_tokens: int = 20_000


def limit_error(limit: str, maximum: int, actual: int) -> GraphQLError:
    return GraphQLError(
        f"{limit} is {actual}, over the limit of {maximum}",
        extensions={
            "code": "LIMIT_EXCEEDED",
            "limit": limit,
            "maximum": maximum,
            "actual": actual,
        },
    )


def limit_rule(limits: Limits) -> type[ValidationRule]:
    """A validation rule that measures each operation once, fragments
    expanded (each fragment measured once per spread, cycles cut)."""

    class RequestLimitsRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            depth, fields, aliases = _measure(node.selection_set, fragments, {}, frozenset())
            for name, maximum, actual in (
                ("query depth", limits.max_depth, depth),
                ("field count", limits.max_fields, fields),
                ("alias count", limits.max_aliases, aliases),
            ):
                if actual > maximum:
                    self.report_error(limit_error(name, maximum, actual))
                    return

    return RequestLimitsRule


_INTROSPECTION = frozenset({"__schema", "__type"})


def _measure(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, Any],
    memo: dict[str, tuple[int, int, int]],
    seen: frozenset[str],
) -> tuple[int, int, int]:
    """(depth, field count, alias count) below a selection set; each fragment
    is measured once (``memo``), so a fan-out of spreads costs linear time."""
    if selection_set is None:
        return 0, 0, 0
    deepest, fields, aliases = 0, 0, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            d, f, a = _measure(selection.selection_set, fragments, memo, seen)
            if selection.name.value in _INTROSPECTION:
                d = 0  # the schema's own shape, cheap at any depth: GraphiQL asks 13 deep
            deepest = max(deepest, 1 + d)
            fields += 1 + f
            aliases += a + (selection.alias is not None)
            continue
        if isinstance(selection, InlineFragmentNode):
            d, f, a = _measure(selection.selection_set, fragments, memo, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:  # unknown or cyclic: validation reports it
                continue
            if name not in memo:
                memo[name] = _measure(fragment.selection_set, fragments, memo, seen | {name})
            d, f, a = memo[name]
        else:
            continue
        deepest, fields, aliases = max(deepest, d), fields + f, aliases + a
    return deepest, fields, aliases
