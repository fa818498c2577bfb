"""The search model: filters (``Condition`` combined with ``And``/``Or``/``Not``),
sort keys and pages, plus the dict form GraphQL and JSON callers send::

    {"category": {"eq": "books"}, "price": {"gt": 10},
     "or": [{"author": {"email": {"ends_with": "@x.org"}}}, {"id": {"in": [...]}}]}

Python callers may also write ``(F("category") == "books") & (F("price") > 10)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from app.errors import BadRequestError

Operator = Literal[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "is_null",
]
OPERATORS: frozenset[str] = frozenset(Operator.__args__)  # type: ignore[attr-defined]
LIST_OPERATORS = frozenset({"in", "not_in"})


class _Combinable:
    def __and__(self, other: Filter) -> And:
        return And([self, other])  # type: ignore[list-item]

    def __or__(self, other: Filter) -> Or:
        return Or([self, other])  # type: ignore[list-item]

    def __invert__(self) -> Not:
        return Not(self)  # type: ignore[arg-type]


class Condition(msgspec.Struct, _Combinable, frozen=True):
    """``path op value``; ``path`` is an indexed field path or a meta path
    (``id``, ``meta.created_at``, ``meta.updated_at``, ``meta.created_by``,
    ``meta.updated_by``)."""

    path: str
    op: Operator
    value: Any = None


class And(msgspec.Struct, _Combinable, frozen=True):
    items: list[Filter]


class Or(msgspec.Struct, _Combinable, frozen=True):
    items: list[Filter]


class Not(msgspec.Struct, _Combinable, frozen=True):
    item: Filter


Filter = Condition | And | Or | Not


class F:
    """Builds conditions: ``F("price") > 10``, ``F("tags").in_(["a", "b"])``."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return Condition(self.path, "eq", value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return Condition(self.path, "ne", value)

    def __gt__(self, value: Any) -> Condition:
        return Condition(self.path, "gt", value)

    def __ge__(self, value: Any) -> Condition:
        return Condition(self.path, "gte", value)

    def __lt__(self, value: Any) -> Condition:
        return Condition(self.path, "lt", value)

    def __le__(self, value: Any) -> Condition:
        return Condition(self.path, "lte", value)

    __hash__ = None  # type: ignore[assignment]

    def in_(self, values: Sequence[Any]) -> Condition:
        return Condition(self.path, "in", list(values))

    def not_in(self, values: Sequence[Any]) -> Condition:
        return Condition(self.path, "not_in", list(values))

    def contains(self, text: str) -> Condition:
        return Condition(self.path, "contains", text)

    def starts_with(self, text: str) -> Condition:
        return Condition(self.path, "starts_with", text)

    def ends_with(self, text: str) -> Condition:
        return Condition(self.path, "ends_with", text)

    def is_null(self, value: bool = True) -> Condition:
        return Condition(self.path, "is_null", value)


class SortKey(msgspec.Struct, frozen=True):
    path: str
    descending: bool = False

    @classmethod
    def parse(cls, value: str | SortKey) -> SortKey:
        """``"-price"`` sorts descending, ``"price"`` ascending."""
        if isinstance(value, SortKey):
            return value
        if not isinstance(value, str) or not value.lstrip("-"):
            raise BadRequestError(f"sort key {value!r} is not a field path")
        return cls(value.lstrip("-"), value.startswith("-"))


class SearchQuery(msgspec.Struct, frozen=True):
    """One search: filter, order, and a page by offset or by cursor."""

    where: Filter | None = None
    sort: tuple[SortKey, ...] = ()
    limit: int = 20
    offset: int = 0
    after: str | None = None
    before: str | None = None
    include_deleted: bool = False
    from_end: bool = False


def parse_where(where: Filter | Mapping[str, Any] | None) -> Filter | None:
    """Accept a Filter or the dict form; BadRequestError names what is wrong."""
    if where is None or isinstance(where, (Condition, And, Or, Not)):
        return where
    if not isinstance(where, Mapping):
        raise BadRequestError(f"a filter must be a mapping, not {type(where).__name__}")
    try:
        return _parse_mapping(where, "")
    except RecursionError:
        raise BadRequestError("the filter is nested too deeply") from None


def _parse_mapping(node: Mapping[str, Any], prefix: str) -> Filter:
    items: list[Filter] = []
    for key, value in node.items():
        if key in ("and", "or"):
            if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
                raise BadRequestError(f"{key!r} takes a list of filters")
            parts = [_parse_mapping(_mapping(v, key), prefix) for v in value]
            items.append(And(parts) if key == "and" else Or(parts))
        elif key == "not":
            items.append(Not(_parse_mapping(_mapping(value, key), prefix)))
        elif key in OPERATORS:
            if not prefix:
                raise BadRequestError(
                    f"operator {key!r} needs a field: {{'field': {{{key!r}: ...}}}}"
                )
            items.append(Condition(prefix, key, value))  # type: ignore[arg-type]
        else:
            if not isinstance(key, str) or not key:
                raise BadRequestError(f"filter key {key!r} is not a field path")
            path = f"{prefix}.{key}" if prefix else key
            if not isinstance(value, Mapping):
                raise BadRequestError(
                    f"filter for {path!r} must map operators to values, e.g. {{'eq': ...}}"
                )
            items.append(_parse_mapping(value, path))
    if not items:
        raise BadRequestError(f"empty filter{f' for {prefix!r}' if prefix else ''}")
    return items[0] if len(items) == 1 else And(items)


def _mapping(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRequestError(f"{key!r} takes filters (mappings), not {type(value).__name__}")
    return value
