"""Registry -> Strawberry schema: the pipeline of the generator.

specs -> names (checked) -> placeholder classes for every model type ->
inputs, filters, orderings -> model types with their resolver fields ->
Query and Mutation -> ``strawberry.Schema``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.schema.config import StrawberryConfig

from app.resources.spec import ResourceSpec
from schema_gen import scalars
from schema_gen.errors import DATA_INPUT
from schema_gen.executor import SHARES_ARGUMENTS
from schema_gen.filters import order_type, where_type
from schema_gen.inputs import InputTypes
from schema_gen.names import camel, plan_names
from schema_gen.objects import OutputTypes, finish_type, model_fields, placeholder
from schema_gen.plan import ModelPlan, execution_of, free_fields
from schema_gen.resolvers.mutations import mutation_resolvers, upload_blob
from schema_gen.resolvers.queries import get_resolver, list_resolver, resolve_total_count
from schema_gen.resolvers.refs import (
    ref_resolver,
    referrers_resolver,
    revision_resolver,
    revisions_resolver,
)

_MUTATION_NAMES = {
    "create": "create_{one}",
    "update": "update_{one}",
    "patch": "patch_{one}",
    "modify": "modify_{one}",
    "set_status": "set_{one}_status",
    "delete": "delete_{one}",
    "restore": "restore_{one}",
    "switch": "switch_{one}_revision",
    "purge": "purge_{one}",
    "create_many": "create_{many}",
    "delete_many": "delete_{many}",
}


def build_schema(
    specs: Mapping[str, ResourceSpec],
) -> tuple[strawberry.Schema, dict[str, ModelPlan]]:
    """The schema of a set of registered models, and each model's plan.

    Raises:
        ConfigurationError: a name collision or a type with no GraphQL shape.
    """
    names = plan_names(specs)
    outputs = OutputTypes({spec.model: names[spec.name].type for spec in specs.values()})
    plans: dict[str, ModelPlan] = {}
    for spec in specs.values():
        n = names[spec.name]
        plans[spec.name] = ModelPlan(
            spec=spec,
            names=n,
            object_type=placeholder(n.type),
            edge=placeholder(n.suffixed("Edge")),
            connection=placeholder(n.suffixed("Connection")),
            batch_item=placeholder(n.suffixed("BatchItem")),
            result=placeholder(n.suffixed("Result")),
            free=free_fields(spec, n),
        )
    inputs = InputTypes(outputs)
    for plan in plans.values():
        plan.input, plan.to_data = inputs.for_struct(plan.spec.model, plan.names.suffixed("Input"))
        plan.where = where_type(plan.spec, plan.names.type, outputs)
        plan.order_by = order_type(plan.spec, plan.names.type)
    for plan in plans.values():
        _finish_model_types(plan, plans, outputs)

    query: dict[str, Any] = {}
    mutation: dict[str, Any] = {
        "upload_blob": (scalars.Blob, strawberry.mutation(resolver=upload_blob))
    }
    for plan in plans.values():
        one, many = plan.names.one, plan.names.many
        query[one] = (
            None,
            strawberry.field(resolver=get_resolver(plan), name=one),
        )
        query[many] = (None, strawberry.field(resolver=list_resolver(plan), name=many))
        for action, resolver in mutation_resolvers(plan).items():
            # problems leave in the API's names (``authorId``, ``items[2].unitPrice``)
            resolver.__specql_execute__ = plan.paths.translating(resolver.__specql_execute__)  # type: ignore[attr-defined]
            name = camel(_MUTATION_NAMES[action].format(one=plan.spec.name, many=plan.spec.plural))
            mutation[name] = (Any, strawberry.mutation(resolver=resolver, name=name))
    Query = finish_type(placeholder("Query"), query)
    Mutation = finish_type(placeholder("Mutation"), mutation)
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=scalars.SCALAR_MAP),
    )
    install_resolvers(schema._schema)
    for name in inputs.type_names():  # their coercion errors are VALIDATION_FAILED
        schema._schema.type_map[name].extensions[DATA_INPUT] = True
    return schema, plans


def install_resolvers(schema: GraphQLSchema) -> None:
    """Give every ``declared`` field its graphql-core resolver. Those outside
    Mutation (get-by-id, connections) only read their arguments, so the
    executor may give them values coerced once per document."""
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for field in named.fields.values():
                execute = execution_of(field)
                if execute is not None:
                    field.resolve = execute(field)
                    if named is not schema.mutation_type:
                        field.extensions[SHARES_ARGUMENTS] = True


def _finish_model_types(
    plan: ModelPlan, plans: Mapping[str, ModelPlan], outputs: OutputTypes
) -> None:
    spec, n = plan.spec, plan.names
    fields: dict[str, Any] = model_fields(n, spec.model, outputs)
    fields["revision"] = (
        scalars.RevisionInfo,
        strawberry.field(resolver=revision_resolver(spec.name)),
    )
    fields["revisions"] = (
        scalars.RevisionConnection,
        strawberry.field(resolver=revisions_resolver(spec.name)),
    )
    for ref in n.refs:
        assert ref.field.ref is not None
        target = plans[ref.field.ref.model]
        fields[ref.name] = (Any, strawberry.field(resolver=ref_resolver(ref, target)))
    for referrer in n.referrers:
        source = plans[referrer.source]
        fields[referrer.name] = (
            source.connection,
            strawberry.field(resolver=referrers_resolver(referrer, source)),
        )
    finish_type(plan.object_type, fields, spec.model.__doc__ and spec.model.__doc__.strip())
    finish_type(plan.edge, {"cursor": str | None, "node": plan.object_type})
    finish_type(
        plan.connection,
        {
            "edges": list[plan.edge],  # type: ignore[name-defined]
            "nodes": list[plan.object_type],  # type: ignore[name-defined]
            "page_info": scalars.PageInfo,
            "total_count": (int, strawberry.field(resolver=resolve_total_count)),
        },
    )
    finish_type(
        plan.result,
        {"node": plan.object_type, "changed": bool},
        f"What a mutation of one {n.type} answers: the {n.type} as the mutation left it, "
        "and whether the mutation changed anything (false for a no-op: an update with "
        "identical data, a switch to the current revision).",
    )
    finish_type(
        plan.batch_item,
        {"ok": bool, "node": plan.object_type | None, "error": scalars.BatchError | None},
    )
