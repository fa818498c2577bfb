"""No lost update (issue 2; DESIGN.md, "Storage profiles": optimistic
concurrency on the current revision pointer).

Concurrent updates of one resource either apply one after another (each
revision's parent is the revision before it, none missing), or, when the
caller passed the revision it expects to replace, all but one fail with
RevisionConflictError (CONFLICT). Checked with asyncio tasks in one process
on every profile, and with two processes on one disk data directory.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app import ConflictError, ResourceManager, RevisionConflictError, Settings
from tests.processes import harness

Child = harness.Child
shared = harness.load("shared")
Counter = shared.Counter
Doc = shared.Doc

PROFILES: dict[str, dict[str, Any]] = {
    "memory": {"profile": "memory"},
    "disk-inline": {"profile": "disk", "revisions": "inline"},
    "disk-files": {"profile": "disk", "revisions": "files"},
}


@pytest.fixture(params=list(PROFILES))
async def manager(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    settings = Settings(data_dir=str(tmp_path / "data"), **PROFILES[request.param])
    m = await shared.make_registry().open(settings)
    try:
        yield m
    finally:
        await m.close()


async def full_history(m: ResourceManager, model: str, resource_id: str) -> list[Any]:
    revisions: list[Any] = []
    after = None
    while True:
        page = await m.history(model, resource_id, limit=100, after=after)
        revisions += page.items
        if page.next_cursor is None:
            return revisions
        after = page.next_cursor


async def assert_linear(m: ResourceManager, model: str, resource_id: str) -> list[Any]:
    """History numbered 1..count without gaps, each parent the revision before,
    the current pointer on the newest; returns the history oldest first."""
    meta = await m.get_meta(model, resource_id)
    history = list(reversed(await full_history(m, model, resource_id)))
    assert [h.number for h in history] == list(range(1, meta.revision_count + 1))
    assert history[0].parent_revision_id is None
    for older, newer in itertools.pairwise(history):
        assert newer.parent_revision_id == older.revision_id, newer.number
    assert meta.current_revision_id == history[-1].revision_id
    assert len({h.revision_id for h in history}) == len(history)
    return history


async def data_at(
    m: ResourceManager, model: str, resource_id: str, history: list[Any]
) -> list[Any]:
    return [(await m.get(model, resource_id, revision_id=h.revision_id)).data for h in history]


# -- tasks in one process ------------------------------------------------------


async def test_fifty_concurrent_updates_all_land_in_order(manager: ResourceManager) -> None:
    created = await manager.create("counter", Counter("c", -1))
    results = await asyncio.gather(
        *(manager.update("counter", created.id, Counter("c", i)) for i in range(50))
    )
    assert all(r.changed for r in results)
    assert len({r.revision_id for r in results}) == 50

    history = await assert_linear(manager, "counter", created.id)
    assert len(history) == 51
    assert {h.revision_id for h in history[1:]} == {r.revision_id for r in results}
    values = [d.value for d in await data_at(manager, "counter", created.id, history)]
    assert values[0] == -1
    assert sorted(values[1:]) == list(range(50))  # every value kept, none twice
    # each acknowledged revision holds the value its caller wrote
    for i, r in enumerate(results):
        got = await manager.get("counter", created.id, revision_id=r.revision_id)
        assert got.data.value == i
    current = await manager.get("counter", created.id)
    assert current.data.value == values[-1]
    assert current.meta.revision_count == 51
    assert current.meta.indexed["value"] == values[-1]
    assert await manager.count("counter", {"value": {"eq": values[-1]}}) == 1


async def test_same_expected_revision_exactly_one_wins(manager: ResourceManager) -> None:
    created = await manager.create("counter", Counter("c", 0))
    base = created.revision_id
    outcomes = await asyncio.gather(
        *(
            manager.update("counter", created.id, Counter("c", i), expected_revision_id=base)
            for i in range(1, 21)
        ),
        return_exceptions=True,
    )
    winners = [(i, o) for i, o in enumerate(outcomes, 1) if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 19
    value, won = winners[0]
    for exc in losers:
        assert isinstance(exc, RevisionConflictError), repr(exc)
        assert isinstance(exc, ConflictError)
        assert exc.code == "CONFLICT"
        assert exc.expected == base
        assert exc.actual == won.revision_id
    history = await assert_linear(manager, "counter", created.id)
    assert [h.revision_id for h in history] == [base, won.revision_id]
    assert (await manager.get("counter", created.id)).data.value == value

    # a stale expected revision keeps failing; the current one succeeds
    with pytest.raises(RevisionConflictError):
        await manager.update("counter", created.id, Counter("c", 99), expected_revision_id=base)
    again = await manager.update(
        "counter", created.id, Counter("c", 99), expected_revision_id=won.revision_id
    )
    assert again.changed
    assert (await manager.get_meta("counter", created.id)).revision_count == 3


async def test_concurrent_read_increment_update_counts_every_increment(
    manager: ResourceManager,
) -> None:
    created = await manager.create("counter", Counter("c", 0))
    conflicts = 0

    async def increment(times: int) -> None:
        nonlocal conflicts
        for _ in range(times):
            while True:
                current = await manager.get("counter", created.id)
                try:
                    await manager.update(
                        "counter",
                        created.id,
                        Counter("c", current.data.value + 1),
                        expected_revision_id=current.revision_id,
                    )
                except RevisionConflictError:
                    conflicts += 1
                    continue
                break

    await asyncio.wait_for(asyncio.gather(*(increment(10) for _ in range(8))), timeout=60)
    assert (await manager.get("counter", created.id)).data.value == 80
    history = await assert_linear(manager, "counter", created.id)
    assert len(history) == 81
    values = [d.value for d in await data_at(manager, "counter", created.id, history)]
    assert values == list(range(81))


async def test_concurrent_patches_lose_no_change(manager: ResourceManager) -> None:
    """patch without expected revision re-reads and retries on a race: every
    task's change is in the final data."""
    created = await manager.create("doc", Doc("d", 0))
    results = await asyncio.gather(
        *(
            manager.patch("doc", created.id, [{"op": "add", "path": "/tags/-", "value": f"t{i}"}])
            for i in range(15)
        )
    )
    assert all(r.changed for r in results)
    final = await manager.get("doc", created.id)
    assert sorted(final.data.tags) == sorted(f"t{i}" for i in range(15))
    assert len(final.data.tags) == 15
    history = await assert_linear(manager, "doc", created.id)
    assert len(history) == 16
    tags = [d.tags for d in await data_at(manager, "doc", created.id, history)]
    assert [len(t) for t in tags] == list(range(16))  # each revision adds one tag
    assert await manager.count("doc", {"tags": {"eq": "t7"}}) == 1


