"""Filters are two-valued: a missing value never matches a positive condition
and always matches its negation (``ne``, ``not_in``, ``not``)."""

from __future__ import annotations

import msgspec
import pytest

from app import F, Registry


class Note(msgspec.Struct):
    label: str | None = None
    rank: int | None = None
    tags: list[str] = []


NOTES = [
    Note("x", 1, ["a"]),
    Note("y", 2, []),
    Note(None, None, ["a", "b"]),
    Note("x", None, []),
]


@pytest.fixture
async def notes(open_manager):
    registry = Registry()
    registry.add_model(Note, indexed=["label", "rank", "tags"])
    manager = await open_manager(registry)
    await manager.create_many(Note, NOTES)
    return manager


def _expected(predicate) -> int:
    return sum(1 for n in NOTES if predicate(n))


@pytest.mark.parametrize(
    ("where", "predicate"),
    [
        (F("label") == "x", lambda n: n.label == "x"),
        (F("label") != "x", lambda n: n.label != "x"),
        (~(F("label") == "x"), lambda n: n.label != "x"),
        (F("label").not_in(["x", "y"]), lambda n: n.label not in ("x", "y")),
        (~(F("rank") > 1), lambda n: not (n.rank is not None and n.rank > 1)),
        (~((F("label") == "x") & (F("rank") == 1)), lambda n: not (n.label == "x" and n.rank == 1)),
        (~((F("label") == "y") | (F("rank") == 1)), lambda n: not (n.label == "y" or n.rank == 1)),
        (F("tags") != "a", lambda n: "a" not in n.tags),
        (~(F("tags") == "a"), lambda n: "a" not in n.tags),
        (F("tags").is_null(), lambda n: not n.tags),
        (~F("tags").is_null(), lambda n: bool(n.tags)),
        (F("label") != None, lambda n: n.label is not None),  # noqa: E711
    ],
    ids=[
        "eq",
        "ne",
        "not-eq",
        "not_in",
        "not-gt",
        "not-and",
        "not-or",
        "list-ne",
        "list-not-eq",
        "list-empty",
        "list-not-empty",
        "ne-null",
    ],
)
async def test_negations_match_missing_values(notes, where, predicate):
    assert await notes.count(Note, where) == _expected(predicate)


async def test_a_condition_and_its_negation_partition_the_resources(notes):
    for where in (F("label") == "x", F("rank") >= 2, F("tags") == "b", F("label").starts_with("y")):
        total = await notes.count(Note, where) + await notes.count(Note, ~where)
        assert total == len(NOTES)
