"""Registry: the models of an application, and the door to their manager."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from app.config import Settings
from app.errors import ConfigurationError
from app.resources.events import Hook, Hooks
from app.resources.manager import ResourceManager
from app.resources.spec import ResourceSpec, build_spec
from app.storage.profiles import open_stores


class Registry:
    """Holds registered models and hooks; ``open`` gives a ResourceManager."""

    def __init__(self) -> None:
        self.specs: dict[str, ResourceSpec] = {}
        self.hooks = Hooks()

    def add_model(
        self,
        model: type,
        *,
        name: str | None = None,
        indexed: Sequence[str] = (),
        unique: Sequence[Sequence[str]] = (),
        indexes: Sequence[Sequence[str]] = (),
        id_generator: Callable[[], str] | None = None,
        validators: Sequence[Callable[..., Any]] = (),
        schema_version: int = 1,
        plural: str | None = None,
    ) -> ResourceSpec:
        """Register a ``msgspec.Struct`` model as a versioned resource.

        Args:
            model: the Struct class.
            name: registry name; defaults to the class name in snake_case.
            indexed: dotted paths to search and sort on (refs and Unique fields
                are indexed without being listed).
            unique: groups of paths whose combined values must be unique.
            indexes: composite indexes for frequent filter + sort pairs, e.g.
                ``[("category", "price")]`` for "category = X order by price".
            id_generator: makes resource ids (default: UUIDv7 strings).
            validators: checks run after type validation; each takes the
                instance and raises ValueError, returns problems, or is async.
            schema_version: recorded on every revision.
            plural: plural name where the default (``name + "s"``) is wrong.

        Raises:
            ConfigurationError: unsupported field types, unknown indexed paths,
                misused markers, or a name already taken.
        """
        spec = build_spec(
            model,
            name=name,
            indexed=indexed,
            unique=unique,
            indexes=indexes,
            schema_version=schema_version,
            id_generator=id_generator,
            validators=validators,
            plural=plural,
        )
        if spec.name in self.specs:
            raise ConfigurationError(
                f"a model named {spec.name!r} is already registered",
                "Pass name=... to register it under another name.",
            )
        if any(s.model is model for s in self.specs.values()):
            raise ConfigurationError(f"{model.__name__} is already registered")
        from schema_gen.names import plan_names  # GraphQL names are checked at registration

        plan_names({**self.specs, spec.name: spec})
        self.specs[spec.name] = spec
        return spec

    def on(self, event: str, model: str | None = None) -> Callable[[Hook], Hook]:
        """Decorator: ``@registry.on("before_create", model="post")``."""
        when, _, action = event.partition("_")

        def register(fn: Hook) -> Hook:
            self.hooks.add(when, action, fn, model)
            return fn

        return register

    def check(self) -> None:
        """Check what only the whole registry can: every Ref names a model."""
        for spec in self.specs.values():
            for f in spec.refs:
                assert f.ref is not None
                if f.ref.model not in self.specs:
                    raise ConfigurationError(
                        f"model {spec.name!r}, field {f.path!r}: Ref to unknown model "
                        f"{f.ref.model!r}",
                        f"Registered models: {', '.join(sorted(self.specs))}.",
                    )

    def asgi(self, settings: Settings | None = None, **options: Any) -> Any:
        """The ASGI app serving these models over GraphQL (see
        ``app.api.create_app`` for ``options``); the manager opens at startup."""
        from app.api.app import create_app

        return create_app(self, settings=settings, **options)

    async def open(self, settings: Settings | None = None, **options: Any) -> ResourceManager:
        """Open the stores of a profile and return the manager.

        ``options`` override fields of ``settings`` (``profile="memory"``,
        ``data_dir=...``). Migrations run and index tables are created or
        extended (new indexed fields are backfilled) before this returns.

        Raises:
            ConfigurationError: a model cannot read the resources stored under
                its earlier shape (a new field without a default, a type that
                refuses stored values), among the registry's own problems.
        """
        self.check()
        settings = dataclasses.replace(settings or Settings(), **options)
        stores = open_stores(settings)
        try:
            manager = ResourceManager(self.specs, stores, settings, self.hooks)
            await stores.meta.open(
                list(self.specs.values()),
                backfill=manager.backfill,
                check=manager.check_stored,
                payload_format=settings.payload_format,
            )
        except BaseException:
            await stores.close()
            raise
        return manager
