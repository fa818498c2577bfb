"""The generated clients under the pinned ``tsc --strict``: every golden case
compiles, and the type-level tests in typecheck/ hold: what must compile
does, and every ``@ts-expect-error`` line is a real error."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.codegen.conftest import CASES, HERE, ROOT, run_tsc, write_client

TYPECHECK = HERE / "typecheck"
TYPE_TESTS = ("example.types.ts", "shapes.types.ts")
DIRECTIVE = re.compile(r"^[ \t]*// @ts-expect-error\b.*$", flags=re.M)
DIAGNOSTIC = re.compile(r"^(?P<file>[^(\s]+)\((?P<line>\d+),\d+\): error (?P<code>TS\d+)", re.M)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each case's client in a folder of its name, beside the type tests."""
    folder = tmp_path_factory.mktemp("typescript")
    for case in CASES:
        write_client(case, folder / case)
    for path in TYPECHECK.glob("*.ts"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.slow
def test_every_generated_client_compiles_strict(tsc: Path, workspace: Path) -> None:
    done = run_tsc(tsc, "--noEmit", *(f"{case}/index.ts" for case in CASES), cwd=workspace)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_type_level_tests_compile(tsc: Path, workspace: Path) -> None:
    done = run_tsc(tsc, "--noEmit", *TYPE_TESTS, cwd=workspace)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_each_expected_error_is_an_error(tsc: Path, workspace: Path) -> None:
    """Without the directives, tsc fails on exactly the lines they guarded:
    unknown fields, wrong or missing arguments, unselected fields, ..."""
    expected: set[tuple[str, int]] = set()
    for name in TYPE_TESTS:
        text = (TYPECHECK / name).read_text()
        for match in DIRECTIVE.finditer(text):
            guarded = text.count("\n", 0, match.start()) + 2  # 1-based, the next line
            expected.add((name, guarded))
        (workspace / f"bare.{name}").write_text(DIRECTIVE.sub("//", text))
    assert len(expected) >= 20
    done = run_tsc(tsc, "--noEmit", *(f"bare.{name}" for name in TYPE_TESTS), cwd=workspace)
    assert done.returncode != 0
    failed = {
        (m["file"].removeprefix("bare."), int(m["line"])) for m in DIAGNOSTIC.finditer(done.stdout)
    }
    assert failed == expected, done.stdout


# what the documentation's snippets take as given
SNIPPET_PREAMBLE = """\
declare const id: string;
declare function token(): Promise<string>;
declare const console: { log(...values: unknown[]): void };
"""


@pytest.mark.slow
def test_readme_and_docs_snippets_compile(tsc: Path, workspace: Path) -> None:
    """The ```ts blocks of README.md and docs/typescript.md, each file's blocks
    as one module, against the example app's client."""
    names = []
    for doc in (ROOT / "README.md", ROOT / "docs" / "typescript.md"):
        blocks = re.findall(r"```ts\n(.*?)```", doc.read_text(), flags=re.S)
        assert blocks, doc
        source = "\n".join(blocks).replace('"./api/index.js"', '"./example/index.js"')
        name = f"snippets.{doc.stem.lower()}.ts"
        (workspace / name).write_text(SNIPPET_PREAMBLE + source)
        names.append(name)
    # snippets leave values unused on purpose
    done = run_tsc(tsc, "--noEmit", "--noUnusedLocals", "false", *names, cwd=workspace)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_a_browser_project_compiles_it_and_passes_the_dom_fetch(tsc: Path, workspace: Path) -> None:
    """With the DOM typings in scope, the schema's `Blob` stays in its module
    and the DOM's `fetch` fits the `fetch` option."""
    (workspace / "browser.ts").write_text(
        'import { createClient } from "./field_types/index.js";\n'
        'export const a = createClient({ url: "/graphql", fetch });\n'
        "export const b = createClient({\n"
        '  url: "/graphql",\n'
        "  fetch: window.fetch.bind(window),\n"
        '  headers: async () => ({ authorization: "Bearer t" }),\n'
        "});\n"
        "export const blob: Blob = new Blob([]);\n"
    )
    done = run_tsc(tsc, "--noEmit", "--lib", "ES2022,DOM", "browser.ts", cwd=workspace)
    assert done.returncode == 0, done.stdout + done.stderr
