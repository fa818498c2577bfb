"""Search model + ResourceSpec -> one SQLAlchemy select on the model's tables.

Values become bind parameters; the statement's shape (fields, operators, list
lengths, nulls) is its cache key, so a store compiles each shape once.
Keyset pagination orders by the sort keys plus ``resource_id`` and encodes the
last row's key values in an opaque cursor; ASC puts nulls first and DESC puts
them last on every dialect.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from app.errors import BadRequestError, LimitExceededError
from app.resources.indexing import to_db
from app.resources.spec import IndexedField, ResourceSpec
from app.search.query import And, Condition, Filter, Not, Or, SearchQuery, SortKey
from app.storage.sql.statements import params as bind_params
from app.storage.sql.tables import META_COLUMNS, ModelTables, model_tables

MAX_FILTER_CONDITIONS = 200
MAX_FILTER_DEPTH = 32
MAX_IN_VALUES = 1000
_ORDERED = frozenset({"eq", "ne", "in", "not_in", "is_null", "gt", "gte", "lt", "lte"})
_TEXT = _ORDERED | {"contains", "starts_with", "ends_with"}
_EQUALITY = frozenset({"eq", "ne", "in", "not_in", "is_null"})
_META_FIELDS = {
    "id": IndexedField("id", "resource_id", "str", False, False),
    "meta.created_at": IndexedField("meta.created_at", "created_at", "datetime", False, False),
    "meta.updated_at": IndexedField("meta.updated_at", "updated_at", "datetime", False, False),
    "meta.created_by": IndexedField("meta.created_by", "created_by", "str", False, False),
    "meta.updated_by": IndexedField("meta.updated_by", "updated_by", "str", False, False),
}


@dataclasses.dataclass(frozen=True)
class SqlQuery:
    """A statement by shape: ``build`` runs only when ``key`` is not cached."""

    key: tuple[Any, ...]
    build: Callable[[], Any]
    params: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class CompiledPage:
    """A page query; ``keys`` is the same page as rows of (resource id,
    cursor values...), for stores that hold the records themselves (None for
    a search per parent)."""

    statement: SqlQuery
    cursor_positions: tuple[int, ...]
    fingerprint: str
    reverse: bool
    keys: SqlQuery | None = None


@dataclasses.dataclass(frozen=True)
class Partition:
    """Rows per value of ``field`` among ``values`` (the parents of a referrer
    list): a list field's resource counts once for each of these values its
    list holds."""

    field: IndexedField
    values: Sequence[Any]


def operators_for(field: IndexedField) -> frozenset[str]:
    """The filter operators that fit a field's type."""
    if field.enum_type is not None or field.kind == "bool":
        return _EQUALITY
    return _TEXT if field.kind == "str" else _ORDERED


def resolve(spec: ResourceSpec, path: str) -> IndexedField:
    field = _META_FIELDS.get(path) or spec.indexed.get(path)
    if field is None:
        known = ", ".join(sorted([*spec.indexed, *_META_FIELDS]))
        raise BadRequestError(
            f"{spec.name}: {path!r} is not indexed, so it cannot be searched or sorted; "
            f"searchable paths: {known}. Add it to indexed=[...] at registration.",
            field=path,
        )
    return field


