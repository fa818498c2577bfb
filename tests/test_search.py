"""Search semantics on every profile, checked against Python over the same data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import random
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from app import BadRequestError, F, LimitExceededError, SortKey
from app.search.compile import compile_search
from app.search.query import SearchQuery, parse_where
from app.storage.sql.runner import Compiled
from tests.models import Article, Color, Contact

BASE = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
WORDS = ["alpha", "beta", "gamma", "delta", "Alpha", "omega", "100% sure", "snake_case", "a\\b"]
TAGS = ["red", "green", "blue", "x", "y"]


@dataclasses.dataclass
class Row:
    """One inserted article with what search can see of it."""

    id: str
    data: Article
    created_at: dt.datetime
    created_by: str
    updated_by: str
    updated_at: dt.datetime

    def value(self, path: str) -> Any:
        """The value at a search path, in the form the store compares."""
        if path == "id":
            return self.id
        if path.startswith("meta."):
            return getattr(self, path.removeprefix("meta."))
        value: Any = self.data
        for segment in path.split("."):
            value = None if value is None else getattr(value, segment)
        return value.value if isinstance(value, enum.Enum) else value


def random_article(rng: random.Random, i: int) -> Article:
    return Article(
        title=f"{rng.choice(WORDS)} {i % 5}" if i % 7 else rng.choice(WORDS),
        views=rng.randrange(0, 10),
        score=rng.choice([0.5, 1.25, 2.0, -3.5, 10.0]),
        color=rng.choice(list(Color)),
        published=None if i % 4 == 0 else BASE + dt.timedelta(days=rng.randrange(-5, 5)),
        note=None if i % 3 == 0 else rng.choice(["keep", "drop", "kept"]),
        tags=rng.sample(TAGS, rng.randrange(0, 4)),
        author=None
        if i % 5 == 0
        else Contact(f"n{i}", f"user{i % 6}@{rng.choice(['x.org', 'y.com'])}"),
        body="unindexed",
    )


async def insert_articles(manager, count: int, *, seed: int = 7, start: int = 0) -> list[Row]:
    rng = random.Random(seed)
    rows = []
    for i in range(start, start + count):
        data = random_article(rng, i)
        at = BASE + dt.timedelta(minutes=i)
        user = f"user{i % 3}"
        created = await manager.create("article", data, user=user, now=at)
        rows.append(Row(created.id, data, at, user, user, at))
    return rows


@pytest.fixture
async def rows(manager) -> list[Row]:
    found = await insert_articles(manager, 40)
    # one update by another user, later, so updated_* differ from created_*
    target, at = found[1], BASE + dt.timedelta(days=1)
    data = msgspec.structs.replace(target.data, views=99)
    await manager.update("article", target.id, data, user="editor", now=at)
    target.data, target.updated_by, target.updated_at = data, "editor", at
    return found


async def search_ids(manager, where, **options) -> list[str]:
    page = await manager.search("article", where, limit=1000, **options)
    assert page.next_cursor is None
    return [r.id for r in page.items]


def matching(rows: list[Row], path: str, test: Callable[[Any], bool]) -> set[str]:
    return {r.id for r in rows if test(r.value(path))}


def not_null(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is not None and test(v)


# (path, operator, value, python predicate on the row's value)
SCALAR_CASES: list[tuple[str, str, Any, Callable[[Any], bool]]] = [
    # str
    ("title", "eq", "alpha 1", lambda v: v == "alpha 1"),
    ("title", "ne", "delta", lambda v: v != "delta"),
    ("title", "gt", "beta", lambda v: v > "beta"),
    ("title", "lte", "beta 2", lambda v: v <= "beta 2"),
    ("title", "in", ["delta", "omega 2", "nope"], lambda v: v in ("delta", "omega 2")),
    ("title", "not_in", ["delta", "beta 1"], lambda v: v not in ("delta", "beta 1")),
    ("title", "contains", "pha", lambda v: "pha" in v),
    ("title", "contains", "%", lambda v: "%" in v),
    ("title", "contains", "_", lambda v: "_" in v),
    ("title", "contains", "\\", lambda v: "\\" in v),
    ("title", "starts_with", "Alpha", lambda v: v.startswith("Alpha")),
    ("title", "starts_with", "alpha", lambda v: v.startswith("alpha")),
    ("title", "ends_with", " 3", lambda v: v.endswith(" 3")),
    # int
    ("views", "eq", 3, lambda v: v == 3),
    ("views", "ne", 3, lambda v: v != 3),
    ("views", "gt", 5, lambda v: v > 5),
    ("views", "gte", 5, lambda v: v >= 5),
    ("views", "lt", 2, lambda v: v < 2),
    ("views", "lte", 2, lambda v: v <= 2),
    ("views", "in", [1, 4, 99], lambda v: v in (1, 4, 99)),
    ("views", "not_in", [1, 4], lambda v: v not in (1, 4)),
    # float
    ("score", "eq", 1.25, lambda v: v == 1.25),
    ("score", "gt", 0.5, lambda v: v > 0.5),
    ("score", "lte", 0.5, lambda v: v <= 0.5),
    ("score", "in", [2.0, -3.5], lambda v: v in (2.0, -3.5)),
    # datetime (nullable)
    ("published", "eq", BASE, lambda v: v == BASE),
    ("published", "gt", BASE, not_null(lambda v: v > BASE)),
    ("published", "gte", BASE, not_null(lambda v: v >= BASE)),
    (
        "published",
        "lt",
        BASE - dt.timedelta(days=2),
        not_null(lambda v: v < BASE - dt.timedelta(days=2)),
    ),
    ("published", "lte", BASE.isoformat(), not_null(lambda v: v <= BASE)),
    (
        "published",
        "in",
        [BASE, BASE + dt.timedelta(days=1)],
        lambda v: v in (BASE, BASE + dt.timedelta(days=1)),
    ),
    ("published", "is_null", True, lambda v: v is None),
    ("published", "is_null", False, lambda v: v is not None),
    # enum, by member or by value
    ("color", "eq", Color.RED, lambda v: v == "red"),
    ("color", "eq", "green", lambda v: v == "green"),
    ("color", "ne", Color.BLUE, lambda v: v != "blue"),
    ("color", "in", [Color.RED, "blue"], lambda v: v in ("red", "blue")),
    ("color", "not_in", ["red"], lambda v: v != "red"),
    # nullable str
    ("note", "is_null", True, lambda v: v is None),
    ("note", "eq", "keep", lambda v: v == "keep"),
    ("note", "eq", None, lambda v: v is None),
    ("note", "ne", None, lambda v: v is not None),
    ("note", "starts_with", "kee", not_null(lambda v: v.startswith("kee"))),
    # nested path in an optional nested Struct
    ("author.email", "eq", "user1@x.org", lambda v: v == "user1@x.org"),
    ("author.email", "ends_with", "@y.com", not_null(lambda v: v.endswith("@y.com"))),
    ("author.email", "is_null", True, lambda v: v is None),
    # meta paths
    (
        "meta.created_at",
        "gt",
        BASE + dt.timedelta(minutes=30),
        lambda v: v > BASE + dt.timedelta(minutes=30),
    ),
    (
        "meta.created_at",
        "lte",
        BASE + dt.timedelta(minutes=3),
        lambda v: v <= BASE + dt.timedelta(minutes=3),
    ),
    ("meta.created_by", "eq", "user2", lambda v: v == "user2"),
    ("meta.created_by", "in", ["user0", "user1"], lambda v: v in ("user0", "user1")),
    ("meta.updated_by", "eq", "editor", lambda v: v == "editor"),
    (
        "meta.updated_at",
        "gte",
        BASE + dt.timedelta(days=1),
        lambda v: v >= BASE + dt.timedelta(days=1),
    ),
]


async def assert_matches(manager, rows, where, expected: set[str]) -> None:
    found = await search_ids(manager, where)
    assert len(found) == len(set(found)), "duplicates in a result"
    assert set(found) == expected
    assert await manager.count("article", where) == len(expected)


async def test_each_operator_on_each_field_kind(manager, rows):
    failures = []
    for path, op, value, test in SCALAR_CASES:
        expected = matching(rows, path, test)
        assert 0 < len(expected) < len(rows), f"case {path} {op} {value!r} tells nothing apart"
        where = _nest(path, {op: value})
        found = set(await search_ids(manager, where))
        count = await manager.count("article", where)
        if found != expected or count != len(expected):
            failures.append((path, op, value, sorted(found ^ expected), count, len(expected)))
    assert failures == []


def _nest(path: str, leaf: dict[str, Any]) -> dict[str, Any]:
    """``"author.email", {"eq": x}`` -> ``{"author": {"email": {"eq": x}}}``;
    meta paths stay dotted keys."""
    if path.startswith("meta.") or "." not in path:
        return {path: leaf}
    head, rest = path.split(".", 1)
    return {head: _nest(rest, leaf)}


async def test_dotted_and_nested_forms_agree(manager, rows):
    nested = await search_ids(manager, {"author": {"email": {"ends_with": ".org"}}}, sort=["id"])
    dotted = await search_ids(manager, {"author.email": {"ends_with": ".org"}}, sort=["id"])
    assert nested == dotted
    assert set(nested) == matching(rows, "author.email", not_null(lambda v: v.endswith(".org")))


async def test_id_filters(manager, rows):
    some = [rows[3].id, rows[7].id, "missing"]
    await assert_matches(manager, rows, {"id": {"in": some}}, {rows[3].id, rows[7].id})
    await assert_matches(manager, rows, {"id": {"eq": rows[0].id}}, {rows[0].id})
    await assert_matches(manager, rows, {"id": {"gt": rows[30].id}}, {r.id for r in rows[31:]})


# -- list fields: any element ----------------------------------------------------
LIST_CASES: list[tuple[str, Any, Callable[[list[str]], bool]]] = [
    ("eq", "red", lambda tags: "red" in tags),
    ("in", ["x", "y"], lambda tags: bool({"x", "y"} & set(tags))),
    ("starts_with", "gr", lambda tags: any(t.startswith("gr") for t in tags)),
    ("contains", "e", lambda tags: any("e" in t for t in tags)),
    ("ne", "red", lambda tags: "red" not in tags),
    ("not_in", ["red", "blue"], lambda tags: not {"red", "blue"} & set(tags)),
    ("is_null", True, lambda tags: not tags),
    ("is_null", False, lambda tags: bool(tags)),
]


@pytest.mark.parametrize(
    ("op", "value", "test"), LIST_CASES, ids=[c[0] + "-" + repr(c[1]) for c in LIST_CASES]
)
async def test_list_field_matches_any_element(manager, rows, op, value, test):
    expected = {r.id for r in rows if test(r.data.tags)}
    assert 0 < len(expected) < len(rows)
    await assert_matches(manager, rows, {"tags": {op: value}}, expected)


async def test_list_match_returns_each_resource_once(manager, rows):
    both = [r for r in rows if {"red", "green"} <= set(r.data.tags)]
    assert both, "the data set should hold articles with both tags"
    found = await search_ids(manager, {"tags": {"in": ["red", "green"]}})
    assert len(found) == len(set(found))


# -- and / or / not -------------------------------------------------------------
async def test_and_or_not(manager, rows):
    def views(r):
        return r.data.views

    cases = [
        (
            {"and": [{"views": {"gte": 3}}, {"color": {"eq": "red"}}]},
            lambda r: views(r) >= 3 and r.data.color is Color.RED,
        ),
        (
            {"or": [{"views": {"lt": 2}}, {"tags": {"eq": "x"}}]},
            lambda r: views(r) < 2 or "x" in r.data.tags,
        ),
        ({"not": {"views": {"gt": 4}}}, lambda r: not views(r) > 4),
        (
            {"views": {"gte": 2}, "title": {"starts_with": "a"}},  # several keys: and
            lambda r: views(r) >= 2 and r.data.title.startswith("a"),
        ),
        (
            {
                "or": [
                    {"and": [{"score": {"gt": 1}}, {"not": {"color": {"in": ["red", "blue"]}}}]},
                    {"not": {"or": [{"views": {"lt": 8}}, {"tags": {"is_null": True}}]}},
                ]
            },
            lambda r: (
                (r.data.score > 1 and r.data.color is Color.GREEN)
                or not (views(r) < 8 or not r.data.tags)
            ),
        ),
    ]
    for where, test in cases:
        await assert_matches(manager, rows, where, {r.id for r in rows if test(r)})


async def test_python_filter_builder(manager, rows):
    where = ((F("views") > 3) & ~(F("color") == Color.BLUE)) | F("tags").in_(["y"])
    expected = {
        r.id
        for r in rows
        if (r.data.views > 3 and r.data.color is not Color.BLUE) or "y" in r.data.tags
    }
    await assert_matches(manager, rows, where, expected)


# -- sort -----------------------------------------------------------------------
def python_sorted(rows: list[Row], keys: list[str]) -> list[str]:
    """Sort like the store: ASC puts nulls first, DESC puts them last, ties by id."""
    ordered = sorted(rows, key=lambda r: r.id)
    for key in reversed(keys):
        path, descending = key.lstrip("-"), key.startswith("-")

        def nulls_lowest(r: Row, p: str = path) -> tuple[bool, Any]:
            return (r.value(p) is not None, r.value(p) if r.value(p) is not None else 0)

        ordered.sort(key=nulls_lowest, reverse=descending)
    return [r.id for r in ordered]


SORTS = [
    ["views"],
    ["-views"],
    ["-views", "title"],
    ["color", "-score", "title"],
    ["published"],
    ["-published", "views"],
    ["note", "-meta.created_at"],
    ["-author.email", "id"],
    ["meta.created_by", "-id"],
]


@pytest.mark.parametrize("keys", SORTS, ids=[",".join(s) for s in SORTS])
async def test_multi_key_sort(manager, rows, keys):
    page = await manager.search("article", sort=keys, limit=1000)
    assert [r.id for r in page.items] == python_sorted(rows, keys)


async def test_sort_key_objects(manager, rows):
    page = await manager.search(
        "article", sort=[SortKey("score", descending=True), SortKey("title")], limit=1000
    )
    assert [r.id for r in page.items] == python_sorted(rows, ["-score", "title"])


# -- paging ---------------------------------------------------------------------
async def walk(manager, *, sort, limit, where=None, between=None) -> list[str]:
    """Follow next_cursor to the end; ``between(page_no)`` runs between pages."""
    seen, cursor, page_no = [], None, 0
    while True:
        page = await manager.search("article", where, sort=sort, limit=limit, after=cursor)
        assert len(page.items) <= limit
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
        page_no += 1
        if between is not None:
            await between(page_no)


async def test_offset_paging(manager, rows):
    keys = ["-views", "title"]
    expected = python_sorted(rows, keys)
    seen = []
    for offset in range(0, len(rows) + 7, 7):
        page = await manager.search("article", sort=keys, limit=7, offset=offset)
        seen += [r.id for r in page.items]
    assert seen == expected


@pytest.mark.parametrize("keys", [["-views", "title"], ["published", "-note"], []])
async def test_cursor_paging_visits_every_row_once(manager, rows, keys):
    assert await walk(manager, sort=keys, limit=6) == python_sorted(rows, keys)


async def test_cursor_paging_with_a_filter(manager, rows):
    where = {"views": {"gte": 3}}
    expected = python_sorted([r for r in rows if r.data.views >= 3], ["score"])
    assert await walk(manager, sort=["score"], limit=4, where=where) == expected


async def test_cursor_paging_stays_correct_while_rows_are_inserted(manager, rows):
    keys = ["-views", "published"]
    before = python_sorted(rows, keys)
    added: list[Row] = []

    async def insert(page_no: int) -> None:
        added.extend(
            await insert_articles(manager, 3, seed=100 + page_no, start=1000 + 3 * page_no)
        )

    seen = await walk(manager, sort=keys, limit=5, between=insert)
    assert added, "rows must have been inserted during the walk"
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert set(before) <= set(seen), "a row that existed before the walk was missed"
    assert set(seen) <= set(before) | {r.id for r in added}
    assert seen == [i for i in python_sorted(rows + added, keys) if i in set(seen)]


async def test_backward_paging_with_prev_cursor(manager, rows):
    keys = ["views", "-title"]
    expected = python_sorted(rows, keys)
    pages, cursor = [], None
    while True:
        page = await manager.search("article", sort=keys, limit=7, after=cursor)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages[0].prev_cursor is None
    back = []
    page = pages[-1]
    while page.prev_cursor is not None:
        page = await manager.search("article", sort=keys, limit=7, before=page.prev_cursor)
        back.append([r.id for r in page.items])
    assert back == [[r.id for r in p.items] for p in pages[-2::-1]]
    assert [i for p in pages for i in (r.id for r in p.items)] == expected


async def test_cursor_from_another_sort_or_garbage_is_bad_request(manager, rows):
    page = await manager.search("article", sort=["views"], limit=5)
    assert page.next_cursor is not None
    with pytest.raises(BadRequestError):
        await manager.search("article", sort=["-views"], limit=5, after=page.next_cursor)
    for garbage in ["not-a-cursor", "!!!", "AAAA", ""]:
        with pytest.raises(BadRequestError):
            await manager.search("article", sort=["views"], limit=5, after=garbage or "=")


# -- deleted ----------------------------------------------------------------------
async def test_deleted_rows_only_when_asked(manager, rows):
    deleted = {rows[i].id for i in (0, 5, 9)}
    for rid in deleted:
        await manager.delete("article", rid)
    where = {"views": {"gte": 0}}
    everyone = {r.id for r in rows}
    await assert_matches(manager, rows, where, everyone - deleted)
    assert await manager.count("article") == len(rows) - 3
    with_deleted = await manager.search("article", where, limit=1000, include_deleted=True)
    assert {r.id for r in with_deleted.items} == everyone
    assert await manager.count("article", where, include_deleted=True) == len(rows)
    assert all(r.meta.is_deleted == (r.id in deleted) for r in with_deleted.items)


async def test_search_without_data_returns_metas(manager, rows):
    page = await manager.search("article", {"views": {"eq": 3}}, limit=1000, with_data=False)
    assert {m.resource_id for m in page.items} == matching(rows, "views", lambda v: v == 3)
    assert all(m.model == "article" for m in page.items)


# -- bad queries ------------------------------------------------------------------
@pytest.mark.parametrize(
    "where",
    [
        {"body": {"eq": "unindexed"}},
        {"author": {"name": {"eq": "n1"}}},
        {"meta.revision_count": {"eq": 1}},
        {"views": {"contains": "3"}},
        {"color": {"gt": "red"}},
        {"color": {"starts_with": "r"}},
        {"published": {"ends_with": "Z"}},
        {"views": {"eq": "three"}},
        {"published": {"gt": "yesterday"}},
        {"views": {"in": 3}},
        {"views": {"gt": None}},
        {"title": {"is_null": "yes"}},
        {"title": {"like": "a%"}},
        {"title": "alpha"},
        {"or": {"views": {"eq": 1}}},
        {},
    ],
    ids=lambda w: repr(w)[:40],
)
async def test_bad_filter_is_bad_request(manager, where):
    with pytest.raises(BadRequestError):
        await manager.search("article", where)
    with pytest.raises(BadRequestError):
        await manager.count("article", where)


async def test_unindexed_path_error_names_the_path(manager):
    with pytest.raises(BadRequestError) as caught:
        await manager.search("article", {"body": {"eq": "x"}})
    assert "'body'" in str(caught.value)


@pytest.mark.parametrize("keys", [["body"], ["tags"], ["-nope"], [""]])
async def test_bad_sort_is_bad_request(manager, keys):
    with pytest.raises(BadRequestError):
        await manager.search("article", sort=keys)


async def test_page_size_over_the_limit(open_manager):
    manager = await open_manager(max_page_size=10)
    await insert_articles(manager, 3)
    assert len((await manager.search("article", limit=10)).items) == 3
    with pytest.raises(LimitExceededError) as caught:
        await manager.search("article", limit=11)
    assert (caught.value.maximum, caught.value.actual) == (10, 11)
    with pytest.raises(BadRequestError):
        await manager.search("article", limit=0)


# -- search runs on the index table -----------------------------------------------
async def test_search_is_sql_on_the_index_table(manager, rows):
    where = {"views": {"eq": 3}, "color": {"eq": "red"}}
    page = await manager.search("article", where, sort=["-score"], limit=1000)
    expected = {r.id for r in rows if r.data.views == 3 and r.data.color is Color.RED}
    assert {r.id for r in page.items} == expected

    # The statement the manager just ran, found in the store's compiled-statement
    # cache: the page, or (SQLite, records from memory) the page's keys.
    spec = manager.specs["article"]
    query = SearchQuery(where=parse_where(where), sort=(SortKey("score", True),), limit=1000)
    meta_store = manager.stores.meta
    planned = compile_search(
        spec,
        query,
        with_payload=meta_store.capabilities.inline_payloads,
        dialect=meta_store.dialect_name,
    )
    ran = meta_store.st._cache.get(planned.statement.key)
    if ran is None and planned.keys is not None:
        ran = meta_store.st._cache.get(planned.keys.key)
    assert ran is not None, "the search did not run the compiled statement"
    sql = ran.sql
    assert "FROM specql_m_article" in sql
    assert "specql_revisions" not in sql
    assert "f_views" in sql and "f_color" in sql

    args = ran.bind(planned.statement.params)
    if meta_store.dialect_name == "postgresql":
        # With sequential scans priced out, PostgreSQL plans it on an index of
        # that table (a handful of rows would otherwise be scanned).
        def explain(db):
            db.execute_text("SET LOCAL enable_seqscan = off")
            return db.rows_in_order(Compiled("EXPLAIN " + sql, ()), args)

        details = " | ".join(row[0] for row in await meta_store.runner.write(explain))
        assert "specql_m_article" in details
        assert "Index" in details and "Seq Scan" not in details, details
        return
    # SQLite answers it from an index of that table, not by scanning payloads.
    plan = await meta_store.runner.read(
        lambda db: db.conn.execute("EXPLAIN QUERY PLAN " + sql, args).fetchall()
    )
    details = " | ".join(row[-1] for row in plan)
    assert "specql_m_article" in details
    assert "INDEX" in details, details
