"""S3 storage of the activity log's checkpoints: write-once objects, locked when the bucket can.

Object Lock can only be switched on when a bucket is created; on a bucket that has it, each
checkpoint is written with a ``COMPLIANCE`` retention of ``ACTIVITY_CHECKPOINT_RETENTION_DAYS``
(nobody, not even the bucket's owner, can delete or overwrite that version until then). On a
bucket without it (MinIO without ``--with-lock``, an existing evidence bucket) checkpoints are
still written, once each and never overwritten by the app; the README says to use a locked
bucket (``ACTIVITY_CHECKPOINT_BUCKET``) in production.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)


class CheckpointS3Storage(S3Storage):
    _lock_supported: bool | None = None

    def lock_supported(self) -> bool:
        """Whether the bucket has Object Lock enabled (asked once per storage instance)."""
        if self._lock_supported is None:
            client = self.connection.meta.client
            try:
                config = client.get_object_lock_configuration(Bucket=self.bucket_name)
            except ClientError as exc:
                # No configuration, or a server that does not implement Object Lock at all.
                logger.warning(
                    "activity checkpoints: bucket %s has no Object Lock (%s); checkpoints are "
                    "written once but not locked",
                    self.bucket_name,
                    exc.response.get("Error", {}).get("Code", exc),
                )
                config = {}
            enabled = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
            self._lock_supported = enabled == "Enabled"
        return self._lock_supported

    def _get_write_parameters(self, name: str, content: Any = None) -> dict[str, Any]:
        params = super()._get_write_parameters(name, content)
        if self.lock_supported():
            days = settings.ACTIVITY_CHECKPOINT_RETENTION_DAYS
            params["ObjectLockMode"] = "COMPLIANCE"
            params["ObjectLockRetainUntilDate"] = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
        return params
