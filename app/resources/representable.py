"""What the API can represent: checks run on every write, after msgspec has
validated the types, so nothing is committed that then fails to serialize.

GraphQL ``Int`` is signed 32-bit (a wider int is declared ``BigInt``, whose
64-bit range msgspec enforces from its ``Meta``), ``Float`` has no NaN or
infinity, also inside JSON fields, and a ``Decimal`` must be finite too.
Each model gets one check built from its shape tree that visits only the
fields that can hold such values.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable
from typing import Any

import msgspec

from app.errors import FieldProblem
from app.resources.shapes import Shape, encode_names, struct_fields
from app.types import BIG_INT_MAX, BIG_INT_MIN, INT_MAX, INT_MIN

Check = Callable[[Any, str, list[FieldProblem]], None]

INT_RANGE = (
    f"must be an integer from {INT_MIN} to {INT_MAX} (GraphQL Int); "
    "a field declared BigInt takes 64-bit integers"
)
BIG_INT_RANGE = f"must be an integer from {BIG_INT_MIN} to {BIG_INT_MAX} (BigInt)"
NOT_FINITE = "must be a finite number (GraphQL Float has no NaN or infinity)"
NOT_FINITE_DECIMAL = "must be a finite decimal (not NaN or infinity)"


def model_check(model: type[msgspec.Struct]) -> Callable[[Any], list[FieldProblem]] | None:
    """The check of a model's instances (``$.path`` problems), or None when
    no field of the model can hold a value the API cannot represent."""
    check = _Compiler().struct(model)
    if check is None:
        return None

    def run(obj: Any) -> list[FieldProblem]:
        found: list[FieldProblem] = []
        check(obj, "$", found)
        return found

    return run


def shape_check(shape: Shape) -> Check | None:
    """The check of one value of a shape (a leaf of the codec's problem walk)."""
    return _Compiler().shape(shape)


class _Compiler:
    def __init__(self) -> None:
        self._structs: dict[type, Check | None] = {}

    def shape(self, shape: Shape) -> Check | None:
        kind = shape.kind
        if kind == "scalar":
            target = shape.target
            if target is bool or not isinstance(target, type):
                return None
            if issubclass(target, int) and not issubclass(target, bool):
                return _big_int if shape.wide else _int
            if issubclass(target, float):
                return _float
            if issubclass(target, decimal.Decimal):
                return _decimal
            return None
        if kind == "json":
            return _json
        if kind == "list":
            assert shape.item is not None
            item = self.shape(shape.item)
            return None if item is None else _each(item)
        if kind == "struct":
            return self.struct(shape.target)
        if kind == "union":
            members = {m: c for m in shape.target if (c := self.struct(m)) is not None}
            return _union(members) if members else None
        if kind == "blob":
            return _blob
        return None  # enums: always representable

    def struct(self, struct: type[msgspec.Struct]) -> Check | None:
        if struct in self._structs:  # a recursive Struct: checked through the late binding
            return self._structs[struct] or _late(self._structs, struct)
        self._structs[struct] = None
        keys = encode_names(struct)
        fields = [
            (name, keys[name], check)
            for name, shape in struct_fields(struct).items()
            if (check := self.shape(shape)) is not None
        ]
        if not fields:
            return None

        def check_struct(value: Any, path: str, found: list[FieldProblem]) -> None:
            for name, key, check in fields:
                v = getattr(value, name, None)
                if v is not None:
                    check(v, f"{path}.{key}", found)

        self._structs[struct] = check_struct
        return check_struct


def _late(checks: dict[type, Check | None], struct: type) -> Check:
    def check(value: Any, path: str, found: list[FieldProblem]) -> None:
        bound = checks[struct]
        if bound is not None:
            bound(value, path, found)

    return check


def _int(value: Any, path: str, found: list[FieldProblem]) -> None:
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        found.append(FieldProblem(path, INT_RANGE))


def _big_int(value: Any, path: str, found: list[FieldProblem]) -> None:
    if isinstance(value, int) and not BIG_INT_MIN <= value <= BIG_INT_MAX:
        found.append(FieldProblem(path, BIG_INT_RANGE))


def _float(value: Any, path: str, found: list[FieldProblem]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        found.append(FieldProblem(path, NOT_FINITE))


def _blob(value: Any, path: str, found: list[FieldProblem]) -> None:
    _int(getattr(value, "size", None), f"{path}.size", found)  # Blob.size is an Int


def _decimal(value: Any, path: str, found: list[FieldProblem]) -> None:
    # NaN and infinity neither compare nor index (a signalling NaN raises on use)
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        found.append(FieldProblem(path, NOT_FINITE_DECIMAL))


def _json(value: Any, path: str, found: list[FieldProblem]) -> None:
    if isinstance(value, float):
        _float(value, path, found)
    elif isinstance(value, dict):
        for key, v in value.items():
            _json(v, f"{path}[{key!r}]", found)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            _json(v, f"{path}[{i}]", found)
    elif isinstance(value, msgspec.Struct):
        _json(msgspec.to_builtins(value), path, found)


def _each(item: Check) -> Check:
    def check(value: Any, path: str, found: list[FieldProblem]) -> None:
        for i, v in enumerate(value):
            if v is not None:
                item(v, f"{path}[{i}]", found)

    return check


def _union(members: dict[type, Check]) -> Check:
    def check(value: Any, path: str, found: list[FieldProblem]) -> None:
        chosen = members.get(type(value))
        if chosen is not None:
            chosen(value, path, found)

    return check
