"""Store interfaces, the records they exchange, and their capabilities.

The manager is the only caller. Three roles:

* :class:`MetaStore` holds resource metas, revision headers and the per-model
  index tables; it runs searches and applies writes atomically.
* :class:`RevisionStore` holds immutable revision payloads by key.
* :class:`BlobStore` holds binary content by digest.

Driver exceptions are translated at this boundary: a taken unique value or a
stale pointer becomes a ``ConflictError`` subclass, everything unexpected a
``StorageError`` raised ``from`` the driver's exception.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from app.records import Referrer, ResourceMeta, RevisionInfo
from app.types import RevisionStatus


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a backend can do; tests and the manager read these, not types.

    Attributes:
        transactions: several writes commit or roll back together.
        inline_payloads: the meta store keeps payloads itself, in the same
            transaction as the meta change (no separate revision store write).
        durable: data survives a process restart.
        shared: several processes may use the store at once.
    """

    transactions: bool = True
    inline_payloads: bool = False
    durable: bool = True
    shared: bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class RevisionKey:
    """Addresses one payload. A draft modified in place gets a new data hash,
    so the payload under a key never changes."""

    model: str
    revision_id: str
    data_hash: str


@dataclasses.dataclass(slots=True)
class StoredResource:
    meta: ResourceMeta
    data_hash: str
    payload: bytes | None = None
    cursor: tuple[Any, ...] | None = None


@dataclasses.dataclass(slots=True)
class StoredRevision:
    info: RevisionInfo
    payload: bytes | None = None


@dataclasses.dataclass(slots=True)
class RefCheck:
    """Ids that must exist (live) for a write to proceed."""

    field: str
    model: str
    ids: list[str]
    revision: bool = False


@dataclasses.dataclass(slots=True)
class NewRevision:
    """A payload about to become a revision, with its index values."""

    revision_id: str
    status: RevisionStatus
    at: int
    by: str
    data_hash: str
    size: int
    payload: bytes  # written by the meta store only when it keeps payloads inline
    values: dict[str, Any]
    lists: dict[str, list[Any]]
    refs: list[RefCheck] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class InsertResource:
    model: str
    resource_id: str
    revision: NewRevision
    schema_version: int


@dataclasses.dataclass(slots=True)
class AppendRevision:
    model: str
    resource_id: str
    revision: NewRevision
    schema_version: int
    expected_revision_id: str | None = None
    allow_deleted: bool = False


@dataclasses.dataclass(slots=True)
class ReplaceDraft:
    model: str
    resource_id: str
    revision: NewRevision  # revision_id: the draft being edited
    expected_data_hash: str | None = None  # the draft's hash the caller read


@dataclasses.dataclass(slots=True)
class SetStatus:
    model: str
    resource_id: str
    revision_id: str
    status: RevisionStatus
    at: int
    by: str


@dataclasses.dataclass(slots=True)
class SwitchRevision:
    model: str
    resource_id: str
    revision_id: str
    at: int
    by: str
    values: dict[str, Any]
    lists: dict[str, list[Any]]
    expected_revision_id: str | None = None
    refs: list[RefCheck] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class MarkDeleted:
    model: str
    resource_id: str
    deleted: bool
    at: int
    by: str
    refs: list[RefCheck] = dataclasses.field(default_factory=list)  # checked on restore


@dataclasses.dataclass(slots=True)
class PurgeResource:
    model: str
    resource_id: str


WriteOp = (
    InsertResource
    | AppendRevision
    | ReplaceDraft
    | SetStatus
    | SwitchRevision
    | MarkDeleted
    | PurgeResource
)


@dataclasses.dataclass(slots=True)
class AppendResult:
    """What an append did: ``changed`` is False when the data was identical."""

    changed: bool
    number: int
    parent_revision_id: str | None
    current_revision_id: str
    stored: StoredResource


@dataclasses.dataclass(slots=True)
class EditResult:
    """What an in-place change (a draft edit, a switch) did: ``changed`` is
    False when the resource already was so; ``previous_hash`` is the data
    hash of what was current before."""

    changed: bool
    previous_hash: str
    stored: StoredResource


