# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""post_verify's OVOC and SBC checks ("Verifying Component Statuses", "SBC Dialplan Verification"):
OVOC's devices and alarms, each SBC's answer, its API allowed IPs and dial plans."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.ump365.upgrade.plugins.module_utils import prefix as prefix_lint

from ansible_collections.ump365.upgrade.plugins.plugin_utils.check_model import (
    FAIL,
    PASS,
    S_COMPONENTS,
    S_DIALPLAN,
    S_SQL_UPDATE,
    WARN,
    _items_fail,
    _lower,
    _short,
    check,
    not_gathered,
)


DEFAULT_WAN_OVOC_IP = "169.254.0.1"


def check_ovoc(obs):
    o = obs.get("ovoc")
    n1, e1 = "ovoc_device_active", "the UMP device is in OVOC with status Active"
    n2, e2 = "ovoc_ump_management_connected", 'OVOC shows "UMP Management" Connected'
    if o is None:
        return [
            not_gathered(n1, e1, "OVOC not read", True, S_COMPONENTS),
            not_gathered(n2, e2, "OVOC not read", True, S_COMPONENTS),
        ]
    fix_dev = "OVOC: Network > Device > Manage; add or repair the UMP-365 device (guide, Device Status)"
    if not o.get("exists"):
        missing = "no device with IP %s" % o.get("device_ip")
        return [
            check(n1, FAIL, missing, e1, fix_dev, True, S_COMPONENTS),
            check(n2, FAIL, missing, e2, fix_dev, True, S_COMPONENTS),
        ]
    st, ms = o.get("status"), o.get("management_status")
    return [
        check(n1, PASS if _lower(st) == "active" else FAIL, st, e1, fix_dev, True, S_COMPONENTS),
        check(
            n2,
            PASS if _lower(ms) == "connected" else FAIL,
            ms,
            e2,
            "OVOC: open the managed device page, Show, and restore the UMP Management connection (check the "
            "UMP services are running and ApiAllowedIps holds the OVOC IP)",
            True,
            S_COMPONENTS,
        ),
    ]


def check_ovoc_alarms(obs, fail_severities=("critical",), warn_severities=("major",)):
    name, exp = "ovoc_alarms", "no %s active alarm on the UMP device" % "/".join(fail_severities)
    alarms = obs.get("ovoc_alarms")
    if alarms is None:
        return not_gathered(name, exp, "OVOC alarms not read", True, S_COMPONENTS)
    fail_sev = [_lower(x) for x in fail_severities]
    warn_sev = [_lower(x) for x in warn_severities]
    crit = [a for a in alarms if _lower(a.get("severity")) in fail_sev]
    warn = [a for a in alarms if _lower(a.get("severity")) in warn_sev]

    def desc(a):
        return "%s: %s" % (a.get("severity"), a.get("description") or a.get("name"))

    fix = "OVOC: Alarms > Active Alarms for the UMP device; clear the cause of each alarm"
    if crit or warn:
        out = check(
            name,
            FAIL if crit else WARN,
            _short(desc(a) for a in (crit or warn)),
            exp,
            fix,
            True,
            S_COMPONENTS,
            details=alarms,
        )
        # an alarm is the same alarm before and after when its name (or description) and source agree;
        # its id and date change when OVOC raises it again
        out["items"] = sorted(
            {"%s@%s" % (a.get("name") or a.get("description"), a.get("source") or "") for a in (crit or warn)}
        )
        return out
    return check(
        name,
        PASS,
        "%d active alarm(s), none %s" % (len(alarms), "/".join(fail_severities)),
        exp,
        None,
        True,
        S_COMPONENTS,
    )


def check_sbcs(obs):
    """Each customer's SBC is in the SBC list; each site location's SBC is Deployed."""
    custs = obs.get("customers")
    sbcs = obs.get("sbcs")
    n1, e1 = "customer_sbc_exists", "every customer's SBC is in the SBC List"
    n2, e2 = "site_locations_deployed", "every site location's SBC deployment state Deployed"
    if custs is None:
        return [
            not_gathered(n1, e1, "customers not read", True, S_COMPONENTS),
            not_gathered(n2, e2, "customers not read", True, S_COMPONENTS),
        ]
    names = {_lower(s.get("Name") or s.get("name")) for s in (sbcs or [])}
    missing, undeployed, n_sites = [], [], 0
    missing_keys, undeployed_keys = [], []
    for c in custs:
        for s in c.get("site_locations") or []:
            n_sites += 1
            sbc = s.get("sbcName")
            if sbcs is not None and _lower(sbc) not in names:
                missing.append("%s: %s" % (c.get("CustomerShortName"), sbc))
                missing_keys.append("%s/%s" % (c.get("CustomerShortName"), s.get("name")))
            state = s.get("sbcDeploymentStateName") or s.get("sbcDeploymentState")
            if _lower(state) != "deployed":
                undeployed.append("%s/%s: %s" % (c.get("CustomerShortName"), s.get("name"), state))
                undeployed_keys.append("%s/%s" % (c.get("CustomerShortName"), s.get("name")))
    first = (
        not_gathered(n1, e1, "SBC list not read", True, S_COMPONENTS)
        if sbcs is None
        else _items_fail(
            n1,
            e1,
            missing,
            "SBC List: add the SBC (Managing SBC Devices)",
            S_COMPONENTS,
            total="%d site(s)" % n_sites,
            keys=missing_keys,
        )
    )
    return [
        first,
        _items_fail(
            n2,
            e2,
            undeployed,
            "Multitenant portal, Site Locations: redeploy the site's SBC (Add SBC Site Locations)",
            S_COMPONENTS,
            total="%d site(s) Deployed" % n_sites,
            keys=undeployed_keys,
        ),
    ]


