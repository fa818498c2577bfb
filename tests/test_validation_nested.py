"""Every bad value is reported, with its path, nested ones included."""

from __future__ import annotations

import msgspec
import pytest

from app import Registry, ValidationFailedError


class Point(msgspec.Struct):
    x: int
    y: int


class Shape(msgspec.Struct):
    name: str
    center: Point
    corners: list[Point] = []
    labels: dict[str, int] = {}
    note: str | None = None


async def test_all_nested_problems_are_reported_and_nothing_is_written(tmp_path):
    registry = Registry()
    registry.add_model(Shape)
    manager = await registry.open(profile="disk", data_dir=str(tmp_path))
    try:
        bad = {
            "name": 1,
            "center": {"x": "a", "y": "b"},
            "corners": [{"x": 1, "y": "c"}, {"x": "d", "y": 2}, {"y": 3}],
            "labels": {"ok": 1, "bad": "e"},
            "note": 5,
        }
        with pytest.raises(ValidationFailedError) as caught:
            await manager.create(Shape, bad)
        paths = sorted(p.path for p in caught.value.problems)
        assert paths == sorted(
            [
                "$.name",
                "$.center.x",
                "$.center.y",
                "$.corners[0].y",
                "$.corners[1].x",
                "$.corners[2].x",
                "$.labels['bad']",
                "$.note",
            ]
        )
        assert await manager.count(Shape) == 0
    finally:
        await manager.close()
