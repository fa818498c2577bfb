"""Models shared by the test suites, and the registry that holds them.

``build_registry()`` registers every model below; test files import the
classes to build data and the registry to open managers on any profile.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal

import msgspec

from app import BigInt, Binary, FieldProblem, Ref, Registry, Unique


# -- plain documents: the manager API ----------------------------------------
class Doc(msgspec.Struct):
    title: str
    body: str = ""
    count: int = 0


# -- every supported field type ----------------------------------------------
class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Point(msgspec.Struct):
    x: int
    y: int


class Circle(msgspec.Struct, tag="circle"):
    radius: float


class Square(msgspec.Struct, tag="square"):
    side: float


class Everything(msgspec.Struct):
    point: Point
    points: list[Point]
    labels: set[str]
    scores: dict[str, int]
    maybe: int | None
    mode: Literal["fast", "slow"]
    color: Color
    level: Level
    at: dt.datetime
    day: dt.date
    uid: uuid.UUID
    amount: decimal.Decimal
    shape: Circle | Square
    flag: bool = False
    file: Binary | None = None


EVERYTHING_INDEXED = [
    "point.x",
    "points.y",
    "labels",
    "mode",
    "color",
    "level",
    "at",
    "day",
    "uid",
    "amount",
    "flag",
]


# -- search -------------------------------------------------------------------
class Contact(msgspec.Struct):
    name: str
    email: str


class Article(msgspec.Struct):
    title: str
    views: int = 0
    score: float = 0.0
    color: Color = Color.RED
    published: dt.datetime | None = None
    note: str | None = None
    tags: list[str] = []
    author: Contact | None = None
    body: str = ""  # not indexed


ARTICLE_INDEXED = ["title", "views", "score", "color", "published", "note", "tags", "author.email"]


# -- uniqueness -----------------------------------------------------------------
class User(msgspec.Struct):
    email: Annotated[str, Unique()]
    name: str = ""


class Seat(msgspec.Struct):
    row: str
    number: int
    holder: str = ""


# -- references -------------------------------------------------------------------
class Owner(msgspec.Struct):
    name: str


class Pet(msgspec.Struct):  # deleted with its owner
    name: str
    owner: Annotated[str, Ref("owner", on_delete="cascade")]


class Toy(msgspec.Struct):  # loses its owners
    name: str
    owner: Annotated[str | None, Ref("owner", on_delete="set_null")] = None
    sharers: Annotated[list[str], Ref("owner", on_delete="set_null")] = []


class Club(msgspec.Struct):  # deleted when any member is
    name: str
    members: Annotated[list[str], Ref("owner", on_delete="cascade")] = []


class Vet(msgspec.Struct):  # forbids deleting its client
    name: str
    client: Annotated[str, Ref("owner", on_delete="restrict")]


class Memo(msgspec.Struct):  # points anywhere, checked never
    text: str
    about: Annotated[str | None, Ref("owner")] = None


class Collar(msgspec.Struct):  # forbids deleting its pet (restrict one level down)
    color: str
    pet: Annotated[str, Ref("pet", on_delete="restrict")]


class Snapshot(msgspec.Struct):  # pins one revision of an owner
    label: str
    owner_revision: Annotated[str, Ref("owner", revision=True)]


class Ping(msgspec.Struct):  # Ping and Pong cascade into each other
    name: str
    pong: Annotated[str | None, Ref("pong", on_delete="cascade")] = None


class Pong(msgspec.Struct):
    name: str
    ping: Annotated[str | None, Ref("ping", on_delete="cascade")] = None


# -- custom validators ----------------------------------------------------------
class Booking(msgspec.Struct):
    room: str
    start: int
    end: int


def end_after_start(booking: Booking) -> None:
    if booking.end <= booking.start:
        raise ValueError("end must come after start")


async def room_is_known(booking: Booking) -> list[FieldProblem]:
    if booking.room.startswith("x"):
        return [FieldProblem("$.room", f"no room named {booking.room!r}")]
    return []


# -- what the API can represent, patch paths, every problem -------------------
class Dims(msgspec.Struct):
    width: int
    height: int = 0


class LineItem(msgspec.Struct):
    unit_price: float
    qty: Annotated[int, msgspec.Meta(ge=1)] = 1


class Order(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=3)]
    owner_id: str = ""
    qty: Annotated[int, msgspec.Meta(ge=0)] = 0
    dims: Dims | None = None
    items: list[LineItem] = []
    counts: list[int] = []
    big: BigInt = 0
    bigs: list[BigInt | None] = []
    extra: dict[str, Any] = {}
    code: str = msgspec.field(default="", name="order_code")  # stored under another key


def order_registry() -> Registry:
    """A registry with Order alone (its BigInt field indexed)."""
    registry = Registry()
    registry.add_model(Order, indexed=["big", "qty"])
    return registry


def build_registry() -> Registry:
    """A fresh registry with every test model."""
    registry = Registry()
    registry.add_model(Doc, indexed=["title", "count"])
    registry.add_model(Everything, indexed=EVERYTHING_INDEXED)
    registry.add_model(Article, indexed=ARTICLE_INDEXED)
    registry.add_model(User, indexed=["name"])
    registry.add_model(Seat, unique=[("row", "number")])
    for model in (Owner, Pet, Toy, Club, Vet, Memo, Collar, Snapshot, Ping, Pong):
        registry.add_model(model, indexed=["name"] if "name" in model.__struct_fields__ else ())
    registry.add_model(Booking, validators=[end_after_start, room_is_known])
    return registry
