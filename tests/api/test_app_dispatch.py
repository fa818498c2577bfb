"""GET and POST ``/graphql`` skip FastAPI's middleware stack, unless the
app has middleware of its own: then every request takes the full stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.middleware.base import BaseHTTPMiddleware

from app.api import create_app
from app.config import Settings
from app.example import build_registry
from app.resources.manager import ResourceManager

QUERY = {"query": "{ __typename }"}


@pytest.fixture
async def manager(tmp_path) -> AsyncIterator[ResourceManager]:
    opened = await build_registry().open(Settings(profile="memory", data_dir=str(tmp_path)))
    yield opened
    await opened.close()


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_graphql_requests_are_answered_before_the_middleware_stack(manager):
    app = create_app(build_registry(), manager=manager)
    async with client(app) as http:
        posted = await http.post("/graphql", json=QUERY)
        got = await http.get("/graphql", params=QUERY)
        assert posted.json() == got.json() == {"data": {"__typename": "Query"}}
        assert posted.headers["x-request-id"]
        # Starlette builds its middleware stack on the first request that enters it
        before = app.middleware_stack  # a local, so mypy keeps no narrowing of the attribute
        assert before is None
        assert (await http.get("/health")).json() == {"status": "ok"}
        assert app.middleware_stack is not None
        # other methods still go through the router to the endpoint's 405
        put = await http.put("/graphql", json=QUERY)
        assert put.status_code == 405 and put.json()["errors"][0]["message"]


async def test_middleware_added_to_the_app_sees_graphql_requests(manager):
    app = create_app(build_registry(), manager=manager)
    seen: list[str] = []

    async def record(request, call_next):
        seen.append(request.url.path)
        response = await call_next(request)
        response.headers["x-seen"] = "yes"
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=record)
    async with client(app) as http:
        answer = await http.post("/graphql", json=QUERY)
    assert answer.json() == {"data": {"__typename": "Query"}}
    assert answer.headers["x-seen"] == "yes" and seen == ["/graphql"]
