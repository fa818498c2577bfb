"""What a field's selection asks for, worked out once per parsed document.

Resolvers use it to skip work nobody selected: loading payloads when only
``id``/``meta``/indexed fields are asked for, encoding cursors, counting.
Documents are cached by the HTTP layer, so the same field node comes back on
every request with the same query; the answer is cached by node identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

_CACHE: dict[tuple[int, tuple[str, ...]], tuple[Any, frozenset[str]]] = {}
_CACHE_LIMIT = 20_000


def selected(info: Any, path: tuple[str, ...] = ()) -> frozenset[str]:
    """Names of the fields selected under ``path`` (``("edges", "node")``)
    below the current field, fragments included."""
    raw = getattr(info, "_raw_info", info)
    nodes: Sequence[FieldNode] = raw.field_nodes
    key = (id(nodes[0]), path)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is nodes[0]:
        return hit[1]
    sets = [n.selection_set for n in nodes if n.selection_set is not None]
    for name in path:
        sets = [
            f.selection_set
            for s in sets
            for f in _fields(s, raw.fragments, set())
            if f.name.value == name and f.selection_set is not None
        ]
    names = frozenset(f.name.value for s in sets for f in _fields(s, raw.fragments, set()))
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = (nodes[0], names)
    return names


def _fields(selection_set: SelectionSetNode, fragments: Any, seen: set[str]) -> list[FieldNode]:
    found: list[FieldNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found += _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                found += _fields(fragments[name].selection_set, fragments, seen)
    return found
