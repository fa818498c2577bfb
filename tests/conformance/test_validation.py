"""Validation on every write: all problems at once, with paths; nothing written."""

from __future__ import annotations

import pytest

from app import LimitExceededError, ValidationFailedError
from tests.models import Booking, Doc


async def assert_invalid(manager, write, model):
    """Run ``write``; it must fail validation and leave ``model`` untouched."""
    before = await manager.count(model, include_deleted=True)
    with pytest.raises(ValidationFailedError) as caught:
        await write()
    assert await manager.count(model, include_deleted=True) == before
    return {p.path: p.message for p in caught.value.problems}


async def test_every_problem_is_reported_with_its_path(manager):
    problems = await assert_invalid(
        manager, lambda: manager.create("doc", {"body": 5, "count": "many"}), "doc"
    )
    assert set(problems) == {"$.title", "$.body", "$.count"}
    assert "missing" in problems["$.title"].lower()
    assert "str" in problems["$.body"]
    assert "int" in problems["$.count"]


async def test_nested_paths_are_reported(manager):
    data = {
        "point": {"x": "left", "y": 1},
        "points": [{"x": 1, "y": 2}, {"x": 1, "y": "up"}],
        "labels": [],
        "scores": {},
        "maybe": None,
        "mode": "medium",
        "color": "red",
        "level": 1,
        "at": "2024-01-01T00:00:00Z",
        "day": "2024-01-01",
        "uid": "0b5f3b9a-9b1e-4a53-8f7a-5b2b4b7e6c1d",
        "amount": "1.5",
        "shape": {"type": "circle", "radius": 1.0},
    }
    problems = await assert_invalid(
        manager, lambda: manager.create("everything", data), "everything"
    )
    assert set(problems) == {"$.point.x", "$.points[1].y", "$.mode"}


async def test_invalid_update_writes_nothing(manager):
    created = await manager.create("doc", Doc("a", count=1))
    problems = await assert_invalid(
        manager, lambda: manager.update("doc", created.id, {"title": None, "count": 1.5}), "doc"
    )
    assert set(problems) == {"$.title", "$.count"}
    meta = await manager.get_meta("doc", created.id)
    assert meta.revision_count == 1
    assert (await manager.get("doc", created.id)).data == Doc("a", count=1)


async def test_not_a_mapping_is_invalid(manager):
    problems = await assert_invalid(manager, lambda: manager.create("doc", ["title"]), "doc")
    assert list(problems) == ["$"]


async def test_batch_create_reports_each_item_and_writes_none(manager):
    problems = await assert_invalid(
        manager,
        lambda: manager.create_many("doc", [{"title": "ok"}, {"title": 1}, {"count": "x"}]),
        "doc",
    )
    assert set(problems) == {"$[1].title", "$[2].title", "$[2].count"}


async def test_payload_over_the_limit_is_refused(open_manager):
    manager = await open_manager(max_payload_bytes=200)
    await manager.create("doc", Doc("small", "x" * 50))
    with pytest.raises(LimitExceededError) as caught:
        await manager.create("doc", Doc("big", "x" * 500))
    assert caught.value.maximum == 200
    assert caught.value.actual > 200
    assert await manager.count("doc", include_deleted=True) == 1
    created = await manager.create("doc", Doc("grows"))
    with pytest.raises(LimitExceededError):
        await manager.update("doc", created.id, Doc("grows", "x" * 500))
    assert (await manager.get_meta("doc", created.id)).revision_count == 1


# -- custom validators -----------------------------------------------------------
async def test_sync_and_async_validators_report_together(manager):
    problems = await assert_invalid(
        manager, lambda: manager.create("booking", Booking("x-ray", start=5, end=3)), "booking"
    )
    assert problems == {"$": "end must come after start", "$.room": "no room named 'x-ray'"}


@pytest.mark.parametrize(
    ("booking", "path"),
    [(Booking("a1", start=5, end=5), "$"), (Booking("xx", start=1, end=2), "$.room")],
    ids=["sync", "async"],
)
async def test_each_validator_alone_refuses(manager, booking, path):
    problems = await assert_invalid(manager, lambda: manager.create("booking", booking), "booking")
    assert list(problems) == [path]


async def test_validators_run_on_update_and_accept_valid_data(manager):
    created = await manager.create("booking", Booking("a1", start=1, end=2))
    await assert_invalid(
        manager, lambda: manager.update("booking", created.id, Booking("a1", 3, 1)), "booking"
    )
    await assert_invalid(
        manager,
        lambda: manager.patch(
            "booking", created.id, [{"op": "replace", "path": "/room", "value": "x"}]
        ),
        "booking",
    )
    assert (await manager.get("booking", created.id)).data == Booking("a1", 1, 2)
    assert (await manager.update("booking", created.id, Booking("b2", 1, 3))).changed


async def test_type_errors_come_before_validators(manager):
    problems = await assert_invalid(
        manager, lambda: manager.create("booking", {"room": "x", "start": "a", "end": 1}), "booking"
    )
    assert set(problems) == {"$.start"}
