"""The ``specql`` command, run as a real process (the installed console script
and ``python -c``), the way a user runs it."""

from __future__ import annotations

import importlib.metadata
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

import app
from app.storage.sql import migrate

SPECQL = Path(sys.executable).parent / "specql"


def run(
    args: list[str], cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb", **(env or {})}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.slow
def test_version_from_console_script(tmp_path: Path) -> None:
    assert SPECQL.exists(), f"console script missing next to {sys.executable}"
    done = run([str(SPECQL), "--version"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"specql {app.__version__}"
    # the package and its distribution metadata agree
    assert app.__version__ == importlib.metadata.version("specql")
    assert done.stderr == ""


@pytest.mark.slow
def test_version_from_python_entry_point(tmp_path: Path) -> None:
    done = run([sys.executable, "-c", "from app.cli import main; main()", "--version"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"specql {app.__version__}"


@pytest.mark.slow
def test_unknown_option_fails_with_a_message(tmp_path: Path) -> None:
    done = run([str(SPECQL), "--no-such-option"], tmp_path)
    assert done.returncode != 0
    assert "--no-such-option" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_demo_runs_on_a_fresh_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    done = run([str(SPECQL), "demo", "--data-dir", str(data_dir)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.strip(), "the demo prints what it does"
    conn = sqlite3.connect(data_dir / "specql.db")
    try:
        head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
        assert conn.execute("SELECT version_num FROM specql_alembic_version").fetchall() == [
            (head,)
        ]
        assert conn.execute("SELECT count(*) FROM specql_revisions").fetchone()[0] > 0
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "problem"),
    [
        # a setting only the open can judge: the process may not use that CPU
        ({"SPECQL_PIN_CPU": "4095"}, "error: pin_cpu=4095: this process may run on CPUs"),
        # a store that does not answer
        (
            {"SPECQL_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/test"},
            "error: postgres: ConnectionRefusedError",
        ),
    ],
)
def test_serve_that_cannot_open_its_stores_says_why_in_one_line(
    tmp_path: Path, env: dict[str, str], problem: str
) -> None:
    done = run(
        [str(SPECQL), "serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
        tmp_path,
        env=env,
    )
    assert done.returncode != 0
    assert problem in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("blocked", "args", "problem"),
    [
        (
            "asyncpg",
            ["--database-url", "postgresql://postgres@127.0.0.1:5432/test"],
            "error: the postgres profile needs asyncpg, which is not installed. "
            "Install the postgres extra: pip install 'specql[postgres]'.",
        ),
        (
            "aioboto3",
            ["--s3-url", "s3://bucket?endpoint=http://127.0.0.1:9"],
            "error: the s3 profile needs aioboto3, which is not installed. "
            "Install the s3 extra: pip install 'specql[s3]'.",
        ),
    ],
)
def test_serve_without_a_profiles_driver_names_the_extra_in_one_line(
    tmp_path: Path, blocked: str, args: list[str], problem: str
) -> None:
    # the driver cannot be imported, as in an install without the extra
    wrapper = f"import sys; sys.modules[{blocked!r}] = None; from app.cli import main; main()"
    done = run(
        [sys.executable, "-c", wrapper, "serve", "--port", "0", "--data-dir", str(tmp_path), *args],
        tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == problem, done.stderr
    assert "Traceback" not in done.stderr
