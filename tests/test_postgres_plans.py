"""On PostgreSQL, an ordered search reads its index in order: indexes are
built NULLS FIRST, matching the order searches ask for (nulls first
ascending, last descending), so a page never sorts every matching row."""

from __future__ import annotations

import re

import msgspec
import pytest

from app import F, Registry, SortKey
from app.search.compile import compile_search
from app.search.query import SearchQuery, parse_where
from app.storage.sql.runner import Compiled

pytestmark = pytest.mark.parametrize("settings", ["postgres-inline"], indirect=True)


class Item(msgspec.Struct):
    name: str
    category: str
    price: float | None = None


async def test_category_page_by_price_scans_the_index_backwards(open_manager):
    registry = Registry()
    registry.add_model(Item, indexed=["name", "category", "price"], indexes=[("category", "price")])
    manager = await open_manager(registry)
    items = [Item(f"i{n}", f"c{n % 4}", None if n % 7 == 0 else n * 1.5) for n in range(400)]
    await manager.create_many(Item, items)

    page = await manager.search(Item, F("category") == "c1", sort=["-price"], limit=20)
    prices = [r.data.price for r in page.items]
    expected = sorted(
        (i.price for i in items if i.category == "c1" and i.price is not None), reverse=True
    )
    assert prices == expected[:20]  # nulls last, descending

    meta_store = manager.stores.meta
    spec = manager.specs["item"]
    query = SearchQuery(
        where=parse_where({"category": {"eq": "c1"}}), sort=(SortKey("price", True),), limit=20
    )
    planned = compile_search(spec, query, with_payload=True, dialect="postgresql")
    ran = meta_store.st._cache.get(planned.statement.key)
    assert ran is not None, "the search did not run the compiled statement"
    args = ran.bind(planned.statement.params)

    def explain(db):
        db.execute_text("ANALYZE specql_m_item")
        db.execute_text("SET LOCAL enable_seqscan = off")
        db.execute_text("SET LOCAL enable_bitmapscan = off")
        return [row[0] for row in db.rows_in_order(Compiled("EXPLAIN " + ran.sql, ()), args)]

    plan = await meta_store.runner.write(explain)
    text = "\n".join(plan)
    assert "Index Scan Backward" in text, text
    full_sorts = [line for line in plan if re.match(r"\s*(->\s+)?Sort\s+\(cost", line)]
    assert not full_sorts, text  # at most an Incremental Sort on the id tie-break
