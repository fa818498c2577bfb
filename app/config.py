"""Settings for opening a registry's stores and running its manager."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Mapping
from typing import Any, Literal, get_args

from app.cpu_pinning import check_choice
from app.errors import ConfigurationError
from app.storage.sql.runner import PAGE_SIZE

Profile = Literal["memory", "disk", "s3", "postgres"]
ENV_PREFIX = "SPECQL_"


@dataclasses.dataclass(frozen=True)
class Settings:
    """How SpecQL stores data and what it allows.

    Attributes:
        profile: ``memory`` (SQLite in memory, payloads and blobs in memory),
            ``disk`` (the default: one data directory holding a SQLite file
            with inline payloads, and blob files), ``s3`` (the SQLite file in
            the data directory, payloads and blobs in S3) or ``postgres``
            (PostgreSQL, payloads and blobs in S3; many replicas).
        data_dir: where the disk and s3 profiles keep the SQLite file.
        revisions: ``inline`` keeps payloads in the meta database (one
            transaction per write; on ``postgres``, the postgres-inline choice
            for teams without S3, where blobs go to PostgreSQL too);
            ``files`` writes one file per revision (disk); ``s3`` puts them in
            the bucket (the default of the s3 and postgres profiles).
        database_url: ``postgresql://user:password@host:5432/database``.
        database_schema: the PostgreSQL schema of SpecQL's tables (created
            when missing); None uses the server's search_path.
        s3_url: ``s3://bucket/prefix?endpoint=http://host:9000&region=...``;
            credentials come from the standard AWS environment variables.
        pool_size: the most PostgreSQL connections a process opens (each
            when first needed, kept until the store closes); more callers
            wait for one. See docs/deployment.md, "Pool sizing".
        pool_timeout: seconds a request waits for a free connection.
        statement_timeout_ms: PostgreSQL cancels a longer statement.
        payload_format: ``msgpack`` (default) or ``json``.
        max_payload_bytes: a larger encoded resource is refused (LIMIT_EXCEEDED).
        max_page_size: the largest ``limit`` a search or history page may ask.
        max_batch_size: the most items one batch call may carry.
        cache_bytes: memory for the payload cache (external revision stores).
        record_cache_bytes: memory for current records on the SQLite profiles
            (memory, disk, s3), kept coherent across the processes sharing
            the data directory; 0 reads every record from the database.
        default_user: the acting user when none is given, unless strict.
        strict_context: require an acting user on every write.
        readers: reader threads on the SQLite file.
        sqlite_page_size: bytes per page of a SQLite file SpecQL creates (a
            power of two from 512 to 65536; 2048 by default, measured best for
            documents up to a few KB; 4096 or more for documents of tens of
            KB). A file that exists keeps the page size it was made with.
        pin_cpu: on the SQLite profiles, ``auto`` (the default) keeps the
            thread that opens the store (the event loop's) and the store's
            threads on one CPU while the store is open, a CPU no other
            SpecQL process of the same user holds; ``off`` leaves CPU
            affinity alone; a number names the CPU (on every profile). See
            ``app/cpu_pinning.py``.
    """

    profile: Profile = "disk"
    data_dir: str = ".specql"
    revisions: Literal["inline", "files", "s3"] | None = None
    database_url: str | None = None
    database_schema: str | None = None
    s3_url: str | None = None
    pool_size: int = 10
    pool_timeout: float = 30.0
    statement_timeout_ms: int = 30_000
    payload_format: Literal["msgpack", "json"] = "msgpack"
    max_payload_bytes: int = 4 * 1024 * 1024
    max_page_size: int = 1000
    max_batch_size: int = 10_000
    cache_bytes: int = 64 * 1024 * 1024
    record_cache_bytes: int = 64 * 1024 * 1024
    default_user: str = "anonymous"
    strict_context: bool = False
    readers: int = 1
    sqlite_page_size: int = PAGE_SIZE
    pin_cpu: str | int = "auto"

    @property
    def revision_store(self) -> Literal["inline", "files", "s3", "memory"]:
        """Where revision payloads go: the choice made, or the profile's default."""
        if self.profile == "memory":
            return "memory"
        if self.revisions is not None:
            return self.revisions
        if self.profile == "disk" or (self.profile == "postgres" and self.s3_url is None):
            return "inline"
        return "s3"

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if self.database_url:
            shown["database_url"] = _without_password(self.database_url)
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``SPECQL_*`` environment variables (``SPECQL_PROFILE``,
        ``SPECQL_DATABASE_URL``, ``SPECQL_S3_URL``, ``SPECQL_POOL_SIZE``...),
        then ``overrides`` (None values are ignored). Without a profile, a
        database URL means ``postgres`` and an S3 URL alone means ``s3``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, cls.__dataclass_fields__[f.name].default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "profile" not in values:
            if values.get("database_url"):
                values["profile"] = "postgres"
            elif values.get("s3_url"):
                values["profile"] = "s3"
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse combinations that cannot work, naming the fix."""
        if self.profile not in get_args(Profile):
            raise ConfigurationError(
                f"unknown storage profile {self.profile!r}",
                f"Use one of {', '.join(get_args(Profile))}.",
            )
        if self.revisions not in (None, "inline", "files", "s3"):
            raise ConfigurationError(
                f"unknown revisions choice {self.revisions!r}", "Use inline, files or s3."
            )
        store = self.revision_store
        if self.profile == "postgres" and not self.database_url:
            raise ConfigurationError(
                "the postgres profile needs a database URL",
                "Set SPECQL_DATABASE_URL or pass --database-url postgresql://...",
            )
        if (self.profile == "s3" or store == "s3") and not self.s3_url:
            raise ConfigurationError(
                f"the {self.profile} profile keeps payloads in S3 and needs an S3 URL",
                "Set SPECQL_S3_URL or pass --s3-url s3://bucket/prefix?endpoint=..."
                + (
                    " (or revisions='inline' for postgres-inline)"
                    if self.profile == "postgres"
                    else ""
                ),
            )
        if store == "files" and self.profile != "disk":
            raise ConfigurationError("revisions='files' is a choice of the disk profile only")
        check_choice(self.pin_cpu)
        size = self.sqlite_page_size
        if not 512 <= size <= 65536 or size & (size - 1):
            raise ConfigurationError(
                f"sqlite_page_size must be a power of two from 512 to 65536, not {size!r}",
                "Set SPECQL_SQLITE_PAGE_SIZE to e.g. 2048 or 4096.",
            )
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ConfigurationError(
                    f"{f.name} cannot be negative ({value!r})",
                    f"Set {ENV_PREFIX}{f.name.upper()} to 0 or more.",
                )


_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLEANS.update({"0": False, "false": False, "no": False, "off": False})


def _parse(name: str, raw: str, default: Any) -> Any:
    """An environment variable's text as the type of the field's default."""
    if not isinstance(default, (bool, int, float)):
        return raw
    parsed: Any = _BOOLEANS.get(raw.lower()) if isinstance(default, bool) else None
    if not isinstance(default, bool):
        with contextlib.suppress(ValueError):
            parsed = type(default)(raw)
    if parsed is None:
        raise ConfigurationError(
            f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {type(default).__name__}"
        )
    return parsed


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"
