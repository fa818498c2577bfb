"""Types every generated schema shares: scalars, meta, revisions, paging,
sort direction, filter inputs per scalar kind, JSON Patch operations, blobs."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any, NewType

import msgspec
import strawberry
from strawberry.scalars import JSON, Base64

from app.resources.spec import IndexedField
from app.types import BIG_INT_MAX, BIG_INT_MIN

Duration = NewType("Duration", dt.timedelta)
BigInt = NewType("BigInt", int)


def _parse_big_int(value: Any) -> int:
    """A string of digits or an int, within the signed 64-bit range."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("BigInt takes an integer or a string of digits")
    try:
        number = int(value)
    except ValueError:
        raise ValueError("BigInt takes an integer or a string of digits") from None
    if not BIG_INT_MIN <= number <= BIG_INT_MAX:
        raise ValueError(f"BigInt must be from {BIG_INT_MIN} to {BIG_INT_MAX}")
    return number


SCALAR_MAP: dict[object, Any] = {
    Duration: strawberry.scalar(
        name="Duration",
        description="A span of time as an ISO 8601 duration, e.g. PT1H30M.",
        serialize=msgspec.to_builtins,
        parse_value=lambda value: msgspec.convert(value, dt.timedelta),
    ),
    # a JSON string on output, so JavaScript keeps every digit
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A signed 64-bit integer, sent as a string of digits (an int is "
        "accepted as input).",
        serialize=str,
        parse_value=_parse_big_int,
    ),
}

SCALAR_ANNOTATIONS: dict[type, Any] = {
    str: str,
    int: int,
    float: float,
    bool: bool,
    dt.datetime: dt.datetime,
    dt.date: dt.date,
    dt.time: dt.time,
    dt.timedelta: Duration,
    uuid.UUID: uuid.UUID,
    decimal.Decimal: decimal.Decimal,
    bytes: Base64,
    bytearray: Base64,
}


@strawberry.enum(description="Whether a revision may still change in place.")
class RevisionStatus(enum.Enum):
    DRAFT = "draft"
    STABLE = "stable"


@strawberry.enum
class SortDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum(name="JsonPatchOp", description="RFC 6902 operations.")
class JsonPatchOp(enum.Enum):
    ADD = "add"
    REMOVE = "remove"
    REPLACE = "replace"
    MOVE = "move"
    COPY = "copy"
    TEST = "test"


@strawberry.input(description="One RFC 6902 JSON Patch operation on the resource's data.")
class JsonPatchOperation:
    op: JsonPatchOp
    path: str = strawberry.field(description="JSON Pointer into the data, e.g. /tags/0.")
    from_: str | None = strawberry.field(default=None, name="from")
    value: JSON | None = strawberry.UNSET


@strawberry.type(description="What is known about a resource besides its data.")
class ResourceMeta:
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    status: RevisionStatus
    revision_count: int
    is_deleted: bool
    current_revision_id: strawberry.ID
    schema_version: int
    data_hash: str = strawberry.field(
        description="Hash of the current data, read with it: the expectedDataHash of a "
        "modify based on this read."
    )


@strawberry.type(description="One immutable revision of a resource.")
class RevisionInfo:
    revision_id: strawberry.ID
    number: int
    parent_revision_id: strawberry.ID | None
    status: RevisionStatus
    created_at: dt.datetime
    created_by: str
    data_hash: str
    size: int
    schema_version: int


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class RevisionEdge:
    cursor: str
    node: RevisionInfo


@strawberry.type(description="Revisions of a resource, newest first.")
class RevisionConnection:
    edges: list[RevisionEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="A stored blob, addressed by its content digest.")
class Blob:
    digest: str
    size: int
    content_type: str | None


@strawberry.input(description="A blob uploaded before with uploadBlob.")
class BlobInput:
    digest: str
    size: int
    content_type: str | None = None


@strawberry.type(description="The outcome of one item of a batch mutation.")
class BatchError:
    code: str
    message: str


def _filter_input(name: str, value: Any, operators: tuple[str, ...], doc: str) -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for op in operators:
        if op in ("in", "not_in"):
            annotations[f"{op}_"] = list[value] | None
            namespace[f"{op}_"] = strawberry.field(
                default=strawberry.UNSET, name="in" if op == "in" else "notIn"
            )
        elif op == "is_null":
            annotations[op] = bool | None
            namespace[op] = strawberry.UNSET
        else:
            annotations[op] = value | None
            namespace[op] = strawberry.UNSET
    return strawberry.input(type(name, (), namespace), name=name, description=doc)


EQUALITY = ("eq", "ne", "in", "not_in", "is_null")
ORDERED = (*EQUALITY, "gt", "gte", "lt", "lte")
TEXT = (*ORDERED, "contains", "starts_with", "ends_with")

StringFilter = _filter_input("StringFilter", str, TEXT, "Conditions on a text field.")
IDFilter = _filter_input("IDFilter", strawberry.ID, EQUALITY, "Conditions on an id.")
BooleanFilter = _filter_input("BooleanFilter", bool, EQUALITY, "Conditions on a boolean.")
_ORDERED_FILTERS: dict[str, Any] = {
    "int": _filter_input("IntFilter", int, ORDERED, "Conditions on an integer."),
    "float": _filter_input("FloatFilter", float, ORDERED, "Conditions on a number."),
    "decimal": _filter_input("DecimalFilter", decimal.Decimal, ORDERED, "Conditions on a decimal."),
    "datetime": _filter_input(
        "DateTimeFilter", dt.datetime, ORDERED, "Conditions on a point in time."
    ),
    "date": _filter_input("DateFilter", dt.date, ORDERED, "Conditions on a date."),
    "uuid": _filter_input("UUIDFilter", uuid.UUID, EQUALITY, "Conditions on a UUID."),
}
_ENUM_FILTERS: dict[type, Any] = {}


BigIntFilter = _filter_input("BigIntFilter", BigInt, ORDERED, "Conditions on a 64-bit integer.")


def filter_for(field: IndexedField, enum_annotation: Any = None) -> Any:
    """The filter input type that fits an indexed field's kind."""
    if field.ref is not None:
        return IDFilter
    if field.wide:
        return BigIntFilter
    if field.enum_type is not None:
        if field.enum_type not in _ENUM_FILTERS:
            name = f"{field.enum_type.__name__}Filter"
            _ENUM_FILTERS[field.enum_type] = _filter_input(
                name, enum_annotation, EQUALITY, f"Conditions on a {field.enum_type.__name__}."
            )
        return _ENUM_FILTERS[field.enum_type]
    if field.kind == "str":
        return StringFilter
    if field.kind == "bool":
        return BooleanFilter
    return _ORDERED_FILTERS[field.kind]


def _input(name: str, fields: dict[str, Any], doc: str) -> Any:
    """An input type whose fields are all optional (UNSET when left out)."""
    namespace: dict[str, Any] = {"__annotations__": {k: v | None for k, v in fields.items()}}
    namespace.update(dict.fromkeys(fields, strawberry.UNSET))
    return strawberry.input(type(name, (), namespace), name=name, description=doc)


MetaWhere = _input(
    "MetaWhere",
    {
        "created_at": _ORDERED_FILTERS["datetime"],
        "updated_at": _ORDERED_FILTERS["datetime"],
        "created_by": StringFilter,
        "updated_by": StringFilter,
    },
    "Conditions on who wrote a resource and when.",
)
MetaOrderBy = _input(
    "MetaOrderBy",
    dict.fromkeys(("created_at", "updated_at", "created_by", "updated_by"), SortDirection),
    "Sort by who wrote a resource or when.",
)
