# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The post_verify check set (component statuses, tenant admin authentication, SQL update, SBC dial
plans, scripts, the main tenant upgrade, the rollback's version): observations in, check results out,
then the policies against preflight's baseline (check_model.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

from ansible_collections.ump365.upgrade.plugins.plugin_utils.versions import version_matches
from ansible_collections.ump365.upgrade.plugins.plugin_utils.check_model import (
    FAIL,
    PASS,
    S_COMPONENTS,
    S_ROLLBACK,
    S_SCRIPTS,
    S_TENANT_ADMIN,
    S_UPGRADE,
    WARN,
    _items_fail,
    _lower,
    _short,
    apply_baseline,
    apply_errors,
    check,
    expected_portal_url,
    not_gathered,
    split_errors,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_preflight import (
    WHITELIST_SERVICES,
    check_auth_status_credentials,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_sbc import (
    check_api_allowed_ips,
    check_dial_plans,
    check_ovoc,
    check_ovoc_alarms,
    check_sbc,
    check_sbc_user_dids,
    check_sbcs,
)


def check_versions(obs, expected, rollback=False):
    v = obs.get("versions")
    out = []
    n1, n2, n3 = "sysadminkit_version", "multitenant_version", "customer_versions"
    e = "%s%s" % (expected, " (the version before the upgrade)" if rollback else "")
    sec = S_ROLLBACK if rollback else S_COMPONENTS
    if v is None:
        return [not_gathered(n, e, "Tenants page not read", True, sec) for n in (n1, n2, n3)]
    fix = (
        "the host is not at the version before the upgrade: restore the pre-upgrade snapshot (playbooks/rollback.yml)"
        if rollback
        else "run wyUpdate again (Upgrading Main UMP-365 Tenant) and check its LogReport"
    )
    for n, key in ((n1, "sysadminkit_version"), (n2, "multitenant_version")):
        actual = v.get(key)
        if actual is None and key == "multitenant_version":
            actual = (obs.get("licence") or {}).get("multitenant_version")
        out.append(check(n, PASS if version_matches(actual, expected) else FAIL, actual, e, fix, True, sec))
    custs = v.get("customers") or []
    bad = [
        "%s %s" % (c.get("name"), c.get("version")) for c in custs if not version_matches(c.get("version"), expected)
    ]
    out.append(
        _items_fail(
            n3,
            "every customer at %s" % e,
            bad,
            fix
            if rollback
            else "run Sysadmin.CustomerUpgrade.exe for these customers and wait for UpToDate (Upgrading Customer Tenant)",
            sec,
            total="%d customers at %s" % (len(custs), expected),
        )
    )
    return out


def check_customers_deployed(obs):
    name, exp = "customers_deployed", "every customer's deployment state Deployed"
    v = obs.get("versions")
    if v is None:
        return not_gathered(name, exp, "Tenants page not read", True, S_COMPONENTS)
    custs = v.get("customers") or []
    undeployed = [c for c in custs if _lower(c.get("state")) != "deployed"]
    return _items_fail(
        name,
        exp,
        ["%s %s" % (c.get("name"), c.get("state")) for c in undeployed],
        "Multitenant portal, Tenants: redeploy the customer (Deploy) and check its status indicators",
        S_COMPONENTS,
        total="%d Deployed" % len(custs),
        keys=[c.get("name") for c in undeployed],
    )


def check_licence(obs):
    name, exp = "licence_present", "a valid Multitenant licence"
    lic = obs.get("licence")
    if lic is None:
        return not_gathered(name, exp, "licence not read", True, S_COMPONENTS)
    if lic.get("missing"):
        return check(
            name,
            FAIL,
            "missing (%d licence(s), none valid)" % len(lic.get("licences") or []),
            exp,
            "System > License: install the Multitenant licence (guide, Multitenant Portal Licensing)",
            True,
            S_COMPONENTS,
        )
    return check(name, PASS, "%d licence(s)" % len(lic.get("licences") or []), exp, None, True, S_COMPONENTS)


def check_invitation_url(obs, fqdn):
    name = "invitation_portal_url"
    exp = expected_portal_url(fqdn)
    s = obs.get("invitation_settings")
    if s is None:
        return not_gathered(name, exp, "Invitation Settings not read", True, S_COMPONENTS)
    url = s.get("portal_url")
    ok = _lower(url).rstrip("/") == _lower(exp)
    return check(
        name,
        PASS if ok else FAIL,
        url,
        exp,
        "System > Invitation Settings: set Customer Authentication Portal Url to %s and Apply Changes" % exp,
        True,
        S_COMPONENTS,
    )


def check_customer_details(obs):
    custs = obs.get("customers")
    specs = (
        ("customers_enabled", "every customer Enabled"),
        ("customers_counts", "every customer shows its DID count and users count"),
        ("customers_azure_tenant_id", "every customer has an Azure tenant ID"),
    )
    if custs is None:
        return [not_gathered(n, e, "customers not read", True, S_COMPONENTS) for n, e in specs]
    dis = [c.get("CustomerShortName") for c in custs if c.get("Enabled") is False]
    no_counts = [
        c for c in custs if c.get("ActiveUserCount") is None or ("DidCount" in c and c.get("DidCount") is None)
    ]
    counts = [
        "%s (DIDs %s, users %s)" % (c.get("CustomerShortName"), c.get("DidCount"), c.get("ActiveUserCount"))
        for c in no_counts
    ]
    tid = [c.get("CustomerShortName") for c in custs if not c.get("MsTenantId")]
    n = len(custs)
    return [
        _items_fail(
            specs[0][0], specs[0][1], dis, "Network > Customers: check Enabled", S_COMPONENTS, total="%d enabled" % n
        ),
        _items_fail(
            specs[1][0],
            specs[1][1],
            counts,
            "Customer Details Quick Glance: the counts come from the replication; check the customer's replication",
            S_COMPONENTS,
            total="%d with counts" % n,
            keys=[c.get("CustomerShortName") for c in no_counts],
        ),
        _items_fail(
            specs[2][0],
            specs[2][1],
            tid,
            "the customer's Azure tenant ID is missing: re-onboard or edit the customer",
            S_COMPONENTS,
            total="%d with a tenant ID" % n,
        ),
    ]


def check_services_running(obs, patterns):
    name = "services_running"
    exp = "running: %s and %s" % (", ".join(patterns), ", ".join(WHITELIST_SERVICES))
    services = obs.get("service_states")
    if services is None:
        return not_gathered(name, exp, "services not listed", True, S_UPGRADE)
    bad, keys = [], []
    matched = 0
    for s in services:
        n = s.get("name") or ""
        if any(fnmatch.fnmatchcase(_lower(n), _lower(p)) for p in patterns):
            matched += 1
            # win_service_info reports a running service as "started" (win_service_info.ps1); accept "running" too
            if _lower(s.get("state")) not in ("started", "running"):
                bad.append("%s %s" % (n, s.get("state")))
                keys.append(n)
    present = {_lower(s.get("name")) for s in services}
    missing = [w for w in WHITELIST_SERVICES if _lower(w) not in present and obs.get("expect_new_services", True)]
    bad += ["%s missing" % w for w in missing]
    keys += missing
    return _items_fail(
        name,
        exp,
        bad,
        "Start-Service sysadmin*, w3svc on the host and check Get-Service sysadmin*, w3svc (guide, Upgrading "
        "Customer Tenant step 4)",
        S_UPGRADE,
        total="%d running" % matched,
        keys=keys,
    )


SCRIPT_SYNTAX = re.compile(r"\{\{\s*[^{}]*\}\}|\{[^{}]*\}")


def script_syntax_problems(body):
    """The documented template syntax: balanced ``{{ placeholder }}`` markers (Scenario Scripts Templates)."""
    problems = []
    text = body or ""
    if text.count("{{") != text.count("}}"):
        problems.append("unbalanced {{ }}")
    for m in re.finditer(r"\{\{\s*\}\}", text):
        problems.append("empty placeholder at %d" % m.start())
    return problems


def check_script_templates(obs):
    name, exp = "script_templates", "scenario script templates unchanged across the upgrade and syntactically valid"
    after = obs.get("script_templates")
    before = obs.get("script_templates_before")
    if after is None:
        return not_gathered(name, exp, "script templates not read", False, S_SCRIPTS)
    bad = []
    for t in after:
        for p in script_syntax_problems(t.get("body")):
            bad.append("%s: %s" % (t.get("name"), p))
    changed = []
    if before is not None:
        old = {t.get("name"): t.get("body") for t in before}
        for t in after:
            if t.get("name") in old and old[t.get("name")] != t.get("body"):
                changed.append(t.get("name"))
            elif t.get("name") not in old:
                changed.append("%s (new)" % t.get("name"))
    fix = "Scenario Scripts Templates page: use the script compare feature; templates with incorrect syntax are not executed"
    if bad:
        return check(name, FAIL, _short(bad), exp, fix, False, S_SCRIPTS)
    if changed:
        return check(name, WARN, "changed: " + _short(changed), exp, fix, False, S_SCRIPTS, details=changed)
    return check(
        name,
        PASS,
        "%d template(s)%s" % (len(after), "" if before is not None else ", no earlier copy to compare"),
        exp,
        None,
        False,
        S_SCRIPTS,
    )


def check_tenant_admin_auth(obs):
    name, exp = "tenant_admin_auth_verified", "every customer's last credentials check Successful"
    auth = obs.get("auth_status")
    if auth is None:
        return not_gathered(name, exp, "Authentication Status not read", True, S_TENANT_ADMIN)
    custs = auth.get("customers") or []
    unverified = [c for c in custs if _lower(c.get("last_status")) != "successful"]
    return _items_fail(
        name,
        exp,
        ["%s (%s, %s)" % (c.get("customer"), c.get("method"), c.get("last_status")) for c in unverified],
        "Security > Authentication Status: Check Credentials for each tenant; if it fails verify the credentials or "
        "switch the customer to token authentication (guide, Verifying Tenant Admin Authentication)",
        S_TENANT_ADMIN,
        total="%d verified" % len(custs),
        keys=[c.get("customer") for c in unverified],
    )


def check_customers_unchanged(obs):
    name, exp = "customers_as_before", "the customers recorded before the upgrade"
    before = obs.get("customers_before")
    v = obs.get("versions")
    if before is None:
        return not_gathered(name, exp, "no pre-upgrade record in the checkpoint", True, S_ROLLBACK)
    if v is None:
        return not_gathered(name, exp, "Tenants page not read", True, S_ROLLBACK)
    now = sorted(_lower(c.get("name")) for c in v.get("customers") or [])
    was = sorted(_lower(c) for c in before)
    if now == was:
        return check(name, PASS, "%d customers as before" % len(now), exp, None, True, S_ROLLBACK)
    gone = [c for c in was if c not in now]
    new = [c for c in now if c not in was]
    return check(
        name,
        FAIL,
        "missing: %s; extra: %s" % (_short(gone) or "-", _short(new) or "-"),
        exp + " (%d)" % len(was),
        "open the UMP interface and check the customer data after the swap (guide, Restoring UMP Snapshot); "
        "restore the backend SQL databases from their backup if customers are missing",
        True,
        S_ROLLBACK,
    )


def post_verify_checks(obs, params=None):
    p = dict(params or {})
    obs, errs = split_errors(obs)
    rollback = bool(p.get("rollback"))
    fqdn = p.get("fqdn") or obs.get("fqdn")
    expected = p.get("expect_version")
    out = []
    out += check_ovoc(obs)
    out += check_versions(obs, expected, rollback)
    out.append(check_customers_deployed(obs))
    if rollback:
        out.append(check_customers_unchanged(obs))
        out.append(
            check_services_running(
                dict(obs, expect_new_services=False), p.get("service_patterns") or ["sysadmin*", "w3svc"]
            )
        )
    else:
        out.append(
            check_ovoc_alarms(
                obs,
                tuple(p.get("alarm_fail_severities") or ("critical",)),
                tuple(p.get("alarm_warn_severities") or ("major",)),
            )
        )
        out.append(check_licence(obs))
        out.append(check_invitation_url(obs, fqdn))
        out.append(check_auth_status_credentials(obs, fqdn, section=S_COMPONENTS))
        out += check_sbcs(obs)
        out += check_customer_details(obs)
        out.append(check_services_running(obs, p.get("service_patterns") or ["sysadmin*", "w3svc"]))
        out.append(check_api_allowed_ips(obs, p.get("ovoc_ip")))
        out.append(check_dial_plans(obs))
        out += check_sbc(obs)
        out.append(check_sbc_user_dids(obs))
        out.append(check_script_templates(obs))
        out.append(check_tenant_admin_auth(obs))
    non_blocking = set(p.get("non_blocking") or [])
    for c in out:
        if c["name"] in non_blocking:
            c["blocking"] = False
    out = apply_errors(out, errs)
    if p.get("policies") is not None or p.get("baseline") is not None:
        out = apply_baseline(out, p.get("baseline"), p.get("policies"), p.get("default_policy") or "baseline")
    return out
