"""Reference integrity: which ids a write must find, and set-null edits."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import msgspec

from app.resources.spec import IndexedField, ResourceSpec
from app.storage.base import RefCheck

_NATIVE = (bytes, bytearray, dt.datetime, dt.date, dt.time, uuid.UUID, decimal.Decimal)


def ref_checks(
    spec: ResourceSpec, values: dict[str, Any], lists: dict[str, list[Any]]
) -> list[RefCheck]:
    """Ids this data points at that must exist (all refs but ``dangling``)."""
    checks = []
    for f in spec.refs:
        assert f.ref is not None
        if f.ref.on_delete == "dangling" and not f.ref.revision:
            continue
        found = lists.get(f.column, []) if f.multi else [values.get(f.column)]
        ids: list[str] = [i for i in found if i is not None]
        if ids:
            checks.append(RefCheck(f.path, f.ref.model, ids, f.ref.revision))
    return checks


def without_ref(obj: Any, field: IndexedField, target_id: str) -> dict[str, Any]:
    """The data of ``obj`` (a Struct or its builtins) with ``target_id``
    cleared from ``field`` (set_null): a single ref becomes None, a list ref
    loses the id."""
    data = to_plain(obj) if isinstance(obj, msgspec.Struct) else obj
    _clear(data, field.path.split("."), target_id)
    return data  # type: ignore[no-any-return]


def to_plain(obj: msgspec.Struct) -> Any:
    """Builtins form of a model instance, keeping values msgspec decodes back
    exactly (bytes, dates, UUIDs, Decimals) in their native types."""
    return msgspec.to_builtins(obj, builtin_types=_NATIVE)


def _clear(node: Any, segments: list[str], target: str) -> None:
    if isinstance(node, list):
        for item in node:
            _clear(item, segments, target)
        return
    if not isinstance(node, dict) or segments[0] not in node:
        return
    key, rest = segments[0], segments[1:]
    value = node[key]
    if rest:
        _clear(value, rest, target)
    elif isinstance(value, list):
        node[key] = [v for v in value if v != target]
    elif value == target:
        node[key] = None
