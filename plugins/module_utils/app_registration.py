# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app-registration guide (seeds/001) as checks of a Graph ``application`` object.

Each check is a dict in the report's ``ump_checks`` convention (docs/report.md):
``{name, status: pass|warn|fail|skip, observed, expected, fix}``; the fixes quote the guide's steps.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.ump365.upgrade.plugins.module_utils.timeparse import parse_time

MULTITENANT = "AzureADMultipleOrgs"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
PORTAL = "Entra admin center > App registrations > <the UMP sync app>"
FIX_AUDIENCE = (
    "%s > Authentication > Supported account types: select 'Accounts in any organizational directory "
    "(Any Azure AD directory - Multitenant)' (app-registration guide, steps 2 and 9)" % PORTAL
)
FIX_REDIRECT = (
    "%s > Authentication > Platform configurations > Web > Add URI %%s (guide, steps 4-6), then enter the same "
    "RedirectUrl in the Multitenant portal, Security > Auth Tokens (step 18)" % PORTAL
)
FIX_IMPLICIT = (
    "%s > Authentication > Implicit grant and hybrid flows: select 'Access tokens (used for implicit flows)' and "
    "'ID tokens (used for implicit and hybrid flows)' (guide, step 8)" % PORTAL
)
FIX_SECRET = (
    "%s > Certificates & secrets > New client secret, Expires: 24 months (guide, steps 15-16); paste its Value into "
    "the Multitenant portal, Security > Auth Tokens (step 18); then delete the old secret" % PORTAL
)
FIX_PERMISSIONS = (
    "%s > API permissions: add the Microsoft Graph permissions the guide's figures show and grant admin consent "
    "(guide, steps 11-12)" % PORTAL
)


def redirect_uri(fqdn):
    return "https://%s/authenticate/OAuth2Callback" % fqdn


def _check(name, status, observed, expected, fix=None):
    return {"name": name, "status": status, "observed": observed, "expected": expected, "fix": fix}


def _same_uri(a, b):
    """Scheme and host compare case-insensitively, the path exactly (Entra matches paths case-sensitively)."""

    def split(u):
        u = str(u).strip()
        parts = u.partition("://")
        host, slash, path = parts[2].partition("/")
        return parts[0].lower(), host.lower(), "/" + path.rstrip("/") if slash else ""

    return split(a) == split(b)


def evaluate(app, fqdn=None, warn_days=60, now=None):
    """The checks of one application object; ``now`` is an aware datetime (default: the current UTC time)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    checks = []

    audience = app.get("signInAudience")
    if audience == MULTITENANT:
        status = "pass"
    elif audience == "AzureADandPersonalMicrosoftAccount":
        status = "warn"  # multitenant too, but also personal accounts: not what the guide sets
    else:
        status = "fail"
    checks.append(
        _check(
            "app_registration_multitenant", status, audience, MULTITENANT, None if status == "pass" else FIX_AUDIENCE
        )
    )

    web = app.get("web") or {}
    uris = list(web.get("redirectUris") or [])
    if not fqdn:
        checks.append(
            _check(
                "app_registration_redirect_uri",
                "skip",
                uris,
                "https://<UMP FQDN>/authenticate/OAuth2Callback",
                "give fqdn (the UMP server's FQDN) to check the redirect URI",
            )
        )
    else:
        wanted = redirect_uri(fqdn)
        ok = any(_same_uri(u, wanted) for u in uris)
        checks.append(
            _check(
                "app_registration_redirect_uri",
                "pass" if ok else "fail",
                uris,
                wanted,
                None if ok else FIX_REDIRECT % wanted,
            )
        )

    grant = web.get("implicitGrantSettings") or {}
    access, id_tokens = bool(grant.get("enableAccessTokenIssuance")), bool(grant.get("enableIdTokenIssuance"))
    ok = access and id_tokens
    checks.append(
        _check(
            "app_registration_implicit_grant",
            "pass" if ok else "fail",
            "access tokens: %s, ID tokens: %s" % ("on" if access else "off", "on" if id_tokens else "off"),
            "access tokens: on, ID tokens: on",
            None if ok else FIX_IMPLICIT,
        )
    )

    graph_perms = [
        p
        for r in app.get("requiredResourceAccess") or []
        if str(r.get("resourceAppId", "")).lower() == GRAPH_APP_ID
        for p in r.get("resourceAccess") or []
    ]
    checks.append(
        _check(
            "app_registration_api_permissions",
            "pass" if graph_perms else "fail",
            "%d Microsoft Graph permission(s) configured" % len(graph_perms),
            "Microsoft Graph permissions configured (admin consent is not visible on the application object)",
            None if graph_perms else FIX_PERMISSIONS,
        )
    )

    creds = []
    for c in app.get("passwordCredentials") or []:
        end = parse_time(c.get("endDateTime")) if isinstance(c, dict) else None
        if end is not None:
            creds.append((end, c))
    expected = "a client secret valid more than %d days" % warn_days
    if not creds:
        checks.append(_check("app_registration_client_secret_expiry", "fail", "no client secret", expected, FIX_SECRET))
    else:
        end, cred = max(creds, key=lambda x: x[0])
        days = (end - now).total_seconds() / 86400.0
        when = end.strftime("%Y-%m-%dT%H:%M:%SZ")
        label = cred.get("displayName") or cred.get("keyId")
        if days <= 0:
            status, observed = "fail", "secret %r expired on %s (%d days ago)" % (label, when, int(-days))
        elif days < warn_days:
            status, observed = "warn", "secret %r expires on %s (in %d days)" % (label, when, int(days))
        else:
            status, observed = "pass", "secret %r expires on %s (in %d days)" % (label, when, int(days))
        checks.append(
            _check(
                "app_registration_client_secret_expiry",
                status,
                observed,
                expected,
                None if status == "pass" else FIX_SECRET,
            )
        )
    return checks
