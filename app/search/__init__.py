"""Typed search: filters, sorts and pages over indexed fields, compiled to SQL."""

from app.search.query import And, Condition, F, Not, Or, SearchQuery, SortKey

__all__ = ["And", "Condition", "F", "Not", "Or", "SearchQuery", "SortKey"]
