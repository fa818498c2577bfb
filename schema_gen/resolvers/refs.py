"""Fields of a resource type that load more: its revision, its history, the
resources its refs point at, and the resources pointing at it.

Each goes through a DataLoader of the request, so a list of N resources
costs one batched manager call per field, not N (``tests/api/test_loading.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLResolveInfo

from app.errors import NotFoundError
from app.records import Page, RevisionInfo
from schema_gen import scalars
from schema_gen.names import ReferrerField, RefField
from schema_gen.plan import ModelPlan, declared, typed
from schema_gen.resolvers.queries import (
    connection_arguments,
    connection_parameters,
    page_size,
    search_connection,
)
from schema_gen.runtime import Connection, Node
from schema_gen.selection import selected

UNSET: Any = strawberry.UNSET


def revision_resolver(model: str) -> Any:
    async def resolve(root: Node, info: strawberry.Info) -> RevisionInfo:
        manager = info.context.manager

        async def load(keys: Sequence[tuple[str, str]]) -> list[RevisionInfo | NotFoundError]:
            found = await manager.get_revision_infos(model, keys)
            return [
                NotFoundError(
                    f"{model} {rid!r} has no revision {rev!r}",
                    model=model,
                    resource_id=rid,
                    revision_id=rev,
                )
                if item is None
                else item
                for item, (rid, rev) in zip(found, keys, strict=True)
            ]

        info_loader = info.context.loader(("revision", model), load)
        found: RevisionInfo = await info_loader.load((root.id, root._rev))
        return found

    return typed(resolve, root=Node, info=strawberry.Info, return_=scalars.RevisionInfo)


class RevisionPage:
    __slots__ = ("edges", "page_info", "total_count")

    def __init__(self, edges: list[Any], page_info: Any, total_count: int) -> None:
        self.edges = edges
        self.page_info = page_info
        self.total_count = total_count


_COUNT_ONLY = frozenset({"totalCount", "__typename"})


def revisions_resolver(model: str) -> Any:
    async def resolve(
        root: Node, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> RevisionPage:
        limit, _ = page_size(info, first, None)
        total = root.meta.revision_count
        if selected(info) <= _COUNT_ONLY:  # the meta knows: no page to read
            return RevisionPage([], None, total)
        manager = info.context.manager

        async def load(ids: Sequence[str]) -> list[Page[RevisionInfo]]:
            pages: list[Page[RevisionInfo]] = await manager.history_many(
                model, ids, limit=limit, after=after
            )
            return pages

        # every node at this level asks for the same page (first, after)
        loader = info.context.loader(("revisions", model, limit, after), load)
        page: Page[RevisionInfo] = await loader.load(root.id)
        edges = [_RevisionEdge(str(r.number), r) for r in page.items]
        page_info = scalars.PageInfo(
            has_next_page=page.next_cursor is not None,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return RevisionPage(edges, page_info, total)

    return typed(
        resolve,
        root=Node,
        info=strawberry.Info,
        first=int | None,
        after=str | None,
        return_=scalars.RevisionConnection,
    )


class _RevisionEdge:
    __slots__ = ("cursor", "node")

    def __init__(self, cursor: str, node: RevisionInfo) -> None:
        self.cursor = cursor
        self.node = node


def _resource_loader(info: Any, model: str) -> Any:
    manager = info.context.manager

    async def load(ids: Sequence[str]) -> list[Node | None]:
        found = await manager.get_many(model, list(ids))
        return [None if r is None else Node.of(model, r) for r in found]

    return info.context.loader(("resource", model), load)


def ref_resolver(ref: RefField, target: ModelPlan) -> Any:
    model = target.spec.name
    attribute = ref.field.path

    if ref.field.multi:

        async def resolve_many(root: Node, info: strawberry.Info) -> list[Node]:
            ids = getattr(root, attribute) or []
            found = await _resource_loader(info, model).load_many(list(ids))
            return [n for n in found if n is not None]

        many: Any = list[target.object_type]  # type: ignore[name-defined]
        return typed(resolve_many, root=Node, info=strawberry.Info, return_=many)

    async def resolve(root: Node, info: strawberry.Info) -> Node | None:
        value = getattr(root, attribute)
        if value is None:
            return None
        found: Node | None = await _resource_loader(info, model).load(value)
        return found

    return typed(resolve, root=Node, info=strawberry.Info, return_=target.object_type | None)


def referrers_resolver(referrer: ReferrerField, source: ModelPlan) -> Any:
    """A connection of the resources whose ref (or list of refs) points at
    the parent. First and last pages of all parents at one level load in one
    batched manager call, their totalCounts in another; a page after or
    before a cursor (which belongs to one parent) is a search for that parent."""
    path = referrer.field.path
    model = source.spec.name

    def execute(field: GraphQLField) -> Any:
        read = connection_arguments(field)

        async def resolve(root: Node, info: GraphQLResolveInfo[Any], **given: Any) -> Any:
            arguments = read(given)
            # one loader per field node: every parent at this level shares its arguments
            key = ("referrers", model, path, id(info.field_nodes[0]))
            manager = info.context.manager

            async def count_all(parent_ids: Sequence[str]) -> list[int]:
                counts: list[int] = await manager.count_related(
                    model,
                    path,
                    parent_ids,
                    arguments.filter(),
                    include_deleted=arguments.include_deleted,
                )
                return counts

            async def count_for(parent: str, count_info: Any) -> int:
                loader = count_info.context.loader(("count", *key), count_all)
                counted: int = await loader.load(parent)
                return counted

            if arguments.after is not None or arguments.before is not None:
                found = await search_connection(info, source, arguments, {path: {"eq": root.id}})
                found.count = functools.partial(count_for, root.id)
                return found
            limit, from_end = page_size(info, arguments.first, arguments.last)
            node_fields = selected(info, ("edges", "node")) | selected(info, ("nodes",))
            with_data = not node_fields <= source.free
            with_cursors = "pageInfo" in selected(info) or "cursor" in selected(info, ("edges",))

            # The loaders run these once per level; arguments are converted there,
            # not once per parent.
            async def load(parent_ids: Sequence[str]) -> list[Connection]:
                pages = await manager.search_related(
                    model,
                    path,
                    parent_ids,
                    arguments.filter(),
                    sort=arguments.sort(),
                    limit=limit,
                    include_deleted=arguments.include_deleted,
                    with_data=with_data,
                    with_cursors=with_cursors,
                    from_end=from_end,
                )
                make = Node.of if with_data else Node.of_meta
                return [
                    Connection(
                        [make(model, item) for item in page.items],
                        page,
                        functools.partial(count_for, parent),
                    )
                    for page, parent in zip(pages, parent_ids, strict=True)
                ]

            connection: Connection = await info.context.loader(key, load).load(root.id)
            return connection

        return resolve

    return declared(connection_parameters(source), source.connection, execute)
