"""S3 stores: revision payloads and blobs as objects in one bucket.

Keys, under the location's prefix (``""`` or ``"path/in/bucket/"``)::

    {prefix}revisions/{model}/{rid[-2:]}/{rid}.{data_hash}
    {prefix}blobs/{digest[:2]}/{digest[2:]}

The two-character fan-out spreads keys over S3's partitions; the revision
id's tail is used because its head is a timestamp. Key parts are checked as
``fs.py`` checks path parts, and a data hash may not hold a dot, so every key
parses back (``list_keys``, ``list_digests``: orphan collection).

Objects never change. Writing a key again overwrites it with the same bytes,
which also refreshes its LastModified: orphan collection spares young
objects, so a payload re-put before its meta commits is not collected.

Each store opens one aiobotocore client on first use (``close()`` releases
it). Botocore retries throttling, 5xx and connection errors with backoff;
what still fails becomes ``StorageError("s3: ...")`` naming the operation,
bucket and key, never a credential. The credentials need ``s3:ListBucket``:
without it S3 answers 403, not 404, for a missing key.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from app.errors import ConfigurationError, StorageError
from app.storage.base import BlobInfo, BlobStore, Capabilities, RevisionKey, RevisionStore

T = TypeVar("T")
R = TypeVar("R")

MiB = 1024 * 1024
_MIN_PART = 5 * MiB  # S3's floor for every part but the last
_MAX_PUT = 5 * 1024 * MiB  # S3's ceiling for one PutObject or one part
_MAX_PARTS = 10_000
_PART_CONCURRENCY = 4
_DELETE_CHUNK = 1000  # DeleteObjects takes at most 1000 keys
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_RE = re.compile(r"\d+\.\d+\.\d+\.\d+")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_DEFAULT_TYPE = "binary/octet-stream"  # what S3 reports for an object stored without one
_S3_ERRORS = (BotoCoreError, ClientError, aiohttp.ClientError, OSError)


def _size(text: str) -> int:
    units = {"": 1, "kib": 1024, "mib": MiB, "gib": 1024 * MiB}
    match = re.fullmatch(r"(\d+)\s*([kmg]ib)?", text.strip().lower())
    if match is None:
        raise ValueError(text)
    return int(match[1]) * units[match[2] or ""]


# URL query option -> (S3Location field, parser)
_OPTIONS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "endpoint": ("endpoint_url", str),
    "endpoint_url": ("endpoint_url", str),
    "region": ("region", str),
    "max_attempts": ("max_attempts", int),
    "retry_mode": ("retry_mode", str),
    "connect_timeout": ("connect_timeout", float),
    "read_timeout": ("read_timeout", float),
    "multipart_threshold": ("multipart_threshold", _size),
    "part_size": ("part_size", _size),
    "concurrency": ("concurrency", int),
    "addressing_style": ("addressing_style", str),
}


@dataclasses.dataclass(frozen=True)
class S3Location:
    """Where the S3 stores keep objects and how they reach them.

    Attributes:
        bucket: the bucket name (S3 naming rules).
        prefix: a key prefix, ``""`` or ending in ``/``, so several
            deployments can share a bucket.
        endpoint_url: an S3-compatible endpoint (MinIO, moto); None for AWS.
        region: the region; None lets botocore find it (``AWS_REGION``,
            config files).
        access_key_id, secret_access_key, session_token: explicit
            credentials; when unset botocore's default chain finds them
            (``AWS_ACCESS_KEY_ID``..., config files, instance roles). Never
            shown in reprs or errors.
        max_attempts: attempts per request, the first included (1: no retry).
        retry_mode: botocore's ``standard`` or ``adaptive`` (which also
            slows the client down when S3 throttles).
        connect_timeout, read_timeout: seconds, per attempt.
        multipart_threshold: objects of at least this many bytes are
            uploaded in parts.
        part_size: bytes per part (at least 5 MiB), raised when an object
            would need more than 10,000 parts.
        concurrency: requests in flight per batch call, and the size of the
            connection pool.
        addressing_style: ``path`` (``endpoint/bucket/key``), ``virtual``
            (``bucket.endpoint/key``) or ``auto``: path with an
            ``endpoint_url``, botocore's choice on AWS.
    """

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = dataclasses.field(default=None, repr=False)
    secret_access_key: str | None = dataclasses.field(default=None, repr=False)
    session_token: str | None = dataclasses.field(default=None, repr=False)
    max_attempts: int = 5
    retry_mode: Literal["standard", "adaptive"] = "standard"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    multipart_threshold: int = 16 * MiB
    part_size: int = 8 * MiB
    concurrency: int = 32
    addressing_style: Literal["auto", "path", "virtual"] = "auto"

    def __post_init__(self) -> None:
        _check_bucket(self.bucket)
        if self.prefix:
            if self.prefix.startswith("/") or any(
                s in ("", ".", "..") for s in self.prefix.rstrip("/").split("/")
            ):
                raise ConfigurationError(
                    f"S3 key prefix {self.prefix!r} has an empty, '.' or '..' segment"
                )
            object.__setattr__(self, "prefix", self.prefix.rstrip("/") + "/")
        if self.endpoint_url is not None:
            _check_endpoint(self.endpoint_url)
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ConfigurationError(
                "S3 credentials need both access_key_id and secret_access_key",
                "Set both, or neither to use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.",
            )
        checks = [
            (self.max_attempts >= 1, "max_attempts must be at least 1"),
            (self.retry_mode in ("standard", "adaptive"), "retry_mode must be standard/adaptive"),
            (self.connect_timeout > 0 and self.read_timeout > 0, "timeouts must be positive"),
            (_MIN_PART <= self.part_size <= _MAX_PUT, "part_size must be 5 MiB to 5 GiB"),
            (1 <= self.multipart_threshold <= _MAX_PUT, "multipart_threshold must be 1 B-5 GiB"),
            (self.concurrency >= 1, "concurrency must be at least 1"),
            (self.addressing_style in ("auto", "path", "virtual"), "bad addressing_style"),
        ]
        for ok, problem in checks:
            if not ok:
                raise ConfigurationError(f"S3 location: {problem}")

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> S3Location:
        """Parse ``s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1``.

        Query options are the field names (``endpoint`` stands for
        ``endpoint_url``; sizes take ``KiB``/``MiB``/``GiB``). Credentials do
        not belong in a URL: pass them as ``overrides``, which replace any
        field.

        Raises:
            ConfigurationError: the URL or an option is malformed or unknown.
        """
        parts = urlsplit(url)
        if parts.scheme != "s3":
            raise ConfigurationError(
                f"S3 URL must start with s3://, not {parts.scheme or 'no scheme'}://",
                "Write s3://bucket/prefix?endpoint=...&region=...",
            )
        if "@" in parts.netloc:  # never echo it: it holds a secret
            raise ConfigurationError(
                "S3 URL must not hold credentials",
                "Pass access_key_id/secret_access_key as settings or use AWS_ACCESS_KEY_ID.",
            )
        if not parts.netloc:
            raise ConfigurationError("S3 URL has no bucket", "Write s3://bucket/prefix.")
        if parts.fragment:
            raise ConfigurationError("S3 URL must not have a #fragment")
        fields: dict[str, Any] = {"bucket": parts.netloc, "prefix": parts.path.removeprefix("/")}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name not in _OPTIONS:
                raise ConfigurationError(
                    f"unknown S3 URL option {name!r}", f"Known options: {', '.join(_OPTIONS)}."
                )
            field, parse = _OPTIONS[name]
            if field in fields:
                raise ConfigurationError(f"S3 URL option {name!r} is given twice")
            try:
                fields[field] = parse(value)
            except ValueError:
                raise ConfigurationError(f"S3 URL option {name}={value!r} is malformed") from None
        return cls(**{**fields, **overrides})


def _check_bucket(bucket: str) -> None:
    if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket or _IP_RE.fullmatch(bucket):
        raise ConfigurationError(
            f"invalid S3 bucket name {bucket!r}",
            "Use 3 to 63 lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit.",
        )


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "S3 endpoint must be an http:// or https:// URL with a host",
            "For example endpoint=http://127.0.0.1:9000.",
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("S3 endpoint must not hold credentials")
    if parts.query or parts.fragment:
        raise ConfigurationError("S3 endpoint must not have a query or fragment")


def _prepare_session() -> Any:
    """A session whose loader has read the S3 model files, so that opening a
    client on the event loop reads no file (run in a worker thread)."""
    import aioboto3  # type: ignore[import-untyped]
    import aioboto3.s3.inject  # type: ignore[import-untyped]  # else the first client does
    from aiobotocore.session import get_session  # type: ignore[import-untyped]

    core = get_session()
    loader = core.get_component("data_loader")
    for type_name in ("service-2", "endpoint-rule-set-1", "paginators-1"):
        loader.load_service_model("s3", type_name)
    for name in ("endpoints", "partitions", "_retry", "sdk-default-configuration"):
        loader.load_data(name)
    core.get_scoped_config()  # reads ~/.aws/config
    return aioboto3.Session(botocore_session=core)


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


class S3Bucket:
    """One bucket through one lazily opened client, with S3 errors translated.

    Keys are full object keys; the stores add the prefix and the layout.
    """

    def __init__(self, location: S3Location) -> None:
        self.location = location
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    def _reason(self, exc: BaseException) -> str:
        where = self.location.endpoint_url or "AWS S3"
        if isinstance(exc, ClientError):
            meta = exc.response.get("ResponseMetadata", {})
            error = exc.response.get("Error", {})
            attempts = meta.get("RetryAttempts", 0) + 1
            message = f": {error['Message']}" if error.get("Message") else ""
            return (
                f"{error.get('Code', '?')} (HTTP {meta.get('HTTPStatusCode', '?')}) "
                f"after {attempts} attempt(s){message}"
            )
        if isinstance(exc, NoCredentialsError):
            return "no credentials: set them on the S3 location or in AWS_ACCESS_KEY_ID"
        if isinstance(exc, EndpointConnectionError):
            return f"cannot connect to {where}"
        if isinstance(exc, ConnectTimeoutError):
            return f"timed out connecting to {where}"
        if isinstance(exc, ReadTimeoutError | TimeoutError):
            return f"timed out reading from {where}"
        return f"{type(exc).__name__}: {exc}"[:300]

    @contextlib.contextmanager
    def _translated(self, operation: str, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except _S3_ERRORS as exc:
            target = f"s3://{self.location.bucket}/{key or ''}"
            raise StorageError(
                f"s3: {operation} {target} failed: {self._reason(exc)}",
                operation=operation,
                bucket=self.location.bucket,
                key=key,
                s3_code=_error_code(exc),
            ) from exc

    async def client(self) -> Any:
        """The aiobotocore client, opened on first use."""
        if self._client is None:
            async with self._lock:
                if self._closed:
                    raise StorageError("s3: the store is closed")
                if self._client is None:
                    self._client = await self._open()
        return self._client

    async def _open(self) -> Any:
        loc = self.location
        with self._translated("open client"):  # a malformed ~/.aws/config, say
            session = await asyncio.to_thread(_prepare_session)
        style = loc.addressing_style
        if style == "auto" and loc.endpoint_url:
            style = "path"  # MinIO, moto and most S3-compatible servers
        config = Config(
            region_name=loc.region,
            signature_version="s3v4",
            retries={"mode": loc.retry_mode, "total_max_attempts": loc.max_attempts},
            connect_timeout=loc.connect_timeout,
            read_timeout=loc.read_timeout,
            max_pool_connections=loc.concurrency,
            s3={"addressing_style": style},
        )
        credentials = {}
        if loc.access_key_id is not None:
            credentials = {
                "aws_access_key_id": loc.access_key_id,
                "aws_secret_access_key": loc.secret_access_key,
                "aws_session_token": loc.session_token,
            }
        stack = contextlib.AsyncExitStack()
        with self._translated("open client"):
            client = await stack.enter_async_context(
                session.client("s3", endpoint_url=loc.endpoint_url, config=config, **credentials)
            )
        self._stack = stack
        return client

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            stack, self._stack, self._client = self._stack, None, None
            if stack is not None:
                with self._translated("close client"):
                    await stack.aclose()

    async def map(self, fn: Callable[[T], Awaitable[R]], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items``, at most ``concurrency`` at a time, in order;
        the first failure cancels the rest and is raised as it is."""
        return await _bounded(fn, items, self.location.concurrency)

    async def put(self, key: str, body: bytes, content_type: str | None = None) -> None:
        client = await self.client()
        extra = {"ContentType": content_type} if content_type is not None else {}
        if len(body) >= self.location.multipart_threshold:
            await self._put_multipart(client, key, body, extra)
            return
        with self._translated("PutObject", key):
            await client.put_object(Bucket=self.location.bucket, Key=key, Body=body, **extra)

    async def _put_multipart(
        self, client: Any, key: str, body: bytes, extra: dict[str, str]
    ) -> None:
        bucket = self.location.bucket
        part_size = max(self.location.part_size, -(-len(body) // _MAX_PARTS))
        with self._translated("CreateMultipartUpload", key):
            created = await client.create_multipart_upload(Bucket=bucket, Key=key, **extra)
        upload_id = created["UploadId"]

        async def upload(number: int) -> dict[str, Any]:
            start = (number - 1) * part_size
            with self._translated("UploadPart", key):
                answer = await client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=body[start : start + part_size],
                )
            # a checksum botocore added to the part must be repeated on completion
            extra = {k: v for k, v in answer.items() if k.startswith("Checksum")}
            return {"PartNumber": number, "ETag": answer["ETag"], **extra}

        try:
            numbers = range(1, -(-len(body) // part_size) + 1)
            parts = await _bounded(upload, numbers, _PART_CONCURRENCY)
            with self._translated("CompleteMultipartUpload", key):
                await client.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            # the upload's own error is the one to report; an abort that fails
            # leaves parts that a bucket lifecycle rule can expire
            with contextlib.suppress(*_S3_ERRORS):
                await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    async def get(self, key: str) -> bytes | None:
        client = await self.client()
        with self._translated("GetObject", key):
            try:
                answer = await client.get_object(Bucket=self.location.bucket, Key=key)
            except ClientError as exc:
                if _error_code(exc) in ("NoSuchKey", "404"):
                    return None
                raise
            async with answer["Body"] as stream:
                content: bytes = await stream.read()
                return content

    async def head(self, key: str) -> tuple[int, str | None] | None:
        """(size, content type) of an object, None when there is none."""
        client = await self.client()
        with self._translated("HeadObject", key):
            try:
                found = await client.head_object(Bucket=self.location.bucket, Key=key)
            except ClientError as exc:
                if _error_code(exc) in ("NoSuchKey", "404"):
                    return None
                raise
        return found["ContentLength"], found.get("ContentType")

    async def exists(self, key: str) -> bool:
        client = await self.client()
        with self._translated("HeadObject", key):
            try:
                await client.head_object(Bucket=self.location.bucket, Key=key)
            except ClientError as exc:
                if _error_code(exc) in ("NoSuchKey", "404"):
                    return False
                raise
        return True

    async def delete_many(self, keys: Sequence[str]) -> None:
        client = await self.client()
        for start in range(0, len(keys), _DELETE_CHUNK):
            chunk = keys[start : start + _DELETE_CHUNK]
            with self._translated("DeleteObjects", chunk[0]):
                answer = await client.delete_objects(
                    Bucket=self.location.bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
            # S3 reports no error for a missing key; these are real failures
            if errors := answer.get("Errors"):
                first = errors[0]
                raise StorageError(
                    f"s3: DeleteObjects s3://{self.location.bucket}/{first.get('Key', '')} "
                    f"failed for {len(errors)} key(s): {first.get('Code')}: {first.get('Message')}",
                    operation="DeleteObjects",
                    bucket=self.location.bucket,
                    key=first.get("Key"),
                    s3_code=first.get("Code", ""),
                )

    async def list_objects(self, prefix: str) -> AsyncIterator[tuple[str, float]]:
        """(key, LastModified as epoch seconds) of every object under ``prefix``."""
        client = await self.client()
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.location.bucket, Prefix=prefix
        )
        with self._translated("ListObjectsV2", prefix):
            async for page in pages:
                for item in page.get("Contents", ()):
                    yield item["Key"], item["LastModified"].timestamp()

    async def presign(self, key: str, expires_in: int) -> str:
        if not 1 <= expires_in <= 7 * 24 * 3600:
            raise ValueError("expires_in must be 1 second to 7 days (SigV4)")
        client = await self.client()
        with self._translated("presign GetObject", key):
            url: str = await client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.location.bucket, "Key": key},
                ExpiresIn=expires_in,
            )
        return url

    async def ensure(self) -> None:
        """Create the bucket unless it exists (tests and development)."""
        client = await self.client()
        bucket = self.location.bucket
        with self._translated("HeadBucket"):
            try:
                await client.head_bucket(Bucket=bucket)
                return
            except ClientError as exc:
                if _error_code(exc) not in ("404", "NoSuchBucket"):
                    raise
        region = client.meta.region_name
        extra = {}
        if region and region != "us-east-1":  # us-east-1 takes no constraint
            extra = {"CreateBucketConfiguration": {"LocationConstraint": region}}
        with self._translated("CreateBucket"):
            try:
                await client.create_bucket(Bucket=bucket, **extra)
            except ClientError as exc:
                if _error_code(exc) != "BucketAlreadyOwnedByYou":  # a concurrent create
                    raise

    async def ping(self) -> None:
        client = await self.client()
        with self._translated("HeadBucket"):
            await client.head_bucket(Bucket=self.location.bucket)


async def _bounded(fn: Callable[[T], Awaitable[R]], items: Sequence[T], limit: int) -> list[R]:
    if len(items) == 1:
        return [await fn(items[0])]
    results: list[Any] = [None] * len(items)
    todo = iter(enumerate(items))

    async def worker() -> None:
        for i, item in todo:
            results[i] = await fn(item)

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(items)))]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return results


