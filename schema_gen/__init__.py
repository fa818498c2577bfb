"""Struct -> Strawberry schema and resolvers.

``build_schema(specs)`` turns registered models into a GraphQL schema whose
resolvers call the ResourceManager; nothing here touches a store.
"""

from schema_gen.build import build_schema
from schema_gen.context import GraphQLContext
from schema_gen.limits import Limits

__all__ = ["GraphQLContext", "Limits", "build_schema"]