class _Builder:
    def __init__(self, spec: ResourceSpec, dialect: str) -> None:
        self.spec = spec
        self.tables: ModelTables = model_tables(spec)
        self.dialect = dialect
        self.params: dict[str, Any] = {}
        self.shape: list[Any] = []
        self.conditions = 0

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return name

    # Each ``plan_*`` records the shape and parameters now and returns a
    # function that builds the SQL expression later, only on a cache miss.
    def plan_filter(self, node: Filter, negated: bool = False, depth: int = 0) -> Callable[[], Any]:
        """Plan a filter; ``negated`` pushes a ``not`` down to the conditions
        (De Morgan), where it is applied so that a missing value matches
        every negation: filters are two-valued, never SQL's unknown."""
        if depth > MAX_FILTER_DEPTH:
            raise LimitExceededError("filter nesting depth", MAX_FILTER_DEPTH, depth)
        if isinstance(node, Condition):
            self.conditions += 1
            if self.conditions > MAX_FILTER_CONDITIONS:
                raise LimitExceededError(
                    "filter conditions", MAX_FILTER_CONDITIONS, self.conditions
                )
            return self.plan_condition(node, negated)
        if isinstance(node, (And, Or)):
            if not node.items:
                raise BadRequestError(f"{type(node).__name__.lower()} needs at least one filter")
            self.shape.append((type(node).__name__, len(node.items), negated))
            parts = [self.plan_filter(item, negated, depth + 1) for item in node.items]
            join = sa.and_ if isinstance(node, And) != negated else sa.or_
            return lambda: join(*(p() for p in parts))
        if isinstance(node, Not):
            return self.plan_filter(node.item, not negated, depth + 1)
        raise BadRequestError(f"{node!r} is not a filter")

    def plan_condition(self, cond: Condition, negated: bool = False) -> Callable[[], Any]:
        field = resolve(self.spec, cond.path)
        op = cond.op
        if op not in operators_for(field):
            allowed = ", ".join(sorted(operators_for(field)))
            raise BadRequestError(
                f"{self.spec.name}: operator {op!r} does not apply to {cond.path!r} "
                f"({field.kind}); use one of: {allowed}",
                field=cond.path,
            )
        value = cond.value
        if op == "is_null":
            if not isinstance(value, bool):
                raise BadRequestError(f"is_null on {cond.path!r} takes true or false")
            names: Any = value
        elif op in ("in", "not_in"):
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise BadRequestError(f"{op} on {cond.path!r} takes a list of values")
            if len(value) > MAX_IN_VALUES:
                raise LimitExceededError(f"values in {op}", MAX_IN_VALUES, len(value))
            names = [self.bind(to_db(field, v)) for v in value]
        elif value is None:
            if op not in ("eq", "ne"):
                raise BadRequestError(f"{op} on {cond.path!r} needs a value, not null")
            names = None
        elif op in ("contains", "starts_with", "ends_with"):
            if not isinstance(value, str):
                raise BadRequestError(f"{op} on {cond.path!r} takes a string")
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = {"contains": "%{}%", "starts_with": "{}%", "ends_with": "%{}"}[op]
            names = self.bind(pattern.format(escaped))
        else:
            names = self.bind(to_db(field, value))
        shape = (
            names
            if isinstance(names, bool)
            else (len(names) if isinstance(names, list) else names is None)
        )
        self.shape.append((field.column, op, shape, negated))
        if op in ("ne", "not_in"):
            op, negated = ("eq" if op == "ne" else "in"), not negated
        if field.multi:
            return self._multi(field, op, names, negated)
        column = self.tables.meta.c[field.column]
        if not negated:
            return lambda: _predicate(column, op, names)
        if op == "is_null" or names is None or column.name in META_COLUMNS:
            return lambda: sa.not_(_predicate(column, op, names))  # already two-valued
        return lambda: sa.or_(sa.not_(_predicate(column, op, names)), column.is_(None))

    def _multi(self, field: IndexedField, op: str, names: Any, negated: bool) -> Callable[[], Any]:
        """List fields match when any element does (``is_null``: the list is empty)."""
        side = self.tables.side[field.column]
        meta = self.tables.meta

        def build() -> Any:
            linked = side.c.resource_id == meta.c.resource_id
            if op == "is_null":
                exists = sa.exists().where(linked)
                return exists if names == negated else ~exists
            exists = sa.exists().where(linked, _predicate(side.c.value, op, names))
            return ~exists if negated else exists

        return build

    def plan_order(self, sort: tuple[SortKey, ...]) -> list[tuple[str, bool]]:
        """Sort columns with directions, ending with the unique resource_id."""
        keys: list[tuple[str, bool]] = []
        for key in sort:
            field = resolve(self.spec, key.path)
            if field.multi:
                raise BadRequestError(
                    f"{self.spec.name}: {key.path!r} holds a list and cannot be sorted on"
                )
            if all(c != field.column for c, _ in keys):
                keys.append((field.column, key.descending))
            if field.column == "resource_id":
                break  # ids are unique: later keys never decide
        if not keys or keys[-1][0] != "resource_id":
            keys.append(("resource_id", False))
        return keys