class _S3Store:
    """What both S3 stores share: the location, its bucket and lifecycle."""

    def __init__(self, location: S3Location) -> None:
        self.location = location
        self.bucket = S3Bucket(location)

    async def ensure_bucket(self) -> None:
        """Create the bucket unless it exists.

        Raises:
            StorageError: S3 cannot be reached or refuses.
        """
        await self.bucket.ensure()

    async def ping(self) -> None:
        """Check the bucket answers (HeadBucket), for readiness checks.

        Raises:
            StorageError: S3 cannot be reached, or the bucket is missing or
                forbidden.
        """
        await self.bucket.ping()

    async def close(self) -> None:
        await self.bucket.close()


class S3RevisionStore(_S3Store, RevisionStore):
    """Revision payloads as S3 objects (see the module docstring for keys)."""

    capabilities = Capabilities(transactions=False)

    def object_key(self, key: RevisionKey) -> str:
        for part in (key.model, key.revision_id, key.data_hash):
            if not part or "/" in part or "\\" in part or part.startswith("."):
                raise StorageError(f"unsafe payload key part {part!r}")
        if "." in key.data_hash:
            raise StorageError(f"a data hash cannot hold a dot: {key.data_hash!r}")
        rid = key.revision_id
        return f"{self.location.prefix}revisions/{key.model}/{rid[-2:]}/{rid}.{key.data_hash}"

    def _parse(self, object_key: str) -> RevisionKey | None:
        rest = object_key.removeprefix(f"{self.location.prefix}revisions/")
        model, _, name = rest.partition("/")
        revision_id, _, data_hash = name.partition("/")[2].rpartition(".")
        key = RevisionKey(model, revision_id, data_hash)
        with contextlib.suppress(StorageError):
            if self.object_key(key) == object_key:
                return key
        return None

    async def put_many(self, items: Sequence[tuple[RevisionKey, bytes]]) -> None:
        objects = [(self.object_key(k), payload) for k, payload in items]
        await self.bucket.map(lambda item: self.bucket.put(*item), objects)

    async def get_many(self, keys: Sequence[RevisionKey]) -> list[bytes | None]:
        return await self.bucket.map(self.bucket.get, [self.object_key(k) for k in keys])

    async def delete_many(self, keys: Sequence[RevisionKey]) -> None:
        await self.bucket.delete_many([self.object_key(k) for k in keys])

    async def list_keys(self) -> AsyncIterator[tuple[RevisionKey, float]]:
        """Every stored key with its LastModified (epoch seconds), for orphan
        collection; objects under the prefix that are not payloads are skipped.

        Raises:
            StorageError: listing failed (possibly after some keys were yielded).
        """
        root = f"{self.location.prefix}revisions/"
        async for object_key, modified in self.bucket.list_objects(root):
            if (key := self._parse(object_key)) is not None:
                yield key, modified


