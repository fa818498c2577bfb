"""Settings from SPECQL_* variables: typed, inferred, checked, secrets hidden."""

from __future__ import annotations

import pytest

from app import Settings
from app.errors import ConfigurationError


def test_variables_are_typed_and_the_profile_inferred() -> None:
    s = Settings.from_env(
        {
            "SPECQL_DATABASE_URL": "postgresql://app:hunter2@db:5432/app",
            "SPECQL_REVISIONS": "inline",
            "SPECQL_POOL_SIZE": "5",
            "SPECQL_POOL_TIMEOUT": "2.5",
            "SPECQL_STRICT_CONTEXT": "yes",
        }
    )
    assert (s.profile, s.pool_size, s.pool_timeout, s.strict_context) == ("postgres", 5, 2.5, True)
    assert "hunter2" not in repr(s) and "app:***@db" in repr(s)
    assert Settings.from_env({"SPECQL_S3_URL": "s3://b"}).profile == "s3"
    assert Settings.from_env({}).profile == "disk"
    assert Settings.from_env({"SPECQL_PROFILE": "memory"}, profile="disk").profile == "disk"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SPECQL_POOL_SIZE": "many"}, "SPECQL_POOL_SIZE='many' is not a valid int"),
        ({"SPECQL_STRICT_CONTEXT": "maybe"}, "is not a valid bool"),
        ({"SPECQL_PROFILE": "cloud"}, "unknown storage profile 'cloud'"),
        ({"SPECQL_PROFILE": "postgres"}, "needs a database URL"),
        ({"SPECQL_PROFILE": "s3"}, "needs an S3 URL"),
        ({"SPECQL_REVISIONS": "tape"}, "unknown revisions choice 'tape'"),
        (
            {"SPECQL_PROFILE": "s3", "SPECQL_S3_URL": "s3://b", "SPECQL_REVISIONS": "files"},
            "disk profile only",
        ),
        ({"SPECQL_RECORD_CACHE_BYTES": "-1"}, "record_cache_bytes cannot be negative"),
        ({"SPECQL_RECORD_CACHE_BYTES": "64MB"}, "'64MB' is not a valid int"),
        ({"SPECQL_POOL_TIMEOUT": "-0.5"}, "pool_timeout cannot be negative"),
        ({"SPECQL_SQLITE_PAGE_SIZE": "1000"}, "sqlite_page_size must be a power of two"),
        ({"SPECQL_SQLITE_PAGE_SIZE": "256"}, "from 512 to 65536, not 256"),
        ({"SPECQL_SQLITE_PAGE_SIZE": "131072"}, "from 512 to 65536, not 131072"),
        ({"SPECQL_SQLITE_PAGE_SIZE": "big"}, "SPECQL_SQLITE_PAGE_SIZE='big' is not a valid int"),
    ],
)
def test_bad_variables_name_the_problem(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        Settings.from_env(env)


def test_the_record_cache_is_sized_or_turned_off_from_the_environment() -> None:
    assert Settings.from_env({"SPECQL_RECORD_CACHE_BYTES": "0"}).record_cache_bytes == 0
    assert Settings.from_env({}).record_cache_bytes == 64 * 1024 * 1024
    with pytest.raises(ConfigurationError, match="SPECQL_RECORD_CACHE_BYTES to 0 or more"):
        Settings(record_cache_bytes=-1).check()
