"""Crash safety of the disk profile (issue 2, "Crash safety"; DESIGN.md,
"Storage profiles": payloads first, meta last, one transaction).

A writer subprocess runs a burst of creates, batch creates, updates and
patches and acknowledges each write on stdout after the call returned. The
test SIGKILLs it mid-burst, reopens the store in this process and checks that

- every acknowledged write is readable: the current data is at least as new
  as acknowledged, and each acknowledged revision id reads back its data;
- no meta points at a missing payload: every resource reads, and every
  revision of every history reads;
- metas, histories and index values agree with the data;
- the store takes new writes, and a new writer (after the crash) too.

Both payload placements of the disk profile are covered: inline (payload in
the SQLite transaction) and files (payload file written before the meta
commit). The writer runs one task, or eight concurrent ones whose writes
share SQLite transactions (group commit), so a kill lands inside groups.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from app import NotFoundError, ResourceManager
from tests.processes import harness

Child = harness.Child
shared = harness.load("shared")

ROUNDS = 3


class Ack:
    __slots__ = ("kind", "n", "resource_id", "revision_id")

    def __init__(self, line: str) -> None:
        self.kind, self.resource_id, self.revision_id, n = line.split()
        self.n = int(n)


def acks_of(lines: Iterable[str]) -> list[Ack]:
    return [Ack(line) for line in lines if line[:2] in ("C ", "U ", "P ")]


async def all_metas(m: ResourceManager) -> list[Any]:
    metas: list[Any] = []
    after = None
    while True:
        page = await m.search(
            "doc", limit=500, after=after, include_deleted=True, with_data=False, sort=["id"]
        )
        metas += page.items
        if page.next_cursor is None:
            return metas
        after = page.next_cursor


async def full_history(m: ResourceManager, resource_id: str) -> list[Any]:
    revisions: list[Any] = []
    after = None
    while True:
        page = await m.history("doc", resource_id, limit=100, after=after)
        revisions += page.items
        if page.next_cursor is None:
            return revisions
        after = page.next_cursor


def sqlite_integrity(data_dir: Path) -> None:
    conn = sqlite3.connect(data_dir / "specql.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


async def check_store(
    data_dir: Path, revisions: str, acks: list[Ack], crashes: int, tasks: int
) -> Ack:
    """Everything the crashed writers acknowledged is there, and nothing dangles.

    Ends with writes of its own; returns the acknowledgement of the one that
    stays (an update of an existing doc) for the next round's checks."""
    sqlite_integrity(data_dir)
    m = await shared.open_store(str(data_dir), revisions)
    try:
        # 1. every acknowledged revision reads back exactly what was acknowledged
        latest: dict[str, int] = {}
        for ack in acks:
            r = await m.get("doc", ack.resource_id, revision_id=ack.revision_id)
            assert r.revision_id == ack.revision_id
            assert r.data.n == ack.n, (ack.kind, ack.resource_id, ack.revision_id)
            info = await m.get_revision_info("doc", ack.resource_id, ack.revision_id)
            assert info.resource_id == ack.resource_id
            latest[ack.resource_id] = max(latest.get(ack.resource_id, -1), ack.n)

        # 2. current data is at least as new as acknowledged; only writes in
        #    flight at a kill (one per task and crash, a batch of at most 5
        #    creates) may have landed without their acknowledgement
        ahead = 0
        for rid, n in latest.items():
            current = await m.get("doc", rid)
            assert current.data.n >= n, f"{rid}: acknowledged n={n}, reads {current.data.n}"
            ahead += current.data.n != n
        assert ahead <= crashes * tasks

        # 3. every meta row: data readable, history whole and linear, every
        #    revision's payload present, index values equal to the data
        metas = await all_metas(m)
        assert {meta.resource_id for meta in metas} >= set(latest)
        assert len(metas) - len(latest) <= 5 * crashes * tasks  # unacknowledged creates
        assert await m.count("doc") == len(metas)
        tag_counts: dict[str, int] = {}
        for meta in metas:
            assert not meta.is_deleted
            current = await m.get("doc", meta.resource_id)
            for word in set(current.data.tags):
                tag_counts[word] = tag_counts.get(word, 0) + 1
            assert current.revision_id == meta.current_revision_id
            assert meta.indexed["n"] == current.data.n
            assert meta.indexed["title"] == current.data.title
            history = await full_history(m, meta.resource_id)
            assert [h.number for h in history] == list(range(meta.revision_count, 0, -1))
            assert history[0].revision_id == meta.current_revision_id
            for newer, older in itertools.pairwise(history):
                assert newer.parent_revision_id == older.revision_id
            assert history[-1].parent_revision_id is None
            ns = []
            for h in history:
                r = await m.get("doc", meta.resource_id, revision_id=h.revision_id)
                ns.append(r.data.n)
            assert ns == sorted(ns, reverse=True) and ns[-1] == 0
        # the list index (side table) agrees with the data
        for word in shared.WORDS:
            assert await m.count("doc", {"tags": {"eq": word}}) == tag_counts.get(word, 0), word

        # 4. the store takes new writes after the crash
        made = await m.create("doc", shared.Doc("after-crash", 0, "test", ["red"]))
        some = random.Random(len(acks)).choice(sorted(latest))
        before = await m.get("doc", some)
        updated = await m.update(
            "doc",
            some,
            shared.Doc("after-crash-update", before.data.n + 1, "test"),
            expected_revision_id=before.revision_id,
        )
        assert updated.changed
        assert (await m.get("doc", some)).data.n == before.data.n + 1
        assert (await m.get("doc", made.id)).data.title == "after-crash"
        await m.purge("doc", made.id)
        with pytest.raises(NotFoundError):
            await m.get("doc", made.id)
        return Ack(f"U {some} {updated.revision_id} {before.data.n + 1}")
    finally:
        await m.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("revisions", "tasks"), [("inline", 1), ("files", 1), ("inline", 8), ("files", 8)]
)
async def test_sigkill_mid_burst_loses_no_acknowledged_write(
    tmp_path: Path, revisions: str, tasks: int
) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random(f"crash-{revisions}-{tasks}")
    acks: list[Ack] = []
    for round_ in range(1, ROUNDS + 1):
        child = Child(
            "crash_writer",
            str(data_dir),
            revisions,
            f"w{round_}",
            str(rng.randrange(1 << 30)),
            str(tasks),
            cwd=tmp_path,
        )
        try:
            child.wait_for("READY", timeout=120)
            # kill after a varying number of acknowledged writes, mid-burst
            wanted = rng.randint(120, 300)
            seen = 0
            while seen < wanted:
                line = child.next_line(timeout=120)
                assert line is not None, f"writer exited early:\n{child.stderr()}"
                assert line != "DONE"
                seen += line[:2] in ("C ", "U ", "P ")
            # then at a random moment inside the following writes: right after
            # an acknowledgement, the writer is always at the same early step
            time.sleep(rng.uniform(0, 0.03))
            child.sigkill()
            assert child.proc.returncode == -9
            lines = child.drain()
        finally:
            child.close()
        round_acks = acks_of(lines)
        assert len(round_acks) >= wanted
        assert {a.kind for a in round_acks} >= {"C", "U"}
        acks += round_acks
        acks.append(await check_store(data_dir, revisions, acks, crashes=round_, tasks=tasks))