def check_api_allowed_ips(obs, ovoc_ip):
    name, exp = "api_allowed_ips_ovoc", "ApiAllowedIps contains the OVOC IP %s" % ovoc_ip
    a = obs.get("api_allowed_ips")
    if a is None:
        return not_gathered(name, exp, "ApiAllowedIps not read", True, S_SQL_UPDATE)
    members = a.get("members") or []
    if not ovoc_ip:
        return check(
            name,
            WARN,
            json.dumps(members) if members else (a.get("value") or "not set"),
            "ApiAllowedIps contains the OVOC IP (not known: no OVOC address was given)",
            "set ump_ovoc_ip to the OVOC server's private or public IP and run verify.yml with post_verify_fix=true; "
            "nothing was changed (no address is guessed)",
            False,
            S_SQL_UPDATE,
        )
    if a.get("added"):
        return check(
            name, PASS, "added %s: %s" % (", ".join(a["added"]), json.dumps(members)), exp, None, True, S_SQL_UPDATE
        )
    if ovoc_ip in members:
        return check(name, PASS, json.dumps(members), exp, None, True, S_SQL_UPDATE)
    return check(
        name,
        FAIL,
        json.dumps(members) if members else (a.get("value") or "not set"),
        exp,
        "add the OVOC private or public IP (%s; the default WAN address is %s) to dbo.ApplicationSetting "
        "ApiAllowedIps in SysAdminTenant, or run verify.yml with post_verify_fix=true" % (ovoc_ip, DEFAULT_WAN_OVOC_IP),
        True,
        S_SQL_UPDATE,
    )


def check_dial_plans(obs):
    name, exp = "dial_plan_prefixes", "Hosted Essentials customers' dial-plan prefixes follow the UMP syntax"
    custs = obs.get("customers")
    if custs is None:
        return not_gathered(name, exp, "dial plans not read", True, S_DIALPLAN)
    ess = [c for c in custs if "essentials" in _lower(c.get("LicenseType"))]
    bad, keys, n_prefixes = [], [], 0
    for c in ess:
        for s in c.get("site_locations") or []:
            for dp in s.get("dial_plans") or []:
                n_prefixes += len(dp.get("rules") or [])
                for f in dp.get("prefix_findings") or []:
                    bad.append(
                        "%s/%s: %r %s" % (c.get("CustomerShortName"), dp.get("name"), f.get("entry"), f.get("why"))
                    )
                    keys.append("%s/%s: %s" % (c.get("CustomerShortName"), dp.get("name"), f.get("entry")))
    return _items_fail(
        name,
        exp,
        bad,
        "edit the dial plan: plain digits, an optional leading +, bracket ranges like +44587996[01-20], entries "
        "separated by ';'; no x, n, z or # (guide, SBC Dialplan Verification)",
        S_DIALPLAN,
        total="%d prefix rule(s) of %d Hosted Essentials customer(s)" % (n_prefixes, len(ess)),
        keys=keys,
    )


def _sbc_entry(obs):
    """The UMP SBC List entry of the SBC this host's checklist reads (matched by IP, then FQDN)."""
    sbc = obs.get("sbc") or {}
    ip = _lower((sbc.get("status") or {}).get("ipAddress"))
    host = _lower(re.sub(r"^https?://([^/:]+).*$", r"\1", str(sbc.get("url") or "")))
    for e in obs.get("sbcs") or []:
        if ip and _lower(e.get("IpAddress")) == ip:
            return e
        if host and _lower(e.get("DeviceFqdn")) == host:
            return e
    return None


