"""Presigned blob download URLs where the blob store makes them (S3)."""

from __future__ import annotations

import httpx
import pytest

from app import BadRequestError, NotFoundError

pytestmark = pytest.mark.parametrize("settings", ["disk", "s3", "postgres"], indirect=True)


async def test_blob_download_urls(manager):
    ref = await manager.put_blob(b"picture bytes", "image/png")
    url = await manager.blob_url(ref.digest, expires_in=60)
    if manager.settings.profile == "disk":
        assert url is None  # served by the API only
    else:
        async with httpx.AsyncClient() as http:
            assert (await http.get(url)).content == b"picture bytes"
    with pytest.raises(NotFoundError):
        await manager.blob_url("0" * 64)
    with pytest.raises(BadRequestError):
        await manager.blob_url("../etc/passwd")
