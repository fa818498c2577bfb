"""Several real ``specql serve`` processes on one PostgreSQL and one S3."""
