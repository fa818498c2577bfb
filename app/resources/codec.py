"""Payload encoding and validation for one model.

Input (a Struct or builtins) is encoded to msgpack, decoded with the model's
typed decoder (this validates every field), checked for values the API cannot
represent, then encoded in the payload format in deterministic order: those
bytes are the payload, and their hash tells identical data apart.
"""

from __future__ import annotations

import functools
import hashlib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from app.errors import FieldProblem, ValidationFailedError
from app.resources.representable import INT_RANGE, model_check, shape_check
from app.resources.shapes import shape_of

PayloadFormat = Literal["msgpack", "json"]


class ModelCodec:
    def __init__(self, name: str, model: type[msgspec.Struct], fmt: PayloadFormat = "msgpack"):
        self.name = name
        self.model = model
        self.format = fmt
        module = msgspec.msgpack if fmt == "msgpack" else msgspec.json
        self._encode = module.Encoder(order="deterministic").encode
        self._decode = module.Decoder(model).decode
        # validation always goes through msgpack: JSON text would turn NaN into null
        self._check_encode = msgspec.msgpack.Encoder().encode
        self._check_decode = msgspec.msgpack.Decoder(model).decode
        self._decoders: dict[str, Any] = {}
        self._leaf_checks: dict[str, Any] = {}
        self._check = model_check(model)

    def encode(self, obj: msgspec.Struct) -> bytes:
        payload: bytes = self._encode(obj)
        return payload

    def decode(self, payload: bytes) -> Any:
        return self._decode(payload)

    def validate(self, data: Any) -> tuple[Any, bytes]:
        """Return the model instance and its payload, or raise with every problem."""
        if not isinstance(data, (self.model, Mapping)):
            raise ValidationFailedError(
                self.name,
                [
                    FieldProblem(
                        "$",
                        f"expected a {self.model.__name__} or a mapping, got {type(data).__name__}",
                    )
                ],
            )
        try:
            obj = self._check_decode(self._check_encode(data))
        except (msgspec.ValidationError, OverflowError) as exc:
            raise ValidationFailedError(self.name, self.problems(data, exc)) from None
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it
            raise ValidationFailedError(self.name, surrogate_problems(data)) from None
        except (TypeError, msgspec.EncodeError) as exc:
            raise ValidationFailedError(self.name, [FieldProblem("$", str(exc))]) from None
        self._representable(obj)
        return obj, self._encode(obj)

    def from_json_like(self, data: Any) -> Any:
        """A model instance from JSON-shaped builtins (as a JSON Patch edits
        them: dates, UUIDs and Decimals as strings, bytes as base64)."""
        try:  # not through JSON text: it would turn NaN into null
            obj = msgspec.convert(data, self.model)
        except (msgspec.ValidationError, OverflowError) as exc:
            raise ValidationFailedError(self.name, self.problems(data, exc)) from None
        except (TypeError, msgspec.EncodeError) as exc:
            raise ValidationFailedError(self.name, [FieldProblem("$", str(exc))]) from None
        self._representable(obj)
        return obj

    def _representable(self, obj: Any) -> None:
        if self._check is not None:
            problems = self._check(obj)
            if problems:
                raise ValidationFailedError(self.name, problems)

    def problems(self, data: Any, first: Exception) -> list[FieldProblem]:
        """Walk the data along the model's types so that every bad value is
        reported at once, nested Structs and list items included."""
        if isinstance(data, msgspec.Struct):
            data = msgspec.to_builtins(data)
        found: list[FieldProblem] = []
        self._collect(data, self.model, "$", found)
        if found:
            return found
        if isinstance(first, msgspec.ValidationError):
            return [_problem(first)]
        return [FieldProblem("$", INT_RANGE)]

    def _collect(self, value: Any, hint: Any, path: str, found: list[FieldProblem]) -> None:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            inner = typing.get_args(hint)[0]
            if typing.get_origin(inner) is not None or _is_plain_struct(inner):
                # constraints on a container (max_length of a list) are checked whole
                before = len(found)
                self._leaf(value, hint, path, found)
                # problems inside the value: the walk below finds them
                found[before:] = [p for p in found[before:] if p.path == path]
                hint, origin = inner, typing.get_origin(inner)
            else:
                self._leaf(value, hint, path, found)  # Meta constraints apply to the leaf
                return
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(hint) if a is not type(None)]
            if value is None and len(members) < len(typing.get_args(hint)):
                return
            if len(members) == 1:
                self._collect(value, members[0], path, found)
                return
        elif _is_plain_struct(hint) and isinstance(value, dict):
            fields = msgspec.structs.fields(hint)
            hints = _hints_of(hint)
            for f in fields:
                if f.encode_name in value:
                    self._collect(
                        value[f.encode_name], hints[f.name], f"{path}.{f.encode_name}", found
                    )
                elif f.required:
                    found.append(
                        FieldProblem(f"{path}.{f.encode_name}", "Object missing required field")
                    )
            return
        elif origin in (list, set, frozenset) and isinstance(value, list):
            (item,) = typing.get_args(hint) or (Any,)
            for i, element in enumerate(value):
                self._collect(element, item, f"{path}[{i}]", found)
            return
        elif origin is dict and isinstance(value, dict):
            _, item = typing.get_args(hint) or (str, Any)
            for key, element in value.items():
                self._collect(element, item, f"{path}[{key!r}]", found)
            return
        self._leaf(value, hint, path, found)

    def _leaf(self, value: Any, hint: Any, path: str, found: list[FieldProblem]) -> None:
        key = repr(hint)
        try:
            decoded = self._decoder_for(key, hint)(self._check_encode(value))
        except msgspec.ValidationError as exc:
            message, _, where = str(exc).partition(" - at `$")
            found.append(FieldProblem(f"{path}{where.rstrip('`')}", message))
            return
        except OverflowError:  # wider than msgpack's 64 bits
            found.append(FieldProblem(path, INT_RANGE))
            return
        except (TypeError, msgspec.EncodeError) as exc:
            found.append(FieldProblem(path, str(exc)))
            return
        if key not in self._leaf_checks:
            self._leaf_checks[key] = shape_check(shape_of(hint))
        check = self._leaf_checks[key]
        if check is not None:
            check(decoded, path, found)

    def _decoder_for(self, key: str, hint: Any) -> Any:
        decode = self._decoders.get(key)
        if decode is None:
            decode = self._decoders[key] = msgspec.msgpack.Decoder(hint).decode
        return decode


