"""A model changed under stored data (correctness sweep, item 14).

A store records each model's field shapes when it opens. A later open with a
model that cannot read the stored resources (a new field without a default,
a type that refuses stored values) is refused with one line naming the model
and the field; before, it opened, ``specql db current`` said "up to date",
and every read of those resources answered INTERNAL. Compatible changes open
and read back as before. Each test writes resources with one model, closes
the store and opens it again with another, on real SQLite files and the real
PostgreSQL (and through the real ``specql`` process on a disk data dir).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest

from app import ConfigurationError, Registry, ResourceManager, Settings
from tests.conftest import OpenManager


class Dims(msgspec.Struct):
    w: int


class Post(msgspec.Struct):
    title: str
    views: int = 0
    dims: Dims | None = None


class WithSubtitle(msgspec.Struct):  # a new field without a default
    title: str
    subtitle: str
    views: int = 0
    dims: Dims | None = None


class ViewsAsText(msgspec.Struct):  # an existing field's type changed
    title: str
    views: str = ""
    dims: Dims | None = None


class DimsWithHeight(msgspec.Struct):
    w: int
    h: int


class NestedRequired(msgspec.Struct):  # a new required field in a nested Struct
    title: str
    views: int = 0
    dims: DimsWithHeight | None = None


class Compatible(msgspec.Struct):
    """New fields with defaults, a new optional field, ``views`` widened to
    float, ``dims`` removed."""

    title: str
    views: float = 0.0
    subtitle: str = ""
    rating: int | None = None


PROFILES = ["disk", "disk-files", "disk-json", "postgres-inline"]
SUBTITLE = (
    "model 'post', field 'subtitle' has no default, and stored resources do not have it. "
    "Give the field a default, or put the old model back"
)


def registry(model: type, indexed: tuple[str, ...] = ()) -> Registry:
    reg = Registry()
    reg.add_model(model, name="post", indexed=indexed)
    return reg


async def stored(open_manager: OpenManager, data_dir: str, model: type = Post) -> str:
    """Open a store with ``model``, write a resource, close; its id."""
    m = await open_manager(registry(model), data_dir=data_dir)
    made = await m.create("post", {"title": "a", "views": 3, "dims": {"w": 1}})
    await m.close()
    return made.id


async def refusal(open_manager: OpenManager, data_dir: str, model: type) -> str:
    with pytest.raises(ConfigurationError) as caught:
        await open_manager(registry(model), data_dir=data_dir)
    return str(caught.value)


async def changed(m: ResourceManager, model: type) -> dict[str, str | None]:
    """The models whose shapes differ from those the store recorded."""
    specs = list(registry(model).specs.values())
    state = await m.stores.meta.schema_state(specs, m.settings.payload_format)  # type: ignore[attr-defined]
    return state.changed  # type: ignore[no-any-return]


@pytest.mark.parametrize("settings", [*PROFILES, "s3", "postgres"], indirect=True)
async def test_a_new_field_without_a_default_is_refused_at_open(
    open_manager: OpenManager, tmp_path: Path
) -> None:
    data_dir = str(tmp_path / "data")
    made = await stored(open_manager, data_dir)

    assert await refusal(open_manager, data_dir, WithSubtitle) == SUBTITLE
    # the refusal recorded nothing: it holds until the model changes, and the
    # old model still opens and reads its resources
    assert await refusal(open_manager, data_dir, WithSubtitle) == SUBTITLE
    m = await open_manager(registry(Post), data_dir=data_dir)
    assert (await m.get("post", made)).data == Post("a", 3, Dims(1))


@pytest.mark.parametrize("settings", PROFILES, indirect=True)
@pytest.mark.parametrize(
    ("model", "problem"),
    [
        (
            ViewsAsText,
            "model 'post', field 'views': stored values do not fit its new type "
            "(expected str, got int). Put the old type back, or widen it to accept the "
            "stored values",
        ),
        (
            NestedRequired,
            "model 'post', field 'dims.h' has no default, and stored resources do not have "
            "it. Give the field a default, or put the old model back",
        ),
    ],
)
async def test_a_type_that_refuses_stored_values_is_refused_naming_the_field(
    open_manager: OpenManager, tmp_path: Path, model: type, problem: str
) -> None:
    data_dir = str(tmp_path / "data")
    await stored(open_manager, data_dir)
    assert await refusal(open_manager, data_dir, model) == problem


@pytest.mark.parametrize("settings", PROFILES, indirect=True)
async def test_compatible_changes_open_read_back_and_are_recorded(
    open_manager: OpenManager, tmp_path: Path
) -> None:
    data_dir = str(tmp_path / "data")
    made = await stored(open_manager, data_dir)

    # newly indexed too: the backfill decodes every resource with the new model
    m = await open_manager(registry(Compatible, indexed=("views", "subtitle")), data_dir=data_dir)
    assert (await m.get("post", made)).data == Compatible("a", 3.0)
    assert await m.count("post", {"views": {"gte": 3}}) == 1
    assert await changed(m, Compatible) == {}  # the next open compares and decodes nothing
    later = await m.create("post", Compatible("b", 1.5, "s", 4))
    await m.close()

    m = await open_manager(registry(Compatible), data_dir=data_dir)
    assert [None if r is None else r.data for r in await m.get_many("post", [made, later.id])] == [
        Compatible("a", 3.0),
        Compatible("b", 1.5, "s", 4),
    ]


@pytest.mark.parametrize("settings", PROFILES, indirect=True)
async def test_a_model_without_stored_resources_changes_freely(
    open_manager: OpenManager, tmp_path: Path
) -> None:
    data_dir = str(tmp_path / "data")
    m = await open_manager(registry(Post), data_dir=data_dir)
    await m.close()
    m = await open_manager(registry(WithSubtitle), data_dir=data_dir)
    made = await m.create("post", WithSubtitle("a", "b"))
    assert (await m.get("post", made.id)).data == WithSubtitle("a", "b")


class Camel(msgspec.Struct, rename="camel"):
    view_count: int = 0


class CamelWithAuthor(msgspec.Struct, rename="camel"):
    author_name: str
    view_count: int = 0


@pytest.mark.parametrize("settings", ["disk"], indirect=True)
async def test_the_refusal_names_the_python_field_under_rename(
    open_manager: OpenManager, tmp_path: Path
) -> None:
    data_dir = str(tmp_path / "data")
    m = await open_manager(registry(Camel), data_dir=data_dir)
    await m.create("post", Camel(2))
    await m.close()
    assert (await refusal(open_manager, data_dir, CamelWithAuthor)).startswith(
        "model 'post', field 'author_name' has no default"
    )


@pytest.mark.parametrize("settings", ["disk", "disk-files", "postgres-inline"], indirect=True)
@pytest.mark.parametrize(("written", "read"), [("msgpack", "json"), ("json", "msgpack")])
async def test_another_payload_format_than_the_stored_one_is_refused(
    open_manager: OpenManager, tmp_path: Path, written: str, read: str
) -> None:
    """Of the same class: before, such an open answered INTERNAL on every read."""
    data_dir = str(tmp_path / "data")
    m = await open_manager(registry(Post), data_dir=data_dir, payload_format=written)
    made = await m.create("post", Post("a"))
    await m.close()
    with pytest.raises(ConfigurationError) as caught:
        await open_manager(registry(Post), data_dir=data_dir, payload_format=read)
    assert str(caught.value) == (
        f"model 'post': stored resources are {written} payloads, and payload_format is "
        f"{read}. Open the store with payload_format={written!r} (SPECQL_PAYLOAD_FORMAT)"
    )
    m = await open_manager(registry(Post), data_dir=data_dir, payload_format=written)
    assert (await m.get("post", made.id)).data == Post("a")


@pytest.mark.parametrize("settings", ["disk"], indirect=True)
async def test_deleted_resources_count_as_stored(open_manager: OpenManager, tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    m = await open_manager(registry(Post), data_dir=data_dir)
    made = await m.create("post", Post("a"))
    await m.delete("post", made.id)
    await m.close()
    assert await refusal(open_manager, data_dir, WithSubtitle) == SUBTITLE


@pytest.mark.parametrize("settings", ["disk"], indirect=True)
async def test_a_store_from_before_shapes_were_recorded_is_checked(
    open_manager: OpenManager, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    made = await stored(open_manager, str(data_dir))
    conn = sqlite3.connect(data_dir / "specql.db")
    try:  # as a store made before migration 0003 looks after it
        conn.execute("UPDATE specql_models SET shape = NULL")
        conn.commit()
    finally:
        conn.close()

    assert await refusal(open_manager, str(data_dir), WithSubtitle) == SUBTITLE
    m = await open_manager(registry(Post), data_dir=str(data_dir))
    assert (await m.get("post", made)).data == Post("a", 3, Dims(1))
    assert await changed(m, Post) == {}


# -- the ``specql`` command, as a user runs it --------------------------------

MODELS = """
import msgspec
from app import Registry

