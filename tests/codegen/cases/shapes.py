"""Unions and enums, every way a model can hold them: the third golden case."""

from __future__ import annotations

import enum

import msgspec

from app import Registry


class Visibility(enum.Enum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"


class Mood(enum.Enum):
    CALM = "calm"
    LOUD = "loud"


class Photo(msgspec.Struct, tag="photo"):
    url: str
    width: int


class Video(msgspec.Struct, tag="video"):
    url: str
    seconds: float


class Quote(msgspec.Struct, tag="quote"):
    text: str
    mood: Mood = Mood.CALM


class Gallery(msgspec.Struct):
    """A page of media: a required union, a list of unions, an optional one."""

    title: str
    visibility: Visibility
    cover: Photo | Video
    items: list[Photo | Video | Quote] = []
    pinned: Photo | Quote | None = None
    moods: list[Mood] = []


def build_registry() -> Registry:
    registry = Registry()
    registry.add_model(Gallery, indexed=["title", "visibility", "moods"])
    return registry
