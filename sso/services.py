"""Single sign-on's writes: the connection (configure, test, enable), the policy (require it,
the break-glass owner, just-in-time members) and the e-mail domains. Owners only; each write
runs in one transaction with its activity-log entry; secrets never reach the log."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from soc2app.errors import NotFound, ValidationFailed
from sso import domains, idp_checks, lookups
from sso.activity import CONNECTION, log_event
from sso.models import ConnectionKind, SsoConnection, SsoDomain, VerificationMethod
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization, Role
from tenants.permissions import Action


def _locked_connection(org: Organization) -> SsoConnection | None:
    return SsoConnection.objects.for_org(org).select_for_update().first()


def _mirror_required(org: Organization, required: bool) -> None:
    """Keep ``Organization.sso_required`` (what the middleware reads with the membership, no
    query) equal to the connection's ``require_sso``, in the caller's transaction (under the
    connection's row lock). Written whatever ``org`` says: it was read before the lock, and
    another owner may have changed the requirement since."""
    Organization.objects.filter(pk=org.pk).update(sso_required=required)
    org.sso_required = required


def _log(membership: Membership, action: str, changes: dict[str, Any], **target: Any) -> None:
    activity_record(
        organization=membership.organization,
        actor=Actor.for_principal(membership),
        action=action,
        changes=changes,
        **(target or CONNECTION),
    )


def _save_configuration(
    membership: Membership, kind: str, fields: dict[str, Any], logged: dict[str, Any]
) -> SsoConnection:
    """A changed configuration must be tested again: it is saved untested and disabled (and
    no longer required), and the log says so."""
    org = membership.organization
    with transaction.atomic():
        connection = _locked_connection(org) or SsoConnection(organization=org, kind=kind)
        was_enabled = connection.enabled
        connection.kind = kind
        for name, value in fields.items():
            setattr(connection, name, value)
        connection.tested_at = None
        connection.tested_by_label = ""
        connection.enabled = False
        connection.require_sso = False
        connection.updated_at = timezone.now()
        connection.save()
        _mirror_required(org, False)
        _log(membership, "sso.configured", {"kind": kind, **logged, "disabled": was_enabled})
    return connection


def connection_configure_oidc(
    *, membership: Membership, issuer: str, client_id: str, client_secret: str
) -> SsoConnection:
    """OpenID Connect: the issuer's discovery document is read first (bad issuer: nothing
    saved). An empty secret keeps the stored one."""
    permissions.require(membership, Action.SSO_MANAGE)
    issuer, client_id = issuer.strip(), client_id.strip()
    if not issuer or not client_id:
        raise ValidationFailed("The issuer and the client id are required.", field="oidc_issuer")
    idp_checks.check_oidc_discovery(issuer)
    existing = SsoConnection.objects.for_org(membership.organization).first()
    has_secret = bool(existing and existing.oidc_client_secret)
    if not client_secret and not has_secret:
        raise ValidationFailed("The client secret is required.", field="oidc_client_secret")
    fields: dict[str, Any] = {"oidc_issuer": issuer, "oidc_client_id": client_id}
    if client_secret:
        fields["oidc_client_secret"] = client_secret
    logged = {"issuer": issuer, "client_id": client_id, "secret_changed": bool(client_secret)}
    return _save_configuration(membership, ConnectionKind.OIDC, fields, logged)


def connection_configure_saml(
    *, membership: Membership, metadata_url: str, metadata_xml: str
) -> SsoConnection:
    """SAML from the IdP's metadata (a URL, read now, or pasted XML); refused unless it names
    an entity id, a sign-in URL and a valid signing certificate."""
    permissions.require(membership, Action.SSO_MANAGE)
    metadata_url, metadata_xml = metadata_url.strip(), metadata_xml.strip()
    if bool(metadata_url) == bool(metadata_xml):
        raise ValidationFailed(
            "Give either the metadata URL or the metadata XML.", field="saml_metadata_url"
        )
    if metadata_url:
        xml = idp_checks.fetch_saml_metadata(metadata_url)
        idp = idp_checks.parse_saml_metadata(xml, field="saml_metadata_url")
    else:
        idp = idp_checks.parse_saml_metadata(metadata_xml, field="saml_metadata_xml")
    fields = {
        "saml_metadata_url": metadata_url,
        "saml_metadata_xml": metadata_xml,
        "saml_idp_entity_id": idp.entity_id,
        "saml_sso_url": idp.sso_url,
        "saml_x509cert": idp.x509cert,
    }
    logged = {"metadata_url": metadata_url, "idp_entity_id": idp.entity_id, "sso_url": idp.sso_url}
    return _save_configuration(membership, ConnectionKind.SAML, fields, logged)


def connection_record_test(*, request: HttpRequest, org: Organization, email: str) -> None:
    """A test sign-in came back valid: recorded (it did not sign anyone in)."""
    domain = email.rsplit("@", 1)[-1]
    verified = SsoDomain.objects.for_org(org).filter(domain=domain, verified_at__isnull=False)
    domain_ok = verified.exists()
    with transaction.atomic():
        connection = _locked_connection(org)
        if connection is None:
            return
        connection.tested_at = timezone.now()
        connection.tested_by_label = email[:200]
        connection.save(update_fields=["tested_at", "tested_by_label"])
        actor = (
            Actor.for_user(request.user)
            if request.user.is_authenticated
            else Actor.system("single sign-on")
        )
        log_event(org, actor, "sso.tested", {"email": email, "domain_verified": domain_ok})
    note = (
        "" if domain_ok else f" {domain} is not a verified domain yet: verify it before enabling."
    )
    messages.success(request, f"Test sign-in succeeded as {email}; nobody was signed in.{note}")


def connection_set_enabled(*, membership: Membership, enabled: bool) -> SsoConnection:
    permissions.require(membership, Action.SSO_MANAGE)
    org = membership.organization
    with transaction.atomic():
        connection = _locked_connection(org)
        if connection is None:
            raise NotFound("Configure single sign-on first.")
        if enabled:
            if connection.tested_at is None:
                raise ValidationFailed("Run a successful test sign-in before enabling.")
            if not SsoDomain.objects.for_org(org).filter(verified_at__isnull=False).exists():
                raise ValidationFailed("Verify at least one e-mail domain before enabling.")
        if connection.enabled == enabled:
            return connection
        connection.enabled = enabled
        if not enabled:
            connection.require_sso = False
            _mirror_required(org, False)
        connection.updated_at = timezone.now()
        connection.save()
        _log(membership, "sso.enabled" if enabled else "sso.disabled", {"enabled": enabled})
    return connection


def policy_set(
    *,
    membership: Membership,
    require_sso: bool,
    break_glass_id: int | None,
    allow_jit: bool,
) -> SsoConnection:
    """Requiring single sign-on needs it enabled and a break-glass owner who has an
    authenticator app (they keep password + TOTP, so nobody is locked out)."""
    permissions.require(membership, Action.SSO_MANAGE)
    org = membership.organization
    break_glass = None
    if break_glass_id is not None:
        break_glass = (
            Membership.objects.for_org(org)
            .select_related("user")
            .filter(pk=break_glass_id, role=Role.OWNER)
            .first()
        )
        if break_glass is None:
            raise ValidationFailed("The break-glass account must be an owner.", field="break_glass")
        if not Authenticator.objects.filter(
            user=break_glass.user, type=Authenticator.Type.TOTP
        ).exists():
            raise ValidationFailed(
                f"{break_glass.user.email} has no authenticator app: the break-glass owner "
                "keeps password sign-in only with two-factor authentication.",
                field="break_glass",
            )
    with transaction.atomic():
        connection = _locked_connection(org)
        if connection is None:
            raise NotFound("Configure single sign-on first.")
        if require_sso and not connection.enabled:
            raise ValidationFailed(
                "Enable single sign-on before requiring it.", field="require_sso"
            )
        if require_sso and break_glass is None:
            raise ValidationFailed(
                "Choose a break-glass owner before requiring single sign-on.", field="break_glass"
            )
        before = (connection.require_sso, connection.break_glass_id, connection.allow_jit)
        after = (require_sso, break_glass.pk if break_glass else None, allow_jit)
        if before == after:
            return connection
        connection.require_sso, connection.break_glass, connection.allow_jit = (
            require_sso,
            break_glass,
            allow_jit,
        )
        connection.updated_at = timezone.now()
        connection.save()
        # From the next request on (``sso.middleware``), not each member's next sign-in.
        _mirror_required(org, require_sso)
        names = ("require_sso", "break_glass", "allow_jit")
        changes = {n: [b, a] for n, b, a in zip(names, before, after, strict=True) if b != a}
        _log(membership, "sso.policy", changes)
    return connection


def domain_add(*, membership: Membership, domain: str) -> SsoDomain:
    permissions.require(membership, Action.SSO_MANAGE)
    org = membership.organization
    name = domains.normalize(domain)
    if name is None:
        raise ValidationFailed(f"{domain!r} is not a domain name.", field="domain")
    owner = lookups.organization_id_for_domain(name)
    if owner is not None and owner != org.pk:
        raise ValidationFailed(
            f"{name} is verified by another organization.", field="domain", code="taken"
        )
    if SsoDomain.objects.for_org(org).filter(domain=name).exists():
        raise ValidationFailed(f"{name} is already on the list.", field="domain")
    with transaction.atomic():
        row = SsoDomain.objects.for_org(org).create(
            organization=org, domain=name, token=domains.new_token()
        )
        _log(membership, "sso.domain_added", {"domain": name}, target=row)
    return row


def _domain(org: Organization, domain_id: int) -> SsoDomain:
    row = SsoDomain.objects.for_org(org).filter(pk=domain_id).first()
    if row is None:
        raise NotFound("No such domain.")
    return row


def domain_verify(*, membership: Membership, domain_id: int, method: str) -> SsoDomain:
    """Checks the DNS record or the file now; a failure is recorded on the row and raised.
    A verified domain whose daily re-check failed (``sso.recheck``) can be checked again: a
    pass resets its failures, a failure leaves it verified (the daily check decides)."""
    permissions.require(membership, Action.SSO_MANAGE)
    org = membership.organization
    row = _domain(org, domain_id)
    if method not in VerificationMethod.values:
        raise ValidationFailed("Choose DNS or file.", field="method")
    if row.verified and not row.check_failures:
        return row
    check = domains.check_dns if method == VerificationMethod.DNS else domains.check_file
    try:
        check(row.domain, row.token)
    except domains.CheckFailed as exc:
        SsoDomain.objects.for_org(org).filter(pk=row.pk).update(last_check_error=str(exc)[:300])
        _log(
            membership, "sso.domain_check_failed", {"method": method, "error": str(exc)}, target=row
        )
        raise ValidationFailed(str(exc), field="domain") from exc
    now = timezone.now()
    changes = {"method": method}
    if row.verified:
        changes["check_failures"] = [row.check_failures, 0]
    else:
        row.verified_at = now
    row.verified_method = method
    row.last_check_error = ""
    row.last_checked_at, row.check_failures = now, 0
    saved = ["verified_at", "verified_method", "last_check_error", "last_checked_at"]
    try:
        with transaction.atomic():
            row.save(update_fields=[*saved, "check_failures"])
            _log(membership, "sso.domain_verified", changes, target=row)
    except IntegrityError as exc:  # sso_domain_verified_once: another organization won
        raise ValidationFailed(
            f"{row.domain} is verified by another organization.", field="domain", code="taken"
        ) from exc
    return row


def domain_remove(*, membership: Membership, domain_id: int) -> None:
    """Removing the last verified domain disables single sign-on (nobody could use it)."""
    permissions.require(membership, Action.SSO_MANAGE)
    org = membership.organization
    with transaction.atomic():
        row = _domain(org, domain_id)
        _log(membership, "sso.domain_removed", {"domain": row.domain}, target=row)
        row.delete()
        connection_disable_without_domain(organization=org, actor=Actor.for_principal(membership))


def connection_disable_without_domain(*, organization: Organization, actor: Actor) -> bool:
    """In the caller's transaction: with no verified domain left (the last one removed, or
    unverified by the daily re-check, ``sso.recheck``), an enabled connection is disabled
    and no longer required (nobody could use it); whether it was."""
    org = organization
    if SsoDomain.objects.for_org(org).filter(verified_at__isnull=False).exists():
        return False
    connection = _locked_connection(org)
    if connection is None or not connection.enabled:
        return False
    connection.enabled = connection.require_sso = False
    connection.save(update_fields=["enabled", "require_sso"])
    _mirror_required(org, False)
    log_event(org, actor, "sso.disabled", {"enabled": False, "why": "no verified domain"})
    return True
