"""sqlite_page_size: the page size of a SQLite file SpecQL creates; a file
that exists keeps its own, and its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.models import Doc, build_registry


def page_size(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "specql.db") as conn:
        size: int = conn.execute("PRAGMA page_size").fetchone()[0]
    return size


async def test_a_new_file_gets_the_configured_page_size(tmp_path: Path) -> None:
    for size, folder in ((None, tmp_path / "default"), (8192, tmp_path / "eight")):
        options: dict[str, Any] = {} if size is None else {"sqlite_page_size": size}
        manager = await build_registry().open(profile="disk", data_dir=str(folder), **options)
        await manager.create("doc", Doc(title="x" * 10_000))  # spans pages either way
        await manager.close()
    assert page_size(tmp_path / "default") == 2048
    assert page_size(tmp_path / "eight") == 8192


async def test_an_existing_file_keeps_its_page_size_and_data(tmp_path: Path) -> None:
    first = await build_registry().open(
        profile="disk", data_dir=str(tmp_path), sqlite_page_size=8192
    )
    created = await first.create("doc", Doc(title="kept", body="b" * 5000))
    await first.close()
    again = await build_registry().open(profile="disk", data_dir=str(tmp_path))
    try:
        assert (await again.get("doc", created.id)).data == Doc(title="kept", body="b" * 5000)
        await again.create("doc", Doc(title="more"))
    finally:
        await again.close()
    assert page_size(tmp_path) == 8192
