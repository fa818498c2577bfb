"""pin_cpu: a SQLite store keeps the event loop's thread and its own threads on
one CPU while it is open, spreads processes over CPUs, and gives the thread
its CPUs back on close (see app/cpu_pinning.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

from app import Settings
from app.errors import ConfigurationError, SpecQLError
from tests.conftest import DATABASE_URL, drop_schemas, isolated
from tests.models import Doc, build_registry

ALL = os.sched_getaffinity(0)


def affinity(thread_id: int | None = None) -> set[int]:
    return os.sched_getaffinity(threading.get_native_id() if thread_id is None else thread_id)


def thread_ids() -> list[int]:
    return [int(name) for name in os.listdir("/proc/self/task")]


def store_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("specql-sqlite")]


@pytest.fixture(autouse=True)
def two_cpus() -> None:
    # the machine this project runs on has two; with one, nothing can be spread
    assert len(ALL) >= 2, "these tests need a process allowed on two CPUs or more"
    assert affinity() == ALL, "an earlier test left this thread pinned"


async def test_a_disk_store_keeps_the_loop_and_its_threads_on_one_cpu_while_open(
    tmp_path: Path,
) -> None:
    manager = await build_registry().open(profile="disk", data_dir=str(tmp_path))
    try:
        pinned = affinity()
        assert len(pinned) == 1
        threads = store_threads()
        assert len(threads) >= 3  # writer, reader, checkpointer
        assert all(affinity(t.native_id) == pinned for t in threads)
        created = await manager.create("doc", Doc(title="one"))
        assert (await manager.get("doc", created.id)).data.title == "one"
    finally:
        await manager.close()
    assert affinity() == ALL


async def test_threads_started_while_pinned_get_their_cpus_back(tmp_path: Path) -> None:
    manager = await build_registry().open(profile="disk", data_dir=str(tmp_path))
    try:
        pinned = affinity()
        helper = await asyncio.to_thread(threading.get_native_id)  # the loop's executor
        assert affinity(helper) == pinned
    finally:
        await manager.close()  # which starts executor threads of its own
    assert affinity(helper) == ALL
    assert {tid: affinity(tid) for tid in thread_ids()} == dict.fromkeys(thread_ids(), ALL)


async def test_off_leaves_cpu_affinity_alone(tmp_path: Path) -> None:
    manager = await build_registry().open(profile="disk", data_dir=str(tmp_path), pin_cpu="off")
    try:
        assert affinity() == ALL
        assert all(affinity(t.native_id) == ALL for t in store_threads())
    finally:
        await manager.close()


async def test_a_named_cpu_is_used_and_a_cpu_outside_the_allowed_set_is_refused(
    tmp_path: Path,
) -> None:
    last = max(ALL)
    manager = await build_registry().open(profile="memory", pin_cpu=str(last))
    try:
        assert affinity() == {last}
    finally:
        await manager.close()
    assert affinity() == ALL
    with pytest.raises(ConfigurationError, match=r"pin_cpu=4095: this process may run on CPUs"):
        await build_registry().open(profile="disk", data_dir=str(tmp_path), pin_cpu=4095)
    assert affinity() == ALL
    assert not (tmp_path / "specql.db").exists()  # refused before anything was opened


async def test_a_store_that_fails_to_open_gives_the_cpu_back(tmp_path: Path) -> None:
    # fails while the stores are built: the data directory is a file
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the data directory should be")
    with pytest.raises(ConfigurationError, match="cannot create the data directory"):
        await build_registry().open(profile="disk", data_dir=str(blocked))
    assert affinity() == ALL
    # fails while they open: the database file is a directory
    (tmp_path / "data" / "specql.db").mkdir(parents=True)
    with pytest.raises(SpecQLError):
        await build_registry().open(profile="disk", data_dir=str(tmp_path / "data"))
    assert affinity() == ALL
    assert blocked.read_text() == "a file where the data directory should be"


async def test_stores_on_one_loop_share_its_cpu_until_the_last_closes(tmp_path: Path) -> None:
    first = await build_registry().open(profile="disk", data_dir=str(tmp_path / "a"))
    second = await build_registry().open(profile="memory")
    try:
        cpu = affinity()
        assert len(cpu) == 1
        other = next(iter(ALL - cpu))
        with pytest.raises(ConfigurationError, match=r"kept on CPU \d+ by a store that is open"):
            await build_registry().open(profile="memory", pin_cpu=other)
        await first.close()
        assert affinity() == cpu  # the second store's threads still share it
        await second.create("doc", Doc(title="still here"))
    finally:
        await first.close()
        await second.close()
    assert affinity() == ALL


async def test_auto_gives_another_process_another_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # lock files of their own: no other SpecQL process on the machine takes part
    locks = tmp_path / "locks"
    locks.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(locks))
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import asyncio, os, sys
                from tests.models import build_registry

                async def main():
                    manager = await build_registry().open(profile="disk", data_dir={str(tmp_path / "child")!r})
                    print(sorted(os.sched_getaffinity(0))[0], flush=True)
                    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
                    await manager.close()

                asyncio.run(main())
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(locks)},
        cwd=Path(__file__).resolve().parents[1],
    ) as child:
        try:
            assert child.stdout is not None and child.stdin is not None
            child_cpu = int(child.stdout.readline())
            manager = await build_registry().open(profile="disk", data_dir=str(tmp_path / "parent"))
            try:
                assert len(affinity()) == 1 and affinity() != {child_cpu}
            finally:
                await manager.close()
            child.stdin.write("\n")
            child.stdin.flush()
            assert child.wait(timeout=120) == 0
        finally:
            child.kill()


@pytest.mark.parametrize("choice", ["auto", " Auto "])
async def test_auto_leaves_the_postgres_profile_alone(tmp_path: Path, choice: str) -> None:
    settings = isolated(
        Settings(profile="postgres", database_url=DATABASE_URL, revisions="inline", pin_cpu=choice),
        str(tmp_path),
    )
    try:
        manager = await build_registry().open(settings)
        try:
            assert affinity() == ALL
        finally:
            await manager.close()
    finally:
        await drop_schemas({settings.database_schema or ""})


@pytest.mark.parametrize("value", ["fast", "-1", "1.5", "", "²"])
def test_a_bad_pin_cpu_names_the_choices(value: str) -> None:
    with pytest.raises(ConfigurationError, match="pin_cpu must be 'auto', 'off' or a CPU number"):
        Settings(pin_cpu=value).check()


def test_pin_cpu_comes_from_the_environment() -> None:
    assert Settings.from_env({"SPECQL_PIN_CPU": "off"}).pin_cpu == "off"
    assert Settings.from_env({}).pin_cpu == "auto"
    with pytest.raises(ConfigurationError, match=r"Set SPECQL_PIN_CPU to auto, off or e\.g\. 0"):
        Settings.from_env({"SPECQL_PIN_CPU": "fastest"})
