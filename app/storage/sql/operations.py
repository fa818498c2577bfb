"""Store operations as synchronous functions over one connection.

Each function runs inside a transaction opened by the runner, so its checks
and writes are atomic: the current-pointer read, the conflict checks and the
writes see one consistent state (SQLite holds the write lock from BEGIN
IMMEDIATE; PostgreSQL locks the row with SELECT ... FOR UPDATE).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.errors import (
    ConflictError,
    DraftConflictError,
    FieldProblem,
    NotFoundError,
    ResourceDeletedError,
    RevisionConflictError,
    ValidationFailedError,
)
from app.records import Referrer, ResourceMeta, RevisionInfo, from_micros
from app.resources.indexing import from_db
from app.storage.base import (
    AppendResult,
    AppendRevision,
    EditResult,
    InsertResource,
    MarkDeleted,
    NewRevision,
    PurgeResource,
    RefCheck,
    ReplaceDraft,
    RevisionKey,
    SetStatus,
    StoredResource,
    StoredRevision,
    SwitchRevision,
    WriteOp,
)
from app.storage.sql.runner import Db
from app.storage.sql.statements import Statements

CHUNK = 500


class RowReader:
    """Turns meta rows of one model into StoredResource records."""

    def __init__(self, st: Statements, model: str) -> None:
        t = st.tables(model)
        self.model = model
        plain = ("str", "int", "float")
        self.plain = [
            (f.path, i)
            for i, f in enumerate(t.singles, 11)
            if f.kind in plain and f.enum_type is None
        ]
        self.converted = [
            (f.path, i, from_db(f))
            for i, f in enumerate(t.singles, 11)
            if not (f.kind in plain and f.enum_type is None)
        ]
        self.payload_at = 11 + len(t.singles)

    def __call__(self, row: Sequence[Any], with_payload: bool) -> StoredResource:
        indexed: dict[str, Any] = {}
        for path, i in self.plain:
            indexed[path] = row[i]
        for path, i, convert in self.converted:
            indexed[path] = convert(row[i])
        created_at = from_micros(row[4])
        # a resource never changed since its creation has one timestamp: convert it once
        updated_at = created_at if row[6] == row[4] else from_micros(row[6])
        meta = ResourceMeta(
            model=self.model,
            resource_id=row[0],
            current_revision_id=row[1],
            status=row[3],
            created_at=created_at,
            created_by=row[5],
            updated_at=updated_at,
            updated_by=row[7],
            revision_count=row[8],
            is_deleted=bool(row[9]),
            schema_version=row[10],
            indexed=indexed,
            data_hash=row[2],
        )
        return StoredResource(meta, row[2], row[self.payload_at] if with_payload else None)


def revision_info(row: Sequence[Any]) -> RevisionInfo:
    return RevisionInfo(
        revision_id=row[0],
        resource_id=row[1],
        model=row[2],
        number=row[3],
        parent_revision_id=row[4],
        status=row[5],
        created_at=from_micros(row[6]),
        created_by=row[7],
        data_hash=row[8],
        size=row[9],
        schema_version=row[10],
    )


# reads -------------------------------------------------------------------


def load(
    db: Db, st: Statements, reader: RowReader, ids: Sequence[str], with_payload: bool
) -> list[StoredResource | None]:
    if len(ids) == 1:  # the common case, kept short: it is on every get
        rows = db.rows_in_order(st.load(reader.model, 1, with_payload), ids)
        return [reader(rows[0], with_payload) if rows else None]
    found: dict[str, StoredResource] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for row in db.rows_in_order(st.load(reader.model, len(chunk), with_payload), chunk):
            found[row[0]] = reader(row, with_payload)
    return [found.get(i) for i in ids]


def revision(
    db: Db, st: Statements, model: str, resource_id: str, revision_id: str, with_payload: bool
) -> StoredRevision | None:
    params = {"revision_id": revision_id, "resource_id": resource_id, "model": model}
    rows = db.rows(st.revision(with_payload), params)
    if not rows:
        return None
    return StoredRevision(revision_info(rows[0]), rows[0][11] if with_payload else None)


def revision_infos(
    db: Db, st: Statements, model: str, keys: Sequence[tuple[str, str]]
) -> list[RevisionInfo | None]:
    ids = sorted({revision_id for _, revision_id in keys})
    found: dict[str, RevisionInfo] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        params = {"model": model, **{f"i{k}": v for k, v in enumerate(chunk)}}
        for row in db.rows(st.revision_infos(len(chunk)), params):
            found[row[0]] = revision_info(row)
    result: list[RevisionInfo | None] = []
    for resource_id, revision_id in keys:
        info = found.get(revision_id)
        result.append(info if info is not None and info.resource_id == resource_id else None)
    return result


def revision_pages(
    db: Db, st: Statements, model: str, ids: Sequence[str], limit: int, before: int | None
) -> list[list[RevisionInfo]]:
    params: dict[str, Any] = {"model": model, "limit": limit}
    if before is not None:
        params["before"] = before
    if len(ids) == 1:  # one history (the common case): a plain LIMIT, no window to rank
        rows = db.rows(st.revisions_page(before is not None), {**params, "resource_id": ids[0]})
        return [[revision_info(r) for r in rows]]
    found: dict[str, list[RevisionInfo]] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        stmt = st.revision_pages(len(chunk), before is not None)
        for row in db.rows(stmt, {**params, **{f"i{k}": v for k, v in enumerate(chunk)}}):
            found.setdefault(row[1], []).append(revision_info(row))
    return [found.get(i, []) for i in ids]


def referrers(
    db: Db,
    st: Statements,
    targets: Sequence[tuple[str, str, str]],
    ids: Sequence[str],
    live_only: bool,
) -> list[Referrer]:
    """``targets``: (referring model, path, column) triples pointing at the model."""
    result: list[Referrer] = []
    for model, path, column in targets:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            stmt = st.referrers(model, column, len(chunk))
            for rid, deleted in db.rows(stmt, {f"i{k}": v for k, v in enumerate(chunk)}):
                if live_only and deleted:
                    continue
                result.append(Referrer(model, rid, path, bool(deleted)))
    return result


def payload_keys(db: Db, st: Statements, model: str, resource_id: str) -> list[RevisionKey]:
    rows = db.rows(st.payload_keys(), {"model": model, "resource_id": resource_id})
    return [RevisionKey(model, rid, h) for rid, h in rows]


def known_payloads(db: Db, st: Statements, keys: Sequence[RevisionKey]) -> set[RevisionKey]:
    wanted = set(keys)
    ids = sorted({k.revision_id for k in keys})
    found: set[RevisionKey] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        params = {f"i{k}": v for k, v in enumerate(chunk)}
        for model, rid, data_hash in db.rows(st.revision_hashes(len(chunk)), params):
            key = RevisionKey(model, rid, data_hash)
            if key in wanted:
                found.add(key)
    return found


# writes --------------------------------------------------------------------


def apply(db: Db, st: Statements, ops: Sequence[WriteOp]) -> list[Any]:
    if len(ops) > 1 and all(isinstance(op, InsertResource) for op in ops):
        return insert_many(db, st, ops)  # type: ignore[arg-type]
    results: list[Any] = []
    for op in ops:
        try:
            results.append(_apply_one(db, st, op))
        except Exception as exc:
            exc.specql_op = op  # type: ignore[attr-defined]  # names the value on conflicts
            raise
    return results


def insert_many(db: Db, st: Statements, ops: Sequence[InsertResource]) -> list[Any]:
    """Bulk create with one executemany per table. On any failure, undo the
    bulk attempt and insert one by one, so the error names the culprit."""
    db.execute_text("SAVEPOINT specql_bulk")
    try:
        for op in ops:
            check_refs(db, st, op.model, op.revision.refs)
        by_model: dict[str, list[InsertResource]] = {}
        for op in ops:
            by_model.setdefault(op.model, []).append(op)
        written = {}
        for model, group in by_model.items():
            rows = [meta_row(st, op) for op in group]
            db.run_many(st.insert_meta(model), rows)
            for op, row in zip(group, rows, strict=True):
                written[id(op)] = written_record(st, model, row)
            db.run_many(
                st.insert_revision(),
                [
                    revision_row(
                        op.model, op.resource_id, op.revision, 1, None, op.schema_version, st.inline
                    )
                    for op in group
                ],
            )
            side: dict[str, list[dict[str, Any]]] = {}
            for op in group:
                for column, values in op.revision.lists.items():
                    side.setdefault(column, []).extend(
                        {"rid": op.resource_id, "value": v} for v in values
                    )
            for column, rows in side.items():
                if rows:
                    db.run_many(st.insert_side(model, column), rows)
    except Exception:
        db.execute_text("ROLLBACK TO specql_bulk")
        db.execute_text("RELEASE specql_bulk")
        results: list[Any] = []
        for op in ops:
            try:
                results.append(insert_resource(db, st, op))
            except Exception as exc:
                exc.specql_op = op  # type: ignore[attr-defined]
                raise
        return results
    db.execute_text("RELEASE specql_bulk")
    return [written[id(op)] for op in ops]


def _apply_one(db: Db, st: Statements, op: WriteOp) -> Any:
    return _HANDLERS[type(op)](db, st, op)


def insert_resource(db: Db, st: Statements, op: InsertResource) -> StoredResource:
    rev = op.revision
    check_refs(db, st, op.model, rev.refs)
    row = meta_row(st, op)
    db.run(st.insert_meta(op.model), row)  # first: a taken id fails on the meta key
    db.run(
        st.insert_revision(),
        revision_row(op.model, op.resource_id, rev, 1, None, op.schema_version, st.inline),
    )
    _write_lists(db, st, op.model, op.resource_id, rev.lists, replace=False)
    return written_record(st, op.model, row)


def meta_row(st: Statements, op: InsertResource) -> dict[str, Any]:
    rev = op.revision
    return {
        "resource_id": op.resource_id,
        "current_revision_id": rev.revision_id,
        "current_hash": rev.data_hash,
        "status": rev.status,
        "created_at": rev.at,
        "created_by": rev.by,
        "updated_at": rev.at,
        "updated_by": rev.by,
        "revision_count": 1,
        "deleted": False,
        "schema_version": op.schema_version,
        "current_payload": rev.payload if st.inline else None,
        **rev.values,
    }


def append_revision(db: Db, st: Statements, op: AppendRevision) -> AppendResult:
    rev = op.revision
    cur = _current(db, st, op.model, op.resource_id)
    current = cur["current_revision_id"]
    if cur["deleted"] and not op.allow_deleted:
        raise ResourceDeletedError(op.model, op.resource_id, "updating it")
    if op.expected_revision_id is not None and op.expected_revision_id != current:
        raise RevisionConflictError(op.resource_id, op.expected_revision_id, current)
    count = cur["revision_count"]
    if cur["current_hash"] == rev.data_hash and cur["status"] == rev.status:
        return AppendResult(False, count, None, current, written_record(st, op.model, cur))
    check_refs(db, st, op.model, rev.refs)
    number = count + 1
    db.run(
        st.insert_revision(),
        revision_row(op.model, op.resource_id, rev, number, current, op.schema_version, st.inline),
    )
    written = _set_meta(
        db,
        st,
        op.model,
        cur,
        {
            "current_revision_id": rev.revision_id,
            "current_hash": rev.data_hash,
            "current_payload": rev.payload if st.inline else None,
            "status": rev.status,
            "updated_at": rev.at,
            "updated_by": rev.by,
            "revision_count": number,
            "schema_version": op.schema_version,
            **rev.values,
        },
    )
    _write_lists(db, st, op.model, op.resource_id, rev.lists, replace=True)
    return AppendResult(True, number, current, rev.revision_id, written)


def replace_draft(db: Db, st: Statements, op: ReplaceDraft) -> EditResult:
    rev = op.revision
    cur = _current(db, st, op.model, op.resource_id)
    current = cur["current_revision_id"]
    if cur["deleted"]:
        raise ResourceDeletedError(op.model, op.resource_id, "modifying it")
    if current != rev.revision_id:
        raise RevisionConflictError(op.resource_id, rev.revision_id, current)
    if cur["status"] != "draft":
        raise ConflictError(
            f"revision {current!r} of {op.model} {op.resource_id!r} is stable and "
            "cannot be modified; update the resource to append a revision",
            resource_id=op.resource_id,
            revision_id=current,
        )
    previous = cur["current_hash"]
    # compared under the row lock: of two edits based on one hash, one wins
    if op.expected_data_hash is not None and op.expected_data_hash != previous:
        raise DraftConflictError(op.resource_id, op.expected_data_hash, previous)
    if previous == rev.data_hash:
        return EditResult(False, previous, written_record(st, op.model, cur))
    check_refs(db, st, op.model, rev.refs)
    payload = rev.payload if st.inline else None
    db.run(
        st.update_revision_payload(),
        {"rid": current, "data_hash": rev.data_hash, "size": rev.size, "payload": payload},
    )
    written = _set_meta(
        db,
        st,
        op.model,
        cur,
        {
            "current_hash": rev.data_hash,
            "current_payload": payload,
            "updated_at": rev.at,
            "updated_by": rev.by,
            **rev.values,
        },
    )
    _write_lists(db, st, op.model, op.resource_id, rev.lists, replace=True)
    return EditResult(True, previous, written)


def set_status(db: Db, st: Statements, op: SetStatus) -> bool:
    """Whether the status changed (a concurrent call may have changed it first)."""
    cur = _current(db, st, op.model, op.resource_id)  # locks the resource first
    target = revision(db, st, op.model, op.resource_id, op.revision_id, False)
    if target is None:
        raise NotFoundError(
            f"{op.model} {op.resource_id!r} has no revision {op.revision_id!r}",
            resource_id=op.resource_id,
            revision_id=op.revision_id,
        )
    if target.info.status == op.status:
        return False
    db.run(st.set_revision_status(), {"rid": op.revision_id, "status": op.status})
    changes: dict[str, Any] = {"updated_at": op.at, "updated_by": op.by}
    if cur["current_revision_id"] == op.revision_id:
        changes["status"] = op.status
    _set_meta(db, st, op.model, cur, changes)
    return True


def switch_revision(db: Db, st: Statements, op: SwitchRevision) -> EditResult:
    cur = _current(db, st, op.model, op.resource_id)
    current = cur["current_revision_id"]
    if cur["deleted"]:
        raise ResourceDeletedError(op.model, op.resource_id, "switching its revision")
    if op.expected_revision_id is not None and op.expected_revision_id != current:
        raise RevisionConflictError(op.resource_id, op.expected_revision_id, current)
    if current == op.revision_id:  # already current: nothing to do
        return EditResult(False, cur["current_hash"], written_record(st, op.model, cur))
    target = revision(db, st, op.model, op.resource_id, op.revision_id, st.inline)
    if target is None:
        raise NotFoundError(
            f"{op.model} {op.resource_id!r} has no revision {op.revision_id!r}",
            resource_id=op.resource_id,
            revision_id=op.revision_id,
        )
    info = target.info
    check_refs(db, st, op.model, op.refs)
    written = _set_meta(
        db,
        st,
        op.model,
        cur,
        {
            "current_revision_id": info.revision_id,
            "current_hash": info.data_hash,
            "current_payload": target.payload if st.inline else None,
            "status": info.status,
            "updated_at": op.at,
            "updated_by": op.by,
            **op.values,
        },
    )
    _write_lists(db, st, op.model, op.resource_id, op.lists, replace=True)
    return EditResult(True, cur["current_hash"], written)


def mark_deleted(db: Db, st: Statements, op: MarkDeleted) -> StoredResource:
    cur = _current(db, st, op.model, op.resource_id)
    check_refs(db, st, op.model, op.refs)
    return _set_meta(
        db, st, op.model, cur, {"deleted": op.deleted, "updated_at": op.at, "updated_by": op.by}
    )


def purge(db: Db, st: Statements, op: PurgeResource) -> list[RevisionKey]:
    keys = payload_keys(db, st, op.model, op.resource_id)
    if db.run(st.delete_meta(op.model), {"rid": op.resource_id}) == 0:
        raise _not_found(op.model, op.resource_id)
    for column in st.tables(op.model).side:
        db.run(st.delete_side(op.model, column), {"rid": op.resource_id})
    db.run(st.delete_revisions(), {"model": op.model, "resource_id": op.resource_id})
    return keys


def reindex(
    db: Db,
    st: Statements,
    model: str,
    rows: Sequence[tuple[str, dict[str, Any], dict[str, list[Any]]]],
) -> None:
    for rid, values, lists in rows:
        if values:
            db.run(st.reindex(model), {"rid": rid, **values})
        _write_lists(db, st, model, rid, lists, replace=True)


def check_refs(db: Db, st: Statements, model: str, checks: Sequence[RefCheck]) -> None:
    problems: list[FieldProblem] = []
    for check in checks:
        ids = list(dict.fromkeys(check.ids))
        found: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            params = {f"i{k}": v for k, v in enumerate(chunk)}
            if check.revision:
                stmt = st.existing_revisions(len(chunk))
                params["model"] = check.model
            else:
                stmt = st.live_ids(check.model, len(chunk))
            found.update(r[0] for r in db.rows(stmt, params))
        kind = "revision of " if check.revision else ""
        problems += [
            FieldProblem(f"$.{check.field}", f"no live {kind}{check.model} has id {i!r}")
            for i in ids
            if i not in found
        ]
    if problems:
        raise ValidationFailedError(model, problems)


_HANDLERS: dict[type, Any] = {
    InsertResource: insert_resource,
    AppendRevision: append_revision,
    ReplaceDraft: replace_draft,
    SetStatus: set_status,
    SwitchRevision: switch_revision,
    MarkDeleted: mark_deleted,
    PurgeResource: purge,
}


def written_record(st: Statements, model: str, row: dict[str, Any]) -> StoredResource:
    """The record of a row this transaction wrote, without reading it back."""
    written: StoredResource = st.readers[model](st.row_of(model, row), False)
    return written


def _current(db: Db, st: Statements, model: str, resource_id: str) -> dict[str, Any]:
    """The resource's meta row by column (locked for this transaction)."""
    rows = db.rows_in_order(st.current(model), (resource_id,))
    if not rows:
        raise _not_found(model, resource_id)
    return dict(zip(st.meta_layout(model), rows[0], strict=True))


