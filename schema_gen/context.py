"""What every resolver gets as ``info.context``: the manager, the acting user
and this request's DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from app.resources.manager import ResourceManager
from schema_gen.limits import Limits


class GraphQLContext:
    """Per-request state. DataLoaders are made on first use and live as long
    as the request, so one batch per field per level reaches the manager.

    Attributes:
        manager: the only door to data.
        user: the acting user, from the authenticator (never from input).
        request_id: names the request in logs and in INTERNAL errors.
        limits: the configured request limits.
        request: the HTTP request, when there is one.
    """

    __slots__ = ("_loaders", "limits", "manager", "request", "request_id", "user")

    def __init__(
        self,
        manager: ResourceManager,
        *,
        user: str | None = None,
        request_id: str = "-",
        limits: Limits | None = None,
        request: Any = None,
    ) -> None:
        self.manager = manager
        self.user = user
        self.request_id = request_id
        self.limits = limits or Limits()
        self.request = request
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def loader(
        self, key: Hashable, load: Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]
    ) -> DataLoader[Any, Any]:
        """The request's DataLoader for ``key``, made with ``load`` the first time."""
        found = self._loaders.get(key)
        if found is None:
            found = self._loaders[key] = DataLoader(load_fn=load)
        return found
