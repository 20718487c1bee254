"""Continuous monitoring in the auditor portal: the tests of the controls in a granted audit's
scope, and a test's findings during the audit's period and its latest results up to the
period's end. GET only; another audit's (or organization's) test is "not found"; nothing of a
connection but its name and kind is shown."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from monitoring import selectors_audit
from reports import selectors
from soc2app.errors import NotFound

MAX_RESULTS = 200
MAX_FINDINGS = 200


@require_GET
def portal_tests(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    scope = selectors.audit_scope_controls(audit).values("pk")
    checks = list(selectors_audit.audit_checks(audit, scope))
    controls = selectors_audit.audit_check_controls(audit, scope, checks)
    for check in checks:  # one query for the whole page
        check.scope_controls = controls[check.pk]
    start, end = selectors_audit.audit_period(audit)
    context = {"audit": audit, "checks": checks, "start": start, "end": end}
    return render(request, "reports/portal/tests.html", context)


@require_GET
def portal_test(request: HttpRequest, org_slug: str, audit_pk: str, pk: int) -> HttpResponse:
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    scope = selectors.audit_scope_controls(audit).values("pk")
    try:
        check = selectors_audit.audit_check_get(audit, scope, pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    start, end = selectors_audit.audit_period(audit)
    context = {
        "audit": audit,
        "check": check,
        "controls": selectors_audit.audit_check_controls(audit, scope, [check])[check.pk],
        "findings": list(selectors_audit.audit_check_findings(audit, check)[:MAX_FINDINGS]),
        "results": list(selectors_audit.audit_check_results(audit, check)[:MAX_RESULTS]),
        "start": start,
        "end": end,
    }
    return render(request, "reports/portal/test.html", context)
