"""The S3 stores against moto's real server over HTTP (no mocks).

Faults come from a real reverse proxy in front of moto (``FaultProxy``) or
from stopping the server itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any, Literal, TypeVar

import httpx
import pytest

from app.errors import ConfigurationError, StorageError
from app.storage.base import BlobInfo, RevisionKey
from app.storage.s3 import MiB, S3BlobStore, S3Location, S3RevisionStore
from tests.s3_server import FAKE_SECRET, FaultProxy, MotoServer, ProxiedRequest

BUCKET = "specql-test"
Store = TypeVar("Store", S3RevisionStore, S3BlobStore)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def location(moto: MotoServer) -> S3Location:
    """A fresh prefix per test in the shared bucket."""
    return moto.location(BUCKET, prefix=f"t-{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def opened() -> AsyncIterator[Callable[..., Any]]:
    """Open stores on a location (the bucket is created); all closed after the test."""
    stores: list[S3RevisionStore | S3BlobStore] = []

    async def open_(cls: type[Store], location: S3Location, ensure: bool = True) -> Store:
        store = cls(location)
        stores.append(store)
        if ensure:
            await store.ensure_bucket()
        return store

    yield open_
    for store in stores:
        await store.close()


@pytest.fixture
async def revisions(opened: Any, location: S3Location) -> S3RevisionStore:
    store: S3RevisionStore = await opened(S3RevisionStore, location)
    return store


@pytest.fixture
async def blobs(opened: Any, location: S3Location) -> S3BlobStore:
    store: S3BlobStore = await opened(S3BlobStore, location)
    return store


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[FaultProxy]:
    with FaultProxy(moto.url) as fault_proxy:
        yield fault_proxy


def key(n: int, model: str = "post") -> RevisionKey:
    return RevisionKey(model, f"0190aaaa-0000-7000-8000-{n:012d}", f"{n:032x}")


def blob(content: bytes) -> tuple[str, bytes]:
    return hashlib.sha256(content).hexdigest(), content


def in_parts(location: S3Location, proxy: FaultProxy, **extra: Any) -> S3Location:
    """Through the proxy, in 5 MiB parts (S3's smallest) from 5 MiB up."""
    return replace(
        location, endpoint_url=proxy.url, multipart_threshold=5 * MiB, part_size=5 * MiB, **extra
    )


def uploads_of_parts(request: ProxiedRequest) -> bool:
    return request.method == "PUT" and "partNumber=" in request.query


# --- revisions ---------------------------------------------------------------


async def test_revisions_round_trip_in_order_with_none_for_missing(
    revisions: S3RevisionStore,
) -> None:
    items = [(key(i), f"payload {i}".encode()) for i in range(50)]
    await revisions.put_many(items)
    wanted = [key(49), key(1000), key(0), key(7, model="other"), key(25)]
    assert await revisions.get_many(wanted) == [
        b"payload 49",
        None,
        b"payload 0",
        None,
        b"payload 25",
    ]
    assert await revisions.get_many([]) == []
    client = await revisions.bucket.client()
    await revisions.get_many([key(1)])
    assert await revisions.bucket.client() is client  # one client for every call


async def test_put_again_is_a_noop(revisions: S3RevisionStore) -> None:
    await revisions.put_many([(key(1), b"same"), (key(1), b"same")])
    await revisions.put_many([(key(1), b"same"), (key(2), b"two")])
    assert await revisions.get_many([key(1), key(2)]) == [b"same", b"two"]
    assert len([k async for k, _ in revisions.list_keys()]) == 2


async def test_delete_ignores_missing_keys_across_delete_batches(
    revisions: S3RevisionStore,
) -> None:
    """DeleteObjects takes 1000 keys: 1003 keys need two requests."""
    keys = [key(i) for i in range(1003)]
    await revisions.put_many([(k, b"x") for k in keys])
    await revisions.delete_many([key(5000), *keys, key(5001)])
    await revisions.delete_many([key(5000)])
    assert [k async for k in revisions.list_keys()] == []
    assert await revisions.get_many([keys[0], keys[-1]]) == [None, None]


async def test_put_many_runs_requests_concurrently_within_the_bound(
    opened: Any, location: S3Location, proxy: FaultProxy
) -> None:
    store = await opened(S3RevisionStore, replace(location, endpoint_url=proxy.url, concurrency=4))
    proxy.gate = 4  # the first requests wait until four are in flight
    await store.put_many([(key(i), b"x") for i in range(24)])
    assert proxy.max_in_flight == 4
    assert await store.get_many([key(i) for i in range(24)]) == [b"x"] * 24


async def test_unsafe_keys_are_refused(revisions: S3RevisionStore) -> None:
    bad = [
        RevisionKey("post", "a/b", "h"),
        RevisionKey("post", ".hidden", "h"),
        RevisionKey("../x", "r1", "h"),
        RevisionKey("post", "r1", "h.2"),  # would not parse back
        RevisionKey("", "r1", "h"),
    ]
    for k in bad:
        with pytest.raises(StorageError):
            await revisions.put_many([(k, b"x")])
    assert [k async for k in revisions.list_keys()] == []


async def test_list_keys_parses_keys_back_with_last_modified(
    revisions: S3RevisionStore, location: S3Location
) -> None:
    before = time.time()
    keys = [key(1), key(2, model="user"), RevisionKey("post", "r", "h")]
    await revisions.put_many([(k, b"x") for k in keys])
    client = await revisions.bucket.client()
    for stray in ("revisions/README", "revisions/post/zz/r9.h", "revisions/post/r/r.h/x", "other"):
        await client.put_object(Bucket=BUCKET, Key=location.prefix + stray, Body=b"?")
    listed = [item async for item in revisions.list_keys()]
    assert len(listed) == 3 and {k for k, _ in listed} == set(keys)
    for _, modified in listed:
        assert before - 5 <= modified <= time.time() + 5


async def test_prefixes_isolate_stores(opened: Any, moto: MotoServer) -> None:
    a = await opened(S3RevisionStore, moto.location(BUCKET, prefix="iso-a"))
    b = await opened(S3RevisionStore, moto.location(BUCKET, prefix="iso-a/b"))
    await a.put_many([(key(1), b"from a")])
    await b.delete_many([key(1)])
    assert await b.get_many([key(1)]) == [None]
    assert [k async for k, _ in b.list_keys()] == []
    assert await a.get_many([key(1)]) == [b"from a"]
    await a.delete_many([key(1)])


# --- blobs -------------------------------------------------------------------


async def test_blobs_round_trip_exists_and_delete(blobs: S3BlobStore) -> None:
    digest, content = blob(b"some bytes")
    missing, _ = blob(b"never stored")
    assert await blobs.get(digest) is None
    await blobs.put(digest, content)
    await blobs.put(digest, content)
    assert await blobs.get(digest) == content
    assert await blobs.exists([digest, missing, digest]) == [True, False, True]
    assert await blobs.stat([missing, digest]) == [None, BlobInfo(len(content), None)]
    typed, typed_content = blob(b"typed")
    await blobs.put(typed, typed_content, "text/plain")
    await blobs.put(typed, typed_content, "image/png")  # stored already: the first type stays
    assert await blobs.stat([typed]) == [BlobInfo(5, "text/plain")]
    await blobs.delete(digest)
    await blobs.delete(missing)
    assert await blobs.exists([digest]) == [False]
    with pytest.raises(StorageError, match="not a sha256 digest"):
        await blobs.get("../" + digest[3:])


async def test_large_blob_is_uploaded_in_parts(
    opened: Any, location: S3Location, proxy: FaultProxy
) -> None:
    store = await opened(S3BlobStore, in_parts(location, proxy))
    digest, content = blob(os.urandom(11 * MiB))
    await store.put(digest, content, "video/mp4")
    assert await store.get(digest) == content
    assert await store.stat([digest]) == [BlobInfo(11 * MiB, "video/mp4")]
    client = await store.bucket.client()
    head = await client.head_object(Bucket=BUCKET, Key=store.object_key(digest))
    assert head["ETag"].strip('"').endswith("-3")  # S3's mark of a 3-part upload
    assert sum(uploads_of_parts(r) for r in proxy.requests) == 3
    small, small_content = blob(b"x" * 1024)
    await store.put(small, small_content)  # below the threshold: one PutObject
    assert sum(uploads_of_parts(r) for r in proxy.requests) == 3


async def test_failed_multipart_upload_is_aborted(
    opened: Any, location: S3Location, proxy: FaultProxy
) -> None:
    store = await opened(S3BlobStore, in_parts(location, proxy, max_attempts=1))
    proxy.fail(1, status=500, code="InternalError", when=uploads_of_parts)
    digest, content = blob(os.urandom(6 * MiB))
    with pytest.raises(StorageError, match=r"UploadPart .* InternalError \(HTTP 500\)"):
        await store.put(digest, content)
    assert any(r.method == "DELETE" and "uploadId=" in r.query for r in proxy.requests)
    client = await store.bucket.client()
    pending = await client.list_multipart_uploads(Bucket=BUCKET, Prefix=location.prefix)
    assert pending.get("Uploads", []) == []
    assert await store.exists([digest]) == [False]


async def test_presigned_url_serves_the_blob(blobs: S3BlobStore) -> None:
    digest, content = blob(b"download me")
    missing, _ = blob(b"absent")
    await blobs.put(digest, content)
    async with httpx.AsyncClient() as http:
        answer = await http.get(await blobs.download_url(digest, 60) or "")
        assert (answer.status_code, answer.content) == (200, content)
        assert (await http.get(await blobs.download_url(missing, 60) or "")).status_code == 404
    with pytest.raises(ValueError):
        await blobs.download_url(digest, 0)


async def test_list_digests_with_last_modified(blobs: S3BlobStore, location: S3Location) -> None:
    before = time.time()
    stored = sorted(blob(bytes([i]))[0] for i in range(3))
    for digest in stored:
        await blobs.put(digest, b"content")
    client = await blobs.bucket.client()
    for stray in ("blobs/zz/not-a-digest", f"blobs/{stored[0][:3]}/{stored[0][3:]}", "blobs/x"):
        await client.put_object(Bucket=BUCKET, Key=location.prefix + stray, Body=b"?")
    listed = [item async for item in blobs.list_digests()]
    assert sorted(d for d, _ in listed) == stored
    assert all(before - 5 <= modified <= time.time() + 5 for _, modified in listed)


# --- bucket, lifecycle -------------------------------------------------------


async def test_ping_and_ensure_bucket(opened: Any, moto: MotoServer) -> None:
    name = f"specql-{uuid.uuid4().hex[:8]}"
    store = await opened(S3BlobStore, moto.location(name, region="eu-central-1"), ensure=False)
    with pytest.raises(StorageError, match=f"HeadBucket s3://{name}/ failed: 404"):
        await store.ping()
    await store.ensure_bucket()
    await store.ensure_bucket()
    await store.ping()
    client = await store.bucket.client()
    assert (await client.get_bucket_location(Bucket=name))["LocationConstraint"] == "eu-central-1"


async def test_closed_store_refuses_use(opened: Any, location: S3Location) -> None:
    store = await opened(S3RevisionStore, location)
    await store.close()
    with pytest.raises(StorageError, match="closed"):
        await store.get_many([key(1)])
    await store.close()


# --- credentials ---------------------------------------------------------------


@pytest.fixture
def bare_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> pytest.MonkeyPatch:
    """No credentials anywhere botocore looks (env, files, instance metadata)."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


async def test_env_credentials_are_used_when_none_are_configured(
    opened: Any, location: S3Location, proxy: FaultProxy, bare_aws_env: pytest.MonkeyPatch
) -> None:
    bare_aws_env.setenv("AWS_ACCESS_KEY_ID", "ENVKEYID")
    bare_aws_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    unset = replace(location, access_key_id=None, secret_access_key=None, endpoint_url=proxy.url)
    store = await opened(S3RevisionStore, unset)
    await store.put_many([(key(1), b"x")])
    assert await store.get_many([key(1)]) == [b"x"]
    signed = [r.headers.get("authorization", "") for r in proxy.requests]
    assert signed and all("Credential=ENVKEYID/" in s for s in signed)


async def test_missing_credentials_are_a_clear_storage_error(
    opened: Any, location: S3Location, bare_aws_env: pytest.MonkeyPatch
) -> None:
    unset = replace(location, access_key_id=None, secret_access_key=None)
    store = await opened(S3RevisionStore, unset, ensure=False)
    with pytest.raises(StorageError, match="no credentials"):
        await store.put_many([(key(1), b"x")])


async def test_explicit_credentials_win_over_env(
    opened: Any, location: S3Location, proxy: FaultProxy, bare_aws_env: pytest.MonkeyPatch
) -> None:
    bare_aws_env.setenv("AWS_ACCESS_KEY_ID", "ENVKEYID")
    bare_aws_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    store = await opened(S3BlobStore, replace(location, endpoint_url=proxy.url))
    assert await store.exists([blob(b"")[0]]) == [False]
    assert all("Credential=testing-key-id/" in r.headers["authorization"] for r in proxy.requests)


# --- faults ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry_mode", "status", "code"),
    [("standard", 503, "SlowDown"), ("adaptive", 500, "InternalError")],
)
async def test_throttling_and_server_errors_are_retried(
    opened: Any,
    location: S3Location,
    proxy: FaultProxy,
    retry_mode: Literal["standard", "adaptive"],
    status: int,
    code: str,
) -> None:
    via_proxy = replace(location, endpoint_url=proxy.url, max_attempts=3, retry_mode=retry_mode)
    store = await opened(S3RevisionStore, via_proxy)
    await store.ensure_bucket()  # its PUT is not the one to fail (the test may run first)
    proxy.requests.clear()
    proxy.fail(2, status=status, code=code, when=lambda r: r.method == "PUT")
    await store.put_many([(key(1), b"after retries")])
    puts = [r.failed for r in proxy.requests if r.method == "PUT"]
    assert puts == [True, True, False]
    assert await store.get_many([key(1)]) == [b"after retries"]


async def test_without_retries_throttling_is_a_storage_error(
    opened: Any, location: S3Location, proxy: FaultProxy
) -> None:
    store = await opened(S3RevisionStore, replace(location, endpoint_url=proxy.url, max_attempts=1))
    proxy.fail(1, when=lambda r: r.method == "PUT")
    with pytest.raises(StorageError) as caught:
        await store.put_many([(key(1), b"x")])
    message = str(caught.value)
    assert message.startswith(f"s3: PutObject s3://{BUCKET}/{location.prefix}revisions/post/")
    assert "SlowDown (HTTP 503) after 1 attempt(s)" in message
    assert caught.value.s3_code == "SlowDown" and caught.value.__cause__ is not None
    assert sum(r.method == "PUT" for r in proxy.requests) == 1


async def test_slow_answers_time_out_as_storage_errors(
    opened: Any, location: S3Location, proxy: FaultProxy
) -> None:
    slow = replace(location, endpoint_url=proxy.url, read_timeout=0.5, max_attempts=1)
    store = await opened(S3RevisionStore, slow)
    proxy.delay = 10.0  # the proxy cannot answer before the 0.5 s read timeout fires
    with pytest.raises(StorageError, match=f"GetObject .* timed out reading from {proxy.url}"):
        await store.get_many([key(1)])


async def test_endpoint_down_fails_fast_and_recovers(opened: Any) -> None:
    secret = "do-not-print-this-secret"
    with MotoServer() as down:
        store = await opened(
            S3RevisionStore, down.location(BUCKET, prefix="p", secret_access_key=secret)
        )
        await store.put_many([(key(1), b"x")])
        await asyncio.to_thread(down.stop)
        for attempt in (store.put_many([(key(2), b"y")]), store.get_many([key(1)]), store.ping()):
            with pytest.raises(StorageError, match=f"cannot connect to {down.url}") as caught:
                await asyncio.wait_for(attempt, 120)  # fails (two attempts), never hangs
            assert secret not in str(caught.value) and secret not in repr(caught.value)
            assert BUCKET in str(caught.value)
        await asyncio.to_thread(down.start)  # an empty server again, on the same port
        await store.ensure_bucket()
        await store.put_many([(key(2), b"y")])
        assert await store.get_many([key(1), key(2)]) == [None, b"y"]
    assert secret not in repr(store.location) and FAKE_SECRET not in repr(store.location)


# --- locations from URLs -----------------------------------------------------


def test_location_from_url() -> None:
    loc = S3Location.from_url(
        "s3://my-bucket/some/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1"
        "&max_attempts=7&retry_mode=adaptive&part_size=6MiB&multipart_threshold=32MiB"
        "&connect_timeout=0.5&concurrency=8&addressing_style=virtual",
        access_key_id="AKID",
        secret_access_key="SECRET",
    )
    assert (loc.bucket, loc.prefix, loc.endpoint_url, loc.region) == (
        "my-bucket",
        "some/prefix/",
        "http://127.0.0.1:9000",
        "eu-west-1",
    )
    assert (loc.max_attempts, loc.retry_mode, loc.part_size, loc.multipart_threshold) == (
        7,
        "adaptive",
        6 * MiB,
        32 * MiB,
    )
    assert (loc.connect_timeout, loc.concurrency, loc.addressing_style) == (0.5, 8, "virtual")
    assert (loc.access_key_id, loc.secret_access_key) == ("AKID", "SECRET")
    assert "SECRET" not in repr(loc) and "AKID" not in repr(loc)
    plain = S3Location.from_url("s3://bucket.with.dots?endpoint_url=https://s3.example.com")
    assert (plain.prefix, plain.endpoint_url, plain.region) == ("", "https://s3.example.com", None)
    assert S3Location.from_url("s3://b12/a/b/").prefix == "a/b/"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://bucket/prefix", "must start with s3://, not http://"),
        ("bucket/prefix", "must start with s3://, not no scheme://"),
        ("s3:///prefix", "has no bucket"),
        ("s3://My_Bucket", "invalid S3 bucket name 'My_Bucket'"),
        ("s3://ab", "invalid S3 bucket name 'ab'"),
        ("s3://a..b", "invalid S3 bucket name"),
        ("s3://192.168.1.1", "invalid S3 bucket name"),
        ("s3://bucket:9000", "invalid S3 bucket name"),
        ("s3://bucket?endpiont=http://x", "unknown S3 URL option 'endpiont'"),
        ("s3://bucket?region=a&region=b", "option 'region' is given twice"),
        ("s3://bucket?endpoint=a&endpoint_url=b", "given twice"),
        ("s3://bucket?max_attempts=many", "max_attempts='many' is malformed"),
        ("s3://bucket?part_size=5XB", "part_size='5XB' is malformed"),
        ("s3://bucket?part_size=1MiB", "part_size must be 5 MiB to 5 GiB"),
        ("s3://bucket?max_attempts=0", "max_attempts must be at least 1"),
        ("s3://bucket?retry_mode=legacy", "retry_mode must be"),
        ("s3://bucket?endpoint=127.0.0.1:9000", "endpoint must be an http:// or https:// URL"),
        ("s3://bucket?endpoint=ftp://host", "endpoint must be an http:// or https:// URL"),
        ("s3://bucket//double", "empty, '.' or '..' segment"),
        ("s3://bucket/a/../b", "empty, '.' or '..' segment"),
        ("s3://bucket/p#frag", "fragment"),
    ],
)
def test_location_from_bad_url(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        S3Location.from_url(url)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "s3://AKIDSECRETPART:TOPSECRET@bucket/p",
        "s3://bucket/p?endpoint=http://user:TOPSECRET@127.0.0.1:9000",
    ],
)
def test_credentials_in_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigurationError, match="must not hold credentials") as caught:
        S3Location.from_url(url)
    assert "TOPSECRET" not in str(caught.value)


def test_half_given_credentials_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="need both"):
        S3Location("bucket", access_key_id="AKID")
