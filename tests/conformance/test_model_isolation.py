"""Models are separate namespaces: one resource id may exist in two models,
each with its own history, revisions, updates and purge."""

from __future__ import annotations

import pytest

from app import NotFoundError
from tests.models import Doc, User


async def test_same_id_in_two_models_keeps_separate_histories(manager):
    await manager.create(Doc, Doc("doc"), resource_id="shared")
    await manager.create(User, {"name": "Ann", "email": "ann@x"}, resource_id="shared")
    doc_rev = (await manager.update(Doc, "shared", Doc("doc 2"))).revision_id

    doc_history = await manager.history(Doc, "shared")
    user_history = await manager.history(User, "shared")
    assert [r.number for r in doc_history.items] == [2, 1]
    assert [r.number for r in user_history.items] == [1]
    assert {r.model for r in doc_history.items} == {"doc"}

    with pytest.raises(NotFoundError):  # a doc revision is not a user revision
        await manager.get(User, "shared", revision_id=doc_rev)

    await manager.purge(Doc, "shared")
    assert not await manager.exists(Doc, "shared", include_deleted=True)
    assert (await manager.get(User, "shared")).data.name == "Ann"
    assert [r.number for r in (await manager.history(User, "shared")).items] == [1]
