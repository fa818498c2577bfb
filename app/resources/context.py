"""Who acts and when: explicit arguments, else the operation scope, else defaults."""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
from types import TracebackType

from app.errors import UnauthenticatedError
from app.records import to_micros


@dataclasses.dataclass(frozen=True)
class Operation:
    user: str | None = None
    now: dt.datetime | None = None


_current: contextvars.ContextVar[Operation | None] = contextvars.ContextVar(
    "specql_operation", default=None
)


class OperationScope:
    """``with``/``async with``: writes inside act as ``user`` (at ``now``)."""

    def __init__(self, user: str | None, now: dt.datetime | None) -> None:
        self._operation = Operation(user, now)
        self._token: contextvars.Token[Operation | None] | None = None

    def __enter__(self) -> OperationScope:
        self._token = _current.set(self._operation)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _current.reset(self._token)

    async def __aenter__(self) -> OperationScope:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def acting(
    user: str | None, now: dt.datetime | None, *, default_user: str, strict: bool
) -> tuple[str, int]:
    """The user and time (microseconds) of a write."""
    scope = _current.get()
    who = user or (scope.user if scope else None)
    if who is None:
        if strict:
            raise UnauthenticatedError(
                "no acting user: pass user=... or wrap the call in manager.using(user=...)"
            )
        who = default_user
    when = now or (scope.now if scope else None)
    return who, to_micros(when) if when is not None else _now_micros()


def _now_micros() -> int:
    import time

    return time.time_ns() // 1000