class Post(msgspec.Struct):
    title: str
{extra}
registry = Registry()
registry.add_model(Post, name="post")
"""


def models_file(folder: Path, name: str, extra: str = "") -> str:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(MODELS.format(extra=extra)))
    return str(path)


def specql(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECQL_")}
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="100")
    return subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
        check=False,
    )


async def write_posts(data_dir: Path) -> None:
    class Post(msgspec.Struct):  # what models_file(..., extra="") holds
        title: str

    reg = Registry()
    reg.add_model(Post, name="post")
    m = await reg.open(Settings(profile="disk", data_dir=str(data_dir)))
    await m.create("post", Post("a"))
    await m.close()


@pytest.mark.slow
async def test_serve_and_db_current_refuse_an_unreadable_model_in_one_line(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    await write_posts(data_dir)
    new = models_file(tmp_path, "with_subtitle", "    subtitle: str\n")
    where = ["--data-dir", str(data_dir)]
    line = f"error: {SUBTITLE}"

    served = specql("serve", new, "--port", "0", *where)
    assert served.returncode != 0
    # the server's log prefix, then the line; no traceback
    told = [text for text in served.stderr.splitlines() if "error: " in text]
    assert len(told) == 1 and told[0].endswith(line), served.stderr
    assert "Traceback" not in served.stderr, served.stderr

    current = specql("db", "current", new, *where)
    assert current.returncode != 0
    assert current.stderr.strip() == line, current.stderr
    assert "post: stored resources do not fit the model" in current.stdout

    upgrade = specql("db", "upgrade", new, *where)
    assert upgrade.returncode != 0
    assert upgrade.stderr.strip() == line, upgrade.stderr


@pytest.mark.slow
async def test_db_current_and_upgrade_accept_a_compatible_model(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    await write_posts(data_dir)
    wider = models_file(tmp_path, "wider", '    subtitle: str = ""\n')
    where = ["--data-dir", str(data_dir)]

    current = specql("db", "current", wider, *where)
    assert current.returncode == 0, current.stdout + current.stderr
    assert "post: up to date" in current.stdout
    upgrade = specql("db", "upgrade", wider, *where)
    assert upgrade.returncode == 0, upgrade.stderr
    assert upgrade.stdout.strip() == "post: recorded its changed field shapes"
    again = specql("db", "upgrade", wider, *where)
    assert again.stdout.strip() == "already up to date: nothing to do"
