"""Orphan payloads (written, but their meta never committed) are collected by
``collect_orphans`` / ``specql gc`` after a grace period, safely while
writers run, on every profile whose payloads live outside the meta store."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import pytest

from app import BadRequestError, UniqueViolationError
from app.storage.base import RevisionKey
from tests.models import Doc, User

EXTERNAL = ["disk-files", "s3", "postgres"]  # payloads in files or S3
pytestmark = pytest.mark.parametrize("settings", EXTERNAL, indirect=True)


async def stored_keys(manager) -> set[RevisionKey]:
    return {key async for key, _ in manager.stores.revisions.list_keys()}


async def crash_after_payload_write(manager, n: int = 1) -> set[RevisionKey]:
    """What a writer killed between its payload write and its meta commit
    leaves behind (a failed write cleans up after itself; a killed one cannot)."""
    keys = {RevisionKey("doc", uuid.uuid4().hex, "f" * 64) for _ in range(n)}
    await manager.stores.revisions.put_many([(key, b"\x80") for key in keys])
    return keys


async def test_crash_orphans_are_collected_after_the_grace_period(manager):
    kept = await manager.create(User, User("ada@example.org"))
    draft = await manager.create(Doc, Doc("draft"), status="draft")
    await manager.modify(Doc, draft.id, Doc("draft, edited"))
    with pytest.raises(UniqueViolationError):  # a failed write leaves nothing behind
        await manager.create(User, User("ada@example.org", name="twin"))
    live = await stored_keys(manager)
    assert len(live) == 2
    orphans = await crash_after_payload_write(manager, 3)

    young = await manager.collect_orphans(grace_seconds=3600)
    assert (young.scanned, young.orphans, young.deleted) == (5, [], 0)  # too young to judge

    await asyncio.sleep(1.1)  # S3 reports LastModified in whole seconds
    dry = await manager.collect_orphans(grace_seconds=0, dry_run=True)
    assert set(dry.orphans) == orphans and dry.deleted == 0
    assert await stored_keys(manager) == live | orphans

    done = await manager.collect_orphans(grace_seconds=0)
    assert set(done.orphans) == orphans and done.deleted == 3
    assert await stored_keys(manager) == live
    assert (await manager.get(User, kept.id)).data == User("ada@example.org")
    assert (await manager.get(Doc, draft.id)).data == Doc("draft, edited")
    with pytest.raises(BadRequestError):
        await manager.collect_orphans(grace_seconds=-1)


async def test_a_payload_written_under_a_second_ago_is_young(manager):
    """S3 (moto here) reports modification times in whole seconds: a payload
    written at x.4 s reads as written at x.0, so at x+1.35 s it looks over a
    second old; a grace of one second must still count it as young (its meta
    may be about to commit). The collection is taken at a moment known to be
    under a second after the write, however late the machine runs it."""
    while not 0.35 <= time.time() % 1 < 0.45:  # a write well inside its second
        await asyncio.sleep(0.01)
    written = time.time()  # the payload is written after this
    in_flight = await crash_after_payload_write(manager)
    young = await manager.collect_orphans(grace_seconds=1, now=written + 0.95)
    assert not in_flight & set(young.orphans)
    assert in_flight <= await stored_keys(manager)
    old = await manager.collect_orphans(grace_seconds=1, now=time.time() + 2.1)
    assert in_flight <= set(old.orphans)  # once it is past the grace, it is collected
    assert not in_flight & await stored_keys(manager)


async def test_gc_running_beside_writers_never_removes_a_live_payload(manager):
    docs = [await manager.create(Doc, Doc(f"d{i}")) for i in range(5)]
    stop = asyncio.Event()

    async def writer(doc_id: str) -> int:
        count = 0
        while not stop.is_set():
            count += 1
            await manager.update(Doc, doc_id, Doc("x", count=count))
        return count

    async def collector() -> None:
        # past grace and resolution, the first payloads are candidates, their
        # resources still being written; three passes, however long they take
        await asyncio.sleep(2.1)
        try:
            for _ in range(3):
                report = await manager.collect_orphans(grace_seconds=1)
                assert report.orphans == []
        finally:
            stop.set()

    tasks = [asyncio.create_task(writer(d.id)) for d in docs]
    await collector()
    counts = await asyncio.gather(*tasks)
    for doc, count in zip(docs, counts, strict=True):
        history = await manager.history(Doc, doc.id, limit=1000)
        assert len(history.items) == count + 1
        for info in history.items:  # every revision still has its payload
            assert (await manager.get(Doc, doc.id, revision_id=info.revision_id)).data is not None


async def test_specql_gc_command(settings, open_manager, tmp_path):
    manager = await open_manager(data_dir=str(tmp_path / "gc"))
    await manager.create(User, User("grace@example.org"))
    await crash_after_payload_write(manager)
    await asyncio.sleep(1.1)
    options = ["--data-dir", str(tmp_path / "gc"), "--profile", settings.profile]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECQL_")}
    if manager.settings.database_url:
        options += ["--database-url", manager.settings.database_url]
        env["SPECQL_DATABASE_SCHEMA"] = manager.settings.database_schema
    if manager.settings.s3_url:
        options += ["--s3-url", manager.settings.s3_url]
    if manager.settings.revisions:
        env["SPECQL_REVISIONS"] = manager.settings.revisions
    command = [
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        "gc",
        "tests.models:build_registry",
    ]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *options, *extra], capture_output=True, text=True, env=env, timeout=120
        )

    dry = run("--grace", "0", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "scanned 2 payloads: 1 orphans older than 0 s, would delete 1" in dry.stdout
    assert "orphan: doc revision" in dry.stdout
    done = run("--grace", "0")
    assert "deleted 1" in done.stdout, done.stderr
    again = run("--grace", "0")
    assert "scanned 1 payloads: 0 orphans" in again.stdout, again.stderr
    assert await manager.count(User) == 1
