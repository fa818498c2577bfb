"""The objects resolvers hand to GraphQL: resources, connections, edges.

They are plain slotted classes so the default resolver (``getattr``) serves
most fields without a Python resolver call per field.
"""

from __future__ import annotations

from typing import Any

import msgspec

from app.records import Page, Resource, ResourceMeta


class Node:
    """A resource as a GraphQL object: ``id``, ``meta`` and the data fields,
    from the payload (copied into the instance dict) or, through
    ``__getattr__``, from the indexed values in the meta when the query
    selected no other data.

    The copy is for speed: a Struct's fields in the instance dict are read
    about 8x faster than through ``__getattr__``, which CPython reaches only
    after raising an AttributeError (~0.6 us per field; a W2 search page reads
    120 of them). Slots (``id``, ``meta``) still come first."""

    __slots__ = ("__dict__", "_data", "_model", "_rev", "id", "meta")

    def __init__(self, model: str, meta: ResourceMeta, data: Any, revision_id: str) -> None:
        self._model = model
        self.meta = meta
        self.id = meta.resource_id
        self._data = data
        self._rev = revision_id
        if isinstance(data, msgspec.Struct):
            self.__dict__ = msgspec.structs.asdict(data)

    @classmethod
    def of(cls, model: str, resource: Resource[Any]) -> Node:
        return cls(model, resource.meta, resource.data, resource.revision_id)

    @classmethod
    def of_meta(cls, model: str, meta: ResourceMeta) -> Node:
        return cls(model, meta, None, meta.current_revision_id)

    def __getattr__(self, name: str) -> Any:
        data = self._data
        if data is not None:
            return getattr(data, name)
        indexed = self.meta.indexed
        if name in indexed:
            return indexed[name]
        raise AttributeError(name)


class MutationResult:
    """A single-resource mutation's answer: the node and whether anything changed."""

    __slots__ = ("changed", "node")

    def __init__(self, node: Node, changed: bool) -> None:
        self.node = node
        self.changed = changed


class PageInfo:
    __slots__ = ("end_cursor", "has_next_page", "has_previous_page", "start_cursor")

    def __init__(self, page: Page[Any]) -> None:
        cursors = page.cursors or []
        self.has_next_page = page.next_cursor is not None
        self.has_previous_page = page.prev_cursor is not None
        self.start_cursor = cursors[0] if cursors else page.prev_cursor
        self.end_cursor = cursors[-1] if cursors else page.next_cursor


class Edge:
    __slots__ = ("cursor", "node")

    def __init__(self, cursor: str | None, node: Any) -> None:
        self.cursor = cursor
        self.node = node


class Connection:
    """A page of nodes; ``count(info)`` counts all matches, run only if
    ``totalCount`` is selected."""

    __slots__ = ("count", "edges", "nodes", "page_info")

    def __init__(self, nodes: list[Any], page: Page[Any], count: Any) -> None:
        self.nodes = nodes
        cursors = page.cursors or [None] * len(nodes)  # type: ignore[list-item]
        self.edges = [Edge(c, n) for c, n in zip(cursors, nodes, strict=True)]
        self.page_info = PageInfo(page)
        self.count = count
