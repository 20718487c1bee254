"""Prowler's JSON-OCSF output, read into checks and results; and its SOC 2 mapping file.

Prowler writes one JSON array of OCSF *Detection Findings* (``prowler/lib/outputs/ocsf``), one
per check and resource. The array is read one finding at a time (``iter_findings``), so a big
file never becomes one big Python structure; the caller caps the file's size first.

Per finding: the check is ``metadata.event_code`` (Prowler's check id) with
``finding_info.title`` and the OCSF severity; the resource is ``resources[0].uid``. Status
(``status_code``): ``PASS`` -> pass, ``FAIL`` -> fail; ``MANUAL`` (Prowler cannot tell: a person
must look) and muted findings (Prowler's mutelist accepted them; OCSF status *Suppressed*) are
left out, as Prowler leaves them out of its own failures. A check that reports one resource
twice (a global resource seen from two regions) keeps its worst result.

Criteria come from Prowler's own ``compliance/aws/soc2_aws.json`` (``soc2_mapping``): its
requirement ``cc_6_1`` is "CC6.1" (the ref its name starts with: the file's ``cc_a_1_1`` is
named "A1.2 ..."). A check the mapping does not name has no criteria.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from monitoring.collectors import CollectorError
from monitoring.models import ResultStatus, Severity
from monitoring.specs import CheckSpec, ResultSpec

CHUNK = 1 << 20  # characters read at a time
MAX_FINDING_CHARS = 4 << 20  # one finding's JSON (Prowler's are a few KB)
TEXT_LIMIT = 1000  # characters kept of status_extended and risk

# OCSF severity_id -> ours (0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical,
# 6 Fatal, 99 Other).
_SEVERITY_IDS = {
    5: Severity.CRITICAL,
    6: Severity.CRITICAL,
    4: Severity.HIGH,
    3: Severity.MEDIUM,
}
_SEVERITY_NAMES = {
    "critical": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
}
_STATUS = {"PASS": ResultStatus.PASS, "FAIL": ResultStatus.FAIL}
_WORST = {ResultStatus.FAIL: 2, ResultStatus.ERROR: 1, ResultStatus.PASS: 0}
_REF_IN_NAME = re.compile(r"^(CC\d+\.\d+|A\d+\.\d+|C\d+\.\d+|PI\d+\.\d+|P\d+\.\d+)\b")
_REF_FROM_ID = re.compile(r"^(?:cc_)?(cc|a|c|pi|p)_(\d+)_(\d+)$")


class OutputError(CollectorError):
    """Prowler's output is not what it should be (truncated, not JSON, not findings)."""


def _ws_end(buf: str, pos: int) -> int:
    while pos < len(buf) and buf[pos] in " \t\r\n":
        pos += 1
    return pos


