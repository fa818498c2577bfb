"""Index values: from a model instance to column values, and back.

Values are stored in a form every dialect sorts and compares the same way:
datetimes as integer microseconds (UTC), dates as ISO text, UUIDs as text,
enums by value, Decimals as floats.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import operator
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from app.errors import BadRequestError, FieldProblem
from app.records import from_micros, to_micros
from app.resources.spec import IndexedField, ResourceSpec, ScalarKind

_MISSING = object()


def _datetime_to_db(v: Any) -> int:
    if isinstance(v, str):
        v = msgspec.convert(v, dt.datetime)
    if not isinstance(v, dt.datetime):
        raise TypeError
    return to_micros(v)


def _date_to_db(v: Any) -> str:
    if isinstance(v, dt.datetime) or not isinstance(v, (dt.date, str)):
        raise TypeError
    return v.isoformat() if isinstance(v, dt.date) else dt.date.fromisoformat(v).isoformat()


def _float_to_db(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, decimal.Decimal, str)):
        raise TypeError
    return float(v)


def _int_to_db(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError
    return v


def _str_to_db(v: Any) -> str:
    if isinstance(v, enum.Enum):
        v = v.value
    if not isinstance(v, str):
        raise TypeError
    return v


def _bool_to_db(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError
    return v


def _uuid_to_db(v: Any) -> str:
    return str(v if isinstance(v, uuid.UUID) else uuid.UUID(str(v)))


_TO_DB: dict[ScalarKind, Callable[[Any], Any]] = {
    "str": _str_to_db,
    "int": _int_to_db,
    "float": _float_to_db,
    "bool": _bool_to_db,
    "datetime": _datetime_to_db,
    "date": _date_to_db,
    "uuid": _uuid_to_db,
    "decimal": _float_to_db,
}

_FROM_DB: dict[ScalarKind, Callable[[Any], Any]] = {
    "str": lambda v: v,
    "int": lambda v: v,
    "float": lambda v: v,
    "bool": bool,
    "datetime": from_micros,
    "date": dt.date.fromisoformat,
    "uuid": uuid.UUID,
    "decimal": lambda v: decimal.Decimal(str(v)),
}


def to_db(field: IndexedField, value: Any) -> Any:
    """A filter or stored value in column form; BadRequestError on a wrong type."""
    if value is None:
        return None
    if field.enum_type is not None and isinstance(value, field.enum_type):
        value = value.value
    try:
        return _TO_DB[field.kind](value)
    except (TypeError, ValueError, msgspec.ValidationError):
        raise BadRequestError(
            f"{field.path!r} holds {field.kind} values; {value!r} is not one",
            field=field.path,
        ) from None


def from_db(field: IndexedField) -> Callable[[Any], Any]:
    """Converter from column form back to the Python value."""
    convert = _FROM_DB[field.kind]
    if field.enum_type is not None:
        enum_type = field.enum_type
        return lambda v: None if v is None else enum_type(v)
    return lambda v: None if v is None else convert(v)


def _values_at(obj: Any, segments: tuple[str, ...]) -> list[Any]:
    """Every value at a path, flattening lists and skipping missing branches."""
    current = [obj]
    for seg in segments:
        nxt: list[Any] = []
        for item in current:
            if item is None:
                continue
            value = getattr(item, seg, _MISSING)
            if value is _MISSING:
                continue
            if isinstance(value, (list, set, frozenset, tuple)):
                nxt.extend(value)
            else:
                nxt.append(value)
        current = nxt
    return current


def make_extractor(
    spec: ResourceSpec,
) -> Callable[[Any], tuple[dict[str, Any], dict[str, list[Any]]]]:
    """Build ``obj -> (single column values, list column values)`` once per spec."""
    singles = [
        (f.column, tuple(f.path.split(".")), f) for f in spec.indexed.values() if not f.multi
    ]
    lists = [(f.column, tuple(f.path.split(".")), f) for f in spec.indexed.values() if f.multi]
    # Top-level str/int/float fields (most indexes) are read in one C call.
    plain = all(
        len(seg) == 1 and f.kind in ("str", "int", "float") and f.enum_type is None
        for _, seg, f in singles
    )
    columns = tuple(col for col, _, _ in singles)
    read_all = operator.attrgetter(*(seg[0] for _, seg, _ in singles)) if singles else None

    def extract(obj: Any) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        values: dict[str, Any]
        if plain and read_all is not None:
            found = read_all(obj)
            values = dict(zip(columns, found if len(columns) > 1 else (found,), strict=True))
        else:
            values = {}
            for col, seg, f in singles:
                at = _values_at(obj, seg)
                values[col] = to_db(f, at[0]) if at else None
        list_values: dict[str, list[Any]] = {}
        for col, seg, f in lists:
            seen = dict.fromkeys(to_db(f, v) for v in _values_at(obj, seg))
            seen.pop(None, None)
            list_values[col] = list(seen)
        return values, list_values

    return extract


NUL_IN_TEXT = "indexed text must not contain NUL characters (PostgreSQL cannot store them)"


def make_text_check(
    spec: ResourceSpec,
) -> Callable[[dict[str, Any], dict[str, list[Any]]], list[FieldProblem]] | None:
    """``(values, list values) -> problems`` for indexed text holding NUL,
    refused on every profile so that all store the same data; None when the
    model indexes no text."""
    singles = [(f.column, f.path) for f in spec.indexed.values() if f.kind == "str" and not f.multi]
    lists = [(f.column, f.path) for f in spec.indexed.values() if f.kind == "str" and f.multi]
    if not singles and not lists:
        return None

    def check(values: dict[str, Any], list_values: dict[str, list[Any]]) -> list[FieldProblem]:
        found = [
            FieldProblem(f"$.{path}", NUL_IN_TEXT)
            for column, path in singles
            if isinstance(v := values.get(column), str) and "\x00" in v
        ]
        found += [
            FieldProblem(f"$.{path}", NUL_IN_TEXT)
            for column, path in lists
            if any(isinstance(v, str) and "\x00" in v for v in list_values.get(column, ()))
        ]
        return found

    return check