def _predicate(column: Any, op: str, names: Any) -> Any:
    """A positive condition (negations are applied by the caller)."""
    if op == "is_null":
        return column.is_(None) if names else column.is_not(None)
    if op == "in":
        return column.in_(bind_params(names)) if names else sa.false()
    if names is None:  # eq null
        return column.is_(None)
    p: sa.BindParameter[Any] = sa.bindparam(names)
    if op in ("contains", "starts_with", "ends_with"):
        return column.like(p, escape="\\")
    return {
        "eq": column.__eq__,
        "gt": column.__gt__,
        "gte": column.__ge__,
        "lt": column.__lt__,
        "lte": column.__le__,
    }[op](p)


def _where(b: _Builder, query: SearchQuery) -> list[Callable[[], Any]]:
    clauses: list[Callable[[], Any]] = []
    if query.where is not None:
        clauses.append(b.plan_filter(query.where))
    if not query.include_deleted:
        meta = b.tables.meta
        clauses.append(lambda: meta.c.deleted == sa.false())
    b.shape.append(("deleted", query.include_deleted))
    return clauses


def compile_search(
    spec: ResourceSpec,
    query: SearchQuery,
    *,
    with_payload: bool,
    dialect: str,
    partition: Partition | None = None,
) -> CompiledPage:
    """Compile a page query; the statement fetches ``limit + 1`` rows, or,
    with a ``partition``, ``limit + 1`` rows per value among the resources
    that match it too (the first or, with ``from_end``, last page of many
    parents at once), each row ending with the value and its cursor
    positions too, ordered by value."""
    b = _Builder(spec, dialect)
    clauses = _where(b, query)
    parents = _plan_partition(b, partition) if partition is not None else None
    keys = b.plan_order(query.sort)
    # A cursor belongs to one query: same sort, same filter (shape and values).
    signature = repr((keys, b.shape, sorted(b.params.items()), query.include_deleted))
    fingerprint = hashlib.sha1(signature.encode()).hexdigest()[:12]
    reverse = query.before is not None or query.from_end
    if query.after is not None and (query.before is not None or query.from_end):
        raise BadRequestError("pass either after or before (or last), not both")
    cursor = query.before if reverse else query.after
    if (cursor is not None or query.from_end) and query.offset:
        raise BadRequestError("pass either a cursor (or last) or an offset, not both")
    order = [(c, d != reverse) for c, d in keys]
    if cursor is not None:
        values = decode_cursor(cursor, fingerprint, len(keys))
        clauses.append(_plan_keyset(b, order, values))
    limit_name = b.bind(query.limit + 1)
    offset_name = b.bind(query.offset) if query.offset else None
    if partition is not None and (cursor is not None or offset_name is not None):
        raise BadRequestError("a search per parent starts at the first page")
    b.shape.append(
        (
            "page",
            tuple(order),
            with_payload,
            offset_name is not None,
        )
    )
    tables = b.tables
    postgres = dialect == "postgresql"

    def order_by(source: Any) -> list[Any]:
        exprs = []
        for column, descending in order:
            expr = source.c[column].desc() if descending else source.c[column].asc()
            if postgres:
                expr = expr.nulls_last() if descending else expr.nulls_first()
            exprs.append(expr)
        return exprs

    def page_of(cols: list[Any]) -> Any:
        meta = tables.meta
        stmt = sa.select(*cols).where(*(c() for c in clauses)).order_by(*order_by(meta))
        stmt = stmt.limit(sa.bindparam(limit_name))
        if offset_name is not None:
            stmt = stmt.offset(sa.bindparam(offset_name))
        return stmt

    def build() -> Any:
        meta = tables.meta
        cols = [meta.c[c] for c in META_COLUMNS] + [meta.c[f.column] for f in tables.singles]
        if with_payload:
            cols.append(meta.c.current_payload)
        if parents is not None:
            source, group, kept = parents()
            rank = sa.func.row_number().over(partition_by=group, order_by=order_by(meta))
            inner = (
                sa.select(*cols, group.label("specql_parent"), rank.label("specql_rank"))
                .select_from(source)
                .where(*kept, *(c() for c in clauses))
            )
            ranked = inner.subquery("ranked")
            return (
                sa.select(*(ranked.c[c.name] for c in cols), ranked.c.specql_parent)
                .where(ranked.c.specql_rank <= sa.bindparam(limit_name))
                .order_by(ranked.c.specql_parent, ranked.c.specql_rank)
            )
        return page_of(cols)

    def build_keys() -> Any:
        meta = tables.meta
        return page_of([meta.c.resource_id, *(meta.c[c] for c, _ in keys)])

    shape = (spec.name, *b.shape)
    positions = _positions(tables, [c for c, _ in keys])
    if partition is not None:  # the value comes last, after the payload
        positions = (*positions, len(META_COLUMNS) + len(tables.singles) + with_payload)
    return CompiledPage(
        SqlQuery(shape, build, b.params),
        positions,
        fingerprint,
        reverse,
        SqlQuery((*shape, "keys"), build_keys, b.params) if partition is None else None,
    )


