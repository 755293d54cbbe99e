"""The real S3 gateway for the storage tests (tests.support_s3)."""

from tests.support_s3 import s3_gateway  # noqa: F401
