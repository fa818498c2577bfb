"""The one table from GraphQL scalars to TypeScript types.

Built-in scalars become TypeScript primitives; the others are exported as
aliases of their type (``export type DateTime = string;``), so a field reads
``publishedAt: DateTime | null``. A scalar missing here is ``unknown``: the
caller must narrow it, nothing is promised that the server does not keep.
"""

from __future__ import annotations

SCALARS: dict[str, str] = {
    # built in
    "ID": "string",
    "String": "string",
    "Int": "number",
    "Float": "number",
    "Boolean": "boolean",
    # schema_gen/scalars.py and strawberry's
    "DateTime": "string",  # ISO 8601, e.g. 2026-11-01T00:00:00+00:00
    "Date": "string",  # ISO 8601 date, e.g. 2026-11-01
    "Time": "string",  # ISO 8601 time
    "UUID": "string",
    "Decimal": "string",  # exact: never a binary float
    "BigInt": "string",  # signed 64-bit, as digits: a JS number keeps only 53 bits
    "Base64": "string",
    "JSON": "$.JsonValue",
}

UNKNOWN = "unknown"


def ts_scalar(name: str) -> str:
    """The TypeScript type of a scalar."""
    return SCALARS.get(name, UNKNOWN)
