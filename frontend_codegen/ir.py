"""The GraphQL schema as the generator sees it: plain frozen dataclasses, every
list sorted, so rendering is a pure function of this value.

``from_schema`` reads a graphql-core schema (built from an introspection
result, whether it came from the registry or from a server) and checks that
every TypeScript name the renderers will declare is free.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
)
from graphql.pyutils import Undefined
from graphql.type.definition import GraphQLInputType, GraphQLOutputType

from frontend_codegen import names
from frontend_codegen.errors import CodegenError
from frontend_codegen.scalars import ts_scalar

Kind = Literal["scalar", "enum", "input", "object", "union"]


@dataclasses.dataclass(frozen=True)
class TypeRef:
    """A named type wrapped in lists and non-nulls; ``item`` is set for a list."""

    name: str
    kind: Kind
    nullable: bool
    item: TypeRef | None = None

    @property
    def graphql(self) -> str:
        """The type as GraphQL writes it, e.g. ``[PostOrderBy!]``."""
        inner = f"[{self.item.graphql}]" if self.item is not None else self.name
        return inner if self.nullable else f"{inner}!"


@dataclasses.dataclass(frozen=True)
class InputValue:
    """An argument or an input object field."""

    name: str
    type: TypeRef
    has_default: bool
    description: str | None
    deprecation: str | None

    @property
    def optional(self) -> bool:
        return self.type.nullable or self.has_default


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    type: TypeRef
    args: tuple[InputValue, ...]
    args_name: str | None  # the TypeScript interface of the arguments, if any
    description: str | None
    deprecation: str | None

    @property
    def required_args(self) -> bool:
        return any(not arg.optional for arg in self.args)


@dataclasses.dataclass(frozen=True)
class ObjectType:
    name: str
    description: str | None
    fields: tuple[Field, ...]


@dataclasses.dataclass(frozen=True)
class UnionType:
    name: str
    description: str | None
    members: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class InputType:
    name: str
    description: str | None
    fields: tuple[InputValue, ...]
    one_of: bool


@dataclasses.dataclass(frozen=True)
class EnumValue:
    name: str
    description: str | None
    deprecation: str | None


@dataclasses.dataclass(frozen=True)
class EnumType:
    name: str
    description: str | None
    values: tuple[EnumValue, ...]


@dataclasses.dataclass(frozen=True)
class ScalarType:
    name: str
    description: str | None
    ts: str  # the TypeScript type (scalars.py)


@dataclasses.dataclass(frozen=True)
class Connection:
    """A root query field that is a Relay connection, walked by a paginator."""

    field: Field
    node: str  # the node type
    via: Literal["nodes", "edges"]


@dataclasses.dataclass(frozen=True)
class Schema:
    scalars: tuple[ScalarType, ...]
    enums: tuple[EnumType, ...]
    inputs: tuple[InputType, ...]
    objects: tuple[ObjectType, ...]
    unions: tuple[UnionType, ...]
    query: ObjectType | None
    mutation: ObjectType | None
    connections: tuple[Connection, ...]

    @property
    def roots(self) -> frozenset[str]:
        """The names of the root types the client has functions for."""
        return frozenset(root.name for root in (self.query, self.mutation) if root is not None)

    def object(self, name: str) -> ObjectType | None:
        return next((o for o in self.objects if o.name == name), None)


_BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def from_schema(schema: GraphQLSchema) -> Schema:
    """The IR of a schema.

    Raises:
        CodegenError: the schema has an interface, or a type whose name a
            TypeScript declaration of the client would clash with.
    """
    scalars, enums, inputs, objects, unions = [], [], [], [], []
    for name in sorted(schema.type_map):
        graphql_type = schema.type_map[name]
        if name.startswith("__"):
            continue
        if isinstance(graphql_type, GraphQLScalarType):
            if name not in _BUILTIN_SCALARS:
                scalars.append(ScalarType(name, graphql_type.description, ts_scalar(name)))
        elif isinstance(graphql_type, GraphQLEnumType):
            enums.append(_enum(graphql_type))
        elif isinstance(graphql_type, GraphQLInputObjectType):
            inputs.append(_input(graphql_type))
        elif isinstance(graphql_type, GraphQLObjectType):
            objects.append(_object(graphql_type))
        elif isinstance(graphql_type, GraphQLUnionType):
            members = tuple(member.name for member in graphql_type.types)
            unions.append(UnionType(name, graphql_type.description, members))
        elif isinstance(graphql_type, GraphQLInterfaceType):
            raise CodegenError(
                f"the schema has an interface ({name}); interfaces are not supported"
            )
    by_name = {o.name: o for o in objects}
    query = by_name.get(schema.query_type.name) if schema.query_type else None
    ir = Schema(
        scalars=tuple(scalars),
        enums=tuple(enums),
        inputs=tuple(inputs),
        objects=tuple(objects),
        unions=tuple(unions),
        query=query,
        mutation=by_name.get(schema.mutation_type.name) if schema.mutation_type else None,
        connections=tuple(_connections(query, by_name)) if query else (),
    )
    names.check(ir)
    return ir


def _ref(graphql_type: GraphQLOutputType | GraphQLInputType, nullable: bool = True) -> TypeRef:
    if isinstance(graphql_type, GraphQLNonNull):
        return _ref(graphql_type.of_type, nullable=False)
    if isinstance(graphql_type, GraphQLList):
        item = _ref(graphql_type.of_type)
        return TypeRef(item.name, item.kind, nullable, item)
    kind: Kind
    if isinstance(graphql_type, GraphQLScalarType):
        kind = "scalar"
    elif isinstance(graphql_type, GraphQLEnumType):
        kind = "enum"
    elif isinstance(graphql_type, GraphQLInputObjectType):
        kind = "input"
    elif isinstance(graphql_type, GraphQLUnionType):
        kind = "union"
    else:
        kind = "object"
    return TypeRef(graphql_type.name, kind, nullable)


def _input_value(name: str, value: GraphQLArgument | GraphQLInputField) -> InputValue:
    # graphql-core 3.3 keeps a client schema's defaults as `default` literals
    # (3.2 as `default_value`); `= null` is a default too
    has_default = getattr(value, "default", None) is not None
    has_default = has_default or value.default_value is not Undefined
    return InputValue(
        name, _ref(value.type), has_default, value.description, value.deprecation_reason
    )


def _field(owner: str, name: str, field: GraphQLField) -> Field:
    args = tuple(_input_value(arg_name, arg) for arg_name, arg in field.args.items())
    return Field(
        name=name,
        type=_ref(field.type),
        args=args,
        args_name=names.args_name(owner, name) if args else None,
        description=field.description,
        deprecation=field.deprecation_reason,
    )


def _object(graphql_type: GraphQLObjectType) -> ObjectType:
    fields = tuple(_field(graphql_type.name, n, f) for n, f in graphql_type.fields.items())
    return ObjectType(graphql_type.name, graphql_type.description, fields)


def _input(graphql_type: GraphQLInputObjectType) -> InputType:
    fields = tuple(_input_value(n, f) for n, f in graphql_type.fields.items())
    one_of = bool(getattr(graphql_type, "is_one_of", False))
    return InputType(graphql_type.name, graphql_type.description, fields, one_of)


def _enum(graphql_type: GraphQLEnumType) -> EnumType:
    values = tuple(
        EnumValue(name, value.description, value.deprecation_reason)
        for name, value in graphql_type.values.items()
    )
    return EnumType(graphql_type.name, graphql_type.description, values)


def _connections(query: ObjectType, objects: dict[str, ObjectType]) -> list[Connection]:
    """Root fields taking ``after`` and returning a type with ``pageInfo``
    (``hasNextPage``, ``endCursor``) and ``nodes`` or ``edges { node }``."""
    found = []
    for field in query.fields:
        target = objects.get(field.type.name) if field.type.item is None else None
        if target is None or not any(arg.name == "after" for arg in field.args):
            continue
        fields = {f.name: f for f in target.fields}
        page_info = objects.get(fields["pageInfo"].type.name) if "pageInfo" in fields else None
        if page_info is None or not {"hasNextPage", "endCursor"} <= {
            f.name for f in page_info.fields
        }:
            continue
        if "nodes" in fields and fields["nodes"].type.item is not None:
            found.append(Connection(field, fields["nodes"].type.name, "nodes"))
            continue
        edge = objects.get(fields["edges"].type.name) if "edges" in fields else None
        node = next((f for f in edge.fields if f.name == "node"), None) if edge else None
        if node is not None and node.type.kind == "object":
            found.append(Connection(field, node.type.name, "edges"))
    return found
