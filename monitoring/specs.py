"""What one push of test results may hold, and its validation: a check (key, title, severity,
criteria and control codes) and per resource pass, fail or error with small JSON details. Every
source (the API's push, later the Prowler and GitHub collectors) hands ``results_ingest`` these
values after ``clean_check``/``clean_results``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from monitoring.models import ResultStatus, Severity
from soc2app.errors import ValidationFailed

MAX_RESULTS = 1000  # per check in one push
MAX_DETAILS_BYTES = 8192  # one result's details, as JSON
MAX_MAPPINGS = 50  # criteria or control codes per check


@dataclass(frozen=True)
class CheckSpec:
    key: str
    title: str
    severity: str = Severity.MEDIUM
    criteria: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResultSpec:
    resource: str
    status: str
    resource_name: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _text(value: Any, what: str, limit: int, *, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise ValidationFailed(f"Give the {what}.", field=what)
    if len(text) > limit or "\x00" in text:
        raise ValidationFailed(f"Keep the {what} under {limit} characters.", field=what)
    return text


def clean_check(spec: CheckSpec) -> CheckSpec:
    if spec.severity not in Severity.values:
        raise ValidationFailed(
            f"Severity is one of {', '.join(Severity.values)}.", field="severity"
        )
    if len(spec.criteria) > MAX_MAPPINGS or len(spec.controls) > MAX_MAPPINGS:
        raise ValidationFailed(f"Map a check to at most {MAX_MAPPINGS} criteria and controls.")
    return CheckSpec(
        key=_text(spec.key, "key", 200),
        title=_text(spec.title, "title", 200),
        severity=spec.severity,
        criteria=tuple(dict.fromkeys(_text(r, "criteria", 12) for r in spec.criteria)),
        controls=tuple(dict.fromkeys(_text(c, "controls", 20) for c in spec.controls)),
    )


def _clean_details(details: Any) -> dict[str, Any]:
    """Plain JSON PostgreSQL's jsonb takes (no NaN, NUL or lone surrogates), small."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise ValidationFailed("A result's details are a JSON object.", field="results")
    try:
        raw = json.dumps(details, ensure_ascii=False, allow_nan=False).encode()
    except (ValueError, TypeError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        raise ValidationFailed(
            "A result's details must be plain JSON (no NaN, not nested deeply).", field="results"
        ) from exc
    if b"\x00" in raw or b"\\u0000" in raw:
        raise ValidationFailed("A result's details cannot hold NUL characters.", field="results")
    if len(raw) > MAX_DETAILS_BYTES:
        raise ValidationFailed(
            f"Keep each result's details under {MAX_DETAILS_BYTES} bytes.", field="results"
        )
    return details


def clean_results(
    results: Sequence[ResultSpec], *, limit: int | None = MAX_RESULTS
) -> list[ResultSpec]:
    """``limit``: results per check (a push's cap; a collector's own run passes ``None``)."""
    if not results:
        raise ValidationFailed("Send at least one result.", field="results")
    if limit is not None and len(results) > limit:
        raise ValidationFailed(
            f"Send at most {limit} results per check in one push.", field="results"
        )
    cleaned, seen = [], set()
    for result in results:
        resource = _text(result.resource, "resource", 500)
        if resource in seen:
            raise ValidationFailed(
                f"Resource {resource[:80]!r} is listed twice: send one result per resource.",
                field="results",
            )
        seen.add(resource)
        if result.status not in ResultStatus.values:
            raise ValidationFailed("A result's status is pass, fail or error.", field="results")
        details = _clean_details(result.details)
        cleaned.append(
            ResultSpec(
                resource=resource,
                status=result.status,
                resource_name=_text(result.resource_name, "resource_name", 200, required=False),
                details=details,
            )
        )
    return cleaned
