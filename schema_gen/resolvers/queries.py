"""Root query resolvers: ``post(id)`` and ``posts(where, orderBy, ...)``, and
the connection's ``totalCount``."""

from __future__ import annotations

import functools
from typing import Any

import strawberry

from app.errors import BadRequestError, LimitExceededError, NotFoundError
from schema_gen.filters import order_to_sort, where_to_filter
from schema_gen.plan import ModelPlan, typed
from schema_gen.runtime import Connection, Node
from schema_gen.selection import selected

UNSET: Any = strawberry.UNSET
_CURSOR_FIELDS = frozenset({"pageInfo"})


def page_size(info: Any, first: int | None, last: int | None) -> tuple[int, bool]:
    """(limit, from_end) for Relay arguments, within the configured limits."""
    limits = info.context.limits
    if first is not None and last is not None:
        raise BadRequestError("pass first or last, not both")
    size = first if first is not None else last
    if size is None:
        return limits.default_page_size, False
    name = "first" if first is not None else "last"
    if size < 0:
        raise BadRequestError(f"{name} must not be negative")
    if size > limits.max_page_size:
        raise LimitExceededError(name, limits.max_page_size, size)
    return size, last is not None


def get_resolver(plan: ModelPlan) -> Any:
    model = plan.spec.name

    async def resolve(
        info: Any, id: str, revision_id: str | None = None, include_deleted: bool = False
    ) -> Any:
        manager = info.context.manager
        try:
            if revision_id is None and selected(info) <= plan.free:
                meta = await manager.get_meta(model, id, include_deleted=include_deleted)
                return Node.of_meta(model, meta)
            resource = await manager.get(
                model, id, revision_id=revision_id, include_deleted=include_deleted
            )
        except NotFoundError:
            return None
        return Node.of(model, resource)

    return typed(
        resolve,
        info=strawberry.Info,
        id=strawberry.ID,
        revision_id=strawberry.ID | None,
        include_deleted=bool,
        return_=plan.object_type | None,
    )


def list_resolver(plan: ModelPlan) -> Any:
    async def resolve(
        info: Any,
        where: Any = None,
        order_by: list[Any] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        include_deleted: bool = False,
    ) -> Connection:
        return await search_connection(
            info, plan, where, order_by, first, after, last, before, include_deleted, None
        )

    return typed(resolve, info=strawberry.Info, **connection_arguments(plan))


def connection_arguments(plan: ModelPlan) -> dict[str, Any]:
    """Annotations of the arguments every connection of a model takes, and
    its return type."""
    return {
        "where": plan.where | None,
        "order_by": list[plan.order_by] | None,  # type: ignore[name-defined]
        "first": int | None,
        "after": str | None,
        "last": int | None,
        "before": str | None,
        "include_deleted": bool,
        "return_": plan.connection,
    }


async def search_connection(
    info: Any,
    plan: ModelPlan,
    where: Any,
    order_by: list[Any] | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    include_deleted: bool,
    scope: dict[str, Any] | None,
) -> Connection:
    """One page of a model's resources as a connection; ``scope`` adds
    conditions of the caller's (a referrer field's parent)."""
    model = plan.spec.name
    limit, from_end = page_size(info, first, last)
    if from_end and after is not None:
        raise BadRequestError("last pages backwards: use it with before, not after")
    filter_ = where_to_filter(where) if where is not None else None
    if scope is not None:
        filter_ = {**scope, "and": [filter_]} if filter_ else scope
    sort = order_to_sort(order_by) if order_by else []
    top = selected(info)
    node_fields = selected(info, ("edges", "node")) | selected(info, ("nodes",))
    with_cursors = "pageInfo" in top or "cursor" in selected(info, ("edges",))
    manager = info.context.manager
    with_data = not node_fields <= plan.free
    page = await manager.search(
        model,
        filter_,
        sort=sort,
        limit=limit,
        after=after,
        before=before,
        from_end=from_end and before is None,
        include_deleted=include_deleted,
        with_data=with_data,
        with_cursors=with_cursors,
    )
    make = Node.of if with_data else Node.of_meta
    nodes = [make(model, item) for item in page.items]
    return Connection(nodes, page, functools.partial(_count, model, filter_, include_deleted))


async def _count(model: str, filter_: Any, include_deleted: bool, info: Any) -> int:
    count: int = await info.context.manager.count(model, filter_, include_deleted=include_deleted)
    return count


async def resolve_total_count(root: Connection, info: strawberry.Info) -> int:
    count: int = await root.count(info)
    return count
