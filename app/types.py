"""Markers a model uses in ``Annotated`` metadata, and shared aliases."""

from __future__ import annotations

import os
import time
from typing import Annotated, Any, Literal

import msgspec

ResourceId = str
RevisionId = str
Json = Any
OnDelete = Literal["cascade", "set_null", "restrict", "dangling"]
RevisionStatus = Literal["draft", "stable"]


class Ref:
    """Marks a field (or list field) as holding ids of another model's resources.

    Args:
        model: the referenced model's name.
        on_delete: what happens to this resource when the referenced one is
            deleted or purged: ``cascade`` deletes it too, ``set_null`` clears
            the field (removes the id from a list), ``restrict`` refuses the
            delete while this resource is live, ``dangling`` leaves it.
        revision: the field holds a revision id (a pinned version); such refs
            are checked on write and never cascaded.
    """

    __slots__ = ("model", "on_delete", "revision")

    def __init__(
        self, model: str, on_delete: OnDelete = "dangling", *, revision: bool = False
    ) -> None:
        if on_delete not in ("cascade", "set_null", "restrict", "dangling"):
            raise ValueError(f"unknown on_delete {on_delete!r}")
        self.model = model
        self.on_delete: OnDelete = "dangling" if revision else on_delete
        self.revision = revision

    def __repr__(self) -> str:
        return f"Ref({self.model!r}, on_delete={self.on_delete!r}, revision={self.revision})"


class Unique:
    """Marks a field whose value no two resources of the model may share."""

    __slots__ = ()


INT_MIN, INT_MAX = -(2**31), 2**31 - 1
BIG_INT_MIN, BIG_INT_MAX = -(2**63), 2**63 - 1


class Wide:
    """Marks an int that may use the signed 64-bit range (GraphQL ``BigInt``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Wide()"


# A plain ``int`` field is GraphQL ``Int`` (signed 32-bit); ``BigInt`` opts into 64 bits.
BigInt = Annotated[int, msgspec.Meta(ge=BIG_INT_MIN, le=BIG_INT_MAX), Wide()]


class Binary(msgspec.Struct, frozen=True, tag="binary"):
    """A reference to a blob stored once, by content."""

    digest: str
    size: int
    content_type: str | None = None


_last_id = 0
_entropy: list[int] = []


def _random62() -> int:
    """62 random bits, from a batch of 512 drawn with one urandom call."""
    if not _entropy:
        raw = os.urandom(4096)
        _entropy.extend(int.from_bytes(raw[i : i + 8], "big") for i in range(0, 4096, 8))
    return _entropy.pop() & ((1 << 62) - 1)


def new_id() -> str:
    """A UUIDv7 string: time-ordered and increasing within a process, so
    B-tree inserts stay local and ids sort by creation."""
    global _last_id
    ns = time.time_ns()
    ms, sub = divmod(ns, 1_000_000)
    value = (ms << 80) | (0x7 << 76) | ((sub * 4096 // 1_000_000) << 64)
    value |= (0b10 << 62) | _random62()
    if value <= _last_id:
        value = _last_id + 1
    _last_id = value
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
