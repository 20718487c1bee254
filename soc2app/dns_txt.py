"""Proving control of a domain by a DNS TXT record: the one lookup both single sign-on's
e-mail domains (``sso.domains``) and the trust center's custom domains (``trust.domains``)
use. It asks ``SSO_DNS_NAMESERVER`` (``host[:port]``) when set (tests run a local DNS
server), else the system's resolvers."""

from __future__ import annotations

import dns.exception
import dns.resolver
from django.conf import settings

TIMEOUT = 5


class TxtMissing(Exception):
    """The record was not found; the message says why and what to do."""


def _resolver() -> dns.resolver.Resolver:
    server = settings.SSO_DNS_NAMESERVER
    if not server:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    host, _, port = server.partition(":")
    resolver.nameservers = [host]
    resolver.port = int(port or 53)
    return resolver


def require_txt(name: str, wanted: str) -> None:
    """Passes when a TXT record of ``name`` is exactly ``wanted``; raises ``TxtMissing``."""
    try:
        answer = _resolver().resolve(name, "TXT", lifetime=TIMEOUT)
    except dns.resolver.NXDOMAIN as exc:
        raise TxtMissing(f"DNS: {name} does not exist.") from exc
    except (dns.resolver.NoAnswer, dns.resolver.NoNameservers) as exc:
        raise TxtMissing(f"DNS: {name} has no TXT record yet.") from exc
    except dns.exception.DNSException as exc:
        raise TxtMissing(f"DNS: no answer for {name} ({type(exc).__name__}).") from exc
    for record in answer:
        if b"".join(record.strings).decode("utf-8", "replace").strip() == wanted:
            return
    raise TxtMissing(
        f"DNS: {name} has TXT records, but none is {wanted!r} "
        "(new records can take a while to appear)."
    )


def addresses(host: str) -> list[str]:
    """``host``'s A and AAAA addresses from the same resolver (single sign-on's file check
    resolves the domain where the TXT check asks); ``OSError`` when there is none or no
    answer."""
    found: list[str] = []
    for kind in ("A", "AAAA"):
        try:
            found += [r.to_text() for r in _resolver().resolve(host, kind, lifetime=TIMEOUT)]
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
        except dns.exception.DNSException as exc:
            raise OSError(type(exc).__name__) from exc
    if not found:
        raise OSError("no address")
    return found
