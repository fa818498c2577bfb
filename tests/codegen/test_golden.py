"""The generator's output for each case, as golden files: the bundled example
app, a model with every supported field type, and unions with enums.

Regenerate on purpose with ``SPECQL_UPDATE_SNAPSHOTS=1``; runtime.ts is
copied verbatim, so it is checked against its template instead."""

from __future__ import annotations

import os

import pytest

from frontend_codegen import runtime_source
from tests.codegen.conftest import CASES, HERE, generated

SNAPSHOTS = HERE / "snapshots"


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_files_match_the_golden_files(case: str) -> None:
    folder = SNAPSHOTS / case
    files = {f.path: f.text for f in generated(case) if f.path != "runtime.ts"}
    if os.environ.get("SPECQL_UPDATE_SNAPSHOTS"):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink()
        for path, text in files.items():
            (folder / path).write_text(text)
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    for path, text in files.items():
        assert text == (folder / path).read_text(), f"{case}/{path} differs from the golden file"


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_is_deterministic(case: str) -> None:
    first, second = generated(case), generated(case)
    assert [(f.path, f.text.encode()) for f in first] == [(f.path, f.text.encode()) for f in second]


def test_runtime_is_copied_verbatim() -> None:
    runtime = next(f for f in generated("example") if f.path == "runtime.ts")
    assert runtime.text == (HERE.parents[1] / "frontend_codegen/runtime/runtime.ts").read_text()
    assert runtime.text == runtime_source()


@pytest.mark.parametrize("case", sorted(CASES))
def test_files_are_formatted(case: str) -> None:
    """Two-space indentation, no tabs or trailing spaces, one newline at the end,
    never two blank lines in a row."""
    for file in generated(case):
        assert file.text.endswith("\n") and not file.text.endswith("\n\n"), file.path
        assert "\n\n\n" not in file.text, file.path
        for number, line in enumerate(file.text.splitlines(), 1):
            where = f"{case}/{file.path}:{number}"
            assert "\t" not in line and line == line.rstrip(), where
            indent = len(line) - len(line.lstrip(" "))
            assert indent % 2 == 0 or line.lstrip().startswith("*"), where
