"""Struct -> Strawberry schema and resolvers (see the GraphQL issue)."""