async def _assert_every_revision_readable(
    m: ResourceManager, resource_id: str, results: list[Any]
) -> None:
    history = await assert_linear(m, "counter", resource_id)
    missing = []
    for h in history:
        try:
            got = await m.get("counter", resource_id, revision_id=h.revision_id)
        except Exception as exc:  # StorageError: the payload is missing
            missing.append((h.number, repr(exc)))
            continue
        assert got.data.value in (0, 1)
    assert not missing, (
        f"{len(missing)} of {len(history)} revisions point at a missing payload: {missing[:3]}"
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} updates failed, first: {errors[0]!r}"
    assert len(history) == 1 + sum(r.changed for r in results)
    for older, newer in itertools.pairwise(history):
        assert newer.data_hash != older.data_hash  # identical data appends nothing
    for r in results:
        if r.changed:
            got = await m.get("counter", resource_id, revision_id=r.revision_id)
            assert got.data == r.resource.data
    assert (await m.get("counter", resource_id)).data.value in (0, 1)


async def test_concurrent_updates_back_and_forth_keep_every_payload(
    manager: ResourceManager,
) -> None:
    """Updates that flip the data between two values race each other. One
    whose data equals the current data appends nothing; one that appends must
    have stored its payload, whatever the race: no revision may point at a
    missing payload."""
    created = await manager.create("counter", Counter("c", 0))
    results: list[Any] = []
    for _ in range(10):
        results += await asyncio.gather(
            *(manager.update("counter", created.id, Counter("c", i % 2)) for i in range(6)),
            return_exceptions=True,
        )
    await _assert_every_revision_readable(manager, created.id, results)


@pytest.mark.parametrize("revisions", ["inline", "files"])
async def test_two_managers_flipping_one_resource_keep_every_payload(
    tmp_path: Path, revisions: str
) -> None:
    """Two managers opened on one data directory (like two processes) flip
    one resource between two values: every revision keeps its payload."""
    data_dir = str(tmp_path / "data")
    first = await shared.open_store(data_dir, revisions)
    second = await shared.open_store(data_dir, revisions)
    try:
        created = await first.create("counter", Counter("c", 0))

        async def flip(m: ResourceManager, offset: int) -> list[Any]:
            outcomes: list[Any] = []
            for i in range(100):
                try:
                    outcomes.append(
                        await m.update("counter", created.id, Counter("c", (i + offset) % 2))
                    )
                except Exception as exc:
                    outcomes.append(exc)
            return outcomes

        runs = await asyncio.wait_for(asyncio.gather(flip(first, 0), flip(second, 1)), 60)
        await _assert_every_revision_readable(first, created.id, runs[0] + runs[1])
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("revisions", ["inline", "files"])
async def test_concurrent_burst_with_failures_is_all_there_after_reopening(
    tmp_path: Path, revisions: str
) -> None:
    """Concurrent writes commit together on SQLite (group commit); writes
    that fail inside the burst (stale expected revision) leave nothing, and
    every acknowledged one reads back after reopening."""
    data_dir = str(tmp_path / "data")
    m = await shared.open_store(data_dir, revisions)
    try:
        base = await m.create("doc", Doc("base", 0))
        creates = [m.create("doc", Doc(f"new-{i}", i)) for i in range(40)]
        updates = [
            m.update("doc", base.id, Doc("base", i), expected_revision_id=base.revision_id)
            for i in range(1, 11)
        ]
        results = await asyncio.gather(*creates, *updates, return_exceptions=True)
    finally:
        await m.close()
    created = [r for r in results[:40] if not isinstance(r, BaseException)]
    updated = results[40:]
    assert len(created) == 40, results[:40]
    won = [r for r in updated if not isinstance(r, BaseException)]
    assert len(won) == 1
    assert all(isinstance(r, RevisionConflictError) for r in updated if r not in won)

    m = await shared.open_store(data_dir, revisions)
    try:
        for i, r in enumerate(created):
            assert (await m.get("doc", r.id)).data == Doc(f"new-{i}", i)
        history = await assert_linear(m, "doc", base.id)
        assert [h.revision_id for h in history] == [base.revision_id, won[0].revision_id]
        assert (await m.get("doc", base.id)).data == won[0].resource.data
        assert await m.count("doc") == 41
    finally:
        await m.close()


