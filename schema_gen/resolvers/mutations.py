"""Mutation resolvers: create, update, patch, modify, delete, restore,
switch, purge and the batch forms, all through the manager as the request's
user."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.scalars import Base64

from app.errors import (
    BadRequestError,
    FieldProblem,
    LimitExceededError,
    SpecQLError,
    ValidationFailedError,
)
from app.records import ResourceMeta
from schema_gen import scalars
from schema_gen.errors import public_message
from schema_gen.paths import ApiPaths
from schema_gen.plan import ModelPlan, by_python_names
from schema_gen.runtime import MutationResult, Node
from schema_gen.selection import selected

UNSET: Any = strawberry.UNSET
STABLE = scalars.RevisionStatus.STABLE


class BatchItem:
    __slots__ = ("error", "node", "ok")

    def __init__(self, node: Node | None, error: SpecQLError | None = None) -> None:
        self.ok = error is None
        self.node = node
        self.error = (
            None
            if error is None
            else scalars.BatchError(code=error.code, message=public_message(error))
        )


def _check_batch(info: Any, size: int) -> None:
    maximum = info.context.limits.max_batch_size
    if size > maximum:
        raise LimitExceededError("batch size", maximum, size)


def mutation_resolvers(plan: ModelPlan) -> dict[str, Callable[..., Any]]:
    """Every mutation of one model, by Python name (camel-cased by Strawberry)."""
    model = plan.spec.name
    to_data, paths = plan.to_data, plan.paths
    Result, Input, Item = plan.result, plan.input, plan.batch_item

    def answer(result: Any) -> MutationResult:
        return MutationResult(Node.of(model, result.resource), result.changed)

    async def node_of_meta(info: Any, meta: ResourceMeta, path: tuple[str, ...]) -> Node:
        """The node of a write that returns only meta (delete, restore, status):
        the data is loaded only when the answer selects fields the meta lacks."""
        if selected(info, path) <= plan.free:
            return Node.of_meta(model, meta)
        manager = info.context.manager
        return Node.of(model, await manager.get(model, meta.resource_id, include_deleted=True))

    async def create(
        info: Any, input: Any, id: str | None = None, status: Any = STABLE
    ) -> MutationResult:
        ctx = info.context
        return answer(
            await ctx.manager.create(
                model, to_data(input), resource_id=id, status=status.value, user=ctx.user
            )
        )

    async def update(
        info: Any,
        id: str,
        input: Any,
        expected_revision_id: str | None = None,
        status: Any = STABLE,
    ) -> MutationResult:
        ctx = info.context
        return answer(
            await ctx.manager.update(
                model,
                id,
                to_data(input),
                expected_revision_id=expected_revision_id,
                status=status.value,
                user=ctx.user,
            )
        )

    async def set_status(info: Any, id: str, status: Any) -> MutationResult:
        ctx = info.context
        before = await ctx.manager.get_meta(model, id)
        await ctx.manager.set_status(model, id, status.value, user=ctx.user)
        meta = await ctx.manager.get_meta(model, id)
        return MutationResult(await node_of_meta(info, meta, ("node",)), meta != before)

    async def patch(
        info: Any, id: str, patch: list[Any], expected_revision_id: str | None = None
    ) -> MutationResult:
        ctx = info.context
        operations = paths.patch([_patch_operation(op) for op in patch])
        return answer(
            await ctx.manager.patch(
                model, id, operations, expected_revision_id=expected_revision_id, user=ctx.user
            )
        )

    async def modify(
        info: Any,
        id: str,
        input: Any,
        expected_revision_id: str | None = None,
        expected_data_hash: str | None = None,
    ) -> MutationResult:
        ctx = info.context
        return answer(
            await ctx.manager.modify(
                model,
                id,
                to_data(input),
                expected_revision_id=expected_revision_id,
                expected_data_hash=expected_data_hash,
                user=ctx.user,
            )
        )

    async def delete(info: Any, id: str) -> MutationResult:
        ctx = info.context
        meta = await ctx.manager.delete(model, id, user=ctx.user)
        return MutationResult(await node_of_meta(info, meta, ("node",)), True)

    async def restore(info: Any, id: str) -> MutationResult:
        ctx = info.context
        meta = await ctx.manager.restore(model, id, user=ctx.user)
        return MutationResult(await node_of_meta(info, meta, ("node",)), True)

    async def switch(info: Any, id: str, revision_id: str) -> MutationResult:
        ctx = info.context
        return answer(await ctx.manager.switch(model, id, revision_id, user=ctx.user))

    async def purge(info: Any, id: str) -> str:
        ctx = info.context
        await ctx.manager.purge(model, id, user=ctx.user)
        return id

    async def create_many(info: Any, inputs: list[Any], atomic: bool = False) -> list[BatchItem]:
        ctx = info.context
        _check_batch(info, len(inputs))
        data = [to_data(i) for i in inputs]
        if atomic:
            return await _create_atomic(ctx, model, data, paths)

        async def one(item: Any) -> Node:
            return Node.of(model, (await ctx.manager.create(model, item, user=ctx.user)).resource)

        return [await _item(functools.partial(one, d), paths) for d in data]

    async def delete_many(info: Any, ids: list[str]) -> list[BatchItem]:
        ctx = info.context
        _check_batch(info, len(ids))

        async def one(resource_id: str) -> Node:
            meta = await ctx.manager.delete(model, resource_id, user=ctx.user)
            return await node_of_meta(info, meta, ("node",))

        return [await _item(functools.partial(one, i), paths) for i in ids]

    ID, Status = strawberry.ID, scalars.RevisionStatus
    required = inspect.Parameter.empty
    return {
        "create": by_python_names(
            create,
            {"input": (Input, required), "id": (ID | None, None), "status": (Status, STABLE)},
            Result,
        ),
        "update": by_python_names(
            update,
            {
                "id": (ID, required),
                "input": (Input, required),
                "expected_revision_id": (ID | None, None),
                "status": (Status, STABLE),
            },
            Result,
        ),
        "set_status": by_python_names(
            set_status, {"id": (ID, required), "status": (Status, required)}, Result
        ),
        "patch": by_python_names(
            patch,
            {
                "id": (ID, required),
                "patch": (list[scalars.JsonPatchOperation], required),
                "expected_revision_id": (ID | None, None),
            },
            Result,
        ),
        "modify": by_python_names(
            modify,
            {
                "id": (ID, required),
                "input": (Input, required),
                "expected_revision_id": (ID | None, None),
                "expected_data_hash": (str | None, None),
            },
            Result,
        ),
        "delete": by_python_names(delete, {"id": (ID, required)}, Result),
        "restore": by_python_names(restore, {"id": (ID, required)}, Result),
        "switch": by_python_names(
            switch, {"id": (ID, required), "revision_id": (ID, required)}, Result
        ),
        "purge": by_python_names(purge, {"id": (ID, required)}, ID),
        "create_many": by_python_names(
            create_many,
            {"inputs": (list[Input], required), "atomic": (bool, False)},  # type: ignore[valid-type]
            list[Item],  # type: ignore[valid-type]
        ),
        "delete_many": by_python_names(delete_many, {"ids": (list[ID], required)}, list[Item]),  # type: ignore[valid-type]
    }


async def _item(write: Callable[[], Awaitable[Node]], paths: ApiPaths | None = None) -> BatchItem:
    try:
        return BatchItem(await write())
    except SpecQLError as exc:
        return BatchItem(None, paths.error(exc) if paths is not None else exc)


async def _create_atomic(ctx: Any, model: str, data: list[Any], paths: ApiPaths) -> list[BatchItem]:
    try:
        results = await ctx.manager.create_many(model, data, user=ctx.user)
    except ValidationFailedError as exc:
        by_item: dict[int, list[Any]] = {}
        for p in exc.problems:
            index, within = 0, p.path
            if p.path.startswith("$["):  # $[3].price: item 3's $.price
                end = p.path.index("]")
                index, within = int(p.path[2:end]), "$" + p.path[end + 1 :]
            by_item.setdefault(index, []).append(FieldProblem(within, p.message))
        return [
            BatchItem(
                None,
                paths.error(ValidationFailedError(model, by_item[i]))
                if i in by_item
                else BadRequestError("not created: another item of the batch failed"),
            )
            for i in range(len(data))
        ]
    except SpecQLError as exc:
        return [BatchItem(None, exc) for _ in data]
    return [BatchItem(Node.of(model, r.resource)) for r in results]


def _patch_operation(op: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"op": op["op"].value, "path": op["path"]}
    if op.get("from") is not None:
        out["from"] = op["from"]
    if "value" in op:
        out["value"] = op["value"]
    return out


async def upload_blob(
    info: strawberry.Info, data: Base64, content_type: str | None = None
) -> scalars.Blob:
    """Store bytes once by content; reference the returned blob in a Binary field."""
    blob = await info.context.manager.put_blob(data, content_type)
    return scalars.Blob(digest=blob.digest, size=blob.size, content_type=blob.content_type)