class S3BlobStore(_S3Store, BlobStore):
    """Blobs as S3 objects, uploaded in parts above the multipart threshold."""

    capabilities = Capabilities(transactions=False)

    def object_key(self, digest: str) -> str:
        if not _SHA256_RE.fullmatch(digest):
            raise StorageError(f"not a sha256 digest: {digest!r}")
        return f"{self.location.prefix}blobs/{digest[:2]}/{digest[2:]}"

    async def put(self, digest: str, content: bytes, content_type: str | None = None) -> None:
        if not await self.bucket.exists(self.object_key(digest)):  # the first type stays
            await self.bucket.put(self.object_key(digest), content, content_type)

    async def stat(self, digests: Sequence[str]) -> list[BlobInfo | None]:
        found = await self.bucket.map(self.bucket.head, [self.object_key(d) for d in digests])
        # S3 gives objects stored without a type a default one: that is no type
        return [
            None if f is None else BlobInfo(f[0], None if f[1] == _DEFAULT_TYPE else f[1])
            for f in found
        ]

    async def get(self, digest: str) -> bytes | None:
        return await self.bucket.get(self.object_key(digest))

    async def exists(self, digests: Sequence[str]) -> list[bool]:
        return await self.bucket.map(self.bucket.exists, [self.object_key(d) for d in digests])

    async def delete(self, digest: str) -> None:
        await self.bucket.delete_many([self.object_key(digest)])

    async def download_url(self, digest: str, expires_in: int) -> str | None:
        """A presigned GET URL; made locally, so a missing blob answers 404."""
        return await self.bucket.presign(self.object_key(digest), expires_in)

    async def list_digests(self) -> AsyncIterator[tuple[str, float]]:
        """Every stored digest with its LastModified (epoch seconds), for
        orphan collection; objects that are not blobs are skipped.

        Raises:
            StorageError: listing failed (possibly after some were yielded).
        """
        root = f"{self.location.prefix}blobs/"
        async for object_key, modified in self.bucket.list_objects(root):
            fan, _, tail = object_key.removeprefix(root).partition("/")
            if _SHA256_RE.fullmatch(fan + tail) and object_key == self.object_key(fan + tail):
                yield fan + tail, modified
