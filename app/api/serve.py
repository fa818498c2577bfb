"""Find the registry a user points at, and build the app ``specql serve`` runs.

MODELS is a Python file (``models.py``, ``models.py:registry``) or a module
(``shop.models``, ``shop.models:registry``); without ``:name`` the module
must hold exactly one Registry. With no MODELS, the bundled example app.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from app.api.app import ApiOptions, create_app
from app.api.auth import anonymous, user_from_header
from app.config import Settings
from app.errors import ConfigurationError, UniqueViolationError
from app.registry import Registry
from app.resources.manager import ResourceManager

ENV_MODELS = "SPECQL_MODELS"
ENV_USER_HEADER = "SPECQL_USER_HEADER"


def load_registry(models: str | None) -> Registry:
    """The registry MODELS names; ConfigurationError says what is wrong."""
    if not models:
        from app.example import build_registry

        return build_registry()
    target, _, attribute = models.partition(":")
    module = _load_module(target)
    if attribute:
        found = getattr(module, attribute, None)
        if callable(found) and not isinstance(found, Registry):
            found = found()
        if not isinstance(found, Registry):
            raise ConfigurationError(
                f"{target}:{attribute} is not a Registry",
                "Point at a module-level Registry (or a function returning one).",
            )
        return found
    registries = [v for v in vars(module).values() if isinstance(v, Registry)]
    if len(registries) != 1:
        raise ConfigurationError(
            f"{target} holds {len(registries)} Registry objects, not one",
            f"Name the one to serve: {target}:registry.",
        )
    return registries[0]


def _load_module(target: str) -> Any:
    path = Path(target)
    if target.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ConfigurationError(f"no such file: {target}")
        directory = str(path.resolve().parent)
        if directory not in sys.path:
            sys.path.insert(0, directory)  # so the file can import its neighbours
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        try:
            spec.loader.exec_module(module)
        except ConfigurationError:
            raise
        except Exception as exc:
            raise ConfigurationError(f"{target} failed to import: {exc!r}") from exc
        return module
    try:
        return importlib.import_module(target)
    except ImportError as exc:
        raise ConfigurationError(
            f"cannot import {target!r}: {exc}",
            "Pass a path to a .py file or a module on the Python path.",
        ) from exc


async def seed_example(manager: ResourceManager) -> None:
    """Seed the example app on its first start (no users yet)."""
    from app.example import seed

    if await manager.count("user", include_deleted=True) == 0:
        # Replicas starting together may all find no users. The seed's first
        # write is a user with a unique email, so every replica but one fails
        # there, having written nothing, while the winner seeds.
        with contextlib.suppress(UniqueViolationError):
            await seed(manager)


def build_app(models: str | None, settings: Settings, *, user_header: str | None = None) -> FastAPI:
    registry = load_registry(models)
    options = ApiOptions(
        authenticator=user_from_header(user_header) if user_header else anonymous,
        on_open=seed_example if not models else None,
    )
    return create_app(registry, settings=settings, options=options)


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory`` (used by ``specql serve --reload``)."""
    return build_app(
        os.environ.get(ENV_MODELS) or None,
        Settings.from_env(),
        user_header=os.environ.get(ENV_USER_HEADER) or None,
    )
