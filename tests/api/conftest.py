"""Fixtures for the GraphQL API: the example app (or any registry) served by
the real ASGI app, called over HTTP through httpx's ASGI transport."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from app import Registry, ResourceManager, Settings
from app.api import ApiOptions, create_app
from app.example import build_registry
from tests.conftest import drop_schemas, isolated

API_PROFILES = {
    "memory": Settings(profile="memory"),
    "disk": Settings(profile="disk"),
}


class GraphQLClient:
    """POSTs GraphQL to the app; ``data()`` insists there are no errors."""

    def __init__(self, http: httpx.AsyncClient, manager: ResourceManager) -> None:
        self.http = http
        self.manager = manager

    async def post(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = await self.http.post("/graphql", json=body, **kw)
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        result = await self.post(query, variables, **kw)
        assert "errors" not in result, result["errors"]
        return result["data"]

    async def error(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The single error of a request that must fail."""
        result = await self.post(query, variables, **kw)
        assert "errors" in result, result
        assert len(result["errors"]) == 1, result["errors"]
        return result["errors"][0]


MakeClient = Callable[..., Awaitable[GraphQLClient]]


@pytest.fixture(params=list(API_PROFILES))
def api_settings(request: pytest.FixtureRequest, tmp_path: Any) -> Settings:
    return dataclasses.replace(API_PROFILES[request.param], data_dir=str(tmp_path / "data"))


@pytest.fixture
async def make_client(api_settings: Settings, tmp_path: Any) -> AsyncIterator[MakeClient]:
    """``await make_client(registry=None, options=None, **settings)``: a client of
    a fresh app on the test's profile (the example app by default); each has
    data of its own (on PostgreSQL a schema, dropped after the test)."""
    opened: list[tuple[ResourceManager, httpx.AsyncClient]] = []
    schemas: set[str] = set()

    async def make(
        registry: Registry | None = None, options: ApiOptions | None = None, **overrides: Any
    ) -> GraphQLClient:
        registry = registry or build_registry()
        data_dir = overrides.pop("data_dir", str(tmp_path / f"data{len(opened)}"))
        chosen = dataclasses.replace(isolated(api_settings, data_dir), **overrides)
        if chosen.database_schema:
            schemas.add(chosen.database_schema)
        manager = await registry.open(chosen)
        app = create_app(registry, manager=manager, options=options)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        opened.append((manager, http))
        return GraphQLClient(http, manager)

    yield make
    for manager, http in reversed(opened):
        await http.aclose()
        await manager.close()
    if schemas:
        await drop_schemas(schemas)


@pytest.fixture
async def client(make_client: MakeClient) -> GraphQLClient:
    """A client of the example app with its seed data."""
    from app.example import seed

    made = await make_client()
    await seed(made.manager)
    return made
