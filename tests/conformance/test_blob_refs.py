"""Blob references are checked on every write (correctness sweep, item 9).

A ``Binary`` must name a blob that was uploaded, with the size it has
(else VALIDATION_FAILED at the Binary's path); its content type is the one
given at upload, whatever the writer sent. Each write asks the blob store
once, however many Binary values it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import pytest

from app import Binary, Registry, ValidationFailedError

NEVER = "ab" * 32  # a digest no test uploads


class Attachment(msgspec.Struct):
    name: str
    file: Binary


class Folder(msgspec.Struct):
    title: str
    cover: Binary | None = None
    items: list[Attachment] = []
    extra: dict[str, Binary] = {}


@pytest.fixture
async def blobs_manager(open_manager: Any) -> Any:
    registry = Registry()
    registry.add_model(Folder, indexed=["title"])
    manager = await open_manager(registry)
    calls: list[Sequence[str]] = []
    real = manager.stores.blobs.stat

    async def counted(digests: Sequence[str]) -> Any:
        calls.append(list(digests))
        return await real(digests)

    manager.stores.blobs.stat = counted  # counts calls to the real store
    manager.stat_calls = calls
    return manager


def problem_paths(exc: ValidationFailedError) -> dict[str, str]:
    return {p.path: p.message for p in exc.problems}


async def test_a_digest_never_uploaded_is_refused_on_every_write(blobs_manager):
    m = blobs_manager
    made = await m.create("folder", Folder("f"))
    draft = await m.create("folder", Folder("d"), status="draft")
    missing = Binary(NEVER, 14, "text/plain")
    writes = {
        "create": lambda: m.create("folder", Folder("x", cover=missing)),
        "update": lambda: m.update("folder", made.id, Folder("x", cover=missing)),
        "create_or_update": lambda: m.create_or_update(
            "folder", made.id, Folder("x", cover=missing)
        ),
        "patch": lambda: m.patch(
            "folder",
            made.id,
            [{"op": "add", "path": "/cover", "value": msgspec.to_builtins(missing)}],
        ),
        "modify": lambda: m.modify("folder", draft.id, Folder("x", cover=missing)),
    }
    for name, write in writes.items():
        with pytest.raises(ValidationFailedError) as caught:
            await write()
        assert caught.value.code == "VALIDATION_FAILED", name
        paths = problem_paths(caught.value)
        assert list(paths) == ["$.cover"], (name, paths)
        assert NEVER in paths["$.cover"] and "upload" in paths["$.cover"], name
    assert (await m.get("folder", made.id)).data == Folder("f")
    assert (await m.get_meta("folder", made.id)).revision_count == 1
    assert await m.count("folder") == 2


async def test_a_wrong_size_is_refused_naming_both_sizes(blobs_manager):
    m = blobs_manager
    blob = await m.put_blob(b"fourteen bytes", "text/plain")
    assert blob.size == 14
    with pytest.raises(ValidationFailedError) as caught:
        await m.create("folder", Folder("x", cover=Binary(blob.digest, 999, "text/plain")))
    message = problem_paths(caught.value)["$.cover"]
    assert "14" in message and "999" in message


async def test_the_content_type_comes_from_the_store(blobs_manager):
    m = blobs_manager
    blob = await m.put_blob(b"<png bytes>", "image/png")
    assert blob.content_type == "image/png"
    for sent in ("text/html", None):
        made = await m.create("folder", Folder("x", cover=Binary(blob.digest, blob.size, sent)))
        assert made.data.cover == blob
        assert (await m.get("folder", made.id)).data.cover == blob
    untyped = await m.put_blob(b"no type given")
    assert untyped.content_type is None
    made = await m.create("folder", Folder("y", cover=Binary(untyped.digest, 13, "text/html")))
    assert (await m.get("folder", made.id)).data.cover == untyped
    # a second upload of the same content keeps the first content type
    assert await m.put_blob(b"<png bytes>", "text/plain") == blob


async def test_nested_references_are_checked_with_their_paths_in_one_store_call(blobs_manager):
    m = blobs_manager
    a = await m.put_blob(b"a", "text/a")
    b = await m.put_blob(b"b", "text/b")
    m.stat_calls.clear()
    folder = Folder(
        "x",
        cover=a,
        items=[Attachment("one", a), Attachment("two", Binary(NEVER, 1)), Attachment("3", b)],
        extra={"k": Binary(b.digest, 5, None)},
    )
    with pytest.raises(ValidationFailedError) as caught:
        await m.create("folder", folder)
    assert sorted(problem_paths(caught.value)) == ['$.extra["k"]', "$.items[1].file"]
    assert len(m.stat_calls) == 1 and sorted(m.stat_calls[0]) == sorted({a.digest, b.digest, NEVER})


async def test_create_many_checks_every_item_in_one_store_call(blobs_manager):
    m = blobs_manager
    a = await m.put_blob(b"a", "text/a")
    m.stat_calls.clear()
    items = [Folder("0", cover=a), Folder("1", cover=Binary(NEVER, 1)), Folder("2")]
    with pytest.raises(ValidationFailedError) as caught:
        await m.create_many("folder", items)
    assert list(problem_paths(caught.value)) == ["$[1].cover"]
    assert len(m.stat_calls) == 1
    assert await m.count("folder") == 0
    made = await m.create_many("folder", [Folder("0", cover=Binary(a.digest, 1)), Folder("2")])
    assert made[0].data.cover == a
    assert len(m.stat_calls) == 2


async def test_writes_without_blobs_do_not_ask_the_blob_store(blobs_manager):
    m = blobs_manager
    await m.create("folder", Folder("plain"))
    assert m.stat_calls == []
