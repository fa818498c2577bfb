"""Waiting for a state instead of for a time: a test that needs tasks to have
reached a point waits until they have, however slowly the machine runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

HANG = 120.0  # seconds: only a state that never comes takes this long


async def until(condition: Callable[[], bool], what: str) -> None:
    """Yield to the event loop (and the threads it waits for) until
    ``condition()`` holds; fail only if it never does."""
    async with asyncio.timeout(HANG):
        while not condition():
            await asyncio.sleep(0.001)
    assert condition(), what


def queued(runner: object, count: int) -> Callable[[], bool]:
    """Whether ``count`` writes wait in the SQLite runner's group-commit queue."""
    return lambda: len(runner._queued) == count  # type: ignore[attr-defined]
