"""The AWS collector: Prowler (Apache-2.0) run as a separate process from its own virtualenv.

``scripts/prowler-env.sh`` installs a pinned Prowler in its own venv (``PROWLER_BIN``);
nothing of it is imported here. A run is ``prowler aws`` limited to the connection's regions and
services, writing JSON-OCSF into a temporary folder; ``monitoring.collectors.ocsf`` reads it back
with the SOC 2 mapping file Prowler ships (``compliance/aws/soc2_aws.json`` in its own
environment). Credentials (the connection's JSON) reach the child only through its environment,
which holds nothing of the app's (no database URL, no keys): never argv, never a log line.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess  # noqa: S404 (a fixed executable with list arguments, no shell)
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from monitoring.collectors import (
    Collected,
    CollectorError,
    ConfigField,
    Probe,
    Progress,
    RawOutput,
    ocsf,
)
from monitoring.specs import clean_check, clean_results
from soc2app.errors import ValidationFailed

if TYPE_CHECKING:
    from monitoring.models import Connection

# Prowler's services that its SOC 2 mapping names checks of (Prowler's own service names).
SERVICES = (
    "acm", "apigateway", "apigatewayv2", "appsync", "athena", "awslambda", "backup", "bedrock",
    "cloudfront", "cloudtrail", "cloudwatch", "codebuild", "config", "datasync", "dms",
    "dynamodb", "ec2", "ecs", "efs", "elasticache", "elasticbeanstalk", "elb", "elbv2", "glue",
    "guardduty", "iam", "kafka", "kinesis", "kms", "mq", "neptune", "networkfirewall",
    "opensearch", "rds", "redshift", "route53", "s3", "securityhub", "sns", "ssm",
    "stepfunctions", "transfer", "vpc", "waf", "wafv2",
)  # fmt: skip
DEFAULT_SERVICES = (
    "iam", "s3", "cloudtrail", "ec2", "vpc", "cloudwatch", "kms", "rds", "guardduty", "config",
)  # fmt: skip
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
# Prowler exits 3 when some check failed: a finished scan.
OK_EXIT_CODES = (0, 3)
PROBE_TIMEOUT = 60
# What the child inherits of the worker's environment: a path and a locale, nothing else
# (with a role to assume, also the worker's own AWS identity: ``_AMBIENT_AWS``).
_INHERITED = ("PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
_AMBIENT_AWS = (
    "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
)  # fmt: skip

CREDENTIALS_HELP = (
    'JSON: {"access_key_id": "AKIA...", "secret_access_key": "...", "session_token": "..."} '
    "(session_token only for temporary keys), or "
    '{"role_arn": "arn:aws:iam::123456789012:role/ProwlerAudit"} to assume a role with the '
    "worker's own AWS identity. Give read-only access (AWS's SecurityAudit and ViewOnlyAccess "
    "policies)."
)


@dataclass(frozen=True)
class AwsCredentials:
    env: dict[str, str] = field(repr=False)  # for the child's environment
    role_arn: str = ""
    secrets: tuple[str, ...] = field(default=(), repr=False)  # never shown, even in errors


def aws_credentials(connection: Connection) -> AwsCredentials:
    raw = connection.credentials.reveal() if connection.credentials else ""
    try:
        data = json.loads(raw) if raw.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise CollectorError(
            "The credentials are not JSON with access_key_id and secret_access_key, or role_arn."
        )
    if data.get("role_arn"):
        arn = str(data["role_arn"]).strip()
        if not arn.startswith("arn:aws") or ":role/" not in arn or len(arn) > 2048:
            raise CollectorError(
                "role_arn is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
            )
        env = {k: os.environ[k] for k in _AMBIENT_AWS if os.environ.get(k)}
        return AwsCredentials(env=env, role_arn=arn)
    key, secret = data.get("access_key_id"), data.get("secret_access_key")
    token = data.get("session_token") or ""
    if not (isinstance(key, str) and key.strip() and isinstance(secret, str) and secret.strip()):
        raise CollectorError(
            "The credentials need access_key_id and secret_access_key (or role_arn)."
        )
    if not isinstance(token, str):
        raise CollectorError("session_token must be text.")
    env = {"AWS_ACCESS_KEY_ID": key.strip(), "AWS_SECRET_ACCESS_KEY": secret.strip()}
    if token.strip():
        env["AWS_SESSION_TOKEN"] = token.strip()
    return AwsCredentials(env=env, secrets=tuple(env.values()))


def child_env(credentials: AwsCredentials, home: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env.update(credentials.env)
    env.update({"HOME": home, "AWS_DEFAULT_REGION": "us-east-1", "PYTHONUNBUFFERED": "1"})
    if settings.MONITORING_AWS_ENDPOINT_URL:
        env["AWS_ENDPOINT_URL"] = settings.MONITORING_AWS_ENDPOINT_URL
    return env


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def prowler_bin() -> Path:
    path = Path(settings.PROWLER_BIN)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise CollectorError(
            f"Prowler is not installed at {path}: run scripts/prowler-env.sh on the worker "
            "(or set PROWLER_BIN)."
        )
    return path


def prowler_python(binary: Path) -> Path:
    """The interpreter of Prowler's own environment (the script's ``#!`` line)."""
    try:
        with binary.open("rb") as f:
            first = f.readline(500).decode(errors="replace")
    except OSError:
        first = ""
    python = Path(first[2:].strip()) if first.startswith("#!") else None
    if python is None or not python.is_absolute() or not python.exists():
        raise CollectorError(f"{binary} is not the Prowler installed by scripts/prowler-env.sh.")
    return python


