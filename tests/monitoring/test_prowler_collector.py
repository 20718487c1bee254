"""The AWS collector when Prowler is missing or misbehaves: a real process (``fake_prowler.py``,
linked under the name of what it does) set as ``PROWLER_BIN``; and Prowler's output read back
and ingested (``read_output``, ``results_ingest``)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from monitoring.collectors import CollectorError, collector_for
from monitoring.collectors.prowler import SERVICES, ProwlerCollector, read_output
from monitoring.models import (
    CheckControl,
    CheckResult,
    Connection,
    ConnectionKind,
    Finding,
)
from tests.monitoring.ingest import ingest

FAKE = Path(__file__).parent / "fake_prowler.py"
FIXTURE = Path(__file__).parent / "data" / "prowler-aws.ocsf.json"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEYS = json.dumps({"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": SECRET})


@pytest.fixture
def aws(org) -> Connection:
    return Connection.objects.create(
        organization=org,
        kind=ConnectionKind.AWS,
        name="Production AWS",
        credentials=KEYS,
        config={"regions": ["us-east-1"], "services": ["s3", "ec2"]},
    )


@pytest.fixture
def fake(settings, tmp_path):
    """``fake("hang")``: PROWLER_BIN is the fake Prowler under that name."""

    def use(mode: str) -> Path:
        link = tmp_path / "bin" / mode
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(FAKE)
        settings.PROWLER_BIN = str(link)
        return link

    return use


def _collect(connection):
    told: list[str] = []
    try:
        ProwlerCollector().collect(connection, told.append)
    except CollectorError as exc:
        return str(exc), told
    raise AssertionError("the run should have failed")


def test_aws_connections_run_prowler():
    collector = collector_for("aws")
    assert isinstance(collector, ProwlerCollector)
    fields = {f.name: f for f in collector.config_fields}
    assert fields["regions"].many and fields["regions"].required
    assert {"iam", "s3", "cloudtrail", "ec2"} <= set(fields["services"].choices) == set(SERVICES)
    assert (
        "access_key_id" in collector.credentials_help and "role_arn" in collector.credentials_help
    )


def test_a_missing_prowler_fails_the_run_and_the_test_plainly(settings, aws, tmp_path):
    settings.PROWLER_BIN = str(tmp_path / "nowhere" / "prowler")
    message, _ = _collect(aws)
    assert message.startswith(f"Prowler is not installed at {tmp_path}")
    assert "scripts/prowler-env.sh" in message
    probe = ProwlerCollector().probe(aws)
    assert not probe.ok and probe.message == message


def test_a_prowler_that_hangs_is_stopped_at_the_time_limit(settings, fake, aws):
    fake("hang")
    settings.PROWLER_TIMEOUT_SECONDS = 2
    started = time.monotonic()
    message, told = _collect(aws)
    assert message == "Prowler did not finish within 2 s; it was stopped."
    assert time.monotonic() - started < 30
    assert told[0] == "Starting Prowler"


def test_a_prowler_that_prints_garbage_and_fails_says_how_it_ended(fake, aws):
    fake("garbage")
    message, _ = _collect(aws)
    assert message == "Prowler stopped with exit code 1: RuntimeError: boom"


def test_the_child_gets_the_keys_in_its_environment_only_and_no_app_secret(fake, aws, settings):
    fake("leak")
    settings.MONITORING_AWS_ENDPOINT_URL = ""
    message, _ = _collect(aws)
    # It printed the secret it was given (redacted here), and nothing of the app's.
    assert message.startswith("Prowler stopped with exit code 2: env: [redacted] None None argv:")
    assert SECRET not in message and "AKIA" not in message
    assert "--region us-east-1 --service s3 ec2 --output-formats json-ocsf" in message


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("no-output", "Prowler finished without writing its JSON-OCSF output."),
        ("truncated", "Prowler's output is truncated or not JSON (at finding 1)."),
        ("not-json", "Prowler's output is not JSON-OCSF (a JSON list of findings)."),
    ],
)
def test_output_that_is_missing_or_broken_fails_the_run(fake, aws, mode, reason):
    fake(mode)
    assert _collect(aws)[0] == reason


@pytest.mark.parametrize(
    ("credentials", "reason"),
    [
        ("", "The credentials are not JSON"),
        ("AKIA... wJalr...", "The credentials are not JSON"),
        ('{"access_key_id": "AKIA"}', "need access_key_id and secret_access_key"),
        ('{"role_arn": "arn:aws:iam::1:user/x"}', "role_arn is not an IAM role ARN"),
    ],
)
def test_unusable_credentials_fail_before_prowler_starts(fake, aws, credentials, reason):
    fake("hang")
    aws.credentials = credentials
    assert reason in _collect(aws)[0]
    assert reason in ProwlerCollector().probe(aws).message


def test_a_region_that_is_not_one_is_refused(fake, aws):
    fake("hang")
    aws.config = {"regions": ["us-east-1", "--role=x"]}
    assert _collect(aws)[0] == "Not an AWS region: '--role=x' (e.g. us-east-1)."


def test_output_over_the_size_limit_is_refused_before_reading(settings, tmp_path):
    shutil.copy(FIXTURE, tmp_path / "prowler.ocsf.json")
    settings.PROWLER_MAX_OUTPUT_BYTES = 1024 * 1024
    read_output(tmp_path, dict)  # 25 KB: read
    settings.PROWLER_MAX_OUTPUT_BYTES = 10_000
    with pytest.raises(CollectorError, match=r"over the 0 MB limit \(PROWLER_MAX_OUTPUT_MB\)"):
        read_output(tmp_path, dict)


def test_prowler_output_is_ingested_into_results_findings_and_controls(aws, org, control, tmp_path):
    """``control`` maps CC6.6 here: the SSH check's criteria reach it."""
    from tests.factories import control_map

    control_map(control, "CC6.6")
    shutil.copy(FIXTURE, tmp_path / "prowler.ocsf.json")
    collected = read_output(
        tmp_path,
        lambda: {"ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22": ("CC6.6",)},
    )
    assert collected.output.content == FIXTURE.read_bytes()
    summary = ingest(org, aws, collected)
    run = summary.run
    assert (run.passed, run.failed, run.errors) == (2, 3, 0)
    assert summary.opened == 3
    open_ = Finding.objects.for_org(org).filter(state="open")
    assert sorted(open_.values_list("resource_id", flat=True)) == [
        "arn:aws:iam::123456789012:root",
        "arn:aws:s3:::plain-bucket",
        "arn:aws:sqs:us-east-1:123456789012:queue",
    ]
    results = CheckResult.objects.for_org(org).filter(run=run)
    ssh = results.get(check_ref__key="ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22")
    assert ssh.status == "pass" and ssh.resource_name == "sg-0office"
    mapped = CheckControl.objects.for_org(org).filter(check_ref=ssh.check_ref)
    assert list(mapped.values_list("control_id", flat=True)) == [control.pk]
    assert run.output_size == FIXTURE.stat().st_size