# -- two processes on one data directory --------------------------------------


async def _prepare_counters(data_dir: Path, revisions: str, count: int) -> list[str]:
    m = await shared.open_store(str(data_dir), revisions)
    try:
        return [(await m.create("counter", Counter(f"c{i}", 0))).id for i in range(count)]
    finally:
        await m.close()


def _run_workers(
    tmp_path: Path, data_dir: Path, revisions: str, mode: str, cycles: int, ids: list[str]
) -> list[list[str]]:
    """Start two workers, release them together, return each one's output lines."""

    def start(tag: str) -> Child:
        return Child(
            "counter_worker",
            str(data_dir),
            revisions,
            mode,
            tag,
            str(cycles),
            ",".join(ids),
            cwd=tmp_path,
            stdin=True,
        )

    return harness.run_in_step(start)


def _acks(lines: list[str]) -> list[tuple[str, str, str]]:
    return [tuple(line.split()[1:]) for line in lines if line.startswith("A ")]  # type: ignore[misc]


@pytest.mark.slow
@pytest.mark.parametrize("revisions", ["inline", "files"])
async def test_two_processes_compare_and_set_lose_no_increment(
    tmp_path: Path, revisions: str
) -> None:
    data_dir = tmp_path / "data"
    ids = await _prepare_counters(data_dir, revisions, 2)
    cycles = 100
    outputs = await asyncio.to_thread(
        _run_workers, tmp_path, data_dir, revisions, "cas", cycles, ids
    )
    acks = [a for lines in outputs for a in _acks(lines)]
    assert len(acks) == 2 * cycles * len(ids)
    conflicts = sum(int(lines[-1].split()[1]) for lines in outputs)
    assert conflicts > 0, "the two processes never raced; the test proved nothing"

    m = await shared.open_store(str(data_dir), revisions)
    try:
        for rid in ids:
            current = await m.get("counter", rid)
            assert current.data.value == 2 * cycles, "an increment was lost"
            history = await assert_linear(m, "counter", rid)
            assert len(history) == 2 * cycles + 1
            values = [d.value for d in await data_at(m, "counter", rid, history)]
            assert values == list(range(2 * cycles + 1))
            by_revision = {h.revision_id: v for h, v in zip(history, values, strict=True)}
            mine = [(rev, int(v)) for r, rev, v in acks if r == rid]
            assert len(mine) == 2 * cycles
            for rev, value in mine:
                assert by_revision[rev] == value
    finally:
        await m.close()


@pytest.mark.slow
@pytest.mark.parametrize("revisions", ["inline", "files"])
async def test_two_processes_plain_updates_all_in_history(tmp_path: Path, revisions: str) -> None:
    data_dir = tmp_path / "data"
    ids = await _prepare_counters(data_dir, revisions, 1)
    cycles = 100
    outputs = await asyncio.to_thread(
        _run_workers, tmp_path, data_dir, revisions, "plain", cycles, ids
    )
    acks = [a for lines in outputs for a in _acks(lines)]
    assert len(acks) == 2 * cycles

    m = await shared.open_store(str(data_dir), revisions)
    try:
        (rid,) = ids
        history = await assert_linear(m, "counter", rid)
        assert len(history) == 2 * cycles + 1
        notes = {
            h.revision_id: d.note
            for h, d in zip(history, await data_at(m, "counter", rid, history), strict=True)
        }
        for _, rev, note in acks:
            assert notes.get(rev) == note, f"acknowledged revision {rev} ({note}) missing"
        assert sorted(notes[h.revision_id] for h in history[1:]) == sorted(a[2] for a in acks)
        # each process's own updates keep their order in the shared history
        position = {h.revision_id: h.number for h in history}
        for lines in outputs:
            numbers = [position[rev] for _, rev, _ in _acks(lines)]
            assert numbers == sorted(numbers)
        current = await m.get("counter", rid)
        assert current.revision_id == history[-1].revision_id
    finally:
        await m.close()