@dataclasses.dataclass(frozen=True)
class CompiledSearch:
    """A search ready for a MetaStore, built by ``app.search.compile``:
    ``statement`` has ``key`` (its shape), ``build()`` and ``params``; rows
    carry the values at ``cursor_positions`` for keyset cursors. ``keys``,
    when given, is the same page as (resource id, cursor values...) rows, for
    a store that can answer the records from memory."""

    model: str
    statement: Any
    cursor_positions: tuple[int, ...] = ()
    keys: Any = None


class MetaReader(ABC):
    """Reads on a meta store, outside or inside a transaction."""

    @abstractmethod
    async def load(
        self, model: str, ids: Sequence[str], *, with_payload: bool = False
    ) -> list[StoredResource | None]:
        """Metas of ``ids`` in order, None where a resource does not exist.

        Deleted resources are returned (``meta.is_deleted``); callers filter.
        With ``with_payload`` and inline payloads, the current payload comes
        along in the same query.
        """

    @abstractmethod
    async def revision(
        self, model: str, resource_id: str, revision_id: str, *, with_payload: bool = False
    ) -> StoredRevision | None:
        """One revision header, None when it is not a revision of that resource."""

    @abstractmethod
    async def revision_infos(
        self, model: str, keys: Sequence[tuple[str, str]]
    ) -> list[RevisionInfo | None]:
        """Headers of many (resource id, revision id) pairs in one round trip,
        in order; None where the revision is not one of that resource's."""

    @abstractmethod
    async def revision_pages(
        self, model: str, resource_ids: Sequence[str], *, limit: int, before_number: int | None
    ) -> list[list[RevisionInfo]]:
        """For each of ``resource_ids``, in order, its newest ``limit``
        revision headers numbered below ``before_number`` (any, when None),
        newest first: one page of many histories in one round trip. An
        unknown resource has an empty page."""

    @abstractmethod
    async def search(
        self, query: CompiledSearch, *, with_payload: bool = False
    ) -> list[StoredResource]:
        """Rows matching a compiled search, in its order."""

    @abstractmethod
    async def count(self, query: CompiledSearch) -> int:
        """How many rows a compiled count statement matches."""

    @abstractmethod
    async def count_groups(self, query: CompiledSearch) -> list[tuple[Any, int]]:
        """(value, count) rows of a compiled grouped count statement."""

    @abstractmethod
    async def referrers(
        self, model: str, resource_ids: Sequence[str], *, live_only: bool
    ) -> list[Referrer]:
        """Resources whose ref fields point at any of ``resource_ids``, from the index."""

    @abstractmethod
    async def payload_keys(self, model: str, resource_id: str) -> list[RevisionKey]:
        """Keys of every payload of a resource (used before a purge)."""

    @abstractmethod
    async def known_payloads(self, keys: Sequence[RevisionKey]) -> set[RevisionKey]:
        """The keys among ``keys`` that a revision row points at (orphan collection)."""


class MetaTransaction(MetaReader):
    """A transaction: reads see its own writes; nothing is visible before commit."""

    @abstractmethod
    async def apply(self, ops: Sequence[WriteOp]) -> list[Any]:
        """Apply ops in order; results per op (AppendResult for appends,
        EditResult for draft edits and switches, None for status changes).

        Raises:
            NotFoundError: a resource or revision named by an op is missing.
            RevisionConflictError: an expected revision is no longer current.
            DraftConflictError: a draft's data hash is not the expected one.
            ResourceDeletedError: the op needs a live resource.
            UniqueViolationError: a unique value is taken.
            ValidationFailedError: a required ref target does not exist.
            StorageError: anything else; the transaction is rolled back.
        """