_FIND_MAPPING = (
    "import importlib.util, pathlib; s = importlib.util.find_spec('prowler'); "
    "print(pathlib.Path(s.origin).parent / 'compliance' / 'aws' / 'soc2_aws.json')"
)


@lru_cache(maxsize=4)
def _soc2_mapping_at(binary: str, mtime: float) -> dict[str, tuple[str, ...]]:
    python = prowler_python(Path(binary))
    try:
        found = subprocess.run(  # noqa: S603
            [str(python), "-c", _FIND_MAPPING], capture_output=True, text=True, timeout=60, env={}
        )
    except (OSError, subprocess.TimeoutExpired):
        found = None
    path = Path(found.stdout.strip()) if found and found.returncode == 0 else None
    if path is None or not path.is_file():
        raise CollectorError("Prowler's SOC 2 mapping (compliance/aws/soc2_aws.json) is missing.")
    return ocsf.soc2_mapping(path)


def soc2_mapping() -> dict[str, tuple[str, ...]]:
    """Check id -> criteria, from the SOC 2 file of the Prowler that runs (read once per
    install)."""
    binary = prowler_bin()
    return _soc2_mapping_at(str(binary), binary.stat().st_mtime)


def _config_list(connection: Connection, name: str, default: tuple[str, ...]) -> list[str]:
    value = (connection.config or {}).get(name) or list(default)
    if isinstance(value, str):
        value = value.split()
    return [str(v).strip() for v in value if str(v).strip()]


def prowler_command(binary: Path, connection: Connection, creds: AwsCredentials, out: str):
    regions = _config_list(connection, "regions", ("us-east-1",))
    bad = [r for r in regions if not REGION.fullmatch(r)]
    if bad:
        raise CollectorError(f"Not an AWS region: {bad[0][:40]!r} (e.g. us-east-1).")
    services = _config_list(connection, "services", DEFAULT_SERVICES)
    unknown = sorted(set(services) - set(SERVICES))
    if unknown:
        raise CollectorError(f"Prowler services not offered here: {', '.join(unknown)[:200]}.")
    command = [str(binary), "aws", "--region", *regions, "--service", *services]
    if creds.role_arn:
        command += ["--role", creds.role_arn]
    return command + [
        "--output-formats", "json-ocsf", "--output-directory", out,
        "--output-filename", "prowler", "--no-banner", "--no-color", "--log-level", "ERROR",
    ]  # fmt: skip


