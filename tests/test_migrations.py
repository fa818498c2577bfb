"""Schema migrations of the embedded store (issue 2, "Storage": system tables
from an alembic migration applied when the store opens; per-model index
tables created or extended when a registry opens a store, new indexed fields
backfilled from current revisions).

Each test opens a real SQLite file under tmp_path, closes it, then opens it
again with a registry whose models changed, and looks both at what the API
answers and at the SQLite schema itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest
from alembic.script import ScriptDirectory

from app import (
    BadRequestError,
    ConfigurationError,
    Registry,
    ResourceManager,
    Settings,
    Unique,
    UniqueViolationError,
)
from app.storage.sql import migrate


class Dims(msgspec.Struct):
    w: int
    h: int


class Item(msgspec.Struct):
    name: str
    sku: str
    price: float = 0.0
    stock: int = 0
    tags: list[str] = []
    dims: Dims | None = None


class ItemUniqueSku(msgspec.Struct):
    """Item with the same payload layout, but ``sku`` declared Unique."""

    name: str
    sku: Annotated[str, Unique()]
    price: float = 0.0
    stock: int = 0
    tags: list[str] = []
    dims: Dims | None = None


def registry(
    indexed: Sequence[str] = ("name",),
    *,
    model: type = Item,
    unique: Sequence[Sequence[str]] = (),
) -> Registry:
    reg = Registry()
    reg.add_model(model, name="item", indexed=indexed, unique=unique)
    return reg


def settings(data_dir: Path, revisions: str = "inline") -> Settings:
    return Settings(profile="disk", data_dir=str(data_dir), revisions=revisions)  # type: ignore[arg-type]


@contextmanager
def sql(data_dir: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(data_dir / "specql.db")
    try:
        yield conn
    finally:
        conn.close()


def schema(data_dir: Path) -> set[tuple[Any, ...]]:
    with sql(data_dir) as conn:
        return set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))


def columns(data_dir: Path, table: str) -> set[str]:
    with sql(data_dir) as conn:
        return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def indexed_columns(data_dir: Path, table: str) -> dict[str, tuple[bool, list[str]]]:
    """index name -> (unique, columns) for a table."""
    with sql(data_dir) as conn:
        found = {}
        for _, name, unique, *_ in conn.execute(f'PRAGMA index_list("{table}")'):
            cols = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')]
            found[name] = (bool(unique), cols)
        return found


def column_of(reg: Registry, path: str) -> str:
    return reg.specs["item"].indexed[path].column


def unique_indexes(data_dir: Path) -> list[list[str]]:
    """Columns of the unique indexes SpecQL made on the item table."""
    return [
        cols
        for name, (unique, cols) in indexed_columns(data_dir, "specql_m_item").items()
        if unique and name.startswith("uq_")
    ]


def leading_index(data_dir: Path, table: str, column: str) -> str | None:
    for name, (_, cols) in indexed_columns(data_dir, table).items():
        if cols and cols[0] == column:
            return name
    return None


def make_items(count: int) -> list[Item]:
    return [
        Item(
            name=f"item-{i:04d}",
            sku=f"sku-{i:04d}",
            price=float(i % 50),
            stock=i,
            tags=[f"t{i % 3}", f"g{i % 7}"] if i % 5 else [],
            dims=Dims(i % 10, 2) if i % 2 else None,
        )
        for i in range(count)
    ]


async def seed(data_dir: Path, revisions: str, count: int) -> dict[str, Item]:
    """Create ``count`` items (plus one updated, one soft-deleted) with only
    ``name`` indexed; returns current data by id."""
    m = await registry().open(settings(data_dir, revisions))
    try:
        items = make_items(count)
        made = await m.create_many("item", items)
        current = {r.id: item for r, item in zip(made, items, strict=True)}
        # an updated resource: its backfill must come from the current revision
        first = made[0].id
        newer = msgspec.structs.replace(items[0], price=999.0, tags=["fresh"], dims=Dims(7, 7))
        await m.update("item", first, newer)
        current[first] = newer
        # a soft-deleted one still gets its index values (found once restored)
        await m.delete("item", made[1].id)
        return current
    finally:
        await m.close()


# -- system tables ---------------------------------------------------------------

HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


async def test_fresh_store_runs_the_alembic_migration(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    reg = registry()
    m = await reg.open(settings(data_dir))
    await m.close()
    with sql(data_dir) as conn:
        assert conn.execute("SELECT version_num FROM specql_alembic_version").fetchall() == [
            (HEAD,)
        ]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        (indexed,) = conn.execute("SELECT indexed FROM specql_models WHERE name='item'").fetchone()
    assert {"specql_revisions", "specql_models", "specql_m_item"} <= tables
    assert "name" in indexed
    assert leading_index(data_dir, "specql_m_item", column_of(reg, "name")) is not None
    assert indexed_columns(data_dir, "specql_revisions")["ix_specql_revisions_resource_number"] == (
        True,
        ["model", "resource_id", "number"],
    )


async def test_a_store_of_an_older_migration_is_upgraded_on_open(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    m = await registry().open(settings(data_dir))
    made = await m.create("item", Item("a", "s1", 3.0))
    await m.close()
    with sql(
        data_dir
    ) as conn:  # as a store made before 0002 (blobs in the database), 0003 and 0004 looks
        conn.execute("DROP TABLE specql_blobs")
        conn.execute("ALTER TABLE specql_models DROP COLUMN shape")  # 0003
        conn.execute("UPDATE specql_alembic_version SET version_num = '0001'")
        conn.commit()

    m = await registry().open(settings(data_dir))
    try:
        assert (await m.get("item", made.id)).data == Item("a", "s1", 3.0)
    finally:
        await m.close()
    with sql(data_dir) as conn:
        assert conn.execute("SELECT version_num FROM specql_alembic_version").fetchall() == [
            (HEAD,)
        ]
        assert conn.execute("SELECT count(*) FROM specql_blobs").fetchone() == (0,)


async def test_opening_twice_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    m = await registry(["name", "tags", "price"]).open(settings(data_dir))
    made = await m.create("item", Item("a", "s1", 3.0, tags=["x"]))
    await m.close()
    before = schema(data_dir)

    for _ in range(2):
        m = await registry(["name", "tags", "price"]).open(settings(data_dir))
        try:
            assert (await m.get("item", made.id)).data == Item("a", "s1", 3.0, tags=["x"])
            assert (await m.get_meta("item", made.id)).revision_count == 1
            assert await m.count("item", {"tags": {"eq": "x"}}) == 1
        finally:
            await m.close()
        assert schema(data_dir) == before
        with sql(data_dir) as conn:
            assert conn.execute("SELECT version_num FROM specql_alembic_version").fetchall() == [
                (HEAD,)
            ]
            assert conn.execute("SELECT count(*) FROM specql_revisions").fetchone() == (1,)
            side = f"specql_l_item__{column_of(registry(['tags']), 'tags')}"
            assert conn.execute(f'SELECT count(*) FROM "{side}"').fetchone() == (1,)


# -- new indexed fields ------------------------------------------------------------


@pytest.mark.parametrize("revisions", ["inline", "files"])
async def test_new_indexed_field_gets_column_index_and_backfill(
    tmp_path: Path, revisions: str
) -> None:
    data_dir = tmp_path / "data"
    current = await seed(data_dir, revisions, 1200)  # more than one backfill chunk
    assert "price" not in columns(data_dir, "specql_m_item")

    reg = registry(["name", "price", "dims.w"])
    m = await reg.open(settings(data_dir, revisions))
    try:
        spec = reg.specs["item"]
        price_col = spec.indexed["price"].column
        w_col = spec.indexed["dims.w"].column
        assert {price_col, w_col} <= columns(data_dir, "specql_m_item")
        assert leading_index(data_dir, "specql_m_item", price_col) is not None
        assert leading_index(data_dir, "specql_m_item", w_col) is not None

        live = {rid: item for rid, item in current.items() if rid != list(current)[1]}
        # searches on the new fields find the old resources, with SQL-side values
        expensive = {rid for rid, item in live.items() if item.price >= 45}
        page = await m.search("item", {"price": {"gte": 45}}, limit=1000, with_data=False)
        assert {meta.resource_id for meta in page.items} == expensive
        assert await m.count("item", {"price": {"gte": 45}}) == len(expensive)
        top = await m.search("item", sort=["-price", "name"], limit=1)
        assert top.items[0].data.price == 999.0
        assert await m.count("item", {"price": {"eq": 999.0}}) == 1
        wide = {rid for rid, item in live.items() if item.dims is not None and item.dims.w == 7}
        assert await m.count("item", {"dims": {"w": {"eq": 7}}}) == len(wide)
        assert await m.count("item", {"dims": {"w": {"is_null": True}}}) == sum(
            item.dims is None for item in live.values()
        )
        for rid in list(current)[:50]:
            meta = await m.get_meta("item", rid)
            assert meta.indexed["price"] == current[rid].price

        # the soft-deleted resource was backfilled too
        deleted = list(current)[1]
        await m.restore("item", deleted)
        found = await m.search("item", {"price": {"eq": current[deleted].price}}, limit=1000)
        assert deleted in {r.id for r in found.items}

        # new writes maintain the new column
        made = await m.create("item", Item("new", "sku-new", 12345.0))
        assert await m.count("item", {"price": {"gt": 10000}}) == 1
        await m.update("item", made.id, Item("new", "sku-new", 1.5))
        assert await m.count("item", {"price": {"gt": 10000}}) == 0
    finally:
        await m.close()

    # reopening the extended store is again a no-op that keeps the values
    before = schema(data_dir)
    m = await registry(["name", "price", "dims.w"]).open(settings(data_dir, revisions))
    try:
        assert await m.count("item", {"price": {"eq": 999.0}}) == 1
    finally:
        await m.close()
    assert schema(data_dir) == before


@pytest.mark.parametrize("revisions", ["inline", "files"])
async def test_new_list_field_gets_side_table_and_backfill(tmp_path: Path, revisions: str) -> None:
    data_dir = tmp_path / "data"
    current = await seed(data_dir, revisions, 600)
    reg = registry(["name", "tags"])
    m = await reg.open(settings(data_dir, revisions))
    try:
        side = f"specql_l_item__{reg.specs['item'].indexed['tags'].column}"
        with sql(data_dir) as conn:
            rows = conn.execute(f'SELECT count(*) FROM "{side}"').fetchone()[0]
        assert rows == sum(len(item.tags) for item in current.values())
        assert any(cols[0] == "value" for _, cols in indexed_columns(data_dir, side).values())

        deleted = list(current)[1]
        live = {rid: item for rid, item in current.items() if rid != deleted}
        for tag in ("t0", "t1", "g3", "fresh"):
            expected = {rid for rid, item in live.items() if tag in item.tags}
            assert expected, tag
            page = await m.search("item", {"tags": {"eq": tag}}, limit=1000, with_data=False)
            assert {meta.resource_id for meta in page.items} == expected, tag
            assert await m.count("item", {"tags": {"eq": tag}}) == len(expected)
        # the first item's old tags were replaced by its update: not indexed
        first = next(iter(current))
        page = await m.search("item", {"tags": {"eq": "fresh"}}, with_data=False)
        assert [meta.resource_id for meta in page.items] == [first]
        # a resource matching several values counts once
        wanted = {"t0", "g0", "g1"}
        matching = {rid for rid, item in live.items() if wanted & set(item.tags)}
        assert await m.count("item", {"tags": {"in": sorted(wanted)}}) == len(matching)
        page = await m.search("item", {"tags": {"in": sorted(wanted)}}, limit=1000)
        assert sorted(r.id for r in page.items) == sorted(matching)
        # writes maintain the side table from now on
        await m.update("item", first, Item("item-0000", "sku-0000", tags=["later"]))
        assert await m.count("item", {"tags": {"eq": "fresh"}}) == 0
        assert await m.count("item", {"tags": {"eq": "later"}}) == 1
    finally:
        await m.close()


async def test_dropped_indexed_field_loses_its_index_and_search(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    reg = registry(["name", "price"])
    m = await reg.open(settings(data_dir))
    price_col = reg.specs["item"].indexed["price"].column
    await m.create("item", Item("a", "s", 5.0))
    await m.close()
    assert leading_index(data_dir, "specql_m_item", price_col) is not None

    m = await registry(["name"]).open(settings(data_dir))
    try:
        assert leading_index(data_dir, "specql_m_item", price_col) is None
        with pytest.raises(BadRequestError, match="price"):
            await m.search("item", {"price": {"eq": 5.0}})
        assert await m.count("item", {"name": {"eq": "a"}}) == 1
    finally:
        await m.close()


async def test_a_declared_index_replaces_its_leading_fields_own(tmp_path: Path) -> None:
    """With (sku, price) declared, sku's single-column index is not built (the
    declared one serves its searches, and each write updates one B-tree less);
    it comes back when the declared index goes."""
    data_dir = tmp_path / "data"
    with_pair = Registry()
    with_pair.add_model(Item, name="item", indexed=["sku", "price"], indexes=[("sku", "price")])
    sku, price = column_of(with_pair, "sku"), column_of(with_pair, "price")
    m = await with_pair.open(settings(data_dir))
    try:
        await m.create_many("item", make_items(30))
        firsts = [cols[0] for _, cols in indexed_columns(data_dir, "specql_m_item").values()]
        assert firsts.count(sku) == 1  # only the declared (sku, deleted, price)
        assert [
            cols
            for _, cols in indexed_columns(data_dir, "specql_m_item").values()
            if cols[0] == sku
        ] == [[sku, "deleted", price]]
        assert leading_index(data_dir, "specql_m_item", price) is not None
        assert await m.count("item", {"sku": {"eq": "sku-0003"}}) == 1
    finally:
        await m.close()
    with sql(data_dir) as conn:
        plan = conn.execute(
            f'EXPLAIN QUERY PLAN SELECT resource_id FROM specql_m_item WHERE "{sku}" = ? '
            "AND deleted = 0",
            ("sku-0003",),
        ).fetchall()
    assert "ix_specql_m_item_" in str(plan) and price in str(plan), plan

    m = await registry(["sku", "price"]).open(settings(data_dir))  # the pair undeclared
    try:
        on_sku = [
            cols
            for _, cols in indexed_columns(data_dir, "specql_m_item").values()
            if cols[0] == sku
        ]
        assert on_sku == [[sku, "deleted"]]
        assert await m.count("item", {"sku": {"eq": "sku-0003"}}) == 1
    finally:
        await m.close()


@pytest.mark.parametrize("path", ["price", "tags"])
async def test_field_indexed_again_reflects_changes_made_while_unindexed(
    tmp_path: Path, path: str
) -> None:
    """A path indexed, then dropped from ``indexed``, then indexed again: its
    column (or side table) survived the drop, but writes in between did not
    maintain it, so indexing it again must backfill it from current data."""
    data_dir = tmp_path / "data"
    m = await registry(["name", path]).open(settings(data_dir))
    made = await m.create("item", Item("a", "s", 1.0, tags=["one"]))
    await m.close()

    m = await registry(["name"]).open(settings(data_dir))
    await m.update("item", made.id, Item("a", "s", 2.0, tags=["two"]))
    await m.close()

    m = await registry(["name", path]).open(settings(data_dir))
    try:
        assert (await m.get("item", made.id)).data.price == 2.0
        new, old = (2.0, 1.0) if path == "price" else ("two", "one")
        assert await m.count("item", {path: {"eq": new}}) == 1, "current value not indexed"
        assert await m.count("item", {path: {"eq": old}}) == 0, "stale value still indexed"
        if path == "price":
            assert (await m.get_meta("item", made.id)).indexed["price"] == 2.0
    finally:
        await m.close()


# -- Unique over existing data ------------------------------------------------------


@pytest.mark.parametrize("indexed_before", [False, True], ids=["new-field", "indexed-field"])
async def test_unique_over_existing_duplicates_fails_at_open(
    tmp_path: Path, indexed_before: bool
) -> None:
    data_dir = tmp_path / "data"
    before = ["name", "sku"] if indexed_before else ["name"]
    m = await registry(before).open(settings(data_dir))
    a = await m.create("item", Item("a", "dup"))
    b = await m.create("item", Item("b", "dup"))
    await m.create("item", Item("c", "other"))
    await m.close()

    with pytest.raises(ConfigurationError, match="sku") as caught:
        await registry(["name"], model=ItemUniqueSku).open(settings(data_dir))
    assert "item" in str(caught.value)

    # nothing half-done: the old registry still opens and reads everything
    m = await registry(before).open(settings(data_dir))
    try:
        assert {(await m.get("item", rid)).data.name for rid in (a.id, b.id)} == {"a", "b"}
        assert await m.count("item") == 3
        await m.update("item", b.id, Item("b", "unique-now"))
    finally:
        await m.close()
    assert unique_indexes(data_dir) == []

    # once the duplicates are gone, Unique applies and is enforced
    m = await registry(["name"], model=ItemUniqueSku).open(settings(data_dir))
    try:
        assert unique_indexes(data_dir) == [["f_sku"]]
        with pytest.raises(UniqueViolationError, match="dup"):
            await m.create("item", ItemUniqueSku("d", "dup"))
        assert (await m.search("item", {"sku": {"eq": "dup"}})).items[0].id == a.id
    finally:
        await m.close()


async def test_unique_group_over_existing_duplicates_names_the_fields(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    m = await registry().open(settings(data_dir))
    await m.create("item", Item("same", "s1", stock=1))
    await m.create("item", Item("same", "s1", stock=2))
    await m.create("item", Item("same", "s2", stock=3))
    await m.close()

    with pytest.raises(ConfigurationError) as caught:
        await registry(unique=[("name", "sku")]).open(settings(data_dir))
    assert "name" in str(caught.value) and "sku" in str(caught.value)

    # a group the data satisfies opens fine and is enforced
    m = await registry(unique=[("sku", "stock")]).open(settings(data_dir))
    try:
        with pytest.raises(UniqueViolationError):
            await m.create("item", Item("other", "s2", stock=3))
        await m.create("item", Item("other", "s2", stock=4))
    finally:
        await m.close()


async def test_extending_tables_keeps_histories_and_payloads(tmp_path: Path) -> None:
    """A migration that extends tables does not disturb data written before:
    histories, revision reads and payloads all survive the change."""
    data_dir = tmp_path / "data"
    m = await registry().open(settings(data_dir, "files"))
    made = await m.create("item", Item("a", "s", 1.0))
    second = await m.update("item", made.id, Item("a", "s", 2.0))
    await m.close()

    m2: ResourceManager = await registry(["name", "price", "tags", "stock"]).open(
        settings(data_dir, "files")
    )
    try:
        history = (await m2.history("item", made.id)).items
        assert [h.revision_id for h in history] == [second.revision_id, made.revision_id]
        old = await m2.get("item", made.id, revision_id=made.revision_id)
        assert old.data.price == 1.0
        assert (await m2.get_meta("item", made.id)).indexed["price"] == 2.0
        switched = await m2.switch("item", made.id, made.revision_id)
        assert switched.data.price == 1.0
        assert await m2.count("item", {"price": {"eq": 1.0}}) == 1
    finally:
        await m2.close()


async def test_a_store_of_migration_0003_gets_the_blob_content_type_column(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    m = await registry().open(settings(data_dir))
    await m.close()
    with sql(data_dir) as conn:  # as a store made before 0004 looks, with a blob in it
        conn.execute("ALTER TABLE specql_blobs DROP COLUMN content_type")
        conn.execute("INSERT INTO specql_blobs VALUES (?, 3, x'616263')", ("ab" * 32,))
        conn.execute("UPDATE specql_alembic_version SET version_num = '0003'")
        conn.commit()
    m = await registry().open(settings(data_dir))
    await m.close()
    with sql(data_dir) as conn:
        assert conn.execute("SELECT version_num FROM specql_alembic_version").fetchall() == [
            (HEAD,)
        ]
        rows = conn.execute("SELECT digest, size, content_type FROM specql_blobs").fetchall()
        assert rows == [("ab" * 32, 3, None)]