def check_sbc(obs):
    """The guide's SBC checks read on the SBC itself (sbc_info): it answers and is connected, and the
    dial-plan prefixes (the DIDs and DID ranges) UMP shows for its sites are in its DialPlanRule table."""
    sbc = obs.get("sbc")
    n1, e1 = "sbc_connected", "the customer's SBC answers (REST status UNLOCKED) and UMP's SBC List shows it Connected"
    n2, e2 = "sbc_dial_plan_present", "every dial-plan prefix UMP shows for the SBC's sites is in the SBC's dial plan"
    if sbc is None:
        return [
            not_gathered(n1, e1, "no SBC to read (ump_sbc_url not set)", True, S_DIALPLAN),
            not_gathered(n2, e2, "no SBC to read (ump_sbc_url not set)", True, S_DIALPLAN),
        ]
    status = sbc.get("status") or {}
    entry = _sbc_entry(obs)
    problems = []
    if _lower(status.get("operationalState")) != "unlocked":
        problems.append("operationalState %s" % status.get("operationalState"))
    if obs.get("sbcs") is None:
        problems.append("UMP's SBC List not read")
    elif entry is None:
        problems.append("not in UMP's SBC List (IP %s)" % status.get("ipAddress"))
    elif _lower(entry.get("Status")) != "connected":
        problems.append("UMP's SBC List shows %s %s" % (entry.get("Name"), entry.get("Status")))
    first = check(
        n1,
        FAIL if problems else PASS,
        "; ".join(problems)
        if problems
        else "%s %s, %s" % (entry.get("Name"), entry.get("Status"), status.get("versionID")),
        e1,
        "SBC List: Reload From Ovoc and check the SBC's connection (Managing SBC Devices); check the SBC's REST "
        "user and network path",
        True,
        S_DIALPLAN,
    )
    custs = obs.get("customers")
    if custs is None or entry is None:
        return [first, not_gathered(n2, e2, "customers or the SBC's entry in UMP not read", True, S_DIALPLAN)]
    on_sbc = {}
    for r in sbc.get("dial_plan_rules") or []:
        for p in split_prefixes(r.get("Prefix")):
            on_sbc.setdefault(_lower(r.get("DialPlanName")), set()).add(p)
    missing, n = [], 0
    for c in custs:
        for site in c.get("site_locations") or []:
            if _lower(site.get("sbcName")) != _lower(entry.get("Name")):
                continue
            for dp in site.get("dial_plans") or []:
                for rule in dp.get("rules") or []:
                    for p in split_prefixes(rule.get("prefix")):
                        n += 1
                        if p not in on_sbc.get(_lower(dp.get("name")), set()):
                            missing.append("%s/%s: %s" % (c.get("CustomerShortName"), dp.get("name"), p))
    return [
        first,
        _items_fail(
            n2,
            e2,
            missing,
            "redeploy the site location's dial plan to the SBC (Site Locations) and check the SBC's DialPlanRule "
            "table (guide, SBC Dialplan Verification)",
            S_DIALPLAN,
            total="%d prefix(es) on %s" % (n, entry.get("Name")),
        ),
    ]


def split_prefixes(text):
    return [p.strip() for p in str(text or "").split(";") if p.strip()]


def _number_entries(numbers):
    return [(n.get("value"), n.get("dial_plan")) for n in numbers or [] if n.get("value")]


def check_sbc_user_dids(obs):
    """Each user's DID UMP shows for a customer with a site on the SBC is on the SBC: a value of the SBC's
    numbers table (by default a DialPlanRule prefix, exact or a range) stands for the whole number."""
    name = "sbc_user_dids_present"
    exp = "every user's DID UMP shows for the SBC's sites is on the SBC"
    sbc = obs.get("sbc")
    if sbc is None:
        return not_gathered(name, exp, "no SBC to read (ump_sbc_url not set)", True, S_DIALPLAN)
    numbers = obs.get("sbc_numbers")
    dids = obs.get("user_dids")
    entry = _sbc_entry(obs)
    custs = obs.get("customers")
    if dids is None:
        return not_gathered(name, exp, "the users' DIDs not read (post_verify_user_dids_source)", True, S_DIALPLAN)
    if numbers is None:
        return not_gathered(name, exp, "the SBC's numbers not read", True, S_DIALPLAN)
    if custs is None or entry is None:
        return not_gathered(name, exp, "customers or the SBC's entry in UMP not read", True, S_DIALPLAN)
    table = numbers.get("table") or "?"
    exp = "%s ([ %s ] %s)" % (exp, table, numbers.get("column") or "?")
    on_sbc = _number_entries(numbers.get("entries"))
    sites = {}
    for c in custs:
        for site in c.get("site_locations") or []:
            if _lower(site.get("sbcName")) == _lower(entry.get("Name")):
                s = sites.setdefault(_lower(c.get("CustomerShortName")), {"customer": c, "sites": [], "plans": set()})
                s["sites"].append(site.get("name"))
                s["plans"].update(_lower(dp.get("name")) for dp in site.get("dial_plans") or [])
    missing, keys, n = [], [], 0
    for u in dids:
        s = sites.get(_lower(u.get("customer")))
        if s is None:
            continue
        n += 1
        candidates = [v for v, plan in on_sbc if plan is None or not s["plans"] or _lower(plan) in s["plans"]]
        if prefix_lint.covered_by(u.get("did"), candidates) is None:
            where = "%s/%s" % (s["customer"].get("CustomerShortName"), ",".join(str(x) for x in s["sites"]))
            missing.append("%s: %s (%s)" % (where, u.get("did"), u.get("user")))
            keys.append("%s: %s" % (where, prefix_lint.normalize_number(u.get("did")) or u.get("did")))
    return _items_fail(
        name,
        exp,
        missing,
        "add the DID to the site location's dial plan in UMP and redeploy it to the SBC (Site Locations; guide, "
        "'Add DID and verify that it is successfully added on the SBC'), or check the SBC's [ %s ] table" % table,
        S_DIALPLAN,
        total="%d user DID(s) on %s" % (n, entry.get("Name")),
        keys=keys,
    )
