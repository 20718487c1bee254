"""The readiness of an audit as OSCAL assessment results (JSON), for GRC tools and auditors'
pipelines.

- One result for the audit: its period (the as-of date for Type 1, the window for Type 2),
  the criteria in scope as the reviewed controls (ids as in our OSCAL catalog, ``cc6.1``).
- One finding per criterion in scope: ``satisfied`` when the readiness engine says met (or not
  applicable), ``not-satisfied`` otherwise, with the engine's status and reasons, the mapped
  controls and their owners as properties.
- Type 2: one risk per exception (a control without evidence in a sub-period, or a recorded
  deviation): the control, period and owner as properties, and the management response as a
  remediation (completed once its date has passed, planned before).
- One observation per control with evidence: each version as relevant evidence (name, version,
  effective period, valid until, SHA-256, review state and reviewer), linked from the findings of the
  criteria the control is mapped to.

UUIDs are derived from the report's data (version 5), so the same data gives the same file.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from controls.readiness import Status
from criteria.oscal import NAMESPACE, OSCAL_VERSION, oscal_id
from reports.content import EvidenceRow, ReportContent

_UUID_NS = uuid.UUID("0b8e3d7a-5d0c-4c4e-9a51-8c3f6f1e2a77")


def _uuid(content: ReportContent, *parts: object) -> str:
    key = ":".join(str(p) for p in (content.audit.organization_id, content.audit.pk, *parts))
    return str(uuid.uuid5(_UUID_NS, key))


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NAMESPACE, "value": str(value) if str(value) else "-"}


def _moment(day: dt.date, end: bool = False) -> str:
    when = dt.datetime.combine(day, dt.time.max if end else dt.time.min, tzinfo=dt.UTC)
    return when.replace(microsecond=0).isoformat()


def _evidence(row: EvidenceRow) -> dict[str, Any]:
    return {
        "description": f"{row.item}: {row.name} (version {row.version})",
        "props": [
            _prop("evidence-kind", row.kind),
            _prop("version", row.version),
            _prop("effective-start", row.effective_start.isoformat()),
            _prop("effective-end", row.effective_end.isoformat()),
            _prop("valid-until", row.valid_until.isoformat()),
            _prop("sha256", row.sha256),
            _prop("review-state", row.review_state),
            _prop("reviewed-by", row.reviewed_by),
        ],
    }


def assessment_results(content: ReportContent) -> dict[str, Any]:
    audit = content.audit
    if audit.is_type2:
        start, end = _moment(audit.window_start), _moment(audit.window_end, end=True)
    else:
        start = end = _moment(audit.as_of_date)
    by_control: dict[str, list[EvidenceRow]] = defaultdict(list)
    for row in content.evidence:
        by_control[row.control].append(row)
    observations, observed = [], {}
    for code, rows in by_control.items():
        observed[code] = _uuid(content, "observation", code)
        observations.append(
            {
                "uuid": observed[code],
                "title": f"Evidence of control {code}",
                "description": f"{len(rows)} evidence version(s) attached to control {code}.",
                "methods": ["EXAMINE"],
                "collected": content.data_as_of.astimezone(dt.UTC).isoformat(),
                "relevant-evidence": [_evidence(row) for row in rows],
            }
        )
    findings = []
    for item in content.readiness.criteria:
        criterion = item.criterion
        codes = [c.control.code for c in item.controls]
        finding: dict[str, Any] = {
            "uuid": _uuid(content, "finding", criterion.ref),
            "title": f"{criterion.ref} {criterion.title}",
            "description": "; ".join(item.reasons) or f"Readiness: {item.status}.",
            "props": [
                _prop("readiness-status", item.status),
                _prop("controls", ", ".join(codes)),
                _prop("owners", ", ".join(item.owners)),
            ],
            "target": {
                "type": "objective-id",
                "target-id": oscal_id(criterion.ref),
                "status": {
                    "state": "satisfied"
                    if item.status in (Status.MET, Status.NOT_APPLICABLE)
                    else "not-satisfied",
                    "reason": str(item.status),
                },
            },
        }
        related = [{"observation-uuid": observed[c]} for c in codes if c in observed]
        if related:
            finding["related-observations"] = related
        findings.append(finding)
    result: dict[str, Any] = {
        "uuid": _uuid(content, "result"),
        "title": f"Readiness of {audit.name}",
        "description": (
            f"{audit.get_audit_type_display()} readiness of {content.audit.organization.name}, "
            f"computed from the organization's controls, self-assessment and evidence."
        ),
        "start": start,
        "end": end,
        "props": [
            _prop("audit-type", audit.audit_type),
            _prop("readiness-score", content.readiness.score),
            _prop("categories", ", ".join(c.key for c in content.categories)),
            _prop("systems", ", ".join(s.name for s in content.systems)),
        ],
        "reviewed-controls": {
            "control-selections": [
                {
                    "include-controls": [
                        {"control-id": oscal_id(c.criterion.ref)}
                        for c in content.readiness.criteria
                    ]
                }
            ]
        },
        "findings": findings,
    }
    if observations:
        result["observations"] = observations
    risks = [_risk(content, x) for x in content.exceptions]
    if risks:
        result["risks"] = risks
    return {
        "assessment-results": {
            "uuid": _uuid(content, "assessment-results", content.data_as_of.isoformat()),
            "metadata": {
                "title": f"{content.audit.organization.name}: {audit.name} readiness",
                "last-modified": content.generated_at.astimezone(dt.UTC).isoformat(),
                "version": content.catalog_version,
                "oscal-version": OSCAL_VERSION,
            },
            # No assessment plan is kept: a fragment reference, as OSCAL requires one.
            "import-ap": {"href": "#assessment-plan"},
            "results": [result],
        }
    }


def _risk(content: ReportContent, row: dict) -> dict[str, Any]:
    """An exception as an OSCAL risk, the deviation's management response as a remediation."""
    code, start, end = row["control"].code, row["start"], row["end"]
    deviation = row["deviation"]
    today = content.generated_at.date()
    done = bool(deviation and deviation.remediation_date and deviation.remediation_date <= today)
    risk: dict[str, Any] = {
        "uuid": _uuid(content, "risk", code, start.isoformat(), row["kind"]),
        "title": f"Exception: {code}, {start:%d %b %Y} – {end:%d %b %Y}",
        "description": row["detail"],
        "statement": deviation.what_happened if deviation else row["detail"],
        "props": [
            _prop("control", code),
            _prop("period-start", start.isoformat()),
            _prop("period-end", end.isoformat()),
            _prop("exception-kind", row["kind"]),
            _prop("owner", row["owner"]),
        ],
        "status": "closed" if done else ("remediating" if deviation else "open"),
    }
    if deviation:
        risk["remediations"] = [
            {
                "uuid": _uuid(content, "remediation", deviation.pk),
                "lifecycle": "completed" if done else "planned",
                "title": "Management response",
                "description": f"Cause: {deviation.cause} Remediation: {deviation.remediation}",
                "props": [
                    _prop(
                        "remediation-date",
                        deviation.remediation_date.isoformat()
                        if deviation.remediation_date
                        else "",
                    )
                ],
            }
        ]
    return risk


def write(content: ReportContent, out: Path) -> None:
    out.write_text(json.dumps(assessment_results(content), indent=1), encoding="utf-8")
