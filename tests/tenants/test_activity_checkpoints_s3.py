"""Activity log checkpoints on S3 (``STORAGE=s3``), against moto's S3 server: one object per
checkpoint under ``activity-checkpoints/``, locked (Object Lock, COMPLIANCE) when the bucket
has Object Lock, written unlocked when it has not."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator

import pytest
from botocore.exceptions import ClientError
from django.test import override_settings

from tenants.activity_checkpoints import checkpoint_write, log_verify
from tests.evidence.test_s3 import s3_endpoint  # noqa: F401 (the moto server fixture)
from tests.tenants.activity_tamper import record, tamper_sql

pytestmark = pytest.mark.django_db
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def checkpoint_bucket(s3_endpoint, monkeypatch) -> Iterator[Callable]:  # noqa: F811
    """Makes a bucket (with or without Object Lock) the checkpoint storage, as STORAGE=s3 and
    ACTIVITY_CHECKPOINT_BUCKET configure it; yields the factory."""
    import boto3

    from soc2app.settings import s3_storage_options

    for name, value in {
        "S3_BUCKET": "soc2-evidence-test",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    resource = boto3.resource(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS
    )
    made = []
    overrides = []

    def make(prefix: str, *, lock: bool):  # noqa: ANN202
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        bucket = resource.Bucket(name)
        bucket.create(ObjectLockEnabledForBucket=lock)
        made.append(bucket)
        storage = {
            "BACKEND": "tenants.checkpoint_storage.CheckpointS3Storage",
            "OPTIONS": {
                **s3_storage_options(),
                "bucket_name": name,
                "location": "activity-checkpoints",
            },
        }
        override = override_settings(
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "activity_checkpoints": storage,
            }
        )
        override.enable()
        overrides.append(override)
        return bucket

    try:
        yield make
    finally:
        for override in reversed(overrides):
            override.disable()
        for bucket in made:
            # COMPLIANCE-locked objects cannot be deleted (that is the point): the locked
            # bucket stays on the throwaway server, under a name no other test uses.
            with contextlib.suppress(ClientError):
                bucket.object_versions.delete()
                bucket.delete()


def test_checkpoints_on_a_locked_bucket_cannot_be_deleted(org, checkpoint_bucket):
    bucket = checkpoint_bucket("soc2-checkpoints-locked", lock=True)
    entries = record(org, 3)
    checkpoint = checkpoint_write(org).checkpoint
    (obj,) = bucket.objects.all()
    assert obj.key == f"activity-checkpoints/{checkpoint.name}"
    assert obj.key.startswith(f"activity-checkpoints/{org.pk}/")
    head = bucket.meta.client.head_object(Bucket=bucket.name, Key=obj.key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.UTC) + dt.timedelta(days=399)
    with pytest.raises(ClientError, match="AccessDenied"):
        bucket.meta.client.delete_object(
            Bucket=bucket.name, Key=obj.key, VersionId=head["VersionId"]
        )
    # The checkpoint still catches a cut-off tail.
    assert log_verify(org).problem is None
    tamper_sql("DELETE FROM tenants_activityentry WHERE id = %s", [entries[2].pk])
    assert "recorded it, but it is gone" in log_verify(org).problem


def test_checkpoints_on_a_bucket_without_object_lock_are_written_unlocked(org, checkpoint_bucket):
    bucket = checkpoint_bucket("soc2-checkpoints-plain", lock=False)
    record(org, 2)
    first = checkpoint_write(org).checkpoint
    assert checkpoint_write(org).checkpoint is None  # unchanged head: nothing written
    record(org, 1)
    second = checkpoint_write(org).checkpoint
    keys = sorted(o.key for o in bucket.objects.all())
    assert keys == [f"activity-checkpoints/{first.name}", f"activity-checkpoints/{second.name}"]
    head = bucket.meta.client.head_object(Bucket=bucket.name, Key=keys[0])
    assert "ObjectLockMode" not in head
    result = log_verify(org)
    assert result.problem is None and result.checkpoints == 2
