"""GraphQL names of a registry: types, root fields, ref and referrer fields.

Every name the schema will carry is worked out here, once, and checked for
collisions before any type is built, so a clash is reported at registration
with the fix (``name=``, ``plural=`` or a field rename) instead of surfacing
as a Strawberry error deep in schema construction.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from app.errors import ConfigurationError
from app.resources.spec import IndexedField, ResourceSpec

RESERVED_FIELDS = ("id", "meta", "revision", "revisions")
TYPE_SUFFIXES = (
    "",
    "Input",
    "Where",
    "OrderBy",
    "Connection",
    "Edge",
    "Result",
    "BatchItem",
)


def camel(name: str) -> str:
    """``published_at`` -> ``publishedAt`` (the rule Strawberry applies)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``BigSquare`` -> ``big_square``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def pascal(name: str) -> str:
    """``blog_post`` -> ``BlogPost``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


@dataclasses.dataclass(frozen=True)
class RefField:
    """A top-level ref field and the object field that resolves it."""

    field: IndexedField
    name: str  # python name of the resolved field: author_id -> author


@dataclasses.dataclass(frozen=True)
class ReferrerField:
    """A connection on the referenced model listing the resources pointing at it."""

    source: str  # the referring model
    field: IndexedField  # its ref field
    name: str  # python name on the referenced type: posts, posts_by_editor


@dataclasses.dataclass(frozen=True)
class ModelNames:
    """The GraphQL names generated for one model."""

    type: str  # Post
    one: str  # post (root query)
    many: str  # posts (root query)
    refs: tuple[RefField, ...]
    referrers: tuple[ReferrerField, ...]

    def suffixed(self, suffix: str) -> str:
        return f"{self.type}{suffix}"


def resolved_ref_name(path: str) -> str:
    """``author_id`` -> ``author``, ``reviewer_ids`` -> ``reviewers``,
    anything else -> ``<name>_resource``."""
    if path.endswith("_ids"):
        return path[:-4] + "s"
    if path.endswith("_id"):
        return path[:-3]
    return f"{path}_resource"


def plan_names(specs: Mapping[str, ResourceSpec]) -> dict[str, ModelNames]:
    """Names for every model; ConfigurationError on any collision.

    Refs to models that are not registered (yet) are left out here; the
    registry's own check reports them when the schema is built.
    """
    referrers: dict[str, list[ReferrerField]] = {name: [] for name in specs}
    for spec in specs.values():
        top_refs = [f for f in spec.refs if "." not in f.path and f.ref and not f.ref.revision]
        for f in top_refs:
            assert f.ref is not None
            if f.ref.model not in specs:
                continue
            same_target = [g for g in top_refs if g.ref and g.ref.model == f.ref.model]
            name = spec.plural
            if len(same_target) > 1:
                name = f"{spec.plural}_by_{resolved_ref_name(f.path)}"
            referrers[f.ref.model].append(ReferrerField(spec.name, f, name))

    plans: dict[str, ModelNames] = {}
    for spec in specs.values():
        refs = tuple(
            RefField(f, resolved_ref_name(f.path))
            for f in spec.refs
            if "." not in f.path and f.ref and not f.ref.revision and f.ref.model in specs
        )
        plans[spec.name] = ModelNames(
            type=pascal(spec.name),
            one=camel(spec.name),
            many=camel(spec.plural),
            refs=refs,
            referrers=tuple(referrers[spec.name]),
        )
        _check_fields(spec, plans[spec.name])
    _check_types_and_roots(specs, plans)
    return plans


def _check_fields(spec: ResourceSpec, names: ModelNames) -> None:
    taken: dict[str, str] = {}
    for field in spec.field_types:
        graphql = camel(field)
        if field in RESERVED_FIELDS or graphql in RESERVED_FIELDS:
            raise ConfigurationError(
                f"model {spec.name!r}, field {field!r}: the GraphQL type {names.type} already "
                f"has a field {graphql!r} ({', '.join(RESERVED_FIELDS)} are generated)",
                f"Rename the field, e.g. to {field}_value; to keep the stored key, declare "
                f"{field}_value: ... = msgspec.field(name={field!r}).",
            )
        if graphql in taken:
            raise ConfigurationError(
                f"model {spec.name!r}: fields {taken[graphql]!r} and {field!r} both become "
                f"{graphql!r} in GraphQL",
                "Rename one of them.",
            )
        taken[graphql] = field
    for extra, why in [(r.name, f"resolves the ref {r.field.path!r}") for r in names.refs] + [
        (r.name, f"lists the {r.source}s whose {r.field.path!r} points here")
        for r in names.referrers
    ]:
        graphql = camel(extra)
        if graphql in taken or graphql in RESERVED_FIELDS:
            raise ConfigurationError(
                f"model {spec.name!r}: the generated field {graphql!r} ({why}) collides with "
                f"the field {taken.get(graphql, graphql)!r}",
                "Rename the model field, or the ref field (a ref named x_id resolves as x).",
            )
        taken[graphql] = extra


def _check_types_and_roots(
    specs: Mapping[str, ResourceSpec], plans: Mapping[str, ModelNames]
) -> None:
    types: dict[str, str] = {}
    roots: dict[str, str] = {}
    for spec in specs.values():
        names = plans[spec.name]
        for suffix in TYPE_SUFFIXES:
            type_name = names.suffixed(suffix)
            if type_name in types:
                raise ConfigurationError(
                    f"models {types[type_name]!r} and {spec.name!r} both generate the GraphQL "
                    f"type {type_name}",
                    "Register one of them under another name (add_model(..., name=...)).",
                )
            types[type_name] = spec.name
        for root in (names.one, names.many):
            if root in roots:
                raise ConfigurationError(
                    f"models {roots[root]!r} and {spec.name!r} both generate the root field "
                    f"{root!r}",
                    "Pass plural=... (or name=...) to add_model so the names differ.",
                )
            roots[root] = spec.name