def compile_count(
    spec: ResourceSpec, query: SearchQuery, *, dialect: str, group: Partition | None = None
) -> SqlQuery:
    """Count matches; with ``group``, rows of (value, count) per value among
    the resources that match it too (values with no match have no row)."""
    b = _Builder(spec, dialect)
    clauses = _where(b, query)
    parents = _plan_partition(b, group) if group is not None else None
    meta = b.tables.meta

    def build() -> Any:
        if parents is not None:
            source, column, kept = parents()
            return (
                sa.select(column, sa.func.count())
                .select_from(source)
                .where(*kept, *(c() for c in clauses))
                .group_by(column)
            )
        return sa.select(sa.func.count()).select_from(meta).where(*(c() for c in clauses))

    key = (spec.name, "count", *b.shape)
    return SqlQuery(key, build, b.params)


def _plan_partition(b: _Builder, partition: Partition) -> Callable[[], tuple[Any, Any, Any]]:
    """(rows to select from, the value column, the conditions that keep the
    partition's values): the meta table itself for a single-valued column;
    for a list field, the meta table joined with the distinct (resource,
    value) rows of its side table that hold one of the values."""
    field = partition.field
    if len(partition.values) > MAX_IN_VALUES:
        raise LimitExceededError("values in one partition", MAX_IN_VALUES, len(partition.values))
    names = [b.bind(to_db(field, v)) for v in partition.values]
    b.shape.append(("partition", field.column, field.multi, len(names)))
    meta = b.tables.meta

    def build() -> tuple[Any, Any, Any]:
        if not field.multi:
            column = meta.c[field.column]
            return meta, column, [column.in_(bind_params(names))]
        side = b.tables.side[field.column]
        picked = (
            sa.select(side.c.resource_id, side.c.value)
            .where(side.c.value.in_(bind_params(names)))
            .distinct()
            .subquery("parents")
        )
        joined = meta.join(picked, picked.c.resource_id == meta.c.resource_id)
        return joined, picked.c.value, []

    return build


def _plan_keyset(
    b: _Builder, order: list[tuple[str, bool]], values: list[Any]
) -> Callable[[], Any]:
    names = [None if v is None else b.bind(v) for v in values]
    b.shape.append(("after", tuple(n is None for n in names)))
    meta = b.tables.meta

    def build() -> Any:
        alternatives = []
        for i, (column, descending) in enumerate(order):
            equal = [_equal(meta.c[c], names[j]) for j, (c, _) in enumerate(order[:i])]
            alternatives.append(sa.and_(*equal, _after(meta.c[column], names[i], descending)))
        return sa.or_(*alternatives)

    return build


def _equal(column: Any, name: str | None) -> Any:
    return column.is_(None) if name is None else column == sa.bindparam(name)


def _after(column: Any, name: str | None, descending: bool) -> Any:
    if not descending:  # nulls first
        return column.is_not(None) if name is None else column > sa.bindparam(name)
    if name is None:  # nulls last: nothing sorts after a null on this key
        return sa.false()
    return sa.or_(column < sa.bindparam(name), column.is_(None))


def _positions(tables: ModelTables, columns: list[str]) -> tuple[int, ...]:
    layout = [*META_COLUMNS, *(f.column for f in tables.singles)]
    return tuple(layout.index(c) for c in columns)


def encode_cursor(fingerprint: str, values: tuple[Any, ...]) -> str:
    raw = msgspec.msgpack.encode([fingerprint, list(values)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str, size: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, values = msgspec.msgpack.decode(raw, type=tuple[str, list[Any]])
    except (ValueError, msgspec.DecodeError, TypeError):
        raise BadRequestError(f"cursor {cursor!r} is not a cursor this API issued") from None
    if found != fingerprint or len(values) != size:
        raise BadRequestError(
            "the cursor belongs to a different sort order; start again without a cursor"
        )
    return values
