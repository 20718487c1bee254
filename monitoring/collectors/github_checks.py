"""The GitHub collector's checks: what each one asks, how it maps to the Trust Services
Criteria, and how a repository's or the organization's answers become results.

Mapping (why these criteria):

* ``github.branch_protection``, ``github.required_reviews``, ``github.status_checks`` →
  **CC8.1**: changes are authorized, tested and approved before they reach production; a
  protected default branch that takes changes only through reviewed pull requests whose
  status checks (CI) passed is how a code host enforces it.
* ``github.org_two_factor`` → **CC6.1**: logical access is protected by authentication
  strong enough for the information; an organization that requires 2FA refuses members and
  outside collaborators who have none.
* ``github.outside_collaborators`` → **CC6.2** (access is granted to registered, authorized
  users) and **CC6.3** (access is removed when no longer needed): outside collaborators are
  people outside the organization's membership and its offboarding; each one is a finding to
  remove or justify.
* ``github.dependabot`` and ``github.secret_scanning`` → **CC7.1**: vulnerabilities and
  exposures are detected (vulnerable dependencies; credentials committed to code).

Per repository (resource: its full name), a result is ``pass`` or ``fail`` when GitHub said,
and ``error`` with the reason when the credentials could not see the setting (a 403 for lack
of permission): the check could not tell, and no finding changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from monitoring.collectors.github_api import GitHubAPI, Unexpected
from monitoring.models import ResultStatus, Severity
from monitoring.specs import CheckSpec, ResultSpec


def _check(name: str, title: str, severity: str, *criteria: str) -> CheckSpec:
    return CheckSpec(key=f"github.{name}", title=title, severity=severity, criteria=criteria)


BRANCH_PROTECTION = _check(
    "branch_protection",
    "Default branch is protected (branch protection rule or ruleset)",
    Severity.HIGH,
    "CC8.1",
)
REQUIRED_REVIEWS = _check(
    "required_reviews",
    "Changes to the default branch need at least one approving review",
    Severity.HIGH,
    "CC8.1",
)
STATUS_CHECKS = _check(
    "status_checks",
    "Changes to the default branch need passing status checks",
    Severity.MEDIUM,
    "CC8.1",
)
ORG_TWO_FACTOR = _check(
    "org_two_factor",
    "The GitHub organization requires two-factor authentication",
    Severity.HIGH,
    "CC6.1",
)
OUTSIDE_COLLABORATORS = _check(
    "outside_collaborators",
    "The GitHub organization has no outside collaborators",
    Severity.MEDIUM,
    "CC6.2",
    "CC6.3",
)
DEPENDABOT = _check("dependabot", "Dependabot alerts are enabled", Severity.MEDIUM, "CC7.1")
SECRET_SCANNING = _check("secret_scanning", "Secret scanning is enabled", Severity.MEDIUM, "CC7.1")
REPO_CHECKS = (BRANCH_PROTECTION, REQUIRED_REVIEWS, STATUS_CHECKS, DEPENDABOT, SECRET_SCANNING)
CHECKS = (*REPO_CHECKS[:3], ORG_TWO_FACTOR, OUTSIDE_COLLABORATORS, *REPO_CHECKS[3:])

# Ruleset rules that restrict how the branch changes (a "creation" rule alone does not).
PROTECTING_RULES = {
    "pull_request",
    "required_status_checks",
    "non_fast_forward",
    "deletion",
    "update",
    "merge_queue",
    "required_linear_history",
    "required_deployments",
    "required_signatures",
}
NO_ACCESS = (
    "the credentials cannot read this ({message}); a token needs Administration: read on the "
    "repository (classic: repo scope, as an admin of it)"
)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass
class Source:
    """What one endpoint said: ``state`` is "found", "none" or "unknown" (with ``reason``)."""

    state: str
    data: Any = None
    reason: str = ""


@dataclass
class RepoFacts:
    full_name: str
    default_branch: str
    private: bool
    protection: Source = field(default_factory=lambda: Source("unknown"))
    rules: Source = field(default_factory=lambda: Source("unknown"))
    alerts: Source = field(default_factory=lambda: Source("unknown"))
    security: Source = field(default_factory=lambda: Source("unknown"))

    def summary(self) -> dict[str, Any]:
        """What the raw output keeps of this repository."""
        return {
            "full_name": self.full_name,
            "default_branch": self.default_branch,
            "private": self.private,
            **{
                name: {"state": s.state, **({"data": s.data} if s.data is not None else {})}
                | ({"reason": s.reason} if s.reason else {})
                for name, s in (
                    ("branch_protection", self.protection),
                    ("rules", self.rules),
                    ("vulnerability_alerts", self.alerts),
                    ("security_and_analysis", self.security),
                )
            },
        }


def _protection(api: GitHubAPI, repo: str, branch: str) -> Source:
    answer = api.get(f"/repos/{repo}/branches/{quote(branch, safe='')}/protection")
    if answer.status == 200:
        data = answer.object()
        reviews = _obj(data.get("required_pull_request_reviews"))
        checks = _obj(data.get("required_status_checks"))
        contexts = list(checks.get("contexts") or []) + [
            _obj(c).get("context") for c in checks.get("checks") or []
        ]
        return Source(
            "found",
            {
                "required_approving_review_count": (
                    _int(reviews.get("required_approving_review_count")) if reviews else None
                ),
                "required_status_checks": sorted({str(c) for c in contexts if c})[:20],
                "enforce_admins": bool(_obj(data.get("enforce_admins")).get("enabled")),
                "allow_force_pushes": bool(_obj(data.get("allow_force_pushes")).get("enabled")),
            },
        )
    if answer.status == 404:
        return Source("none", reason=answer.message)  # "Branch not protected"
    if answer.status == 403 and "upgrade to github pro" in answer.message.lower():
        return Source("none", reason="branch protection is not available on this plan")
    return Source("unknown", reason=NO_ACCESS.format(message=answer.message))


def _rules(api: GitHubAPI, repo: str, branch: str) -> Source:
    try:
        rules = api.paginate(f"/repos/{repo}/rules/branches/{quote(branch, safe='')}", limit=500)
    except Unexpected as exc:
        if exc.response.status == 404:  # a GitHub Enterprise Server without rulesets
            return Source("none", reason=exc.response.message)
        return Source(
            "unknown", reason=f"the credentials cannot read rulesets ({exc.response.message})"
        )
    kept = [
        {
            "type": str(rule.get("type")),
            "ruleset_id": rule.get("ruleset_id"),
            "parameters": _obj(rule.get("parameters")),
        }
        for rule in rules
        if isinstance(rule, dict)
    ]
    return Source("found" if kept else "none", kept)


def _alerts(api: GitHubAPI, repo: str) -> Source:
    answer = api.get(f"/repos/{repo}/vulnerability-alerts")
    if answer.status == 204:
        return Source("found", True)
    if answer.status == 404:  # documented: "not enabled"
        return Source("none", False)
    return Source("unknown", reason=NO_ACCESS.format(message=answer.message))


def _security(api: GitHubAPI, repo: dict[str, Any]) -> Source:
    """``security_and_analysis`` of the list's entry, or of the repository itself (GitHub
    shows it to admins only)."""
    data = repo.get("security_and_analysis")
    if not isinstance(data, dict):
        answer = api.get(f"/repos/{repo['full_name']}")
        if answer.status != 200:
            return Source("unknown", reason=NO_ACCESS.format(message=answer.message))
        data = answer.object().get("security_and_analysis")
    if not isinstance(data, dict):
        return Source(
            "unknown",
            reason="GitHub did not show this repository's security settings (only admins see them)",
        )
    return Source(
        "found",
        {k: str(v.get("status") or "unknown") for k, v in data.items() if isinstance(v, dict)},
    )


def repo_facts(api: GitHubAPI, repo: dict[str, Any]) -> RepoFacts:
    full_name, branch = str(repo["full_name"]), str(repo.get("default_branch") or "main")
    facts = RepoFacts(full_name, branch, bool(repo.get("private")))
    facts.protection = _protection(api, full_name, branch)
    facts.rules = _rules(api, full_name, branch)
    facts.alerts = _alerts(api, full_name)
    facts.security = _security(api, repo)
    return facts


# ---- results --------------------------------------------------------------------------
def _result(facts: RepoFacts, status: str, **details: Any) -> ResultSpec:
    return ResultSpec(
        resource=facts.full_name,
        resource_name=facts.full_name[:200],
        status=status,
        details={"default_branch": facts.default_branch, **details},
    )


def _rule_types(facts: RepoFacts) -> list[str]:
    return sorted({r["type"] for r in facts.rules.data or []})


def _unknown(facts: RepoFacts) -> str:
    return "; ".join(s.reason for s in (facts.protection, facts.rules) if s.state == "unknown")


def branch_results(facts: RepoFacts) -> list[ResultSpec]:
    """The three change-management results of one repository, from its branch protection
    and the ruleset rules that apply to its default branch (either one is enough)."""
    classic = facts.protection.data if facts.protection.state == "found" else None
    rules = facts.rules.data or []
    by_ruleset = [r for r in rules if r["type"] in PROTECTING_RULES]
    unknown = _unknown(facts)
    out = []

    sources = (["branch protection"] if classic else []) + (["ruleset"] if by_ruleset else [])
    if sources:
        out.append(
            _result(facts, ResultStatus.PASS, protected_by=sources, rules=_rule_types(facts))
        )
    elif unknown:
        out.append(_result(facts, ResultStatus.ERROR, reason=unknown))
    else:
        out.append(
            _result(
                facts, ResultStatus.FAIL, found="no branch protection rule and no active ruleset"
            )
        )

    approvals = [_int(_obj(classic).get("required_approving_review_count"))] + [
        _int(r["parameters"].get("required_approving_review_count"))
        for r in rules
        if r["type"] == "pull_request"
    ]
    if max(approvals) >= 1:
        out.append(_result(facts, ResultStatus.PASS, required_approvals=max(approvals)))
    elif unknown:
        out.append(_result(facts, ResultStatus.ERROR, reason=unknown))
    else:
        out.append(_result(facts, ResultStatus.FAIL, required_approvals=0))

    contexts = set(_obj(classic).get("required_status_checks") or [])
    for rule in rules:
        if rule["type"] == "required_status_checks":
            for check in rule["parameters"].get("required_status_checks") or []:
                if _obj(check).get("context"):
                    contexts.add(str(check["context"]))
    if contexts:
        out.append(_result(facts, ResultStatus.PASS, required_checks=sorted(contexts)[:20]))
    elif unknown:
        out.append(_result(facts, ResultStatus.ERROR, reason=unknown))
    else:
        out.append(_result(facts, ResultStatus.FAIL, required_checks=[]))
    return out


def dependabot_result(facts: RepoFacts) -> ResultSpec:
    updates = (facts.security.data or {}).get("dependabot_security_updates") or "unknown"
    if facts.alerts.state == "unknown":
        return _result(facts, ResultStatus.ERROR, reason=facts.alerts.reason)
    status = ResultStatus.PASS if facts.alerts.data else ResultStatus.FAIL
    return _result(
        facts,
        status,
        alerts="enabled" if facts.alerts.data else "disabled",
        security_updates=updates,
    )


def secret_scanning_result(facts: RepoFacts) -> ResultSpec:
    if facts.security.state == "unknown":
        return _result(facts, ResultStatus.ERROR, reason=facts.security.reason)
    data = facts.security.data or {}
    status = data.get("secret_scanning") or "disabled"
    return _result(
        facts,
        ResultStatus.PASS if status == "enabled" else ResultStatus.FAIL,
        secret_scanning=status,
        push_protection=data.get("secret_scanning_push_protection") or "unknown",
    )


def repo_results(facts: RepoFacts) -> dict[str, ResultSpec]:
    """Check key -> this repository's result."""
    keys = [c.key for c in REPO_CHECKS]
    results = [*branch_results(facts), dependabot_result(facts), secret_scanning_result(facts)]
    return dict(zip(keys, results, strict=True))