def iter_findings(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    """Yield each finding of an OCSF JSON array, reading ``stream`` a chunk at a time.

    An empty file is no findings (Prowler writes nothing when it found nothing). Raises
    ``OutputError`` when the file is not UTF-8, not a JSON array of objects, or ends early."""
    decode = codecs.getincrementaldecoder("utf-8")()
    decoder = json.JSONDecoder()
    buf, pos, eof = "", 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = stream.read(CHUNK)
        try:
            text = decode.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise OutputError("Prowler's output is not UTF-8 text.") from None
        buf, pos, eof = buf[pos:] + text, 0, not chunk
        return True

    def next_char() -> str:
        nonlocal pos
        while True:
            pos = _ws_end(buf, pos)
            if pos < len(buf):
                return buf[pos]
            if not more():
                return ""

    first = next_char()
    if first == "":
        return
    if first != "[":
        raise OutputError("Prowler's output is not JSON-OCSF (a JSON list of findings).")
    pos += 1
    index = 0
    if next_char() == "]":
        pos += 1
    else:
        while True:
            if next_char() == "":
                raise OutputError(f"Prowler's output ends early (after {index} findings).")
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError:
                    if len(buf) - pos > MAX_FINDING_CHARS:
                        raise OutputError(
                            f"Prowler's output is not JSON (finding {index + 1} is not valid "
                            "or too large)."
                        ) from None
                    if not more():
                        raise OutputError(
                            f"Prowler's output is truncated or not JSON (at finding {index + 1})."
                        ) from None
            if not isinstance(value, dict):
                raise OutputError("Prowler's output is not JSON-OCSF (a JSON list of findings).")
            pos = end
            index += 1
            yield value
            sep = next_char()
            pos += 1
            if sep == "]":
                break
            if sep != ",":
                raise OutputError(
                    f"Prowler's output is truncated or not JSON (after finding {index})."
                )
    if next_char() != "":
        raise OutputError("Prowler's output has text after its list of findings.")


def criterion_ref(requirement_id: str, name: str = "") -> str | None:
    """A requirement of Prowler's SOC 2 file as a criterion ref: its name's leading ref
    ("CC6.1 The entity..."), else its id read as one (``cc_6_1``, ``pi_1_2``)."""
    found = _REF_IN_NAME.match(name.strip())
    if found:
        return found.group(1)
    matched = _REF_FROM_ID.match(requirement_id.strip().lower())
    if matched:
        family, major, minor = matched.groups()
        return f"{family.upper()}{major}.{minor}"
    return None


def soc2_mapping(path: Path) -> dict[str, tuple[str, ...]]:
    """Prowler check id -> the criteria refs its SOC 2 file maps it to (file order)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        requirements = data["Requirements"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CollectorError(
            f"Prowler's SOC 2 mapping ({path.name}) cannot be read: {type(exc).__name__}."
        ) from None
    mapping: dict[str, dict[str, None]] = {}
    for requirement in requirements:
        if not isinstance(requirement, dict):
            continue
        ref = criterion_ref(str(requirement.get("Id", "")), str(requirement.get("Name", "")))
        if ref is None:
            continue
        for check in requirement.get("Checks") or ():
            mapping.setdefault(str(check), {})[ref] = None
    return {check: tuple(refs) for check, refs in mapping.items()}


def _severity(finding: dict[str, Any]) -> str:
    by_id = _SEVERITY_IDS.get(finding.get("severity_id"))  # type: ignore[arg-type]
    if by_id:
        return by_id
    return _SEVERITY_NAMES.get(str(finding.get("severity", "")).lower(), Severity.LOW)


def _is_muted(finding: dict[str, Any]) -> bool:
    return (
        finding.get("status_id") == 3
        or str(finding.get("status", "")).lower() == "suppressed"
        or finding.get("status_code") == "MUTED"
    )


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _result(finding: dict[str, Any], status: str) -> ResultSpec:
    resources = finding.get("resources")
    resource = resources[0] if isinstance(resources, list) and resources else {}
    if not isinstance(resource, dict):
        resource = {}
    info = finding.get("finding_info") if isinstance(finding.get("finding_info"), dict) else {}
    cloud = finding.get("cloud") if isinstance(finding.get("cloud"), dict) else {}
    uid = _text(resource.get("uid"), 500) or _text(info.get("uid"), 500)
    region = _text(resource.get("region"), 50) or _text(cloud.get("region"), 50)
    details = {
        "region": region,
        "status_extended": _text(finding.get("status_detail") or finding.get("message"), 1000),
        "risk": _text(finding.get("risk_details"), TEXT_LIMIT),
    }
    return ResultSpec(
        resource=uid or f"{region or 'global'}:unnamed",
        status=status,
        resource_name=_text(resource.get("name"), 200),
        details={k: v for k, v in details.items() if v},
    )


def parse(
    stream: IO[bytes], mapping: dict[str, tuple[str, ...]]
) -> list[tuple[CheckSpec, list[ResultSpec]]]:
    """Prowler's OCSF findings as checks (in first-seen order) with one result per resource."""
    checks: dict[str, CheckSpec] = {}
    results: dict[str, dict[str, ResultSpec]] = {}
    for finding in iter_findings(stream):
        metadata = finding.get("metadata") if isinstance(finding.get("metadata"), dict) else {}
        key = _text(metadata.get("event_code"), 200)
        if not key:
            raise OutputError("A finding in Prowler's output names no check (metadata.event_code).")
        status = _STATUS.get(str(finding.get("status_code", "")).upper())
        if key not in checks:
            info = finding.get("finding_info")
            title = _text(info.get("title"), 200) if isinstance(info, dict) else ""
            checks[key] = CheckSpec(
                key=key,
                title=title or key,
                severity=_severity(finding),
                criteria=mapping.get(key, ()),
            )
            results[key] = {}
        if status is None or _is_muted(finding):
            continue
        result = _result(finding, status)
        seen = results[key].get(result.resource)
        if seen is None or _WORST[result.status] > _WORST[seen.status]:
            results[key][result.resource] = result
    return [(checks[key], list(results[key].values())) for key in checks if results[key]]
