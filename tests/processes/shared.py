"""Models and helpers shared by the subprocess scripts and the tests that run them.

The scripts import this module as ``shared`` (their own directory is on
``sys.path``); the tests load it by file path (see ``harness.load``). Both sides
register the same models, so a store written by a child process reads back
in the test process.
"""

import msgspec

from app import Registry, ResourceManager, Settings

# tag values the crash writer uses
WORDS = ["red", "green", "blue", "amber", "teal", "plum", "sand", "onyx"]


class Doc(msgspec.Struct):
    """What the crash writer creates and updates."""

    title: str
    n: int
    writer: str = ""
    tags: list[str] = []
    body: str = ""


class Counter(msgspec.Struct):
    """What the concurrent processes increment (``value``) or overwrite (``note``)."""

    name: str
    value: int = 0
    note: str = ""


def make_registry() -> Registry:
    registry = Registry()
    registry.add_model(Doc, indexed=["title", "n", "tags"])
    registry.add_model(Counter, indexed=["name", "value"])
    return registry


def disk_settings(data_dir: str, revisions: str) -> Settings:
    return Settings(profile="disk", data_dir=data_dir, revisions=revisions)  # type: ignore[arg-type]


async def open_store(data_dir: str, revisions: str) -> ResourceManager:
    return await make_registry().open(disk_settings(data_dir, revisions))


def say(*parts: object) -> None:
    """One progress line on stdout, flushed at once (the parent reads it live)."""
    print(*parts, flush=True)
