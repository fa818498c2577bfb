"""Node serves its payload's fields, its own slots first, and indexed values
when it has no payload."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from app.records import ResourceMeta
from schema_gen.runtime import Node


class Post(msgspec.Struct, rename="camel"):
    title_text: str
    id: str = "from the payload"
    meta: int = 0

    @property
    def shout(self) -> str:
        return self.title_text.upper()


def _meta(indexed: dict[str, object]) -> ResourceMeta:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return ResourceMeta(
        "post", "post-1", "rev-1", "stable", now, "u", now, "u", 1, False, 1, indexed
    )


def test_payload_fields_then_class_attributes_of_the_payload() -> None:
    meta = _meta({"title_text": "indexed"})
    node = Node("post", meta, Post("hello"), "rev-1")
    assert node.title_text == "hello"  # attribute names, not the renamed ones
    assert node.shout == "HELLO"  # not a field: still read from the payload
    assert node.id == "post-1" and node.meta is meta  # the slots come first
    with pytest.raises(AttributeError):
        _ = node.missing


def test_without_a_payload_indexed_values() -> None:
    node = Node.of_meta("post", _meta({"title_text": "indexed"}))
    assert node.title_text == "indexed"
    with pytest.raises(AttributeError):
        _ = node.shout
