"""Blob references in data: finding each ``Binary`` of a model instance,
checking it against the blob store and stamping the store's facts on it.

A write may only name blobs that were uploaded, with the size they have;
the content type is the one given at upload, whatever the client sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import msgspec

from app.errors import FieldProblem
from app.storage.base import BlobInfo
from app.types import Binary


def mentions_binary(model: type) -> bool:
    """Whether instances of ``model`` can hold a Binary anywhere (so writes
    of models without one skip the walk)."""
    return _mentions(msgspec.inspect.type_info(model), set())


def _mentions(t: Any, seen: set[type]) -> bool:
    if isinstance(t, msgspec.inspect.StructType):
        if t.cls is Binary:
            return True
        if t.cls in seen:
            return False
        seen.add(t.cls)
        return any(_mentions(f.type, seen) for f in t.fields)
    inner: list[Any] = []
    for name in ("type", "item_type", "key_type", "value_type"):
        if isinstance(getattr(t, name, None), msgspec.inspect.Type):
            inner.append(getattr(t, name))
    for name in ("types", "item_types"):
        inner.extend(getattr(t, name, ()))
    return any(_mentions(i, seen) for i in inner)


def binaries(value: Any, path: str = "$") -> Iterator[tuple[str, Binary]]:
    """Every Binary in ``value`` with its path (encoded field names)."""
    if isinstance(value, Binary):
        yield path, value
    elif isinstance(value, msgspec.Struct):
        names = value.__struct_encode_fields__
        for field, name in zip(value.__struct_fields__, names, strict=True):
            yield from binaries(getattr(value, field), f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from binaries(item, f"{path}[{i}]")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from binaries(item, f"{path}[{json.dumps(str(key))}]")


def problems(
    found: Sequence[tuple[str, Binary]], infos: Mapping[str, BlobInfo | None]
) -> list[FieldProblem]:
    """A problem per Binary naming a blob that is not stored, or another size."""
    out: list[FieldProblem] = []
    for path, ref in found:
        info = infos.get(ref.digest)
        if info is None:
            out.append(FieldProblem(path, f"no blob has digest {ref.digest!r}; upload it first"))
        elif info.size != ref.size:
            out.append(
                FieldProblem(path, f"the blob is {info.size} bytes, not the {ref.size} given")
            )
    return out


def stamped(value: Any, infos: Mapping[str, BlobInfo | None]) -> Any:
    """``value`` with each Binary's content type the store's (shared where
    nothing changes)."""
    if isinstance(value, Binary):
        info = infos.get(value.digest)
        if info is None or info.content_type == value.content_type:
            return value
        return Binary(value.digest, info.size, info.content_type)
    if isinstance(value, msgspec.Struct):
        changes = {}
        for field in value.__struct_fields__:
            old = getattr(value, field)
            new = stamped(old, infos)
            if new is not old:
                changes[field] = new
        return msgspec.structs.replace(value, **changes) if changes else value
    if isinstance(value, list | tuple):
        items = [stamped(i, infos) for i in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, dict):
        found = {k: stamped(v, infos) for k, v in value.items()}
        return value if all(found[k] is v for k, v in value.items()) else found
    return value
