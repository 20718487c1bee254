"""Settings of the AWS collector (``monitoring.collectors.prowler``): where Prowler is and how
long and how much it may run and write. Every variable is documented in README.md."""

from __future__ import annotations

import os
from pathlib import Path

from soc2app.env import env_int, env_str

# Prowler lives in its own virtualenv (scripts/prowler-env.sh), never in the app's: one per
# machine and version, outside the checkout.
PROWLER_VERSION = "5.46.0"  # the same as scripts/prowler-env.sh
_DATA_HOME = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
PROWLER_BIN = env_str(
    "PROWLER_BIN", str(_DATA_HOME / "soc2app" / f"prowler-{PROWLER_VERSION}" / "venv/bin/prowler")
)
# A run of Prowler is stopped (and fails) after this many seconds.
PROWLER_TIMEOUT_SECONDS = env_int("PROWLER_TIMEOUT_SECONDS", 3000, minimum=10)
# Largest OCSF output read back; a bigger one fails the run.
PROWLER_MAX_OUTPUT_BYTES = env_int("PROWLER_MAX_OUTPUT_MB", 512, minimum=1) * 1024 * 1024
# Tests and local stacks only (moto's server, LocalStack): every AWS call Prowler and the
# "test connection" make goes to this address instead of AWS.
MONITORING_AWS_ENDPOINT_URL = env_str("MONITORING_AWS_ENDPOINT_URL", "")
