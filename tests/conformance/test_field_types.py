"""Every supported field type round-trips; unsupported ones fail at registration."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import msgspec
import pytest

from app import ConfigurationError, NotFoundError, Registry
from tests.models import Circle, Color, Everything, Level, Point, Square


def everything(**changes: Any) -> Everything:
    base = Everything(
        point=Point(1, -2),
        points=[Point(3, 4), Point(5, 6)],
        labels={"b", "a"},
        scores={"x": 1, "y": -7},
        maybe=None,
        mode="slow",
        color=Color.GREEN,
        level=Level.HIGH,
        at=dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=dt.UTC),
        day=dt.date(1999, 12, 31),
        uid=uuid.UUID("0b5f3b9a-9b1e-4a53-8f7a-5b2b4b7e6c1d"),
        amount=decimal.Decimal("12345.678901234567890"),
        shape=Square(side=2.5),
        flag=True,
    )
    return msgspec.structs.replace(base, **changes)


async def assert_round_trip(manager, value: Everything) -> str:
    created = await manager.create("everything", value)
    assert created.resource.data == value
    current = await manager.get("everything", created.id)
    assert current.data == value
    by_revision = await manager.get("everything", created.id, revision_id=created.revision_id)
    assert by_revision.data == value
    found = await manager.search("everything", {"id": {"eq": created.id}})
    assert [r.data for r in found.items] == [value]
    resource_id: str = created.id
    return resource_id


async def test_all_supported_types_round_trip(manager):
    await assert_round_trip(manager, everything())


async def test_other_values_round_trip(manager):
    await assert_round_trip(
        manager,
        everything(
            maybe=42,
            shape=Circle(radius=0.5),
            color=Color.BLUE,
            level=Level.LOW,
            labels=set(),
            points=[],
            scores={},
            amount=decimal.Decimal("-0.000001"),
            at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        ),
    )


async def test_values_round_trip_after_update_and_patch(manager):
    rid = await assert_round_trip(manager, everything())
    changed = everything(maybe=7, shape=Circle(radius=1.0), day=dt.date(2000, 1, 1))
    await manager.update("everything", rid, changed)
    assert (await manager.get("everything", rid)).data == changed
    await manager.patch("everything", rid, [{"op": "replace", "path": "/point/x", "value": 9}])
    patched = msgspec.structs.replace(changed, point=Point(9, -2))
    assert (await manager.get("everything", rid)).data == patched


async def test_indexed_values_keep_their_types(manager):
    value = everything()
    rid = await assert_round_trip(manager, value)
    indexed = (await manager.get_meta("everything", rid)).indexed
    assert indexed["point.x"] == 1
    assert indexed["mode"] == "slow"
    assert indexed["color"] == Color.GREEN
    assert indexed["level"] == Level.HIGH
    assert indexed["at"] == value.at
    assert indexed["day"] == value.day
    assert indexed["uid"] == value.uid
    assert indexed["flag"] is True


async def test_binary_from_put_blob_round_trips(manager):
    content = bytes(range(256)) * 10
    blob = await manager.put_blob(content, "application/octet-stream")
    assert blob.size == len(content)
    assert blob.content_type == "application/octet-stream"
    assert await manager.put_blob(content, "application/octet-stream") == blob
    rid = await assert_round_trip(manager, everything(file=blob))
    stored = (await manager.get("everything", rid)).data.file
    assert await manager.get_blob(stored.digest) == content


async def test_missing_blob_is_not_found(manager):
    with pytest.raises(NotFoundError):
        await manager.get_blob("0" * 64)


# -- unsupported types fail at registration (no store involved) ------------------
class Opaque:
    """A class msgspec could only handle with a custom hook."""


@pytest.mark.parametrize(
    "hint",
    [tuple[int, str], int | str, Opaque, complex, list[Opaque], dict[str, Opaque]],
    ids=["fixed-tuple", "scalar-union", "class", "complex", "list-of-class", "dict-of-class"],
)
def test_unsupported_type_fails_at_registration_naming_model_and_field(hint):
    model = msgspec.defstruct("Gadget", [("fine", int), ("weird", hint)])
    with pytest.raises(ConfigurationError) as caught:
        Registry().add_model(model)
    message = str(caught.value)
    assert "'gadget'" in message
    assert "'weird'" in message


def test_unsupported_nested_field_is_named_by_its_path():
    inner = msgspec.defstruct("Inner", [("ok", str), ("bad", Opaque)])
    model = msgspec.defstruct("Outer", [("inner", inner)])
    with pytest.raises(ConfigurationError) as caught:
        Registry().add_model(model)
    assert "'inner.bad'" in str(caught.value)
    assert "'outer'" in str(caught.value)