def _reader(stream, lines: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


def run_prowler(command: list[str], env: dict[str, str], progress: Progress, secrets) -> None:
    """Run Prowler, relaying its latest line as progress; stop it at the time limit."""
    timeout = settings.PROWLER_TIMEOUT_SECONDS
    try:
        process = subprocess.Popen(  # noqa: S603
            command, env=env, cwd=env["HOME"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        raise CollectorError(
            f"Prowler could not start: {exc.strerror or type(exc).__name__}."
        ) from None
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    deadline, last_told, tail = time.monotonic() + timeout, 0.0, []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CollectorError(f"Prowler did not finish within {timeout} s; it was stopped.")
            try:
                line = lines.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if line is None:
                break
            text = redact(" ".join(line.split()), secrets)[:150]
            if text:
                tail = [*tail[-4:], text]
                if time.monotonic() - last_told > 2:
                    progress(f"Prowler: {text}")
                    last_told = time.monotonic()
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise CollectorError(
            f"Prowler did not finish within {timeout} s; it was stopped."
        ) from None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if code not in OK_EXIT_CODES:
        said = f": {tail[-1]}" if tail else " without a word"
        raise CollectorError(f"Prowler stopped with exit code {code}{said}"[:400])


def read_output(folder: Path, mapping: Callable[[], dict[str, tuple[str, ...]]]) -> Collected:
    """Prowler's JSON-OCSF file in ``folder``, parsed, with criteria from ``mapping()`` (read
    once the output is known to be good)."""
    files = sorted(folder.rglob("*.ocsf.json"))
    if not files:
        raise CollectorError("Prowler finished without writing its JSON-OCSF output.")
    path = files[0]
    size = path.stat().st_size
    limit = settings.PROWLER_MAX_OUTPUT_BYTES
    if size > limit:
        raise CollectorError(
            f"Prowler's output is {size / 2**20:.0f} MB, over the {limit / 2**20:.0f} MB limit "
            "(PROWLER_MAX_OUTPUT_MB)."
        )
    with path.open("rb") as f:
        batch = ocsf.parse(f, {})
    criteria = mapping()
    try:
        cleaned = [
            (
                clean_check(replace(check, criteria=criteria.get(check.key, ()))),
                clean_results(results, limit=None),
            )
            for check, results in batch
        ]
    except ValidationFailed as exc:
        raise CollectorError(f"Prowler's output holds a value the app refuses: {exc}") from None
    return Collected(
        batch=cleaned,
        output=RawOutput(content=path.read_bytes(), name="prowler-output.ocsf.json"),
    )


_IDENTITY = """
import json, os, boto3
from botocore.exceptions import BotoCoreError, ClientError
try:
    sts = boto3.client("sts", region_name="us-east-1")
    role = os.environ.get("PROBE_ROLE_ARN")
    if role:
        c = sts.assume_role(RoleArn=role, RoleSessionName="soc2app-probe")["Credentials"]
        sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    me = sts.get_caller_identity()
    print(json.dumps({"account": me["Account"], "arn": me["Arn"]}))
except ClientError as e:
    err = e.response.get("Error", {})
    print(json.dumps({"error": err.get("Code", "error"), "message": err.get("Message", "")}))
except BotoCoreError as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e), "unreachable": True}))
"""


class ProwlerCollector:
    config_fields = (
        ConfigField(
            "regions", "Regions", help="AWS regions to scan, e.g. us-east-1 (one per line).",
            many=True, required=True, default=("us-east-1",),
        ),
        ConfigField(
            "services", "Services", help="Prowler's services to check (IAM and S3 are global).",
            many=True, choices=SERVICES, default=DEFAULT_SERVICES,
        ),
    )  # fmt: skip
    credentials_help = CREDENTIALS_HELP

    def probe(self, connection: Connection) -> Probe:
        try:
            creds = aws_credentials(connection)
            python = prowler_python(prowler_bin())
        except CollectorError as exc:
            return Probe(ok=False, message=str(exc))
        with tempfile.TemporaryDirectory(prefix="prowler-probe-") as home:
            env = child_env(creds, home)
            if creds.role_arn:
                env["PROBE_ROLE_ARN"] = creds.role_arn
            try:
                done = subprocess.run(  # noqa: S603
                    [str(python), "-c", _IDENTITY], env=env, cwd=home, capture_output=True,
                    text=True, errors="replace", timeout=PROBE_TIMEOUT,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                return Probe(ok=False, message=f"AWS did not answer within {PROBE_TIMEOUT} s.")
            except OSError:
                return Probe(ok=False, message="Prowler's Python could not start.")
        try:
            answer = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return Probe(ok=False, message="The identity check failed without an answer.")
        if "error" in answer:
            said = redact(f"{answer['error']}: {answer.get('message', '')}", creds.secrets)[:300]
            if answer.get("unreachable"):
                return Probe(ok=False, message=f"AWS could not be asked who these are ({said}).")
            return Probe(ok=False, message=f"AWS refused the credentials ({said}).")
        return Probe(
            ok=True,
            message=f"Connected to AWS account {answer['account']} as {answer['arn']}.",
        )

    def collect(self, connection: Connection, progress: Progress) -> Collected:
        binary = prowler_bin()
        creds = aws_credentials(connection)
        with tempfile.TemporaryDirectory(prefix="prowler-run-") as work:
            out = Path(work) / "output"
            command = prowler_command(binary, connection, creds, str(out))
            progress("Starting Prowler")
            run_prowler(command, child_env(creds, work), progress, creds.secrets)
            progress("Reading Prowler's output")
            return read_output(out, soc2_mapping)
