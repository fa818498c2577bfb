"""Delete and purge with their cascades, inside one meta transaction.

The removal walks referrers through the index: ``restrict`` refuses,
``cascade`` removes them too (cycles end at resources already visited),
``set_null`` appends one revision per referrer with the id cleared from every
field that held it. All of it commits or rolls back together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.errors import ReferencedError, ResourceDeletedError
from app.records import Referrer, ResourceMeta
from app.resources.events import Action, Event
from app.resources.refs import without_ref
from app.storage.base import (
    AppendRevision,
    MarkDeleted,
    MetaTransaction,
    NewRevision,
    PurgeResource,
    RevisionKey,
)
from app.types import OnDelete

if TYPE_CHECKING:
    from app.resources.manager import ResourceManager, _Model


class Removal:
    """One delete or purge with its cascades, inside one meta transaction."""

    def __init__(self, manager: ResourceManager, purge: bool, who: str, at: int) -> None:
        self.manager = manager
        self.purge = purge
        self.who = who
        self.at = at
        self.visited: set[tuple[str, str]] = set()
        self.events: list[Event] = []
        self.dropped_payloads: list[RevisionKey] = []
        self.staged: list[tuple[_Model, NewRevision]] = []

    async def remove(
        self, tx: MetaTransaction, m: _Model, resource_id: str, cause: tuple[str, str] | None
    ) -> ResourceMeta:
        mgr = self.manager
        name = m.spec.name
        self.visited.add((name, resource_id))
        stored = (await tx.load(name, [resource_id]))[0]
        mgr._require(m, resource_id, stored, include_deleted=True)
        assert stored is not None
        if stored.meta.is_deleted and not self.purge:
            raise ResourceDeletedError(name, resource_id, "deleting it again")
        action: Action = "purge" if self.purge else "delete"
        event = Event(action, name, resource_id, self.who, cascade_from=cause)
        await mgr.hooks.fire("before", event)
        referrers = await tx.referrers(name, [resource_id], live_only=not self.purge)
        referrers = [r for r in referrers if (r.model, r.resource_id) not in self.visited]
        blocking = [r for r in referrers if self._mode(r) == "restrict"]
        if blocking:
            raise ReferencedError(name, resource_id, blocking)
        cleared: dict[tuple[str, str], list[str]] = {}
        for r in referrers:
            mode = self._mode(r)
            if mode == "cascade" and (r.model, r.resource_id) not in self.visited:
                if self.purge or not r.is_deleted:
                    await self.remove(tx, mgr._model(r.model), r.resource_id, (name, resource_id))
            elif mode == "set_null":
                cleared.setdefault((r.model, r.resource_id), []).append(r.field)
        for (model, referrer_id), fields in cleared.items():
            if (model, referrer_id) not in self.visited:  # not cascaded away meanwhile
                await self._clear_refs(
                    tx, mgr._model(model), referrer_id, fields, (name, resource_id)
                )
        if self.purge:
            keys = (await tx.apply([PurgeResource(name, resource_id)]))[0]
            self.dropped_payloads += keys
            meta = stored.meta
        else:
            marked = await tx.apply([MarkDeleted(name, resource_id, True, self.at, self.who)])
            meta = marked[0].meta
        self.events.append(event)
        return meta

    def _mode(self, r: Referrer) -> OnDelete:
        field = self.manager._model(r.model).spec.indexed[r.field]
        assert field.ref is not None
        return field.ref.on_delete

    async def _clear_refs(
        self,
        tx: MetaTransaction,
        rm: _Model,
        resource_id: str,
        fields: list[str],
        cause: tuple[str, str],
    ) -> None:
        """One revision of the referrer with the target's id cleared from every
        set_null field that held it."""
        mgr = self.manager
        name = rm.spec.name
        stored = (await tx.load(name, [resource_id], with_payload=mgr._inline))[0]
        if stored is None:
            return
        data: Any = (await mgr._with_data(rm, [stored]))[0].data
        for path in fields:
            data = without_ref(data, rm.spec.indexed[path], cause[1])
        obj, rev = await mgr._prepare(rm, data, stored.meta.status, self.who, self.at)
        rev.refs = []  # the write only removes ids: nothing new to check
        event = Event(
            "update", name, resource_id, self.who, obj, rev.revision_id, cascade_from=cause
        )
        await mgr.hooks.fire("before", event)
        await mgr._put_payloads(rm, [rev])
        self.staged.append((rm, rev))
        await tx.apply(
            [AppendRevision(name, resource_id, rev, rm.spec.schema_version, allow_deleted=True)]
        )
        self.events.append(event)
