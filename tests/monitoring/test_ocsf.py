"""Reading Prowler's JSON-OCSF output and its SOC 2 mapping file (``monitoring.collectors.ocsf``)
on files in Prowler's own shape: ``data/prowler-aws.ocsf.json`` follows Prowler's example output
(``examples/output/example_output_aws.ocsf.json``) with our own findings; bigger files are
written the way Prowler writes them (``monitoring.bench.write_ocsf``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from monitoring.bench import ocsf_finding, soc2_file, write_ocsf
from monitoring.collectors import CollectorError
from monitoring.collectors.ocsf import (
    MAX_FINDING_CHARS,
    OutputError,
    criterion_ref,
    parse,
    soc2_mapping,
)

FIXTURE = Path(__file__).parent / "data" / "prowler-aws.ocsf.json"
SSH = "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22"
MAPPING = {
    "s3_bucket_default_encryption": ("PI1.4",),
    SSH: ("CC6.6", "CC7.2"),
}


def _parse(text: str | bytes, mapping=None):
    data = text.encode() if isinstance(text, str) else text
    return parse(io.BytesIO(data), mapping or {})


def test_prowler_output_becomes_checks_with_one_result_per_resource():
    with FIXTURE.open("rb") as f:
        batch = parse(f, MAPPING)
    by_key = {check.key: (check, results) for check, results in batch}
    check, results = by_key["s3_bucket_default_encryption"]
    assert check.title.startswith("Check if S3 buckets have default encryption")
    assert (check.severity, check.criteria) == ("medium", ("PI1.4",))
    assert {(r.resource, r.status) for r in results} == {
        ("arn:aws:s3:::plain-bucket", "fail"),
        ("arn:aws:s3:::locked-bucket", "pass"),
    }
    plain = next(r for r in results if r.status == "fail")
    assert plain.resource_name == "plain-bucket"
    assert plain.details == {
        "region": "us-east-1",
        "status_extended": "S3 Bucket plain-bucket does not have Server Side Encryption enabled.",
        "risk": "Risk of s3_bucket_default_encryption.",
    }
    # A muted failure (Prowler's mutelist) is left out; the passing group stays.
    ssh_check, ssh = by_key[SSH]
    assert ssh_check.severity == "high"
    assert [(r.resource_name, r.status) for r in ssh] == [("sg-0office", "pass")]
    # One resource reported from two regions keeps its worst result.
    root_check, root = by_key["iam_root_hardware_mfa_enabled"]
    assert root_check.severity == "critical" and root_check.criteria == ()
    assert [(r.status, r.details["region"]) for r in root] == [("fail", "eu-west-1")]
    # MANUAL (a person must look) is not a result: its check has none and is left out.
    assert "account_maintain_current_contact_details" not in by_key
    # A check the mapping does not know is kept, without criteria; Informational is low.
    unknown, _ = by_key["custom_check_the_mapping_does_not_know"]
    assert (unknown.criteria, unknown.severity) == ((), "low")


def test_a_big_file_is_read_one_finding_at_a_time_across_chunks(tmp_path):
    # ~3 MB: findings straddle the 1 MB chunks the reader takes.
    path = tmp_path / "big.ocsf.json"
    findings = [
        ocsf_finding(
            "ec2_instance_imdsv2_enabled",
            f"arn:aws:ec2:us-east-1:123456789012:instance/i-{i:05d}",
            "FAIL" if i % 3 == 0 else "PASS",
            detail="é" * 500 + f" {i}",  # multi-byte characters across chunk borders
        )
        for i in range(1500)
    ]
    with path.open("w") as out:
        write_ocsf(out, findings)
    assert path.stat().st_size > 3_000_000
    with path.open("rb") as f:
        batch = parse(f, {})
    [(check, results)] = batch
    assert len(results) == 1500  # over a push's 1,000: a collector's run has no such cap
    assert sum(r.status == "fail" for r in results) == 500
    assert results[-1].details["status_extended"].endswith(" 1499")


@pytest.mark.parametrize("text", ["", "  \n", "[]", "[ \n ]"])
def test_no_findings_is_an_empty_run(text):
    assert _parse(text) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"metadata": {"event_code": "s3_x"}, "status_code": "PA', "truncated or not JSON"),
        ('[{"metadata": {"event_code": "s3_x"}, "status_code": "PASS"},', "ends early"),
        ('[{"metadata": {"event_code": "s3_x"}, "status_code": "PASS"}', "truncated or not JSON"),
        ("<html>Internal Server Error</html>", "not JSON-OCSF"),
        ('{"findings": []}', "not JSON-OCSF"),
        ("[1, 2]", "not JSON-OCSF"),
        ('[{"metadata": {"event_code": "a"}} {"b": 2}]', "truncated or not JSON"),
        ("[]garbage", "text after its list"),
        ('[{"metadata": {}, "status_code": "PASS"}]', "names no check"),
    ],
)
def test_output_that_is_not_prowler_findings_fails_with_a_reason(text, message):
    with pytest.raises(OutputError, match=message):
        _parse(text)


def test_output_that_is_not_utf8_fails_with_a_reason():
    with pytest.raises(OutputError, match="not UTF-8"):
        _parse(b'[{"metadata": "\xff\xfe"}]')


def test_a_finding_too_large_to_be_prowlers_fails_without_reading_on():
    huge = '[{"metadata": {"event_code": "s3_x"}, "pad": "' + "x" * (MAX_FINDING_CHARS + 10)
    with pytest.raises(OutputError, match="not valid or too large"):
        _parse(huge)


def test_an_error_is_a_collector_error():
    assert issubclass(OutputError, CollectorError)


@pytest.mark.parametrize(
    ("requirement", "name", "ref"),
    [
        ("cc_6_1", "CC6.1 The entity implements logical access", "CC6.1"),
        ("cc_6_1", "", "CC6.1"),
        # Prowler's file names cc_a_1_1 "A1.2 ...": the name says which criterion it is.
        ("cc_a_1_1", "A1.2 The entity authorizes, designs, develops", "A1.2"),
        ("cc_a_1_1", "", "A1.1"),
        ("cc_c_1_2", "C1.2 The entity disposes", "C1.2"),
        ("pi_1_5", "PI1.5 Stored data", "PI1.5"),
        ("misc", "Something else", None),
    ],
)
def test_requirement_ids_become_criteria_refs(requirement, name, ref):
    assert criterion_ref(requirement, name) == ref


def test_the_mapping_file_maps_checks_to_criteria(tmp_path):
    path = tmp_path / "soc2_aws.json"
    data = soc2_file({"s3_bucket_default_encryption": ("PI1.4",), SSH: ("CC6.6", "CC7.2")})
    data["Requirements"].append({"Id": "cc_a_1_1", "Name": "A1.2 Backups", "Checks": [SSH]})
    data["Requirements"].append({"Id": "misc", "Name": "No criterion", "Checks": ["x_y"]})
    path.write_text(json.dumps(data))
    assert soc2_mapping(path) == {
        "s3_bucket_default_encryption": ("PI1.4",),
        SSH: ("CC6.6", "CC7.2", "A1.2"),
    }


@pytest.mark.parametrize("text", ["", "not json", '{"Framework": "SOC2"}', "[]"])
def test_a_broken_mapping_file_fails_with_a_reason(tmp_path, text):
    path = tmp_path / "soc2_aws.json"
    path.write_text(text)
    with pytest.raises(CollectorError, match="SOC 2 mapping"):
        soc2_mapping(path)
