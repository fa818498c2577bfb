"""The generated client against real ``specql serve`` processes: generated
from ``--url`` it is byte for byte the client generated from the registry,
and a Node script (compiled by the pinned tsc) drives the API through it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.codegen.conftest import HERE, ROOT, SPECQL, free_port, run_tsc, serving

E2E = HERE / "e2e"
MODELS = "tests.models:build_registry"


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example app; the acting user comes from a header the client sends."""
    with serving(None, tmp_path_factory.mktemp("blog"), "--user-header", "x-specql-user") as url:
        yield url


@pytest.fixture(scope="module")
def field_types(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(MODELS, tmp_path_factory.mktemp("field_types")) as url:
        yield url


def codegen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SPECQL, "codegen", "ts", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.slow
@pytest.mark.parametrize(("server", "models"), [("blog", None), ("field_types", MODELS)])
def test_url_and_registry_give_identical_files(
    request: pytest.FixtureRequest, server: str, models: str | None, tmp_path: Path
) -> None:
    url = request.getfixturevalue(server)
    from_url = codegen("--url", url, "--out", str(tmp_path / "url"))
    assert from_url.returncode == 0, from_url.stderr
    from_registry = codegen(*([models] if models else []), "--out", str(tmp_path / "registry"))
    assert from_registry.returncode == 0, from_registry.stderr
    generated = files(tmp_path / "url")
    assert set(generated) == {"client.ts", "index.ts", "package.json", "runtime.ts", "schema.ts"}
    assert generated == files(tmp_path / "registry")


def run_script(
    script: str, url: str, tsc: Path, node: str, folder: Path, *args: str
) -> dict[str, Any]:
    """Generates the client from ``url``, compiles ``script`` with it to ES2022
    modules, runs it with node, and answers its steps by name."""
    generated = codegen("--url", url, "--out", str(folder / "src" / "client"))
    assert generated.returncode == 0, generated.stderr
    for name in (script, "node.d.ts"):
        shutil.copy(E2E / name, folder / "src" / name)
    compiled = run_tsc(tsc, "--outDir", "out", f"src/{script}", "src/node.d.ts", cwd=folder)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (folder / "out" / "package.json").write_text('{ "type": "module" }\n')
    main = str(folder / "out" / script.replace(".ts", ".js"))
    done = subprocess.run(
        [node, main, url, *args], capture_output=True, text=True, timeout=120, check=False
    )
    steps = {}
    for line in done.stdout.splitlines():
        step = json.loads(line)
        steps[step["step"]] = step["value"]
    assert done.returncode == 0 and "crash" not in steps, done.stdout + done.stderr
    return steps


@pytest.mark.slow
def test_a_node_script_drives_the_example_app(
    blog: str, tsc: Path, node: str, tmp_path: Path
) -> None:
    steps = run_script("blog.ts", blog, tsc, node, tmp_path, str(free_port()))
    # create, with headers from a function (the server records the acting user)
    assert steps["createUser"] == {"name": "Grace", "createdBy": "e2e-user"}
    assert steps["createPost"] == [[t, "PUBLISHED", 1] for t in ("E2E one", "E2E two", "E2E three")]
    # read, following a ref; and the default selection (scalar fields only)
    assert steps["readWithAuthor"] == {
        "title": "E2E one",
        "author": {"name": "Grace", "email": "grace@example.org"},
    }
    assert steps["defaultSelection"] == sorted(
        ["id", "title", "body", "authorId", "status", "tags", "publishedAt"]
    )
    # where, orderBy, first/after
    assert steps["search"] == {
        "totalCount": 3,
        "pages": [["E2E two", "E2E three"], ["E2E one"]],
        "hasNextPage": [True, False],
    }
    # update with expectedRevisionId, then a typed CONFLICT for the stale one
    assert steps["update"] == {
        "title": "E2E two, edited",
        "changed": True,
        "number": 2,
        "parentIsOld": True,
    }
    assert steps["staleUpdate"] == {
        "code": "CONFLICT",
        "graphql": True,
        "network": False,
        "base": True,
        "expected": True,
    }
    assert steps["revisions"] == {
        "totalCount": 2,
        "numbers": [2, 1],
        "createdBy": ["e2e-user", "e2e-user"],
    }
    # the async iterators: a root connection, then a nested one (revisions)
    assert steps["paginate"] == [
        "E2E one by Grace",
        "E2E three by Grace",
        "E2E two, edited by Grace",
    ]
    assert steps["paginateRevisions"] == [2, 1]
    assert steps["referrers"] == {
        "totalCount": 3,
        "titles": ["E2E one", "E2E three", "E2E two, edited"],
    }
    assert steps["document"]["query"] == (
        "query user($id: ID!, $user_posts_first: Int, $user_posts_orderBy: [PostOrderBy!]) "
        "{ user(id: $id) { name posts(first: $user_posts_first, orderBy: $user_posts_orderBy) "
        "{ totalCount nodes { title } } } }"
    )
    assert steps["document"]["variables"]["user_posts_orderBy"] == [{"title": "ASC"}]
    assert steps["notFound"] == "NOT_FOUND"
    assert steps["purge"] is True and steps["purged"] is None
    assert steps["badRequest"] == "BAD_REQUEST"
    # network errors are not GraphQL errors: an HTTP 404 without a GraphQL body, a closed port
    assert steps["httpError"] == {"network": True, "graphql": False, "status": 404}
    assert steps["unreachable"] == {"network": True, "graphql": False, "status": None}
    assert steps["requests"] >= 19  # every call of the main client went through its fetch


@pytest.mark.slow
def test_every_field_type_and_a_union_round_trip(
    field_types: str, tsc: Path, node: str, tmp_path: Path
) -> None:
    steps = run_script("fields.ts", field_types, tsc, node, tmp_path)
    assert steps["uploadBlob"] == {"size": 3, "contentType": "application/octet-stream"}
    made = steps["createEverything"]
    assert made["id"] == "string"
    assert made["point"] == {"x": 1} and made["points"] == [{"x": 3, "y": 4}]
    assert made["scores"] == {"math": 9, "art": 7}
    assert (made["color"], made["level"], made["flag"]) == ("GREEN", "HIGH", False)
    assert (made["day"], made["uid"], made["amount"]) == (
        "2026-11-23",
        "12345678-1234-5678-1234-567812345678",
        "12.50",
    )
    assert made["shape"] == {"__typename": "Square", "side": 2.5} and made["side"] == 2.5
    assert made["file"] == {"size": 3}
    default = steps["unionDefault"]
    assert default["shape"] == {"__typename": "Square", "side": 2.5}
    assert default["maybe"] is None and sorted(default["labels"]) == ["a", "b"]  # a set
    assert steps["unionTypename"] == {"shape": {"__typename": "Square"}}
    assert steps["search"] == {
        "totalCount": 1,
        "nodes": [{"shape": {"__typename": "Square", "side": 2.5}}],
    }
