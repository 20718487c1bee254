"""A collector for tests only, registered with the setting ``MONITORING_EXTRA_COLLECTORS``
(``FAKE``: in place of the GitHub kind, since a connection's kind is one of the model's) so that
test worker processes import it too. What it does is chosen by the connection's ``mode``
setting: canned results, a ``CollectorError``, a hang, garbage, a crash quoting the secret."""

from __future__ import annotations

import json
import time

from monitoring.collectors import Collected, CollectorError, ConfigField, Probe, RawOutput
from monitoring.specs import CheckSpec, ResultSpec

FAKE = "github=tests.monitoring.collectors_fake.FakeCollector"
GOOD = "fake-token-0123456789"
MODES = ("pass", "fail", "many", "error", "leak", "hang", "garbage", "unknown", "crash")
HANG_SECONDS = 30


class FakeCollector:
    config_fields = (
        ConfigField("account", "Account", help="The account to look at.", required=True),
        ConfigField("mode", "Mode", choices=MODES, default="fail"),
        ConfigField("regions", "Regions", many=True, default=("eu-west-1",)),
    )
    credentials_help = "A fake token."

    def probe(self, connection) -> Probe:
        mode = connection.config.get("mode")
        secret = connection.credentials.reveal() if connection.credentials else ""
        if mode == "hang":
            time.sleep(HANG_SECONDS)
        if mode == "crash":
            raise RuntimeError(f"could not sign in with {secret}")
        if secret != GOOD:
            return Probe(ok=False, message=f"The token {secret} was refused.")
        regions = ", ".join(connection.config.get("regions", []))
        return Probe(ok=True, message=f"Signed in to {connection.config['account']}: {regions}.")

    def collect(self, connection, progress) -> Collected:
        mode = connection.config.get("mode", "fail")
        secret = connection.credentials.reveal() if connection.credentials else ""
        progress("Looking at users")
        if mode == "error":
            raise CollectorError("The fake API said 401: the token has expired.")
        if mode == "leak":
            raise CollectorError(f"Refused token {secret} for {connection.config['account']}")
        if mode == "crash":
            raise RuntimeError(f"unexpected reply to Authorization: Bearer {secret}")
        if mode == "hang":
            time.sleep(HANG_SECONDS)
        if mode == "garbage":
            return Collected(batch=[("not a check", [1, 2])], output=b"\x00garbage")
        count = 1500 if mode == "many" else 2
        failing = "fail" if mode in ("fail", "unknown") else "pass"
        results = [
            ResultSpec(resource=f"user-{i}", status=failing if i == 1 else "pass")
            for i in range(count)
        ]
        criteria = ("CC99.9",) if mode == "unknown" else ("CC6.1",)
        check = CheckSpec(
            key="fake-mfa", title="Users have MFA", severity="high", criteria=criteria
        )
        progress("Done")
        # A collector may read what earlier runs left (the GitHub one does): the run's own
        # database connection, so a test's rows are seen too.
        from monitoring.models import Finding

        seen = Finding.objects.for_org(connection.organization_id).filter(state="open").count()
        output = json.dumps({"mode": mode, "results": count, "open_findings": seen}).encode()
        return Collected(
            batch=[(check, results)], output=RawOutput(content=output, name="fake.json")
        )
