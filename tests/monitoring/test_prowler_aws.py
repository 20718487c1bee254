"""The real Prowler, from its own environment (``scripts/prowler-env.sh``), against moto's
server (``MONITORING_AWS_ENDPOINT_URL``), limited to IAM, S3, CloudTrail and EC2 in us-east-1,
on resources created here with passing and failing configurations; its output is ingested and
the expected checks pass and fail. One Prowler run for the module (a few minutes)."""

from __future__ import annotations

import json
import socket
import urllib.request

import boto3
import pytest
from django.conf import settings as django_settings
from moto.server import ThreadedMotoServer

from monitoring.collectors.prowler import ProwlerCollector
from monitoring.models import CheckControl, CheckResult, Connection, ConnectionKind
from tests.factories import control_map
from tests.monitoring.ingest import ingest

# Every test here on the database: pytest-django runs database tests first, and the module's
# fixtures (moto's server, the one Prowler run) must not be set up twice; for the same reason
# the whole module goes to one xdist worker (tests/xdist_env.py, ``GROUPED_MODULES``).
pytestmark = [pytest.mark.prowler, pytest.mark.django_db]

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
SECRET = "moto-secret-key-never-shown-anywhere"
SSH = "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(endpoint: str) -> dict[str, str]:
    kw = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket="plain-bucket")
    s3.create_bucket(Bucket="locked-bucket")
    s3.put_bucket_encryption(
        Bucket="locked-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_public_access_block(
        Bucket="locked-bucket",
        PublicAccessBlockConfiguration={
            k: True
            for k in (
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            )
        },
    )
    s3.put_bucket_versioning(Bucket="locked-bucket", VersioningConfiguration={"Status": "Enabled"})
    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    groups = {}
    for name, cidr in (("open-ssh", "0.0.0.0/0"), ("office-ssh", "10.0.0.0/8")):
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": cidr}]}
            ],
        )
        # Prowler checks security groups in use (attached to a network interface).
        ec2.create_network_interface(SubnetId=subnet, Groups=[gid])
        groups[name] = gid
    iam = boto3.client("iam", **kw)
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireLowercaseCharacters=True)
    s3.create_bucket(Bucket="trail-logs")
    trail = boto3.client("cloudtrail", **kw)
    trail.create_trail(Name="main", S3BucketName="trail-logs", IsMultiRegionTrail=True)
    trail.start_logging(Name="main")
    return groups


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's state lives in this process: start from an empty account.
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset, timeout=10).close()  # noqa: S310 (our local server)
    groups = _seed(endpoint)
    yield endpoint, groups
    server.stop()


@pytest.fixture(scope="module")
def prowler_run(moto_endpoint):
    """One run of the collector (no database needed for it) and what it told."""
    endpoint, groups = moto_endpoint
    old = django_settings.MONITORING_AWS_ENDPOINT_URL
    django_settings.MONITORING_AWS_ENDPOINT_URL = endpoint
    connection = Connection(
        kind=ConnectionKind.AWS,
        name="moto",
        credentials=json.dumps({"access_key_id": "AKIAMOTO", "secret_access_key": SECRET}),
        config={"regions": [REGION], "services": ["iam", "s3", "cloudtrail", "ec2"]},
    )
    told: list[str] = []
    try:
        collected = ProwlerCollector().collect(connection, told.append)
    finally:
        django_settings.MONITORING_AWS_ENDPOINT_URL = old
    return collected, told, groups


def _status(collected, key: str) -> dict[str, str]:
    return {
        r.resource: r.status
        for check, results in collected.batch
        if check.key == key
        for r in results
    }


def test_prowler_runs_against_moto_with_passing_and_failing_resources(prowler_run):
    collected, told, groups = prowler_run
    assert told[0] == "Starting Prowler" and told[-1] == "Reading Prowler's output"
    assert _status(collected, "s3_bucket_default_encryption") == {
        "arn:aws:s3:::plain-bucket": "fail",
        "arn:aws:s3:::locked-bucket": "pass",
        "arn:aws:s3:::trail-logs": "fail",
    }
    assert (
        _status(collected, "s3_bucket_level_public_access_block")["arn:aws:s3:::locked-bucket"]
        == "pass"
    )
    assert (
        _status(collected, "s3_bucket_level_public_access_block")["arn:aws:s3:::plain-bucket"]
        == "fail"
    )
    sg = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/"
    assert _status(collected, SSH) == {
        sg + groups["open-ssh"]: "fail",
        sg + groups["office-ssh"]: "pass",
    }
    assert _status(collected, "iam_user_mfa_enabled_console_access") == {
        f"arn:aws:iam::{ACCOUNT}:user/alice": "fail"
    }
    assert set(_status(collected, "iam_password_policy_minimum_length_14").values()) == {"fail"}
    assert set(_status(collected, "iam_password_policy_lowercase").values()) == {"pass"}
    trail = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"
    assert _status(collected, "cloudtrail_multi_region_enabled") == {trail: "pass"}
    assert _status(collected, "cloudtrail_log_file_validation_enabled") == {trail: "fail"}
    # Criteria come from Prowler's own SOC 2 file; checks it does not map have none.
    checks = {check.key: check for check, _ in collected.batch}
    assert checks[SSH].criteria == ("CC6.6", "CC7.2")
    assert checks[SSH].severity == "high"
    assert "A1.2" in checks["cloudtrail_multi_region_enabled"].criteria
    assert checks["iam_user_mfa_enabled_console_access"].criteria == ()
    # The secret went nowhere but the child's environment.
    assert SECRET.encode() not in collected.output.content
    assert not any(SECRET in line for line in told)


def test_prowler_output_is_ingested_and_findings_open_for_failures(prowler_run, org, control):
    collected, _, groups = prowler_run
    control_map(control, "CC6.6")
    aws = Connection.objects.create(organization=org, kind=ConnectionKind.AWS, name="AWS")
    summary = ingest(org, aws, collected)
    run = summary.run
    assert run.failed > 0 and run.passed > 0 and summary.opened == run.failed
    results = CheckResult.objects.for_org(org).filter(run=run, check_ref__key=SSH)
    assert dict(results.values_list("resource_name", "status")) == {
        groups["open-ssh"]: "fail",
        groups["office-ssh"]: "pass",
    }
    ssh_check = results.first().check_ref
    assert ssh_check.failing
    mapped = CheckControl.objects.for_org(org).filter(check_ref=ssh_check)
    assert control.pk in set(mapped.values_list("control_id", flat=True))


def test_test_connection_names_the_account(moto_endpoint, settings):
    settings.MONITORING_AWS_ENDPOINT_URL = moto_endpoint[0]
    aws = Connection(kind=ConnectionKind.AWS, name="moto", credentials=json.dumps(
        {"access_key_id": "AKIAMOTO", "secret_access_key": SECRET}
    ))  # fmt: skip
    probe = ProwlerCollector().probe(aws)
    assert probe.ok, probe.message
    assert (
        probe.message == f"Connected to AWS account {ACCOUNT} as arn:aws:sts::{ACCOUNT}:user/moto."
    )


def test_test_connection_says_when_aws_cannot_be_asked(settings):
    settings.MONITORING_AWS_ENDPOINT_URL = f"http://127.0.0.1:{_free_port()}"
    aws = Connection(kind=ConnectionKind.AWS, name="x", credentials=json.dumps(
        {"access_key_id": "AKIAMOTO", "secret_access_key": SECRET}
    ))  # fmt: skip
    probe = ProwlerCollector().probe(aws)
    assert not probe.ok
    assert probe.message.startswith("AWS could not be asked who these are (EndpointConnectionError")
    assert SECRET not in probe.message
