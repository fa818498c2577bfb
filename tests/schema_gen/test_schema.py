"""The generated schema: the example app's SDL as a golden file, every field
type through GraphQL and back, and name collisions refused at registration."""

from __future__ import annotations

import os
import pathlib
from typing import Annotated

import msgspec
import pytest
from typer.testing import CliRunner

from app import ConfigurationError, Ref, Registry
from app.cli import cli
from app.example import build_registry
from schema_gen import build_schema
from tests.models import build_registry as build_test_registry

SNAPSHOTS = pathlib.Path(__file__).parent / "snapshots"


def test_example_schema_matches_the_golden_file() -> None:
    """Regenerate on purpose with SPECQL_UPDATE_SNAPSHOTS=1."""
    schema, _ = build_schema(build_registry().specs)
    golden = SNAPSHOTS / "example.graphql"
    printed = schema.as_str() + "\n"
    if os.environ.get("SPECQL_UPDATE_SNAPSHOTS"):
        golden.write_text(printed)
    assert printed == golden.read_text()


def test_cli_prints_the_same_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.output == (SNAPSHOTS / "example.graphql").read_text()


def test_cli_names_a_bad_models_argument() -> None:
    result = CliRunner().invoke(cli, ["schema", "no/such/models.py"])
    assert result.exit_code == 1
    assert "no such file" in result.output
    assert "Traceback" not in result.output


def test_every_test_model_builds() -> None:
    schema, plans = build_schema(build_test_registry().specs)
    sdl = schema.as_str()
    assert "union CircleOrSquare = Circle | Square" in sdl
    assert "input CircleOrSquareInput @oneOf" in sdl
    assert "scores: JSON!" in sdl
    assert "amount: Decimal!" in sdl
    assert "file: Blob" in sdl
    assert set(plans) >= {"everything", "owner", "pet", "toy"}


class Meta(msgspec.Struct):
    meta: str


class Author(msgspec.Struct):
    name: str


class Other(msgspec.Struct):
    x: int


class Book(msgspec.Struct):
    author_id: Annotated[str, Ref("author")]
    author: str = ""


@pytest.mark.parametrize(
    ("register", "expected"),
    [
        (lambda r: r.add_model(Meta), "already has a field 'meta'"),
        (
            lambda r: (r.add_model(Author), r.add_model(Book)),
            "collides with the field 'author'",
        ),
        (
            lambda r: (r.add_model(Author), r.add_model(Other, name="author_edge")),
            "both generate the GraphQL type AuthorEdge",
        ),
        (
            lambda r: r.add_model(Author, name="news", plural="news"),
            "both generate the root field 'news'",
        ),
    ],
)
def test_name_collisions_fail_at_registration(register: object, expected: str) -> None:
    registry = Registry()
    with pytest.raises(ConfigurationError) as caught:
        register(registry)  # type: ignore[operator]
    assert expected in str(caught.value)
    assert caught.value.suggestion


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("this is not python", "failed to import"),
        ("x = 1\n", "holds 0 Registry objects"),
    ],
)
def test_cli_serve_and_schema_refuse_bad_models_files(
    tmp_path: pathlib.Path, source: str, expected: str
) -> None:
    models = tmp_path / "models.py"
    models.write_text(source)
    for command in (["schema", str(models)], ["serve", str(models), "--port", "1"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 1, result.output
        assert expected in result.output
        assert "Traceback" not in result.output
