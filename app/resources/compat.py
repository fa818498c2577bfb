"""Whether a model can still read the resources stored under its earlier shape.

Every open records, per model, a description of its shapes: msgspec's view
of the Struct (field keys, whether each is required, types and their
constraints) and the payload format, as canonical JSON. When the description
a store holds differs from the model's, a bounded sample of the model's
current revisions, the oldest and the newest, is decoded with the model. A
field added without a default, or a type that no longer accepts the stored
values, then stops the open with one line naming the model and the field (or
the format the resources were written in), instead of every read of those
resources failing later. Versioned models with migration steps will start
from the recorded description.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from typing import TYPE_CHECKING, Any

import msgspec

from app.errors import ConfigurationError

if TYPE_CHECKING:
    from app.resources.spec import ResourceSpec
    from app.storage.base import MetaStore, RevisionStore

SAMPLE = 256  # current revisions decoded when a model's shape changed
_MISSING = re.compile(r"Object missing required field `(.+)`")
_SEGMENT = re.compile(r"\.([^.\[]+)|\[[^\]]*\]")
_IGNORED = ("extra_json_schema", "extra")  # JSON Schema annotations: decoding ignores them


@functools.cache
def describe(model: type[msgspec.Struct], payload_format: str) -> str:
    """The model's shapes as canonical JSON, as a store records them: its
    fields, and the format its payloads are encoded in."""
    fields = _describe(msgspec.inspect.type_info(model), ())
    tree = {"payload_format": payload_format, "model": fields}
    return json.dumps(tree, sort_keys=True, separators=(",", ":"))


def _describe(t: msgspec.inspect.Type, stack: tuple[type, ...]) -> Any:
    if isinstance(t, msgspec.inspect.Metadata):
        return _describe(t.type, stack)
    if isinstance(t, msgspec.inspect.StructType):
        name = t.cls.__qualname__
        if t.cls in stack:  # a recursive model: the first occurrence describes it
            return {"kind": "Struct", "name": name, "recursive": True}
        inner = (*stack, t.cls)
        return {
            "kind": "Struct",
            "name": name,
            "tag_field": t.tag_field,
            "tag": t.tag,
            "array_like": t.array_like,
            "forbid_unknown_fields": t.forbid_unknown_fields,
            "fields": [
                {
                    "name": f.name,
                    "key": f.encode_name,
                    "required": f.required,
                    "type": _describe(f.type, inner),
                }
                for f in t.fields
            ],
        }
    found: dict[str, Any] = {"kind": type(t).__name__.removesuffix("Type")}
    for attr in t.__struct_fields__:
        if attr not in _IGNORED:
            found[attr] = _value(getattr(t, attr), stack)
    return found


def _value(value: Any, stack: tuple[type, ...]) -> Any:
    if isinstance(value, msgspec.inspect.Type):
        return _describe(value, stack)
    if isinstance(value, tuple):
        return [_value(v, stack) for v in value]
    if isinstance(value, type) and issubclass(value, enum.Enum):
        return {"name": value.__qualname__, "values": [m.value for m in value]}
    if isinstance(value, type):
        return value.__qualname__
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


async def check_stored(
    spec: ResourceSpec,
    recorded: str | None,
    meta: MetaStore,
    revisions: RevisionStore,
    payload_format: str,
) -> None:
    """Decode a sample of the model's current revisions with the model.

    Called when the shapes a store recorded for the model (``recorded``, None
    when it has none) differ from its current ones; a model without stored
    resources passes whatever its shape.

    Raises:
        ConfigurationError: a stored resource does not decode; the one-line
            message names the model and the field and says what to do.
    """
    keys = await meta.sample_current(spec, SAMPLE)
    if not keys:
        return
    written_in = _recorded_format(recorded)
    if written_in not in (None, payload_format):  # decoding would only say "malformed"
        raise ConfigurationError(
            f"model {spec.name!r}: stored resources are {written_in} payloads, and "
            f"payload_format is {payload_format}",
            f"Open the store with payload_format={written_in!r} (SPECQL_PAYLOAD_FORMAT)",
        )
    module = msgspec.msgpack if payload_format == "msgpack" else msgspec.json
    decode = module.Decoder(spec.model).decode
    for payload in await revisions.get_many(keys):
        if payload is None:  # a missing payload is the read's to report, not the model's
            continue
        try:
            decode(payload)
        except msgspec.ValidationError as exc:
            raise _unreadable(spec, str(exc)) from None
        except msgspec.DecodeError:
            raise ConfigurationError(
                f"model {spec.name!r}: stored resources are not {payload_format} payloads",
                "Open the store with the payload_format its resources were written in",
            ) from None


def _recorded_format(recorded: str | None) -> str | None:
    try:
        tree = json.loads(recorded) if recorded is not None else None
    except ValueError:
        return None
    found = tree.get("payload_format") if isinstance(tree, dict) else None
    return found if isinstance(found, str) else None


def _unreadable(spec: ResourceSpec, problem: str) -> ConfigurationError:
    message, _, where = problem.partition(" - at `")
    keys = [m[1] for m in _SEGMENT.finditer(where.rstrip("`")) if m[1]]
    missing = _MISSING.fullmatch(message)
    if missing:
        keys.append(missing[1])
    field = ".".join(_python_names(spec.model, keys))
    if missing:
        return ConfigurationError(
            f"model {spec.name!r}, field {field!r} has no default, and stored resources "
            "do not have it",
            "Give the field a default, or put the old model back",
        )
    if not field:
        return ConfigurationError(
            f"model {spec.name!r}: stored resources do not fit the model now ({_plain(message)})",
            "Put the old model back",
        )
    return ConfigurationError(
        f"model {spec.name!r}, field {field!r}: stored values do not fit its new type "
        f"({_plain(message)})",
        "Put the old type back, or widen it to accept the stored values",
    )


def _plain(message: str) -> str:
    """msgspec's words without its markup: ``expected str, got int``."""
    return message.replace("`", "").lower()


def _python_names(model: type[msgspec.Struct], keys: list[str]) -> list[str]:
    """The attribute names along a path of stored keys (they differ under rename)."""
    structs = _structs_in(msgspec.inspect.type_info(model))
    names = []
    for key in keys:
        field = next((f for s in structs for f in s.fields if f.encode_name == key), None)
        names.append(field.name if field is not None else key)
        structs = _structs_in(field.type) if field is not None else []
    return names


def _structs_in(t: Any) -> list[msgspec.inspect.StructType]:
    """The Structs a value of this type may be, through unions and containers."""
    if isinstance(t, msgspec.inspect.StructType):
        return [t]
    if isinstance(t, msgspec.inspect.Metadata):
        return _structs_in(t.type)
    if isinstance(t, msgspec.inspect.UnionType):
        return [s for member in t.types for s in _structs_in(member)]
    if isinstance(t, msgspec.inspect.DictType):
        return _structs_in(t.value_type)
    item = getattr(t, "item_type", None)  # list, set, frozenset, variadic tuple
    return _structs_in(item) if item is not None else []
