"""ModelPlan: everything the resolvers of one model need, built once."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from graphql import GraphQLField

from app.resources.spec import ResourceSpec
from schema_gen.executor import STRAWBERRY_FIELD
from schema_gen.names import ModelNames, camel
from schema_gen.paths import ApiPaths


@dataclasses.dataclass
class ModelPlan:
    """One model's generated types and the facts its resolvers use.

    Attributes:
        spec: the registered model.
        names: its GraphQL names.
        object_type: the object type (``Post``); edge, connection, batch item,
            and ``result``: what a single-resource mutation answers
            (``PostResult { node changed }``).
        input: the input type (``PostInput``) and ``to_data`` its converter.
        paths: patch pointers in, problem paths out, in the API's names.
        where: ``PostWhere``; order_by: ``PostOrderBy``.
        free: GraphQL field names a Node serves without the payload: id,
            meta, revision fields, resolved refs, referrer connections, and
            top-level single-valued indexed fields (exact in the index).
    """

    spec: ResourceSpec
    names: ModelNames
    object_type: type
    edge: type
    connection: type
    batch_item: type
    result: type
    input: type = object
    to_data: Callable[[Any], Any] = lambda value: value
    paths: ApiPaths = dataclasses.field(init=False)
    where: type = object
    order_by: type = object
    free: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.paths = ApiPaths(self.spec.model, self.names.type)


def free_fields(spec: ResourceSpec, names: ModelNames) -> frozenset[str]:
    indexed = [
        camel(f.path)
        for f in spec.indexed.values()
        if "." not in f.path and not f.multi and f.kind != "decimal"
    ]
    refs = [camel(r.name) for r in names.refs if not r.field.multi]
    referrers = [camel(r.name) for r in names.referrers]
    return frozenset(
        ["id", "meta", "revision", "revisions", "__typename", *indexed, *refs, *referrers]
    )


def typed(fn: Callable[..., Any], **annotations: Any) -> Callable[..., Any]:
    """Give a generated resolver its annotations (``return_`` for the return)."""
    if "return_" in annotations:
        annotations["return"] = annotations.pop("return_")
    fn.__annotations__ = annotations
    return fn


RawFactory = Callable[[GraphQLField], Callable[..., Any]]


def declared(
    arguments: dict[str, tuple[Any, Any]], returns: Any, execute: RawFactory
) -> Callable[..., Any]:
    """A field Strawberry declares (``arguments``: name -> (annotation,
    default), and the return type) but graphql-core executes directly:
    ``execute(graphql_field)`` makes the resolve function, which gets
    graphql-core's coerced arguments by their GraphQL names. Strawberry
    converting input objects into instances on every call showed up as a
    sixth of W2's search; these fields convert their arguments themselves
    (see ``build.install_resolvers``)."""

    def declaration(*_: Any, **__: Any) -> Any:
        raise AssertionError("executed by its graphql-core resolver")

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter("info", keyword, annotation=strawberry.Info)]
    for name, (annotation, default) in arguments.items():
        parameters.append(inspect.Parameter(name, keyword, annotation=annotation, default=default))
    declaration.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    declaration.__annotations__ = {
        "info": strawberry.Info,
        **{name: a for name, (a, _) in arguments.items()},
        "return": returns,
    }
    declaration.__specql_execute__ = execute  # type: ignore[attr-defined]
    return declaration


def by_python_names(
    fn: Callable[..., Awaitable[Any]], arguments: dict[str, tuple[Any, Any]], returns: Any
) -> Callable[..., Any]:
    """A ``declared`` field whose resolver is ``fn(info, **arguments)`` called
    with Python argument names and graphql-core's coerced values (input
    objects as dicts by GraphQL names, enums as members)."""
    python_names = {camel(name): name for name in arguments}

    def execute(_: GraphQLField) -> Callable[..., Any]:
        async def resolve(_root: Any, info: Any, **given: Any) -> Any:
            return await fn(info, **{python_names[k]: v for k, v in given.items()})

        return resolve

    return declared(arguments, returns, execute)


def execution_of(field: GraphQLField) -> RawFactory | None:
    """The graphql-core resolver factory of a ``declared`` field, if it is one."""
    definition = (field.extensions or {}).get(STRAWBERRY_FIELD)
    resolver = getattr(definition, "base_resolver", None)
    return getattr(getattr(resolver, "wrapped_func", None), "__specql_execute__", None)
