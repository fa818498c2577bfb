"""The one error tree of SpecQL.

Every error a client can see derives from :class:`SpecQLError` and carries its
wire code as a class attribute::

    SpecQLError                         code
    ├── NotFoundError                   NOT_FOUND
    ├── ConflictError                   CONFLICT
    │   ├── RevisionConflictError       (stale expected revision)
    │   ├── DraftConflictError          (a draft was modified since it was read)
    │   ├── UniqueViolationError        (a Unique value is taken)
    │   ├── ResourceDeletedError        (the resource is soft-deleted)
    │   ├── ResourceExistsError         (the resource id is taken)
    │   └── ReferencedError             (restrict: live referrers exist)
    ├── ValidationFailedError           VALIDATION_FAILED (every problem, with paths)
    ├── UnauthenticatedError            UNAUTHENTICATED
    ├── ForbiddenError                  FORBIDDEN
    ├── BadRequestError                 BAD_REQUEST
    ├── LimitExceededError              LIMIT_EXCEEDED
    └── StorageError                    INTERNAL (message never sent to clients)

    ConfigurationError                  raised at registration; message + suggestion

Errors carry structured fields besides their message, so callers branch on
data, not on text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec

__all__ = [
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "DraftConflictError",
    "FieldProblem",
    "ForbiddenError",
    "LimitExceededError",
    "NotFoundError",
    "ReferencedError",
    "ResourceDeletedError",
    "ResourceExistsError",
    "RevisionConflictError",
    "SpecQLError",
    "StorageError",
    "UnauthenticatedError",
    "UniqueViolationError",
    "ValidationFailedError",
]


class SpecQLError(Exception):
    """Base of every error a client may see."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __getattr__(self, name: str) -> Any:
        details = self.__dict__.get("details", {})
        if name in details:
            return details[name]
        raise AttributeError(name)


class NotFoundError(SpecQLError):
    code = "NOT_FOUND"


class ConflictError(SpecQLError):
    code = "CONFLICT"


class RevisionConflictError(ConflictError):
    """The caller's expected revision is no longer current."""

    def __init__(self, resource_id: str, expected: str, actual: str) -> None:
        super().__init__(
            f"resource {resource_id!r} is at revision {actual!r}, not the expected {expected!r}",
            resource_id=resource_id,
            expected=expected,
            actual=actual,
        )


class DraftConflictError(ConflictError):
    """The draft was modified in place since the caller read it: its data
    hash is no longer the expected one."""

    def __init__(self, resource_id: str, expected: str, actual: str) -> None:
        super().__init__(
            f"the draft of resource {resource_id!r} has data hash {actual!r}, not the "
            f"expected {expected!r}: it was modified meanwhile",
            resource_id=resource_id,
            expected=expected,
            actual=actual,
        )


class UniqueViolationError(ConflictError):
    def __init__(self, model: str, fields: Sequence[str], value: Any) -> None:
        names = ", ".join(fields)
        super().__init__(
            f"{model}: value {value!r} of unique field {names} is already taken",
            model=model,
            fields=tuple(fields),
            value=value,
        )


class ResourceDeletedError(ConflictError):
    def __init__(self, model: str, resource_id: str, action: str) -> None:
        super().__init__(
            f"{model} {resource_id!r} is deleted; restore it before {action}",
            model=model,
            resource_id=resource_id,
        )


class ResourceExistsError(ConflictError):
    def __init__(self, model: str, resource_id: str | None) -> None:
        shown = f" {resource_id!r}" if resource_id else ""
        super().__init__(f"{model}{shown} already exists", model=model, resource_id=resource_id)


class ReferencedError(ConflictError):
    """A restrict reference forbids the delete."""

    def __init__(self, model: str, resource_id: str, referrers: Sequence[Any]) -> None:
        shown = ", ".join(f"{r.model}.{r.field} of {r.resource_id}" for r in referrers[:5])
        super().__init__(
            f"{model} {resource_id!r} is still referenced ({shown}); "
            "delete or change the referrers first",
            model=model,
            resource_id=resource_id,
            referrers=list(referrers),
        )


class FieldProblem(msgspec.Struct, frozen=True):
    """One validation problem: where (``$.items[0].price``) and what."""

    path: str
    message: str


class ValidationFailedError(SpecQLError):
    code = "VALIDATION_FAILED"

    def __init__(self, model: str, problems: Sequence[FieldProblem]) -> None:
        listed = "; ".join(f"{p.message} at `{p.path}`" for p in problems)
        super().__init__(f"invalid {model}: {listed}", model=model, problems=list(problems))


class UnauthenticatedError(SpecQLError):
    code = "UNAUTHENTICATED"


class ForbiddenError(SpecQLError):
    code = "FORBIDDEN"


class BadRequestError(SpecQLError):
    code = "BAD_REQUEST"


class LimitExceededError(SpecQLError):
    code = "LIMIT_EXCEEDED"

    def __init__(self, limit: str, maximum: int, actual: int) -> None:
        super().__init__(
            f"{limit} is {actual}, over the limit of {maximum}",
            limit=limit,
            maximum=maximum,
            actual=actual,
        )


class StorageError(SpecQLError):
    """A store failed; the message is for logs, never for clients."""

    code = "INTERNAL"


class ConfigurationError(Exception):
    """A model or setting cannot be used; raised at registration or open."""

    def __init__(self, message: str, suggestion: str = "") -> None:
        super().__init__(f"{message}. {suggestion}".strip() if suggestion else message)
        self.suggestion = suggestion
