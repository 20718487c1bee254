"""Static and uploaded files (imported by ``soc2app.settings``): local folders on the embedded
default, S3 (django-storages) with STORAGE=s3, and where the activity log's signed checkpoints
are kept."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from soc2app.deployment import BASE_DIR, PRODUCTION, VAR_DIR
from soc2app.env import env_choice, env_int, env_str

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
if not PRODUCTION:
    # Serve straight from the app folders: no collectstatic step in development and tests.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
STORAGE_BACKEND = env_choice("STORAGE", "local", ("local", "s3"))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
_default_storage: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def s3_storage_options() -> dict:
    """django-storages options of the S3 backend (any S3-compatible server: MinIO, AWS)."""
    bucket = env_str("S3_BUCKET").strip()
    if len(bucket) < 3:
        raise ImproperlyConfigured("STORAGE=s3 needs S3_BUCKET (a bucket name of 3+ characters)")
    return {
        "bucket_name": bucket,
        "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
        "region_name": env_str("S3_REGION") or None,
        "access_key": env_str("S3_ACCESS_KEY_ID") or None,
        "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
        # MinIO and most self-hosted servers want path-style URLs (http://host/bucket/key).
        "addressing_style": env_choice("S3_ADDRESSING_STYLE", "path", ("path", "virtual", "auto")),
        "signature_version": "s3v4",
        # Objects are private; every download goes through our view (permission check and
        # activity entry), so no pre-signed URL is ever handed out.
        "default_acl": "private",
        "querystring_auth": False,
        # Keys are random (evidence_upload_to): an existing key is never silently replaced.
        "file_overwrite": False,
    }


if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": s3_storage_options(),
    }
# Signed checkpoints of the activity log's chains (tenants/activity_checkpoints.py), outside
# the database: a folder, or a prefix of an S3 bucket (Object Lock retention when it has it).
ACTIVITY_CHECKPOINT_DIR = Path(
    env_str("ACTIVITY_CHECKPOINT_DIR", str(MEDIA_ROOT / "activity-checkpoints"))
)
ACTIVITY_CHECKPOINT_RETENTION_DAYS = env_int("ACTIVITY_CHECKPOINT_RETENTION_DAYS", 400, minimum=1)
_checkpoint_storage: dict = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": ACTIVITY_CHECKPOINT_DIR},
}
if STORAGE_BACKEND == "s3":
    _s3_options = s3_storage_options()
    _checkpoint_storage = {
        "BACKEND": "tenants.checkpoint_storage.CheckpointS3Storage",
        "OPTIONS": {
            **_s3_options,
            "bucket_name": env_str("ACTIVITY_CHECKPOINT_BUCKET").strip()
            or _s3_options["bucket_name"],
            "location": "activity-checkpoints",
        },
    }
STORAGES = {
    "default": _default_storage,
    "activity_checkpoints": _checkpoint_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
