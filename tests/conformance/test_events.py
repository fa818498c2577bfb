"""Event hooks before and after each action."""

from __future__ import annotations

import pytest

from app import Event
from tests.models import Doc

ACTIONS = [
    "create",
    "update",
    "patch",
    "modify",
    "set_status",
    "delete",
    "restore",
    "switch",
    "purge",
]


class Refused(Exception):
    """Raised by a before-hook to abort a write."""


async def prepared(manager):
    """A draft doc with two revisions, soft-deleted so every action has a target state."""
    created = await manager.create("doc", Doc("v1"), status="draft")
    second = await manager.update("doc", created.id, Doc("v2"), status="draft")
    return created.id, created.revision_id, second.revision_id


def perform(manager, action, rid, first_revision):
    """The call that performs ``action`` on the doc made by ``prepared``."""
    return {
        "create": lambda: manager.create("doc", Doc("new")),
        "update": lambda: manager.update("doc", rid, Doc("v3")),
        "patch": lambda: manager.patch("doc", rid, [{"op": "add", "path": "/body", "value": "b"}]),
        "modify": lambda: manager.modify("doc", rid, Doc("v2 edited")),
        "set_status": lambda: manager.set_status("doc", rid),
        "delete": lambda: manager.delete("doc", rid),
        "restore": lambda: manager.restore("doc", rid),
        "switch": lambda: manager.switch("doc", rid, first_revision),
        "purge": lambda: manager.purge("doc", rid),
    }[action]()


async def snapshot(manager):
    """Everything a write could change about the docs of a manager."""
    found = await manager.search("doc", include_deleted=True, sort=["id"])
    state = []
    for r in found.items:
        history = await manager.history("doc", r.id)
        state.append((r.meta, r.data, [h.data_hash for h in history.items]))
    return state


@pytest.mark.parametrize("action", ACTIONS)
async def test_hooks_run_before_and_after_each_action(manager, registry, action):
    rid, first, _ = await prepared(manager)
    if action == "restore":
        await manager.delete("doc", rid)
    calls = []

    @registry.on(f"before_{action}")
    def before(event):
        calls.append(("before", event.action, event.model, event.user))

    @registry.on(f"after_{action}", model="doc")
    async def after(event):
        calls.append(("after", event.action, event.model, event.user))

    async with manager.using(user="hooked"):
        await perform(manager, action, rid, first)
    assert calls == [
        ("before", action, "doc", "hooked"),
        ("after", action, "doc", "hooked"),
    ]


@pytest.mark.parametrize("action", ACTIONS)
async def test_raising_before_hook_aborts_with_nothing_written(manager, registry, action):
    rid, first, _ = await prepared(manager)
    if action == "restore":
        await manager.delete("doc", rid)
    after_calls: list[Event] = []

    @registry.on(f"before_{action}")
    def refuse(event):
        raise Refused(event.action)

    registry.on(f"after_{action}")(after_calls.append)
    before = await snapshot(manager)
    with pytest.raises(Refused):
        await perform(manager, action, rid, first)
    assert await snapshot(manager) == before
    assert after_calls == []


async def test_hook_sees_the_new_data_and_ids(manager, registry):
    seen: list[Event] = []
    registry.on("before_create")(seen.append)
    registry.on("after_update")(seen.append)
    created = await manager.create("doc", Doc("a"))
    updated = await manager.update("doc", created.id, Doc("b"))
    before_create, after_update = seen
    assert before_create.data == Doc("a")
    assert before_create.resource_id == created.id
    assert before_create.revision_id == created.revision_id
    assert after_update.data == Doc("b")
    assert after_update.revision_id == updated.revision_id


async def test_hooks_for_another_model_do_not_run(manager, registry):
    seen: list[Event] = []
    registry.on("before_create", model="article")(seen.append)
    await manager.create("doc", Doc("a"))
    assert seen == []


async def test_failing_after_hook_keeps_the_write(manager, registry, caplog):
    @registry.on("after_create")
    def broken(event):
        raise Refused("after")

    created = await manager.create("doc", Doc("kept"))
    assert (await manager.get("doc", created.id)).data.title == "kept"
    assert "after_create hook failed" in caplog.text


async def test_unchanged_update_fires_no_after_hook(manager, registry):
    created = await manager.create("doc", Doc("a"))
    seen: list[Event] = []
    registry.on("after_update")(seen.append)
    assert not (await manager.update("doc", created.id, Doc("a"))).changed
    assert seen == []


def test_unknown_event_name_is_refused(registry):
    with pytest.raises(ValueError):
        registry.on("before_explode")(print)
