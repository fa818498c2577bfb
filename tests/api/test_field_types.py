"""Every supported field type through GraphQL: in as input, out as output,
and searchable where indexed."""

from __future__ import annotations

from tests.api.conftest import MakeClient
from tests.models import build_registry as build_test_registry

EVERYTHING = """
mutation($i: EverythingInput!) { createEverything(input: $i) { node {
  point { x y } points { x y } labels scores maybe mode color level at day uid amount flag
  shape { __typename ... on Circle { radius } ... on Square { side } }
  file { digest size contentType } } } }
"""


async def test_every_field_type_round_trips(make_client: MakeClient) -> None:
    client = await make_client(build_test_registry())
    blob = await client.data('mutation { uploadBlob(data: "AAEC") { digest size } }')
    value = {
        "point": {"x": 1, "y": 2},
        "points": [{"x": 3, "y": 4}],
        "labels": ["a", "b"],
        "scores": {"math": 9},
        "maybe": None,
        "mode": "fast",
        "color": "GREEN",
        "level": "HIGH",
        "at": "2026-11-23T10:00:00+00:00",
        "day": "2026-11-23",
        "uid": "12345678-1234-5678-1234-567812345678",
        "amount": "12.50",
        "shape": {"square": {"side": 2.5}},
        "file": {"digest": blob["uploadBlob"]["digest"], "size": 3},
    }
    data = await client.data(EVERYTHING, {"i": value})
    out = data["createEverything"]["node"]
    assert out["point"] == {"x": 1, "y": 2}
    assert sorted(out["labels"]) == ["a", "b"]
    assert out["scores"] == {"math": 9}
    assert (out["color"], out["level"], out["mode"]) == ("GREEN", "HIGH", "fast")
    assert out["at"].startswith("2026-11-23T10:00:00")
    assert (out["day"], out["uid"], out["amount"]) == (value["day"], value["uid"], "12.50")
    assert out["shape"] == {"__typename": "Square", "side": 2.5}
    assert out["file"]["size"] == 3 and out["flag"] is False
    found = await client.data(
        "{ everythings(where: {color: {eq: GREEN}, level: {in: [HIGH]}, point: {x: {gte: 1}}}) "
        "{ totalCount nodes { shape { __typename } } } }"
    )
    assert found["everythings"]["totalCount"] == 1
    two_shapes = await client.error(
        EVERYTHING, {"i": {**value, "shape": {"square": {"side": 1}, "circle": {"radius": 1}}}}
    )
    assert two_shapes["extensions"]["code"] == "BAD_REQUEST"
