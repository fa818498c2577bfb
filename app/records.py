"""What the manager returns: metas, revisions, resources, pages, referrers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

import msgspec

from app.types import RevisionStatus

T = TypeVar("T")
_UTC = dt.UTC


def to_micros(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=_UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_ONE_MICRO = dt.timedelta(microseconds=1)


def from_micros(value: int) -> dt.datetime:
    return _EPOCH + value * _ONE_MICRO


class ResourceMeta(msgspec.Struct, frozen=True):
    """What is known about a resource without its payload.

    ``indexed`` holds the single-valued indexed fields by path (list-valued
    ones live in side tables and are read from the data). ``data_hash`` is
    the current revision's data hash, read with the meta: the tag to pass as
    ``modify(..., expected_data_hash=)`` for the data read along with it.
    """

    model: str
    resource_id: str
    current_revision_id: str
    status: RevisionStatus
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    revision_count: int
    is_deleted: bool
    schema_version: int
    indexed: dict[str, Any] = {}
    data_hash: str = ""


class RevisionInfo(msgspec.Struct, frozen=True):
    """One immutable revision of a resource (a draft's payload may change)."""

    revision_id: str
    resource_id: str
    model: str
    number: int
    parent_revision_id: str | None
    status: RevisionStatus
    created_at: dt.datetime
    created_by: str
    data_hash: str
    size: int
    schema_version: int


class Resource(msgspec.Struct, Generic[T], frozen=True):
    """A resource's data at one revision, with its meta."""

    meta: ResourceMeta
    data: T
    revision_id: str

    @property
    def id(self) -> str:
        return self.meta.resource_id


class WriteResult(msgspec.Struct, Generic[T], frozen=True):
    """The outcome of a write; ``changed`` is False when the write changed
    nothing (identical data, a switch to the current revision): no revision
    was appended, no data edited, no time or user recorded."""

    resource: Resource[T]
    changed: bool = True

    @property
    def data(self) -> T:
        return self.resource.data

    @property
    def meta(self) -> ResourceMeta:
        return self.resource.meta

    @property
    def id(self) -> str:
        return self.resource.meta.resource_id

    @property
    def revision_id(self) -> str:
        return self.resource.revision_id


class Page(msgspec.Struct, Generic[T], frozen=True):
    """One page of results; ``next_cursor`` is None on the last page.

    ``cursors`` holds one cursor per item when the search asked for them.
    """

    items: list[T]
    next_cursor: str | None = None
    prev_cursor: str | None = None
    total: int | None = None
    cursors: list[str] | None = None


class Referrer(msgspec.Struct, frozen=True):
    """A resource whose field points at another resource."""

    model: str
    resource_id: str
    field: str
    is_deleted: bool = False