@functools.cache
def _hints_of(model: type) -> dict[str, Any]:
    return typing.get_type_hints(model, include_extras=True)


def _is_plain_struct(hint: Any) -> bool:
    """A Struct decoded from a plain object (tagged ones are checked whole)."""
    return (
        isinstance(hint, type)
        and issubclass(hint, msgspec.Struct)
        and hint.__struct_config__.tag is None
        and not hint.__struct_config__.array_like
    )


LONE_SURROGATE = "text must be valid Unicode (it holds a lone surrogate, which UTF-8 cannot encode)"


def surrogate_problems(value: Any, path: str = "$") -> list[FieldProblem]:
    """Where text holding a lone surrogate sits in ``value``."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return [FieldProblem(path, LONE_SURROGATE)]
        return []
    if isinstance(value, msgspec.Struct):
        value = msgspec.structs.asdict(value)
    found: list[FieldProblem] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found += surrogate_problems(key, path) + surrogate_problems(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            found += surrogate_problems(item, f"{path}[{index}]")
    if path == "$" and not found:  # the encoder refused something the walk cannot see
        return [FieldProblem(path, LONE_SURROGATE)]
    return found


def data_hash(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def _problem(exc: msgspec.ValidationError) -> FieldProblem:
    message, _, where = str(exc).partition(" - at `")
    return FieldProblem(where.rstrip("`") or "$", message)
