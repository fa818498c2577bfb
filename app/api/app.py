"""The ASGI app: ``/graphql`` (with GraphiQL), ``/health``, ``/ready`` and
GraphiQL's own assets, on FastAPI.

The GraphQL route is a plain Starlette route: it does its own parsing and
content negotiation, so FastAPI's request validation would only add work.
GET and POST requests to it are answered before FastAPI's middleware stack
too, unless middleware has been added to the app (see ``SpecQLApp``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from app.api import graphiql
from app.api.auth import Authenticator, anonymous
from app.api.graphql_http import GraphQLEndpoint
from app.config import Settings
from app.errors import ConfigurationError, SpecQLError
from app.resources.manager import ResourceManager
from schema_gen import Limits, build_schema

if TYPE_CHECKING:
    from app.registry import Registry

GRAPHQL_PATH = "/graphql"
ASSETS_PATH = "/graphiql/static"
# every method reaches the endpoint, which answers 405 as a GraphQL error body
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class SpecQLApp(FastAPI):
    """FastAPI, with GET and POST ``/graphql`` requests answered before its
    middleware stack and router: the endpoint turns every error into a
    GraphQL error body itself, and those layers (error and exception
    middleware, routing, an OpenTelemetry check) cost ~200 µs of a W2 search
    request and ~75 µs of a create (A/B in-process, ~15 % and ~9 %). Once
    middleware is added (CORS, say), every request takes the full stack."""

    graphql: GraphQLEndpoint
    # why the stores could not open at startup, in one line (see ``lifespan``)
    startup_problem: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == GRAPHQL_PATH
            and scope["method"] in ("GET", "POST")
            and not self.user_middleware
        ):
            scope["app"] = self
            response = await self.graphql.handle(Request(scope, receive))
            await response(scope, receive, send)
            return
        if scope["type"] == "lifespan":  # once per process: after the request path
            send = self._telling_the_problem(send)
        await super().__call__(scope, receive, send)

    def _telling_the_problem(self, send: Send) -> Send:
        """The server logs a failed startup's message: a known problem (a bad
        setting, a store that cannot open) as one line, not a traceback."""

        async def told(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self.startup_problem:
                message = {**message, "message": self.startup_problem}
            await send(message)

        return told


@dataclasses.dataclass
class ApiOptions:
    """How the app serves the registry.

    Attributes:
        limits: request limits (depth, aliases, page and batch sizes, body).
        authenticator: who is acting, from the request.
        graphiql: serve GraphiQL on GET /graphql for browsers.
        on_open: runs once the manager is open (e.g. seed example data).
    """

    limits: Limits = dataclasses.field(default_factory=Limits)
    authenticator: Authenticator = anonymous
    graphiql: bool = True
    on_open: Callable[[ResourceManager], Awaitable[Any]] | None = None


def create_app(
    registry: Registry,
    *,
    settings: Settings | None = None,
    manager: ResourceManager | None = None,
    options: ApiOptions | None = None,
) -> SpecQLApp:
    """The ASGI app of a registry.

    Args:
        registry: the models to serve.
        settings: how to open the stores (when no ``manager`` is given); the
            manager is opened at startup and closed at shutdown.
        manager: an already open manager to serve (the caller closes it).
        options: limits, authenticator, GraphiQL.
    """
    options = options or ApiOptions()
    registry.check()
    schema, _ = build_schema(registry.specs)
    page = graphiql.graphiql_page(GRAPHQL_PATH, ASSETS_PATH) if options.graphiql else None
    assets = (
        {name: (graphiql.ASSET_DIR / name).read_bytes() for name in graphiql.ASSET_FILES}
        if options.graphiql
        else {}
    )
    endpoint = GraphQLEndpoint(
        schema._schema,
        manager,
        limits=options.limits,
        authenticator=options.authenticator,
        graphiql_page=page,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if endpoint.manager is not None:
            yield
            return
        try:
            endpoint.manager = await registry.open(settings)
        except (ConfigurationError, SpecQLError) as exc:
            api.startup_problem = f"error: {exc}"
            raise
        try:
            if options.on_open is not None:
                await options.on_open(endpoint.manager)
            yield
        finally:
            await endpoint.manager.close()

    api = SpecQLApp(title="SpecQL", lifespan=lifespan, docs_url=None, redoc_url=None)
    api.graphql = endpoint
    api.router.routes.append(Route(GRAPHQL_PATH, endpoint.handle, methods=_ALL_METHODS))
    api.state.schema = schema
    api.state.endpoint = endpoint

    @api.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/ready", include_in_schema=False)
    async def ready() -> Response:
        if endpoint.manager is None:
            return JSONResponse({"status": "starting"}, 503)
        checks = await endpoint.manager.readiness()
        shown = {name: "up" if up else "down" for name, up in checks.items()}
        if not all(checks.values()):
            return JSONResponse({"status": "unavailable", "checks": shown}, 503)
        return JSONResponse({"status": "ready", "checks": shown})

    @api.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in assets:
            return JSONResponse({"error": "not found"}, 404)
        return Response(
            assets[name],
            media_type=graphiql.ASSET_FILES[name],
            headers={"cache-control": "public, max-age=86400"},
        )

    return api
