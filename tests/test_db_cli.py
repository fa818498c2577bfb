"""``specql db upgrade`` and ``specql db current`` on PostgreSQL (and SQLite):
upgrades apply once, report what they did, and several at once serialize on
the advisory lock so exactly one applies DDL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import DATABASE_URL, drop_schemas

pytestmark = pytest.mark.slow

MODELS = """
import msgspec
from app import Registry

class Item(msgspec.Struct):
    name: str
    price: float = 0.0

registry = Registry()
registry.add_model(Item, indexed={indexed!r})
"""


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"t_cli_{uuid.uuid4().hex[:12]}"
    yield name
    asyncio.run(drop_schemas({name}))


def models_file(folder: Path, indexed: list[str]) -> str:
    path = folder / f"models_{'_'.join(indexed)}.py"
    path.write_text(textwrap.dedent(MODELS.format(indexed=indexed)))
    return str(path)


def specql(*args: str, schema: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECQL_")}
    if schema is not None:
        env["SPECQL_DATABASE_SCHEMA"] = schema
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
    )


def ddl(schema: str) -> list[tuple[str, ...]]:
    """Every table, column and index definition in the schema."""

    async def read() -> list[tuple[str, ...]]:
        conn = await asyncpg.connect(DATABASE_URL)
        try:
            columns = await conn.fetch(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = $1 ORDER BY 1, 2",
                schema,
            )
            indexes = await conn.fetch(
                "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1, 2",
                schema,
            )
        finally:
            await conn.close()
        return [tuple(r) for r in columns] + [tuple(r) for r in indexes]

    return asyncio.run(read())


def test_current_upgrade_and_again_on_postgresql(tmp_path: Path, schema: str) -> None:
    models = models_file(tmp_path, ["name"])
    url = ["--database-url", DATABASE_URL]

    fresh = specql("db", "current", models, *url, schema=schema)
    assert fresh.returncode == 1, fresh.stderr
    assert "migration: (none: run specql db upgrade)" in fresh.stdout
    assert "item: missing" in fresh.stdout
    assert "postgres" in fresh.stdout and "upgrade is pending" in fresh.stdout

    first = specql("db", "upgrade", models, *url, schema=schema)
    assert first.returncode == 0, first.stderr
    assert "system tables: migration (none) -> 0003" in first.stdout
    assert "item: created its tables" in first.stdout
    tables = ddl(schema)
    assert any(row[0] == "specql_m_item" for row in tables)

    again = specql("db", "upgrade", models, *url, schema=schema)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "already up to date: nothing to do"
    assert ddl(schema) == tables

    current = specql("db", "current", models, *url, schema=schema)
    assert current.returncode == 0, current.stdout
    assert "migration: 0003 (head)" in current.stdout
    assert "item: up to date" in current.stdout


def test_a_new_indexed_field_is_pending_then_added_and_backfilled(
    tmp_path: Path, schema: str
) -> None:
    url = ["--database-url", DATABASE_URL]
    assert (
        specql("db", "upgrade", models_file(tmp_path, ["name"]), *url, schema=schema).returncode
        == 0
    )

    wider = models_file(tmp_path, ["name", "price"])
    pending = specql("db", "current", wider, *url, schema=schema)
    assert pending.returncode == 1
    assert "item: pending: new indexed fields price" in pending.stdout

    done = specql("db", "upgrade", wider, *url, schema=schema)
    assert done.returncode == 0, done.stderr
    assert "item: added a column for price" in done.stdout
    assert "item: backfilled price" in done.stdout
    assert specql("db", "current", wider, *url, schema=schema).returncode == 0


def test_replicas_upgrading_at_once_apply_the_ddl_exactly_once(tmp_path: Path, schema: str) -> None:
    models = models_file(tmp_path, ["name", "price"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECQL_")}
    env["SPECQL_DATABASE_SCHEMA"] = schema
    env["SPECQL_DATABASE_URL"] = DATABASE_URL
    command = [sys.executable, "-c", "from app.cli import main; main()", "db", "upgrade", models]
    processes = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs
    applied = [out for out, _ in outputs if "system tables: migration (none) -> 0003" in out]
    waited = [out for out, _ in outputs if out.strip() == "already up to date: nothing to do"]
    assert (len(applied), len(waited)) == (1, 3), outputs


def test_db_commands_on_the_disk_profile(tmp_path: Path) -> None:
    models = models_file(tmp_path, ["name"])
    data_dir = ["--data-dir", str(tmp_path / "data")]
    assert specql("db", "current", models, *data_dir).returncode == 1
    first = specql("db", "upgrade", models, *data_dir)
    assert first.returncode == 0 and "item: created its tables" in first.stdout
    assert specql("db", "upgrade", models, *data_dir).stdout.strip() == (
        "already up to date: nothing to do"
    )
    assert "item: up to date" in specql("db", "current", models, *data_dir).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database-url", "mysql://root@127.0.0.1/test"], "not PostgreSQL"),
        (["--database-url", "postgresql://postgres@127.0.0.1:1/test"], "postgres:"),
        (["--profile", "postgres"], "needs a database URL"),
        (["--profile", "s3"], "needs an S3 URL"),
        (["--profile", "nosuch"], "unknown storage profile 'nosuch'"),
        (["--database-url", "postgresql://postgres:secret@127.0.0.1/"], "names no database"),
    ],
)
def test_bad_store_options_are_one_clear_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = specql("db", "current", models_file(tmp_path, ["name"]), *args)
    assert done.returncode == 1
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "secret" not in done.stderr
