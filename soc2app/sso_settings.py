"""Single sign-on (``sso/``): allauth's social accounts with the OpenID Connect and SAML
providers, configured per organization in the database (never in ``SocialApp``). Every
variable is documented in README.md."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from soc2app.deployment import PRODUCTION
from soc2app.env import env_int, env_str

SOCIALACCOUNT_ADAPTER = "sso.adapter.SsoSocialAccountAdapter"
# ``sso.signin`` matches the person to a membership itself: allauth never signs anyone up nor
# links by e-mail on its own.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("SSO_HTTP_TIMEOUT", 10, minimum=1)
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
# Starts of single sign-on by e-mail address (``sso.signin_limits``), per ten minutes: from one
# client address (a whole office behind one NAT shares it) and for one typed address.
SSO_SIGNIN_RATE_PER_IP = env_int("SSO_SIGNIN_RATE_PER_IP", 100, minimum=1)
SSO_SIGNIN_RATE_PER_ADDRESS = env_int("SSO_SIGNIN_RATE_PER_ADDRESS", 10, minimum=1)
# Domain verification (``sso.domains``): the DNS server to ask (host or host:port; empty: the
# system's resolvers) and how the well-known file is fetched (tests point both at local servers).
SSO_DNS_NAMESERVER = env_str("SSO_DNS_NAMESERVER", "").strip()
SSO_VERIFY_FILE_SCHEME = env_str("SSO_VERIFY_FILE_SCHEME", "https").strip()
SSO_VERIFY_FILE_PORT = env_int("SSO_VERIFY_FILE_PORT", 0, minimum=0)
if SSO_VERIFY_FILE_SCHEME not in ("https", "http"):
    raise ImproperlyConfigured("SSO_VERIFY_FILE_SCHEME must be https (or http, for tests)")
# Tests only: connect to this host instead of resolving the domain (the request still names
# the domain in its Host header). Empty in production.
SSO_VERIFY_FILE_HOST = env_str("SSO_VERIFY_FILE_HOST", "").strip()
# Both are test hooks that point the check at a local server: refused in production.
if PRODUCTION and (SSO_VERIFY_FILE_HOST or SSO_VERIFY_FILE_SCHEME != "https"):
    raise ImproperlyConfigured(
        "SSO_VERIFY_FILE_HOST must be empty and SSO_VERIFY_FILE_SCHEME https when "
        "APP_ENV=production"
    )
