"""ResourceManager: the only way to touch data.

Every write follows one order: validate and encode the new data (nothing is
written if that fails), run before-hooks, write immutable payloads, then
commit the meta change in one transaction whose checks (current revision,
uniqueness, references) run inside it. A crash at any point therefore leaves
no meta pointing at a missing payload, and concurrent writers are serialized
on the current-revision pointer: no update is lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeGuard

import msgspec

from app.config import Settings
from app.errors import (
    BadRequestError,
    ConflictError,
    DraftConflictError,
    FieldProblem,
    LimitExceededError,
    NotFoundError,
    ResourceDeletedError,
    ResourceExistsError,
    RevisionConflictError,
    StorageError,
    ValidationFailedError,
)
from app.records import (
    Page,
    Referrer,
    Resource,
    ResourceMeta,
    RevisionInfo,
    WriteResult,
)
from app.resources import blobs
from app.resources.codec import ModelCodec, data_hash
from app.resources.compat import check_stored
from app.resources.context import OperationScope, acting
from app.resources.events import Action, Event, Hooks
from app.resources.indexing import from_db, make_extractor, make_text_check, to_db
from app.resources.patching import apply_patch, parse_patch
from app.resources.refs import ref_checks
from app.resources.removal import Removal
from app.resources.spec import ResourceSpec
from app.search.compile import (
    MAX_IN_VALUES,
    Partition,
    compile_count,
    compile_search,
    encode_cursor,
    resolve,
)
from app.search.query import And, Condition, Filter, SearchQuery, SortKey, parse_where
from app.storage.base import (
    AppendRevision,
    CompiledSearch,
    EditResult,
    InsertResource,
    MarkDeleted,
    NewRevision,
    RefCheck,
    ReplaceDraft,
    RevisionKey,
    SetStatus,
    StoredResource,
    SwitchRevision,
    WriteOp,
)
from app.storage.profiles import Stores
from app.types import Binary, RevisionStatus, new_id

_RETRIES = 200  # optimistic retries of read-modify-write calls, with jittered backoff
_MAX_ID = 128
_REREADS = 5  # reads of a draft whose payload an in-place edit retired meanwhile

log = logging.getLogger("specql.manager")


async def _backoff(attempt: int) -> None:
    """Sleep a random while that grows with the attempt (up to 50 ms), so
    competing writers spread out instead of colliding again."""
    await asyncio.sleep(random.uniform(0, min(0.05, 0.0005 * 2 ** min(attempt, 10))))


def _blob_digest(digest: Any) -> str:
    if not _is_digest(digest):
        raise BadRequestError(f"{digest!r} is not a SHA-256 digest")
    return digest


def _is_digest(digest: Any) -> TypeGuard[str]:
    return (
        isinstance(digest, str)
        and len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
    )


def _scoped(path: str, op: str, value: Any, where: Filter | Mapping[str, Any] | None) -> Filter:
    """``path op value`` and ``where``, in the shape the dict form
    ``{path: {op: value}, "and": [where]}`` parses to, so the cursors of a
    per-parent page continue in an ordinary search with that filter."""
    if where is None:
        return Condition(path, op, value)  # type: ignore[arg-type]
    if isinstance(where, Mapping):
        found = parse_where({path: {op: value}, "and": [where]})
        assert found is not None
        return found
    return And([Condition(path, op, value), where])  # type: ignore[arg-type]


def _chunks(values: list[Any]) -> list[list[Any]]:
    """Partitions of at most ``MAX_IN_VALUES`` values (none for no values)."""
    return [values[i : i + MAX_IN_VALUES] for i in range(0, len(values), MAX_IN_VALUES)]


def _history_cursor(after: Any) -> int | None:
    """The revision number a history cursor stands for (pages go below it)."""
    if after is None:
        return None
    if not (isinstance(after, str) and after.isascii() and after.isdigit() and len(after) <= 12):
        raise BadRequestError(f"history cursor {after!r} is not one this API issued")
    return int(after)


MTIME_RESOLUTION = 1.0  # seconds: the coarsest modification time a store reports


def _valid_id(value: Any, what: str = "resource id") -> None:
    """Ids are 1 to 128 printable characters without path separators or
    whitespace at either end (so an id that looks empty cannot exist)."""
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= _MAX_ID
        or not value.isprintable()
        or value.strip() != value
        or "/" in value
        or "\\" in value
    ):
        shown = msgspec.json.encode(value).decode() if isinstance(value, str) else "this value"
        raise BadRequestError(
            f"{what} {shown} must be 1 to {_MAX_ID} printable characters, without slashes "
            "and without whitespace at the start or end"
        )


@dataclasses.dataclass
class OrphanReport:
    """What ``collect_orphans`` found: payloads listed, orphans, orphans deleted."""

    scanned: int = 0
    orphans: list[RevisionKey] = dataclasses.field(default_factory=list)
    deleted: int = 0


class _Model:
    """Everything the manager precomputes for one registered model."""

    def __init__(self, spec: ResourceSpec, settings: Settings) -> None:
        self.spec = spec
        self.codec = ModelCodec(spec.name, spec.model, settings.payload_format)
        self.extract = make_extractor(spec)
        self.check_text = make_text_check(spec)
        self.has_blobs = blobs.mentions_binary(spec.model)


class ResourceManager:
    """Creates, reads, searches and changes resources of registered models.

    Obtain one with ``await registry.open(...)``; close it with ``await
    manager.close()`` or use it as ``async with``. Model arguments are
    registry names (``"post"``) or the registered Struct classes.
    """

    def __init__(
        self, specs: Mapping[str, ResourceSpec], stores: Stores, settings: Settings, hooks: Hooks
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.hooks = hooks
        self._models = {name: _Model(spec, settings) for name, spec in specs.items()}
        self._by_class = {spec.model: name for name, spec in specs.items()}
        self._inline = stores.meta.capabilities.inline_payloads
        self._dialect = getattr(stores.meta, "dialect_name", "sqlite")

    async def __aenter__(self) -> ResourceManager:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.stores.close()

    # -- context -----------------------------------------------------------
    async def ping(self) -> None:
        """Check that every store answers (for readiness probes).

        Raises:
            StorageError: one does not; the message names it.
        """
        for name, problem in (await self.stores.readiness()).items():
            if problem is not None:
                raise StorageError(f"{name} store: {problem}")

    async def readiness(self) -> dict[str, bool]:
        """Per store (meta, and revisions and blobs where they are remote):
        whether it answered just now. Failures are logged, not returned."""
        found = await self.stores.readiness()
        for name, problem in found.items():
            if problem is not None:
                log.warning("readiness: the %s store does not answer: %s", name, problem)
        return {name: problem is None for name, problem in found.items()}

    def using(self, *, user: str | None = None, now: dt.datetime | None = None) -> OperationScope:
        """Act as ``user`` (and at ``now``) for writes inside ``with``/``async with``."""
        return OperationScope(user, now)

    def _acting(self, user: str | None, now: dt.datetime | None) -> tuple[str, int]:
        return acting(
            user, now, default_user=self.settings.default_user, strict=self.settings.strict_context
        )

    def _model(self, model: str | type) -> _Model:
        name = self._by_class.get(model, model) if isinstance(model, type) else model
        found = self._models.get(name) if isinstance(name, str) else None
        if found is None:
            known = ", ".join(sorted(self._models)) or "none"
            raise NotFoundError(
                f"unknown model {model!r}; registered models: {known}", model=str(model)
            )
        return found

    @property
    def specs(self) -> dict[str, ResourceSpec]:
        return {name: m.spec for name, m in self._models.items()}

    # -- reads -------------------------------------------------------------
    async def get(
        self,
        model: str | type,
        resource_id: str,
        *,
        revision_id: str | None = None,
        include_deleted: bool = False,
    ) -> Resource[Any]:
        """The current data of a resource, or the data at ``revision_id``.

        Raises:
            NotFoundError: no such resource (or it is deleted and
                ``include_deleted`` is false), or the revision is not one of
                this resource's.
        """
        m = self._model(model)
        _valid_id(resource_id)
        if revision_id is not None:
            _valid_id(revision_id, "revision id")
        if revision_id is None:
            stored = (
                await self.stores.meta.load(m.spec.name, [resource_id], with_payload=self._inline)
            )[0]
            if stored is None or (stored.meta.is_deleted and not include_deleted):
                self._require(m, resource_id, stored, include_deleted)
            assert stored is not None
            if stored.payload is not None:  # inline: no second round trip
                meta = stored.meta
                return Resource(meta, m.codec.decode(stored.payload), meta.current_revision_id)
            return (await self._with_data(m, [stored]))[0]
        meta = await self.get_meta(model, resource_id, include_deleted=include_deleted)
        payload: bytes | None = None
        for _ in range(_REREADS):
            found = await self.stores.meta.revision(
                m.spec.name, resource_id, revision_id, with_payload=self._inline
            )
            if found is None:
                raise self._no_revision(m, resource_id, revision_id)
            payload = found.payload
            if payload is None:
                key = RevisionKey(m.spec.name, revision_id, found.info.data_hash)
                payload = (await self.stores.revisions.get_many([key]))[0]
            if payload is not None or found.info.status != "draft":
                break  # else: the draft was edited meanwhile and its payload retired
        return Resource(meta, self._decode(m, payload, revision_id), revision_id)

    async def get_many(
        self, model: str | type, resource_ids: Sequence[str], *, include_deleted: bool = False
    ) -> list[Resource[Any] | None]:
        """Current data of many resources in one store round trip, None where
        a resource is missing (or deleted)."""
        m = self._model(model)
        stored = await self.stores.meta.load(
            m.spec.name, list(resource_ids), with_payload=self._inline
        )
        live = [s for s in stored if s is not None and (include_deleted or not s.meta.is_deleted)]
        loaded = {r.meta.resource_id: r for r in await self._with_data(m, live)}
        return [loaded.get(i) for i in resource_ids]

    async def get_meta(
        self, model: str | type, resource_id: str, *, include_deleted: bool = True
    ) -> ResourceMeta:
        m = self._model(model)
        _valid_id(resource_id)
        stored = (await self.stores.meta.load(m.spec.name, [resource_id]))[0]
        self._require(m, resource_id, stored, include_deleted)
        assert stored is not None
        return stored.meta

    async def exists(
        self, model: str | type, resource_id: str, *, include_deleted: bool = False
    ) -> bool:
        m = self._model(model)
        _valid_id(resource_id)
        stored = (await self.stores.meta.load(m.spec.name, [resource_id]))[0]
        return stored is not None and (include_deleted or not stored.meta.is_deleted)

    async def history(
        self, model: str | type, resource_id: str, *, limit: int = 20, after: str | None = None
    ) -> Page[RevisionInfo]:
        """Revisions of a resource, newest first, a page at a time.

        Raises:
            NotFoundError: no such resource.
            BadRequestError: ``after`` is not a cursor of a history page.
        """
        m = self._model(model)
        _valid_id(resource_id)
        self._check_limit(limit)
        before = _history_cursor(after)
        await self.get_meta(model, resource_id)
        return (await self._history_pages(m, [resource_id], limit, before))[0]

    async def history_many(
        self,
        model: str | type,
        resource_ids: Sequence[str],
        *,
        limit: int = 20,
        after: str | None = None,
    ) -> list[Page[RevisionInfo]]:
        """For each resource, the page ``history`` gives (``after`` applies to
        every one), in one store round trip; an unknown id gets an empty page.

        Raises:
            BadRequestError: an invalid id, or ``after`` is not a history cursor.
        """
        m = self._model(model)
        for resource_id in resource_ids:
            _valid_id(resource_id)
        self._check_limit(limit)
        return await self._history_pages(m, resource_ids, limit, _history_cursor(after))

    async def _history_pages(
        self, m: _Model, resource_ids: Sequence[str], limit: int, before: int | None
    ) -> list[Page[RevisionInfo]]:
        found = await self.stores.meta.revision_pages(
            m.spec.name, list(resource_ids), limit=limit + 1, before_number=before
        )
        pages = []
        for rows in found:
            more = len(rows) > limit
            rows = rows[:limit]
            pages.append(Page(rows, str(rows[-1].number) if more and rows else None))
        return pages

    async def get_revision_info(
        self, model: str | type, resource_id: str, revision_id: str
    ) -> RevisionInfo:
        m = self._model(model)
        _valid_id(resource_id)
        _valid_id(revision_id, "revision id")
        found = await self.stores.meta.revision(m.spec.name, resource_id, revision_id)
        if found is None:
            await self.get_meta(model, resource_id)
            raise self._no_revision(m, resource_id, revision_id)
        return found.info

    async def get_revision_infos(
        self, model: str | type, keys: Sequence[tuple[str, str]]
    ) -> list[RevisionInfo | None]:
        """Headers of many (resource id, revision id) pairs in one store round
        trip; None where the revision is not one of that resource's."""
        m = self._model(model)
        for resource_id, revision_id in keys:
            _valid_id(resource_id)
            _valid_id(revision_id, "revision id")
        return await self.stores.meta.revision_infos(m.spec.name, list(keys))

    async def search(
        self,
        model: str | type,
        where: Filter | Mapping[str, Any] | None = None,
        *,
        sort: Iterable[str | SortKey] = (),
        limit: int = 20,
        offset: int = 0,
        after: str | None = None,
        before: str | None = None,
        include_deleted: bool = False,
        with_data: bool = True,
        from_end: bool = False,
        with_cursors: bool = False,
    ) -> Page[Any]:
        """Resources matching ``where`` in ``sort`` order, one page.

        The filter and sort run as SQL on the model's index table; paths must
        be indexed (or meta paths: ``id``, ``meta.created_at``, ...). Page by
        ``offset`` or by the cursors of the previous page (``after`` the
        ``next_cursor``, ``before`` the ``prev_cursor``); ``from_end`` gives
        the last page. Items are Resources, or ResourceMetas when
        ``with_data`` is false; ``with_cursors`` adds one cursor per item.

        Raises:
            BadRequestError: unknown or unindexed path, operator that does not
                fit the field, value of the wrong type, or a foreign cursor.
            LimitExceededError: ``limit`` over ``max_page_size``.
        """
        m = self._model(model)
        self._check_limit(limit)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise BadRequestError(f"offset must be a non-negative integer, not {offset!r}")
        query = SearchQuery(
            where=parse_where(where),
            sort=tuple(SortKey.parse(s) for s in ([sort] if isinstance(sort, str) else sort)),
            limit=limit,
            offset=offset,
            after=after,
            before=before,
            include_deleted=include_deleted,
            from_end=from_end,
        )
        fetch_payload = with_data and self._inline
        compiled = compile_search(m.spec, query, with_payload=fetch_payload, dialect=self._dialect)
        rows = await self.stores.meta.search(
            CompiledSearch(
                m.spec.name, compiled.statement, compiled.cursor_positions, compiled.keys
            ),
            with_payload=fetch_payload,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        if compiled.reverse:
            rows.reverse()
        first = rows[0].cursor if rows else None
        last = rows[-1].cursor if rows else None
        forward_more = more if not compiled.reverse else before is not None
        backward_more = (after is not None or offset > 0) if not compiled.reverse else more
        items: list[Any] = (await self._with_data(m, rows)) if with_data else [r.meta for r in rows]
        return Page(
            items,
            next_cursor=encode_cursor(compiled.fingerprint, last)
            if forward_more and last is not None
            else None,
            prev_cursor=encode_cursor(compiled.fingerprint, first)
            if backward_more and first is not None
            else None,
            cursors=[encode_cursor(compiled.fingerprint, r.cursor or ()) for r in rows]
            if with_cursors
            else None,
        )

    async def search_related(
        self,
        model: str | type,
        path: str,
        values: Sequence[Any],
        where: Filter | Mapping[str, Any] | None = None,
        *,
        sort: Iterable[str | SortKey] = (),
        limit: int = 20,
        include_deleted: bool = False,
        with_data: bool = True,
        with_cursors: bool = False,
        from_end: bool = False,
    ) -> list[Page[Any]]:
        """For each of ``values``, the first page (``from_end``: the last) of
        resources whose ``path`` holds it (equals it, or for a list field
        contains it) and that match ``where``: the referrer lists of many
        parents in one query per ``MAX_IN_VALUES`` distinct values. Each
        page's items and cursors are the ones ``search(where={path: {"eq":
        value}, "and": [where]}, ...)`` would give, so its next page is an
        ordinary search.
        """
        m = self._model(model)
        self._check_limit(limit)
        field = resolve(m.spec, path)
        keys = tuple(SortKey.parse(s) for s in ([sort] if isinstance(sort, str) else sort))
        query = SearchQuery(
            where=parse_where(where),
            sort=keys,
            limit=limit,
            include_deleted=include_deleted,
            from_end=from_end,
        )
        fetch_payload = with_data and self._inline
        convert = from_db(field)  # the database's values and ours compare alike
        pages: dict[Any, Page[Any]] = {}
        for chunk in _chunks(list(dict.fromkeys(values))):
            compiled = compile_search(
                m.spec,
                query,
                with_payload=fetch_payload,
                dialect=self._dialect,
                partition=Partition(field, chunk),
            )
            rows = await self.stores.meta.search(
                CompiledSearch(m.spec.name, compiled.statement, compiled.cursor_positions),
                with_payload=fetch_payload,
            )
            items: list[Any] = (
                (await self._with_data(m, rows)) if with_data else [r.meta for r in rows]
            )
            grouped: dict[Any, list[tuple[Any, Any]]] = {}
            for row, item in zip(rows, items, strict=True):
                assert row.cursor is not None
                *cursor, value = row.cursor
                grouped.setdefault(convert(value), []).append((tuple(cursor), item))
            for value in chunk:
                found = grouped.get(convert(to_db(field, value)), [])
                page_rows, more = found[:limit], len(found) > limit
                if from_end:
                    page_rows.reverse()
                fingerprint = compile_search(
                    m.spec,
                    msgspec.structs.replace(query, where=_scoped(path, "eq", value, where)),
                    with_payload=fetch_payload,
                    dialect=self._dialect,
                ).fingerprint
                cursors = [encode_cursor(fingerprint, c) for c, _ in page_rows]
                pages[value] = Page(
                    [item for _, item in page_rows],
                    next_cursor=cursors[-1] if more and cursors and not from_end else None,
                    prev_cursor=cursors[0] if more and cursors and from_end else None,
                    cursors=cursors if with_cursors else None,
                )
        return [pages[v] for v in values]

    async def count_related(
        self,
        model: str | type,
        path: str,
        values: Sequence[Any],
        where: Filter | Mapping[str, Any] | None = None,
        *,
        include_deleted: bool = False,
    ) -> list[int]:
        """For each of ``values``, how many resources hold it at ``path`` (and
        match ``where``), in one query per ``MAX_IN_VALUES`` distinct values."""
        m = self._model(model)
        field = resolve(m.spec, path)
        query = SearchQuery(where=parse_where(where), include_deleted=include_deleted)
        convert = from_db(field)  # the database's values and ours compare alike
        by_value: dict[Any, int] = {}
        for chunk in _chunks(list(dict.fromkeys(values))):
            statement = compile_count(
                m.spec, query, dialect=self._dialect, group=Partition(field, chunk)
            )
            groups = await self.stores.meta.count_groups(CompiledSearch(m.spec.name, statement))
            by_value.update((convert(k), n) for k, n in groups)
        return [by_value.get(convert(to_db(field, v)), 0) for v in values]

    async def count(
        self,
        model: str | type,
        where: Filter | Mapping[str, Any] | None = None,
        *,
        include_deleted: bool = False,
    ) -> int:
        m = self._model(model)
        query = SearchQuery(where=parse_where(where), include_deleted=include_deleted)
        statement = compile_count(m.spec, query, dialect=self._dialect)
        return await self.stores.meta.count(CompiledSearch(m.spec.name, statement))

    async def referrers(
        self, model: str | type, resource_id: str, *, include_deleted: bool = False
    ) -> list[Referrer]:
        """Resources whose ref fields point at this one, found through the index."""
        m = self._model(model)
        _valid_id(resource_id)
        return await self.stores.meta.referrers(
            m.spec.name, [resource_id], live_only=not include_deleted
        )

    # -- writes ------------------------------------------------------------
    async def create(
        self,
        model: str | type,
        data: Any,
        *,
        resource_id: str | None = None,
        status: RevisionStatus = "stable",
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> WriteResult[Any]:
        """Validate and store a new resource; its first revision is ``status``.

        Raises:
            ValidationFailedError: every problem of the data, with paths.
            UniqueViolationError: a Unique value is taken.
            ConflictError: ``resource_id`` is taken.
            LimitExceededError: the encoded data is over ``max_payload_bytes``.
        """
        m = self._model(model)
        self._check_status(status)
        who, at = self._acting(user, now)
        obj, rev = await self._prepare(m, data, status, who, at)
        rid = resource_id if resource_id is not None else m.spec.id_generator()
        return (await self._insert(m, [(obj, rev, rid)], who))[0]

    async def create_many(
        self,
        model: str | type,
        items: Sequence[Any],
        *,
        resource_ids: Sequence[str | None] | None = None,
        status: RevisionStatus = "stable",
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> list[WriteResult[Any]]:
        """Create many resources in one transaction: all are stored or none.

        Validation problems of every item are reported together, each path
        prefixed with the item's index (``$[3].price``).
        """
        m = self._model(model)
        self._check_status(status)
        if len(items) > self.settings.max_batch_size:
            raise LimitExceededError("batch size", self.settings.max_batch_size, len(items))
        ids = list(resource_ids) if resource_ids is not None else [None] * len(items)
        if len(ids) != len(items):
            raise BadRequestError("resource_ids must match items one to one")
        who, at = self._acting(user, now)
        if len(items) == 1:
            prepared = [await self._prepare(m, items[0], status, who, at)]
        else:
            prepared = await self._prepare_many(m, items, status, who, at)
        entries = [
            (obj, rev, rid if rid is not None else m.spec.id_generator())
            for (obj, rev), rid in zip(prepared, ids, strict=True)
        ]
        return await self._insert(m, entries, who)

    async def _insert(
        self, m: _Model, entries: Sequence[tuple[Any, NewRevision, str]], who: str
    ) -> list[WriteResult[Any]]:
        """Store validated new resources in one transaction, with hooks."""
        name = m.spec.name
        ops = []
        for obj, rev, rid in entries:
            _valid_id(rid)
            await self._hook("before", "create", name, rid, who, obj, rev.revision_id)
            ops.append(InsertResource(name, rid, rev, m.spec.schema_version))
        stored = await self._commit(m, [op.revision for op in ops], ops)
        results = [
            WriteResult(Resource(s.meta, obj, rev.revision_id))
            for s, (obj, rev, _) in zip(stored, entries, strict=True)
        ]
        for r in results:
            await self._hook("after", "create", name, r.id, who, r.resource.data, r.revision_id)
        return results

    async def update(
        self,
        model: str | type,
        resource_id: str,
        data: Any,
        *,
        expected_revision_id: str | None = None,
        status: RevisionStatus = "stable",
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> WriteResult[Any]:
        """Replace a resource's data, appending a revision.

        Identical data (and status) appends nothing: ``changed`` is False.
        With ``expected_revision_id``, the update applies only if that
        revision is still current (else RevisionConflictError); without it,
        the update applies after whatever is current.
        """
        m = self._model(model)
        _valid_id(resource_id)
        self._check_status(status)
        who, at = self._acting(user, now)
        obj, rev = await self._prepare(m, data, status, who, at)
        return await self._append(m, resource_id, obj, rev, "update", who, expected_revision_id)

    async def create_or_update(
        self,
        model: str | type,
        resource_id: str,
        data: Any,
        *,
        status: RevisionStatus = "stable",
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> WriteResult[Any]:
        """Update the resource if it exists (even deleted: then CONFLICT), else
        create it with this id."""
        for attempt in range(_RETRIES):
            if attempt:
                await _backoff(attempt)
            if await self.exists(model, resource_id, include_deleted=True):
                return await self.update(
                    model, resource_id, data, status=status, user=user, now=now
                )
            try:
                return await self.create(
                    model, data, resource_id=resource_id, status=status, user=user, now=now
                )
            except ResourceExistsError:
                continue  # created meanwhile: update it on the next round
        raise ConflictError(f"{resource_id!r} keeps changing; try again")

    async def patch(
        self,
        model: str | type,
        resource_id: str,
        patch: Sequence[Mapping[str, Any]],
        *,
        expected_revision_id: str | None = None,
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> WriteResult[Any]:
        """Apply an RFC 6902 JSON Patch to the current data and append the result.

        Paths use the data's (Python) names: ``/owner_id``, ``/items/2/price``.

        Raises:
            BadRequestError: an operation is malformed.
            ConflictError: a ``test`` operation failed, or (with
                ``expected_revision_id``) the resource moved on.
            ValidationFailedError: a path names no field of the model, steps
                into a null or past a list's end; or the patched data is not
                a valid model.
        """
        m = self._model(model)
        _valid_id(resource_id)
        operations = parse_patch(patch)
        who, at = self._acting(user, now)
        for attempt in range(_RETRIES):
            if attempt:
                await _backoff(attempt)
            current = await self.get(model, resource_id, include_deleted=True)
            if current.meta.is_deleted:
                raise ResourceDeletedError(m.spec.name, resource_id, "patching it")
            if expected_revision_id is not None and current.revision_id != expected_revision_id:
                raise RevisionConflictError(resource_id, expected_revision_id, current.revision_id)
            patched = apply_patch(
                m.spec.name, m.spec.model, operations, msgspec.to_builtins(current.data)
            )
            obj, rev = await self._prepare(
                m, m.codec.from_json_like(patched), current.meta.status, who, at
            )
            try:
                return await self._append(
                    m, resource_id, obj, rev, "patch", who, current.revision_id
                )
            except RevisionConflictError:
                if expected_revision_id is not None:
                    raise
        raise ConflictError(f"{resource_id!r} keeps changing; try again")

    async def modify(
        self,
        model: str | type,
        resource_id: str,
        data: Any,
        *,
        expected_revision_id: str | None = None,
        expected_data_hash: str | None = None,
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> WriteResult[Any]:
        """Edit the current revision in place; it must be a draft (else CONFLICT).

        Identical data changes nothing: ``changed`` is False, no time or user
        is recorded and no hook runs. ``expected_data_hash`` is the draft's
        ``RevisionInfo.data_hash`` as the caller read it: the edit applies
        only if the draft still has that data, so of two edits based on one
        read exactly one wins. Without it, concurrent edits apply one after
        the other and the last one stays.

        Raises:
            RevisionConflictError: ``expected_revision_id`` is not current.
            DraftConflictError: the draft's data hash is not ``expected_data_hash``.
            ConflictError: the current revision is stable.
            ResourceDeletedError: the resource is deleted.
        """
        m = self._model(model)
        _valid_id(resource_id)
        if expected_data_hash is not None and not isinstance(expected_data_hash, str):
            raise BadRequestError(f"expected data hash {expected_data_hash!r} must be a string")
        who, at = self._acting(user, now)
        current = (await self.stores.meta.load(m.spec.name, [resource_id]))[0]
        self._require(m, resource_id, current, include_deleted=True)
        assert current is not None
        if current.meta.is_deleted:
            raise ResourceDeletedError(m.spec.name, resource_id, "modifying it")
        target = current.meta.current_revision_id
        if expected_revision_id is not None and expected_revision_id != target:
            raise RevisionConflictError(resource_id, expected_revision_id, target)
        if expected_data_hash is not None and expected_data_hash != current.data_hash:
            raise DraftConflictError(resource_id, expected_data_hash, current.data_hash)
        obj, rev = await self._prepare(m, data, "draft", who, at, revision_id=target)
        if rev.data_hash == current.data_hash and current.meta.status == "draft":
            return WriteResult(await self.get(m.spec.name, resource_id), changed=False)
        await self._hook("before", "modify", m.spec.name, resource_id, who, obj, target)
        result: EditResult = await self._edit_draft(
            m, rev, ReplaceDraft(m.spec.name, resource_id, rev, expected_data_hash)
        )
        if not result.changed:  # a concurrent edit stored this very data first
            return WriteResult(await self.get(m.spec.name, resource_id), changed=False)
        await self._hook("after", "modify", m.spec.name, resource_id, who, obj, target)
        return WriteResult(Resource(result.stored.meta, obj, target))

    async def _edit_draft(self, m: _Model, rev: NewRevision, op: ReplaceDraft) -> EditResult:
        """Apply a draft edit. Its payload key (draft id, data hash) may be one
        a concurrent edit of the same draft writes or retires too, so every
        payload delete is checked against the meta before and after it, and
        the writer puts its payload again if it is current after its commit
        (a retire may have removed it between the put and the commit)."""
        if self._inline:  # the payload is in the meta transaction
            found: EditResult = (await self.stores.meta.apply([op]))[0]
            return found
        key = RevisionKey(m.spec.name, rev.revision_id, rev.data_hash)
        await self.stores.revisions.put_many([(key, rev.payload)])
        try:
            result: EditResult = (await self.stores.meta.apply([op]))[0]
        except Exception:
            await self._retire_payload(op.resource_id, key, rev.payload)
            raise
        if await self._is_current(op.resource_id, key):
            await self.stores.revisions.put_many([(key, rev.payload)])
        if result.changed and result.previous_hash != rev.data_hash:
            old = RevisionKey(m.spec.name, rev.revision_id, result.previous_hash)
            await self._retire_payload(op.resource_id, old, None)
        return result

    async def _is_current(self, resource_id: str, key: RevisionKey) -> bool:
        found = (await self.stores.meta.load(key.model, [resource_id]))[0]
        return (
            found is not None
            and found.meta.current_revision_id == key.revision_id
            and found.data_hash == key.data_hash
        )

    async def _retire_payload(
        self, resource_id: str, key: RevisionKey, payload: bytes | None
    ) -> None:
        """Delete a draft payload its revision no longer names, unless an edit
        made it current again: checked before the delete and after it (then
        it is put back)."""
        if await self._is_current(resource_id, key):
            return
        if payload is None:
            payload = (await self.stores.revisions.get_many([key]))[0]
        await self.stores.revisions.delete_many([key])
        if payload is not None and await self._is_current(resource_id, key):
            await self.stores.revisions.put_many([(key, payload)])

    async def set_status(
        self,
        model: str | type,
        resource_id: str,
        status: RevisionStatus = "stable",
        *,
        revision_id: str | None = None,
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> RevisionInfo:
        """Promote a draft revision (the current one by default) to stable.

        A revision that already has ``status`` is left as it is (no time or
        user recorded, no hook). Hooks: ``before_set_status`` and
        ``after_set_status``, with the revision id and no data.
        """
        m = self._model(model)
        _valid_id(resource_id)
        self._check_status(status)
        who, at = self._acting(user, now)
        meta = await self.get_meta(model, resource_id)
        if meta.is_deleted:
            raise ResourceDeletedError(m.spec.name, resource_id, "changing its status")
        info = await self.get_revision_info(
            model, resource_id, revision_id or meta.current_revision_id
        )
        if info.status == status:
            return info
        if status != "stable":
            raise ConflictError(
                f"revision {info.revision_id!r} is stable; stable revisions never change "
                "back to draft",
                revision_id=info.revision_id,
            )
        name, rid = m.spec.name, info.revision_id
        await self._hook("before", "set_status", name, resource_id, who, None, rid)
        changed = (
            await self.stores.meta.apply([SetStatus(name, resource_id, rid, status, at, who)])
        )[0]
        if changed:
            await self._hook("after", "set_status", name, resource_id, who, None, rid)
        return await self.get_revision_info(model, resource_id, rid)

    async def switch(
        self,
        model: str | type,
        resource_id: str,
        revision_id: str,
        *,
        expected_revision_id: str | None = None,
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> WriteResult[Any]:
        """Point the resource at one of its earlier revisions (history is kept).

        Switching to the current revision changes nothing: ``changed`` is
        False, no time or user is recorded and no hook runs.

        Raises:
            ResourceDeletedError: the resource is deleted.
            NotFoundError: the revision is not one of this resource's.
            RevisionConflictError: ``expected_revision_id`` is not current.
        """
        m = self._model(model)
        _valid_id(resource_id)
        who, at = self._acting(user, now)
        meta = await self.get_meta(model, resource_id)
        if meta.is_deleted:
            raise ResourceDeletedError(m.spec.name, resource_id, "switching its revision")
        target = await self.get(model, resource_id, revision_id=revision_id)
        current = meta.current_revision_id
        if expected_revision_id is not None and expected_revision_id != current:
            raise RevisionConflictError(resource_id, expected_revision_id, current)
        if revision_id == current:
            return WriteResult(target, changed=False)
        values, lists = m.extract(target.data)
        refs = ref_checks(m.spec, values, lists) if m.spec.refs else []
        await self._hook(
            "before", "switch", m.spec.name, resource_id, who, target.data, revision_id
        )
        op = SwitchRevision(
            m.spec.name,
            resource_id,
            revision_id,
            at,
            who,
            values,
            lists,
            expected_revision_id,
            refs,
        )
        result: EditResult = (await self.stores.meta.apply([op]))[0]
        if not result.changed:  # a concurrent switch got there first
            return WriteResult(await self.get(m.spec.name, resource_id), changed=False)
        await self._hook("after", "switch", m.spec.name, resource_id, who, target.data, revision_id)
        return WriteResult(Resource(result.stored.meta, target.data, revision_id))

    async def delete(
        self,
        model: str | type,
        resource_id: str,
        *,
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> ResourceMeta:
        """Soft-delete: hidden from reads and search, restorable. Referrers
        follow their ``on_delete`` in the same transaction."""
        return await self._remove(model, resource_id, purge=False, user=user, now=now)

    async def purge(
        self,
        model: str | type,
        resource_id: str,
        *,
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> ResourceMeta:
        """Remove a resource and all its revisions for good (deleted or not)."""
        return await self._remove(model, resource_id, purge=True, user=user, now=now)

    async def restore(
        self,
        model: str | type,
        resource_id: str,
        *,
        user: str | None = None,
        now: dt.datetime | None = None,
    ) -> ResourceMeta:
        """Undo a soft delete. Cascaded deletes of referrers are not undone."""
        m = self._model(model)
        _valid_id(resource_id)
        who, at = self._acting(user, now)
        meta = await self.get_meta(model, resource_id)
        if not meta.is_deleted:
            raise ConflictError(
                f"{m.spec.name} {resource_id!r} is not deleted", resource_id=resource_id
            )
        await self._hook("before", "restore", m.spec.name, resource_id, who)
        stored: StoredResource = (
            await self.stores.meta.apply(
                [
                    MarkDeleted(
                        m.spec.name, resource_id, False, at, who, await self._refs_of(m, meta)
                    )
                ]
            )
        )[0]
        await self._hook("after", "restore", m.spec.name, resource_id, who)
        return stored.meta

    # -- blobs -------------------------------------------------------------
    async def put_blob(self, content: bytes, content_type: str | None = None) -> Binary:
        """Store content once by its SHA-256 digest; returns the reference."""
        if not isinstance(content, (bytes, bytearray)):
            raise BadRequestError("blob content must be bytes")
        if len(content) > self.settings.max_payload_bytes * 64:
            raise LimitExceededError(
                "blob size", self.settings.max_payload_bytes * 64, len(content)
            )
        if len(content) > 1024 * 1024:  # hashing a large blob would stall the loop
            digest = await asyncio.to_thread(lambda: hashlib.sha256(content).hexdigest())
        else:
            digest = hashlib.sha256(content).hexdigest()
        await self.stores.blobs.put(digest, bytes(content), content_type)
        # a blob uploaded before keeps the content type of its first upload
        info = (await self.stores.blobs.stat([digest]))[0]
        return Binary(digest, len(content), info.content_type if info else content_type)

    async def get_blob(self, digest: str) -> bytes:
        content = await self.stores.blobs.get(_blob_digest(digest))
        if content is None:
            raise NotFoundError(f"no blob has digest {digest!r}", digest=digest)
        return content

    async def blob_url(self, digest: str, *, expires_in: int = 3600) -> str | None:
        """A presigned download URL valid for ``expires_in`` seconds, where the
        blob store can make one (S3); None where blobs are only served by the
        API (files, memory, PostgreSQL)."""
        if not (await self.stores.blobs.exists([_blob_digest(digest)]))[0]:
            raise NotFoundError(f"no blob has digest {digest!r}", digest=digest)
        return await self.stores.blobs.download_url(digest, expires_in)

    # -- maintenance ---------------------------------------------------------
    async def collect_orphans(
        self, *, grace_seconds: float = 3600.0, dry_run: bool = False, now: float | None = None
    ) -> OrphanReport:
        """Delete revision payloads no revision points at: those of writes that
        failed or crashed between the payload write and the meta commit, of
        drafts modified in place, of purges cut short. Safe while writers run:
        a payload younger than ``grace_seconds`` is never touched (its meta
        may be about to commit), and each candidate is checked against the
        meta store just before the delete. Blobs are not collected. ``now``
        (seconds since the epoch) is the moment ages are taken at, the clock's
        by default.
        """
        if grace_seconds < 0:
            raise BadRequestError("the grace period cannot be negative")
        # S3 reports modification times in whole seconds (rounded down): a
        # payload written 0.1 s ago can look 1 s old, so a second more
        cutoff = (time.time() if now is None else now) - grace_seconds - MTIME_RESOLUTION
        report = OrphanReport()
        candidates: list[RevisionKey] = []
        async for key, modified in self.stores.revisions.list_keys():
            report.scanned += 1
            if modified <= cutoff:
                candidates.append(key)
            if len(candidates) >= 1000:
                await self._drop_orphans(candidates, report, dry_run)
                candidates = []
        if candidates:
            await self._drop_orphans(candidates, report, dry_run)
        return report

    async def _drop_orphans(
        self, candidates: list[RevisionKey], report: OrphanReport, dry_run: bool
    ) -> None:
        known = await self.stores.meta.known_payloads(candidates)
        orphans = [k for k in candidates if k not in known]
        report.orphans.extend(orphans)
        if orphans and not dry_run:
            await self.stores.revisions.delete_many(orphans)
            report.deleted += len(orphans)

    # -- internals ---------------------------------------------------------
    async def _prepare(
        self,
        m: _Model,
        data: Any,
        status: RevisionStatus,
        who: str,
        at: int,
        revision_id: str | None = None,
    ) -> tuple[Any, NewRevision]:
        obj, payload = self._validated(m, data)
        ((obj, payload),) = await self._check_blobs(m, [(obj, payload)])
        return await self._revision(m, obj, payload, status, who, at, revision_id)

    async def _prepare_many(
        self, m: _Model, items: Sequence[Any], status: RevisionStatus, who: str, at: int
    ) -> list[tuple[Any, NewRevision]]:
        """``_prepare`` for a batch: every item's problems, each path prefixed
        with the item's index (``$[3].price``), and one blob store call."""
        problems: list[FieldProblem] = []

        def collect(index: int, exc: ValidationFailedError) -> None:
            problems.extend(
                FieldProblem(f"$[{index}]{p.path[1:]}", p.message) for p in exc.problems
            )

        valid: list[tuple[Any, bytes]] = []
        for index, data in enumerate(items):
            try:
                valid.append(self._validated(m, data))
            except ValidationFailedError as exc:
                collect(index, exc)
        if problems:
            raise ValidationFailedError(m.spec.name, problems)
        prepared = []
        for index, (obj, payload) in enumerate(await self._check_blobs(m, valid)):
            try:
                prepared.append(await self._revision(m, obj, payload, status, who, at))
            except ValidationFailedError as exc:
                collect(index, exc)
        if problems:
            raise ValidationFailedError(m.spec.name, problems)
        return prepared

    def _validated(self, m: _Model, data: Any) -> tuple[Any, bytes]:
        obj, payload = m.codec.validate(data)
        if len(payload) > self.settings.max_payload_bytes:
            raise LimitExceededError("payload size", self.settings.max_payload_bytes, len(payload))
        return obj, payload

    async def _check_blobs(
        self, m: _Model, found: list[tuple[Any, bytes]]
    ) -> list[tuple[Any, bytes]]:
        """Every Binary must name a stored blob of its size (one store call
        for the whole write); its content type becomes the store's."""
        if not m.has_blobs:
            return found
        refs = [[*blobs.binaries(obj)] for obj, _ in found]
        if not any(refs):
            return found
        # a malformed digest names no blob: reported as missing, never sent to the store
        digests = list(dict.fromkeys(b.digest for one in refs for _, b in one))
        digests = [d for d in digests if _is_digest(d)]
        infos = (
            dict(zip(digests, await self.stores.blobs.stat(digests), strict=True))
            if digests
            else {}
        )
        by_item = [blobs.problems(one, infos) for one in refs]
        if any(by_item):
            flat = [
                FieldProblem(f"$[{i}]{p.path[1:]}" if len(found) > 1 else p.path, p.message)
                for i, item in enumerate(by_item)
                for p in item
            ]
            raise ValidationFailedError(m.spec.name, flat)
        out = []
        for obj, payload in found:
            new = blobs.stamped(obj, infos)
            out.append((obj, payload) if new is obj else (new, m.codec.encode(new)))
        return out

    async def _revision(
        self,
        m: _Model,
        obj: Any,
        payload: bytes,
        status: RevisionStatus,
        who: str,
        at: int,
        revision_id: str | None = None,
    ) -> tuple[Any, NewRevision]:
        if m.spec.validators:
            await self._run_validators(m, obj)
        values, lists = m.extract(obj)
        if m.check_text is not None and (problems := m.check_text(values, lists)):
            raise ValidationFailedError(m.spec.name, problems)
        return obj, NewRevision(
            revision_id=revision_id or new_id(),
            status=status,
            at=at,
            by=who,
            data_hash=data_hash(payload),
            size=len(payload),
            payload=payload,
            values=values,
            lists=lists,
            refs=ref_checks(m.spec, values, lists) if m.spec.refs else [],
        )

    async def _run_validators(self, m: _Model, obj: Any) -> None:
        import inspect

        problems: list[FieldProblem] = []
        for validator in m.spec.validators:
            try:
                result = validator(obj)
                if inspect.isawaitable(result):
                    result = await result
            except ValidationFailedError as exc:
                problems += exc.problems
                continue
            except ValueError as exc:  # other exceptions are bugs: they propagate
                problems.append(FieldProblem("$", str(exc)))
                continue
            for item in result or ():
                problems.append(
                    item
                    if isinstance(item, FieldProblem)
                    else FieldProblem(*item)
                    if isinstance(item, tuple)
                    else FieldProblem("$", str(item))
                )
        if problems:
            raise ValidationFailedError(m.spec.name, problems)

    async def _append(
        self,
        m: _Model,
        resource_id: str,
        obj: Any,
        rev: NewRevision,
        action: Action,
        who: str,
        expected: str | None,
    ) -> WriteResult[Any]:
        await self._hook("before", action, m.spec.name, resource_id, who, obj, rev.revision_id)
        # Payload first: whether the data is new is only known inside the meta
        # transaction.
        op = AppendRevision(m.spec.name, resource_id, rev, m.spec.schema_version, expected)
        result = (await self._commit(m, [rev], [op]))[0]
        meta = result.stored.meta
        if not result.changed:
            await self._discard_payloads(m, [rev])  # nothing refers to it
            current = await self.get(m.spec.name, resource_id)
            return WriteResult(current, changed=False)
        await self._hook("after", action, m.spec.name, resource_id, who, obj, rev.revision_id)
        return WriteResult(Resource(meta, obj, rev.revision_id))

    async def _remove(
        self,
        model: str | type,
        resource_id: str,
        *,
        purge: bool,
        user: str | None,
        now: dt.datetime | None,
    ) -> ResourceMeta:
        m = self._model(model)
        _valid_id(resource_id)
        who, at = self._acting(user, now)
        plan = Removal(self, purge, who, at)
        try:
            async with self.stores.meta.transaction() as tx:
                meta = await plan.remove(tx, m, resource_id, cause=None)
        except BaseException:
            for rm, rev in plan.staged:
                await self._discard_payloads(rm, [rev])
            raise
        if not self._inline and plan.dropped_payloads:
            await self.stores.revisions.delete_many(plan.dropped_payloads)
        for event in plan.events:
            await self.hooks.fire("after", event)
        return meta

    async def _refs_of(self, m: _Model, meta: ResourceMeta) -> list[RefCheck]:
        """The ref checks of a resource's current data (for restore)."""
        if not m.spec.refs:
            return []
        current = await self.get(m.spec.name, meta.resource_id, include_deleted=True)
        return ref_checks(m.spec, *m.extract(current.data))

    async def _commit(
        self, m: _Model, revs: Sequence[NewRevision], ops: Sequence[WriteOp]
    ) -> list[Any]:
        """Payloads first, then the meta change in one transaction; payloads of
        a change that fails are removed (no committed revision names them).
        A cancelled caller's change may still commit: its payloads stay, and
        ``collect_orphans`` removes them later if nothing names them."""
        if self._inline:  # payloads go in the same transaction
            return await self.stores.meta.apply(ops)
        await self._put_payloads(m, revs)
        try:
            return await self.stores.meta.apply(ops)
        except Exception:
            await self._discard_payloads(m, revs)
            raise

    async def _discard_payloads(self, m: _Model, revs: Sequence[NewRevision]) -> None:
        if not self._inline and revs:
            keys = [RevisionKey(m.spec.name, r.revision_id, r.data_hash) for r in revs]
            await self.stores.revisions.delete_many(keys)

    async def _put_payloads(self, m: _Model, revs: Sequence[NewRevision]) -> None:
        if self._inline or not revs:
            return
        await self.stores.revisions.put_many(
            [
                (RevisionKey(m.spec.name, rev.revision_id, rev.data_hash), rev.payload)
                for rev in revs
                if rev.payload is not None
            ]
        )

    async def _with_data(self, m: _Model, rows: Sequence[StoredResource]) -> list[Resource[Any]]:
        if not rows:
            return []
        rows = list(rows)
        payloads: list[bytes | None] = [r.payload for r in rows]
        for attempt in range(_REREADS):
            missing = [i for i, p in enumerate(payloads) if p is None]
            if missing and attempt:  # a draft edited in place retires its old payload
                fresh = await self.stores.meta.load(
                    m.spec.name, [rows[i].meta.resource_id for i in missing]
                )
                moved = [
                    (i, f)
                    for i, f in zip(missing, fresh, strict=True)
                    if f is not None and f.data_hash != rows[i].data_hash
                ]
                for i, f in moved:
                    rows[i] = f
                missing = [i for i, _ in moved]
            if not missing:
                break
            keys = [
                RevisionKey(m.spec.name, rows[i].meta.current_revision_id, rows[i].data_hash)
                for i in missing
            ]
            for i, payload in zip(missing, await self.stores.revisions.get_many(keys), strict=True):
                payloads[i] = payload
        return [
            Resource(
                r.meta, self._decode(m, p, r.meta.current_revision_id), r.meta.current_revision_id
            )
            for r, p in zip(rows, payloads, strict=True)
        ]

    def _decode(self, m: _Model, payload: bytes | None, revision_id: str) -> Any:
        if payload is None:
            raise StorageError(f"payload of revision {revision_id!r} of {m.spec.name} is missing")
        return m.codec.decode(payload)

    def _require(
        self, m: _Model, resource_id: str, stored: StoredResource | None, include_deleted: bool
    ) -> None:
        if stored is None or (stored.meta.is_deleted and not include_deleted):
            state = "is deleted" if stored is not None else "does not exist"
            raise NotFoundError(
                f"{m.spec.name} {resource_id!r} {state}", model=m.spec.name, resource_id=resource_id
            )

    def _no_revision(self, m: _Model, resource_id: str, revision_id: str) -> NotFoundError:
        return NotFoundError(
            f"{m.spec.name} {resource_id!r} has no revision {revision_id!r}",
            model=m.spec.name,
            resource_id=resource_id,
            revision_id=revision_id,
        )

    def _check_limit(self, limit: int) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise BadRequestError(f"limit must be a positive integer, not {limit!r}")
        if limit > self.settings.max_page_size:
            raise LimitExceededError("page size", self.settings.max_page_size, limit)

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in ("draft", "stable"):
            raise BadRequestError(f"status must be 'draft' or 'stable', not {status!r}")

    async def _hook(
        self,
        when: str,
        action: Action,
        model: str,
        resource_id: str,
        who: str,
        data: Any = None,
        revision_id: str | None = None,
    ) -> None:
        """Fire hooks, building the event only when some hook will see it."""
        if self.hooks.has(when, action):
            event = Event(action, model, resource_id, who, data, revision_id)
            await self.hooks.fire(when, event)

    async def check_stored(self, model: str, recorded: str | None) -> None:
        """Refuse a model whose stored resources it cannot read (see
        ``app.resources.compat``); raise ConfigurationError naming the field."""
        m = self._model(model)
        meta, revisions = self.stores.meta, self.stores.revisions
        await check_stored(m.spec, recorded, meta, revisions, m.codec.format)

    async def backfill(self, model: str, paths: list[str]) -> None:
        """Fill new index columns of ``model`` from current revisions."""
        m = self._model(model)
        batch: list[tuple[str, dict[str, Any], dict[str, list[Any]]]] = []
        rows = [row async for row in self.stores.meta.backfill_rows(model)]
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            keys = [RevisionKey(model, rev, h) for _, rev, h in chunk]
            payloads = await self.stores.revisions.get_many(keys)
            batch = []
            for (rid, rev, _), payload in zip(chunk, payloads, strict=True):
                values, lists = m.extract(self._decode(m, payload, rev))
                batch.append((rid, values, lists))
            await self.stores.meta.reindex(model, batch)
