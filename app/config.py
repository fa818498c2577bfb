"""Settings for opening a registry's stores and running its manager."""

from __future__ import annotations

import dataclasses
from typing import Literal

Profile = Literal["memory", "disk"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """How SpecQL stores data and what it allows.

    Attributes:
        profile: ``memory`` (SQLite in memory, payloads and blobs in memory)
            or ``disk`` (the default: one data directory holding a SQLite file
            with inline payloads, and blob files).
        data_dir: where the disk profile keeps its files.
        revisions: ``inline`` keeps payloads in the SQLite file (one
            transaction per write); ``files`` writes one file per revision.
        payload_format: ``msgpack`` (default) or ``json``.
        max_payload_bytes: a larger encoded resource is refused (LIMIT_EXCEEDED).
        max_page_size: the largest ``limit`` a search or history page may ask.
        max_batch_size: the most items one batch call may carry.
        cache_bytes: memory for the payload cache (external revision stores).
        default_user: the acting user when none is given, unless strict.
        strict_context: require an acting user on every write.
        readers: reader threads on the SQLite file.
    """

    profile: Profile = "disk"
    data_dir: str = ".specql"
    revisions: Literal["inline", "files"] = "inline"
    payload_format: Literal["msgpack", "json"] = "msgpack"
    max_payload_bytes: int = 4 * 1024 * 1024
    max_page_size: int = 1000
    max_batch_size: int = 10_000
    cache_bytes: int = 64 * 1024 * 1024
    default_user: str = "anonymous"
    strict_context: bool = False
    readers: int = 1
