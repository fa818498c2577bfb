"""specstar on its disk backend, set up the same way for every peer runner."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from specstar import BackendBinding, BackendConfig, ConnectionProfile, SpecStar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for workload

from workload import INDEXED, Item


def make_spec(rootdir: str, *, graphql: bool = False) -> SpecStar:
    """Meta, resources and blobs on specstar's disk backend; with ``graphql``,
    its opt-in GraphQL route template is added before the model."""
    disk = BackendBinding(use="disk")
    spec = SpecStar(
        backend=BackendConfig(
            connections={"disk": ConnectionProfile(type="disk", options={"rootdir": rootdir})},
            meta=disk,
            resource=disk,
            blob=disk,
        ),
        default_user="bench",
        default_now=lambda: dt.datetime.now(dt.UTC),
    )
    if graphql:
        from specstar.crud.route_templates.graphql import GraphQLRouteTemplate

        spec.add_route_template(GraphQLRouteTemplate())
    spec.add_model(Item, indexed_fields=INDEXED)
    return spec
