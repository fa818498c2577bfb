"""The bundled example app: a small blog with related models.

It shows refs (a post's author, a comment's post), a list field (tags), an
enum (post status), a nested Struct (the author's profile) and a unique field.
``specql demo`` runs :func:`tour` against the disk profile.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Annotated

import msgspec

from app.records import Resource
from app.registry import Registry
from app.resources.manager import ResourceManager
from app.search.query import F
from app.types import Ref, Unique


class Profile(msgspec.Struct):
    bio: str = ""
    website: str | None = None


class User(msgspec.Struct):
    email: Annotated[str, Unique()]
    name: str
    profile: Profile = msgspec.field(default_factory=Profile)


class PostStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Post(msgspec.Struct):
    title: str
    body: str
    author_id: Annotated[str, Ref("user", on_delete="cascade")]
    status: PostStatus = PostStatus.DRAFT
    tags: list[str] = []
    published_at: dt.datetime | None = None


class Comment(msgspec.Struct):
    post_id: Annotated[str, Ref("post", on_delete="cascade")]
    author_id: Annotated[str | None, Ref("user", on_delete="set_null")] = None
    text: str = ""


def build_registry() -> Registry:
    registry = Registry()
    registry.add_model(User, indexed=["name", "profile.website"])
    registry.add_model(
        Post,
        indexed=["title", "status", "tags", "published_at"],
        indexes=[("status", "published_at")],
    )
    registry.add_model(Comment)
    return registry


async def seed(manager: ResourceManager) -> dict[str, Resource[object]]:
    """A little data, written once: returns the created resources by name."""
    async with manager.using(user="seed"):
        ada = await manager.create(User, User("ada@example.org", "Ada", Profile("Engines")))
        alan = await manager.create(User, User("alan@example.org", "Alan"))
        intro = await manager.create(
            Post,
            Post(
                "Hello, SpecQL",
                "Versioned resources from Structs.",
                ada.id,
                PostStatus.PUBLISHED,
                ["intro", "news"],
                dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            ),
        )
        draft = await manager.create(
            Post, Post("Notes", "Work in progress.", alan.id, tags=["notes"])
        )
        note = await manager.create(Comment, Comment(intro.id, alan.id, "Nice!"))
    return {
        "ada": ada.resource,
        "alan": alan.resource,
        "intro": intro.resource,
        "draft": draft.resource,
        "comment": note.resource,
    }


async def tour(data_dir: str, say: Callable[[str], object] = print) -> None:
    """Walk through the manager API on the disk profile, printing each step."""
    manager = await build_registry().open(profile="disk", data_dir=data_dir)
    async with manager:
        if await manager.count(User):
            say(f"data dir {data_dir!r} already has data; using it as is")
        else:
            await seed(manager)
            say(f"seeded {await manager.count(User)} users, {await manager.count(Post)} posts")
        page = await manager.search(
            Post, F("status") == PostStatus.PUBLISHED, sort=["-published_at"], limit=5
        )
        for post in page.items:
            say(f"published: {post.data.title!r} by {post.data.author_id}")
        first = page.items[0] if page.items else None
        if first is not None:
            updated = await manager.patch(
                Post,
                first.id,
                [
                    {"op": "add", "path": "/tags/-", "value": "tour"},
                ],
                user="demo",
            )
            history = await manager.history(Post, first.id)
            say(
                f"patched {first.data.title!r}: now {len(history.items)} revisions, "
                f"tags {updated.resource.data.tags}"
            )
            referrers = await manager.referrers(Post, first.id)
            say(f"{len(referrers)} comment(s) point at it")
        say("tagged 'intro': " + str(await manager.count(Post, {"tags": {"eq": "intro"}})))
