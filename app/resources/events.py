"""Hooks before and after each action.

A before-hook may raise to abort the write (nothing is written; the exception
reaches the caller). An after-hook runs once the write has committed; its
exceptions are logged, never undo the write, and never reach the caller.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable
from typing import Any, Literal

Action = Literal[
    "create", "update", "patch", "modify", "set_status", "delete", "restore", "switch", "purge"
]
ACTIONS = (
    "create",
    "update",
    "patch",
    "modify",
    "set_status",
    "delete",
    "restore",
    "switch",
    "purge",
)
log = logging.getLogger("specql.events")


@dataclasses.dataclass
class Event:
    """What is happening: ``data`` is the new data where the action has one."""

    action: Action
    model: str
    resource_id: str
    user: str
    data: Any = None
    revision_id: str | None = None
    cascade_from: tuple[str, str] | None = None


Hook = Callable[[Event], Any]


class Hooks:
    def __init__(self) -> None:
        self._hooks: dict[tuple[str, str], list[tuple[str | None, Hook]]] = {}

    def add(self, when: str, action: str, fn: Hook, model: str | None = None) -> None:
        if when not in ("before", "after") or action not in ACTIONS:
            raise ValueError(
                f"unknown hook {when}_{action}; use before_/after_ with one of {ACTIONS}"
            )
        self._hooks.setdefault((when, action), []).append((model, fn))

    def has(self, when: str, action: str) -> bool:
        return (when, action) in self._hooks

    async def fire(self, when: str, event: Event) -> None:
        """Run the ``before`` or ``after`` hooks of an event's action."""
        if (when, event.action) in self._hooks:
            await (self.before(event) if when == "before" else self.after(event))

    async def before(self, event: Event) -> None:
        for model, fn in self._hooks.get(("before", event.action), ()):
            if model is None or model == event.model:
                result = fn(event)
                if inspect.isawaitable(result):
                    await result

    async def after(self, event: Event) -> None:
        for model, fn in self._hooks.get(("after", event.action), ()):
            if model is None or model == event.model:
                try:
                    result = fn(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception(
                        "after_%s hook failed for %s %s",
                        event.action,
                        event.model,
                        event.resource_id,
                    )