class MetaStore(MetaReader):
    """Resource metas, revision headers and search indexes, in SQL."""

    capabilities: Capabilities = Capabilities()

    dialect_name: str = ""

    @abstractmethod
    async def open(
        self,
        specs: Sequence[Any],
        backfill: Callable[[str, list[str]], Awaitable[None]] | None = None,
        check: Callable[[str, str | None], Awaitable[None]] | None = None,
        payload_format: str = "msgpack",
    ) -> None:
        """Create or migrate the system tables, then create or extend each
        model's index table; ``backfill(model, paths)`` fills new index
        columns before their indexes (unique ones included) are built.
        ``check(model, recorded)`` runs first for each model whose shapes
        (its fields and the ``payload_format`` of its payloads, see
        ``app.resources.compat``) differ from those recorded at its last
        open; the new shapes are recorded once every check has passed.

        Raises:
            ConfigurationError: existing data breaks a new unique index, or
                ``check`` found stored resources the model cannot read.
            StorageError: the database cannot be reached or migrated.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release connections and threads; the store cannot be used after."""

    @abstractmethod
    async def ping(self) -> None:
        """Answer a trivial query (readiness checks).

        Raises:
            StorageError: the database cannot be reached.
        """

    @abstractmethod
    async def apply(self, ops: Sequence[WriteOp]) -> list[Any]:
        """Apply ops in one transaction (see ``MetaTransaction.apply``)."""

    @abstractmethod
    def transaction(self) -> Any:
        """``async with store.transaction() as tx``: a MetaTransaction that
        commits on exit and rolls back on an exception."""

    @abstractmethod
    def backfill_rows(self, model: str) -> AsyncIterator[tuple[str, str, str]]:
        """(resource_id, revision_id, data_hash) of every current revision."""

    @abstractmethod
    async def reindex(
        self, model: str, rows: Sequence[tuple[str, dict[str, Any], dict[str, list[Any]]]]
    ) -> None:
        """Rewrite the index values of existing resources (used by backfill)."""

    @abstractmethod
    async def sample_current(self, spec: Any, limit: int) -> list[RevisionKey]:
        """Keys of up to ``limit`` current revisions of a model, deleted
        resources included: the least and the most recently written halves.
        Works on a store that is not open (``specql db current``).

        Raises:
            StorageError: the database cannot be reached.
        """


class RevisionStore(ABC):
    """Immutable revision payloads, addressed by RevisionKey."""

    capabilities: Capabilities = Capabilities()

    @abstractmethod
    async def put_many(self, items: Sequence[tuple[RevisionKey, bytes]]) -> None:
        """Write payloads; writing an existing key again is a no-op."""

    @abstractmethod
    async def get_many(self, keys: Sequence[RevisionKey]) -> list[bytes | None]:
        """Payloads in order, None where a key has no payload."""

    @abstractmethod
    async def delete_many(self, keys: Sequence[RevisionKey]) -> None:
        """Remove payloads; missing keys are ignored."""

    def list_keys(self) -> AsyncIterator[tuple[RevisionKey, float]]:
        """Every stored key with its last-modified time (epoch seconds), for
        orphan collection. Stores whose payloads commit with the meta (inline)
        or die with the process (memory) have no orphans and list nothing."""
        return _nothing()

    async def close(self) -> None:  # noqa: B027 - optional: most stores hold nothing
        """Release resources."""


@dataclasses.dataclass(frozen=True, slots=True)
class BlobInfo:
    """What a blob store knows of a blob besides its content."""

    size: int
    content_type: str | None


class BlobStore(ABC):
    """Binary content addressed by its SHA-256 digest."""

    capabilities: Capabilities = Capabilities()

    @abstractmethod
    async def put(self, digest: str, content: bytes, content_type: str | None = None) -> None:
        """Store content under its digest with the content type given at
        upload; storing it again is a no-op (the first content type stays)."""

    @abstractmethod
    async def stat(self, digests: Sequence[str]) -> list[BlobInfo | None]:
        """Size and content type of each digest, None where no blob has it:
        one call for the digests of a whole write."""

    @abstractmethod
    async def get(self, digest: str) -> bytes | None:
        """The content, or None when no blob has that digest."""

    @abstractmethod
    async def exists(self, digests: Sequence[str]) -> list[bool]:
        """Whether each digest is stored."""

    @abstractmethod
    async def delete(self, digest: str) -> None:
        """Remove a blob; a missing one is ignored."""

    async def download_url(self, digest: str, expires_in: int) -> str | None:
        """A URL a client can fetch the blob from directly, valid for
        ``expires_in`` seconds; None when the store cannot serve blobs that
        way (the API then streams the content itself).

        The URL is made without a request and is not checked: for a digest
        with no blob it answers 404.
        """
        return None

    async def close(self) -> None:  # noqa: B027 - optional: most stores hold nothing
        """Release resources."""


async def _nothing() -> AsyncIterator[tuple[RevisionKey, float]]:
    return
    yield
