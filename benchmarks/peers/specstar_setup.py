"""specstar set up the same way for every peer runner: on its disk backend, or
on its PostgreSQL storage (``specstar[postgresql]``: psycopg2)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from specstar import BackendBinding, BackendConfig, ConnectionProfile, SpecStar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for workload

from workload import INDEXED, Item

# Connections specstar's psycopg2 pool keeps open. Its default, 0, makes
# ThreadedConnectionPool close every connection it is handed back, so each
# store call connects afresh (~10 ms here, three connects per get); with 4 the
# pool keeps enough open for one caller, as a deployment would configure.
POOL_MINCONN = 4


def make_spec(
    rootdir: str,
    *,
    graphql: bool = False,
    postgres: str | None = None,
    minconn: int = POOL_MINCONN,
) -> SpecStar:
    """Meta, resources and blobs on specstar's disk backend; with ``postgres``
    (a DSN), meta and resources on its PostgreSQL backend instead
    (``PostgresMetaStore``: one row per resource, indexed values in a JSONB
    column with a GIN index; ``PostgresResourceStore``: revisions in tables),
    blobs still on disk (its postgres backend offers meta and resource only),
    with ``minconn`` pooled connections kept open. With ``graphql``, its
    opt-in GraphQL route template is added before the model."""
    disk = BackendBinding(use="disk")
    connections = {"disk": ConnectionProfile(type="disk", options={"rootdir": rootdir})}
    data = disk
    if postgres is not None:
        connections["pg"] = ConnectionProfile(
            type="postgres", options={"dsn": postgres, "minconn": minconn}
        )
        data = BackendBinding(use="pg")
    spec = SpecStar(
        backend=BackendConfig(connections=connections, meta=data, resource=data, blob=disk),
        default_user="bench",
        default_now=lambda: dt.datetime.now(dt.UTC),
    )
    if graphql:
        from specstar.crud.route_templates.graphql import GraphQLRouteTemplate

        spec.add_route_template(GraphQLRouteTemplate())
    spec.add_model(Item, indexed_fields=INDEXED)
    return spec


def database_url(base: str, name: str) -> str:
    """``base`` with its database replaced by ``name``."""
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


@contextlib.contextmanager
def fresh_database(base: str) -> Iterator[str]:
    """A PostgreSQL database made for one run (on the server of ``base``) and
    dropped after; yields its URL. specstar names its tables and indexes
    without a schema (``item_meta``, ``idx_created_time``) and its pool
    overrides the connection's ``options``, so a database, not a schema,
    keeps runs apart."""
    import psycopg2
    from specstar.resource_manager import _pg_pool

    name = f"specstar_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        try:
            yield database_url(base, name)
        finally:
            _pg_pool.close_all_pools()
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
