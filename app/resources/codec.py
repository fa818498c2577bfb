"""Payload encoding and validation for one model.

Input (a Struct or builtins) is encoded, decoded with the model's typed
decoder (this validates every field), then encoded again in deterministic
order: those bytes are the payload, and their hash tells identical data apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from app.errors import FieldProblem, ValidationFailedError

PayloadFormat = Literal["msgpack", "json"]


class ModelCodec:
    def __init__(self, name: str, model: type[msgspec.Struct], fmt: PayloadFormat = "msgpack"):
        self.name = name
        self.model = model
        self.format = fmt
        module = msgspec.msgpack if fmt == "msgpack" else msgspec.json
        self._encode = module.Encoder(order="deterministic").encode
        self._decode = module.Decoder(model).decode
        self._module = module
        self._from_json = msgspec.json.Decoder(model).decode
        self._field_decoders: dict[str, Any] | None = None

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
            obj = self._decode(self._encode(data))
        except msgspec.ValidationError as exc:
            raise ValidationFailedError(self.name, self.problems(data, exc)) from None
        except (TypeError, msgspec.EncodeError) as exc:
            raise ValidationFailedError(self.name, [FieldProblem("$", str(exc))]) from None
        return obj, self._encode(obj)

    def from_json_like(self, data: Any) -> Any:
        """A model instance from JSON-shaped builtins (as a JSON Patch edits
        them: dates, UUIDs and Decimals as strings, bytes as base64)."""
        try:
            return self._from_json(msgspec.json.encode(data))
        except msgspec.ValidationError as exc:
            raise ValidationFailedError(self.name, self.problems(data, exc)) from None
        except (TypeError, msgspec.EncodeError) as exc:
            raise ValidationFailedError(self.name, [FieldProblem("$", str(exc))]) from None

    def problems(self, data: Any, first: msgspec.ValidationError) -> list[FieldProblem]:
        """Check field by field so that every bad field is reported at once."""
        if isinstance(data, msgspec.Struct):
            data = msgspec.to_builtins(data)
        decoders = self._decoders()
        found: list[FieldProblem] = []
        for name, (decode, required) in decoders.items():
            if name not in data:
                if required:
                    found.append(FieldProblem(f"$.{name}", "Object missing required field"))
                continue
            try:
                decode(self._encode(data[name]))
            except msgspec.ValidationError as exc:
                message, _, where = str(exc).partition(" - at `$")
                found.append(FieldProblem(f"$.{name}{where.rstrip('`')}", message))
            except (TypeError, msgspec.EncodeError) as exc:
                found.append(FieldProblem(f"$.{name}", str(exc)))
        return found or [_problem(first)]

    def _decoders(self) -> dict[str, Any]:
        if self._field_decoders is None:
            import typing

            hints = typing.get_type_hints(self.model, include_extras=True)
            info = msgspec.structs.fields(self.model)
            self._field_decoders = {
                f.encode_name: (self._module.Decoder(hints[f.name]).decode, f.required)
                for f in info
            }
        return self._field_decoders


def data_hash(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def _problem(exc: msgspec.ValidationError) -> FieldProblem:
    message, _, where = str(exc).partition(" - at `")
    return FieldProblem(where.rstrip("`") or "$", message)