def _set_meta(
    db: Db, st: Statements, model: str, cur: dict[str, Any], new: dict[str, Any]
) -> StoredResource:
    """Update only the columns whose values change: SQLite rewrites an index
    whenever its columns are SET, even to the same value."""
    changed = {c: v for c, v in new.items() if cur.get(c) != v or c == "current_payload"}
    stmt = st.update_columns(model, tuple(changed))
    db.run(stmt, {"rid": cur["resource_id"], **changed})
    return written_record(st, model, {**cur, **changed})


def revision_row(
    model: str,
    resource_id: str,
    rev: NewRevision,
    number: int,
    parent: str | None,
    schema_version: int,
    inline: bool,
) -> dict[str, Any]:
    return {
        "revision_id": rev.revision_id,
        "resource_id": resource_id,
        "model": model,
        "number": number,
        "parent_revision_id": parent,
        "status": rev.status,
        "created_at": rev.at,
        "created_by": rev.by,
        "data_hash": rev.data_hash,
        "size": rev.size,
        "schema_version": schema_version,
        "payload": rev.payload if inline else None,
    }


def _write_lists(
    db: Db,
    st: Statements,
    model: str,
    resource_id: str,
    lists: dict[str, list[Any]],
    replace: bool,
) -> None:
    for column, values in lists.items():
        if replace:
            db.run(st.delete_side(model, column), {"rid": resource_id})
        if values:
            db.run_many(
                st.insert_side(model, column), [{"rid": resource_id, "value": v} for v in values]
            )


def _not_found(model: str, resource_id: str) -> NotFoundError:
    return NotFoundError(
        f"{model} {resource_id!r} does not exist", model=model, resource_id=resource_id
    )
