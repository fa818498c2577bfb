"""SpecQL: versioned resources from msgspec Structs, served as GraphQL."""

from app.config import Settings
from app.errors import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    DraftConflictError,
    FieldProblem,
    ForbiddenError,
    LimitExceededError,
    NotFoundError,
    ReferencedError,
    ResourceDeletedError,
    ResourceExistsError,
    RevisionConflictError,
    SpecQLError,
    StorageError,
    UnauthenticatedError,
    UniqueViolationError,
    ValidationFailedError,
)
from app.records import Page, Referrer, Resource, ResourceMeta, RevisionInfo, WriteResult
from app.registry import Registry
from app.resources.events import Event
from app.resources.manager import ResourceManager
from app.search.query import F, SortKey
from app.types import BigInt, Binary, Ref, Unique

__version__ = "0.1.0"

__all__ = [
    "BadRequestError",
    "BigInt",
    "Binary",
    "ConfigurationError",
    "ConflictError",
    "DraftConflictError",
    "Event",
    "F",
    "FieldProblem",
    "ForbiddenError",
    "LimitExceededError",
    "NotFoundError",
    "Page",
    "Ref",
    "ReferencedError",
    "Referrer",
    "Registry",
    "Resource",
    "ResourceDeletedError",
    "ResourceExistsError",
    "ResourceManager",
    "ResourceMeta",
    "RevisionConflictError",
    "RevisionInfo",
    "Settings",
    "SortKey",
    "SpecQLError",
    "StorageError",
    "UnauthenticatedError",
    "Unique",
    "UniqueViolationError",
    "ValidationFailedError",
    "WriteResult",
    "__version__",
]
