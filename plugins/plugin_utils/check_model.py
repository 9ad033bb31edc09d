# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check model: a check result (``check``/``not_gathered``), its statuses and the guide's sections,
the post_verify policies against preflight's baseline, and the evaluation helpers every check set uses
(errors of unreadable sources, blocking failures, the summary message).

One result per item of the guide, in the run report's convention (docs/report.md)::

    {name, status: pass|warn|fail|skip, observed, expected, fix, blocking, section}

An observation that was not gathered is ``None`` and gives ``skip``: a check never passes on data it has not seen.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ump365.upgrade.plugins.module_utils.timeparse import parse_time as _parse_time


PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
STATUSES = (PASS, WARN, FAIL, SKIP)
# Guide sections the checks come from (seed 000), for docs and the report's "why".
S_BEFORE = "Before Upgrading UMP-365"
S_FIREWALL = "Configure Firewall"
S_SNAPSHOT = "Backing up UMP-365 - Disk Snapshot"
S_PASSWORD = "Compiling List of Password Authenticated Customers"
S_ADDITIONAL = "Additional SysAdmin Verifications"
S_COMPONENTS = "Verifying Component Statuses"
S_TENANT_ADMIN = "Verifying Tenant Admin Authentication"
S_SQL_UPDATE = "Updating SQL Server"
S_DIALPLAN = "SBC Dialplan Verification"
S_SCRIPTS = "Updating Scripts"
S_TOKEN = "Upgrading M365 Connection to Token Authentication"
S_UPGRADE = "Upgrading Main UMP-365 Tenant"
S_ROLLBACK = "Restoring UMP Snapshot"


def check(name, status, observed, expected, fix=None, blocking=False, section=None, details=None):
    if status not in STATUSES:
        raise ValueError("check %s: status must be one of %s, got %r" % (name, ", ".join(STATUSES), status))
    out = {
        "name": name,
        "status": status,
        "observed": observed,
        "expected": expected,
        "fix": None if status == PASS else fix,
        "blocking": bool(blocking),
        "section": section,
    }
    if details is not None:
        out["details"] = details
    return out


def not_gathered(name, expected, why, blocking=False, section=None):
    return check(name, SKIP, "not gathered: %s" % why, expected, None, blocking, section)


# --------------------------------------------------------------------------- helpers
def parse_time(value):
    """An ISO 8601 time as aware UTC (a time without offset is UTC); None when it is not one."""
    return _parse_time(value)


def _lower(s):
    return str(s or "").strip().lower()


def _names(items, key="name"):
    return sorted(str(i.get(key)) for i in items if i.get(key) is not None)


def _short(items, limit=8):
    items = list(items)
    if len(items) <= limit:
        return ", ".join(str(i) for i in items)
    return ", ".join(str(i) for i in items[:limit]) + " and %d more" % (len(items) - limit)


def expected_redirect_uri(fqdn):
    return "https://%s/authenticate/OAuth2Callback" % fqdn


def expected_portal_url(fqdn):
    return "https://%s/authenticate" % fqdn


def blocking_failures(checks):
    return [c for c in checks or [] if c.get("status") == FAIL and c.get("blocking")]


def failures(checks):
    return [c for c in checks or [] if c.get("status") == FAIL]


def summary_message(host, failed):
    """One line per failed check with its fix, for the gate's fail message."""
    lines = ["%s: %d check(s) failed:" % (host, len(failed))]
    for c in failed:
        lines.append("- %s: observed %s, expected %s. Fix: %s" % (c["name"], c["observed"], c["expected"], c["fix"]))
    return "\n".join(lines)


# --------------------------------------------------------------------------- post_verify
def _items_fail(name, exp, bad, fix, section, blocking=True, total=None, ok_text=None, details=None, keys=None):
    """A check over items; ``keys`` names each bad item (the customer, site, alarm...) for the baseline
    comparison (:func:`apply_baseline`), ``bad`` describes it for the operator."""
    if not bad:
        return check(
            name, PASS, ok_text or ("all %s" % total if total is not None else "ok"), exp, None, blocking, section
        )
    out = check(name, FAIL, _short(bad), exp, fix, blocking, section, details=details)
    out["items"] = sorted({str(k) for k in (keys if keys is not None else bad)})
    return out


# --------------------------------------------------------------------------- baseline and policies
# What each post_verify check does when it fails (docs/checks.md; role variable post_verify_check_policies):
#   block    - fails the host (the rollback follows in an upgrade run)
#   warn     - reported as a warning, never fails the host
#   baseline - compared with what preflight observed on the same host in the same attempt: a failure that was
#              there before (the same items) is reported as pre-existing and does not fail the host; a
#              regression (passed before, or new items) fails it. Without a readable baseline it blocks.
POLICIES = ("block", "warn", "baseline")
PRE_EXISTING, REGRESSION, NO_BASELINE = "pre-existing", "regression", "no baseline"


def baseline_from_checks(checks):
    """What preflight records (checkpoint phase preflight, outputs.baseline): per check its status, the
    failing items and whether its source was read at all."""
    out = {}
    for c in checks or []:
        observed = str(c.get("observed") or "")
        out[c["name"]] = {
            "status": c.get("status"),
            "items": list(c.get("items") or []),
            "readable": c.get("status") != SKIP and not observed.startswith("could not read"),
        }
    return out


def apply_baseline(checks, baseline=None, policies=None, default_policy="baseline"):
    """Apply each check's policy; with ``baseline`` set pre-existing failures apart from regressions."""
    baseline = baseline or {}
    policies = dict(policies or {})
    if default_policy not in POLICIES:
        raise ValueError("default policy must be one of %s, got %r" % (", ".join(POLICIES), default_policy))
    for name, pol in policies.items():
        if pol not in POLICIES:
            raise ValueError("policy of check %s must be one of %s, got %r" % (name, ", ".join(POLICIES), pol))
    out = []
    for c in checks or []:
        c = dict(c)
        pol = policies.get(c["name"], default_policy)
        c["policy"] = pol
        if c["status"] != FAIL:
            out.append(c)
            continue
        if pol == "warn":
            c["status"], c["blocking"] = WARN, False
        elif pol == "baseline":
            before = baseline.get(c["name"])
            items = set(c.get("items") or [])
            if not before or not before.get("readable"):
                c["baseline"] = NO_BASELINE
            elif before.get("status") not in (FAIL, WARN):
                c["baseline"] = REGRESSION
                c["observed"] = "%s (passed before the upgrade)" % c["observed"]
            else:
                new = sorted(items - set(before.get("items") or []))
                if new or (not items and before.get("items")):
                    c["baseline"] = REGRESSION
                    c["new_items"] = new
                    c["observed"] = "new since preflight: %s (all: %s)" % (_short(new) or "-", c["observed"])
                else:
                    c["baseline"] = PRE_EXISTING
                    c["status"], c["blocking"] = WARN, False
                    c["observed"] = "pre-existing (already so before the upgrade): %s" % c["observed"]
        out.append(c)
    return out


def pre_existing(checks):
    return [c for c in checks or [] if c.get("baseline") == PRE_EXISTING]


def settle_pending(checks, names):
    """Blocking failures the settle window waits out: checks named in ``names`` and any check whose
    source could not be read yet (the portal or OVOC not answering after the start)."""
    names = set(names or [])
    return [
        c["name"]
        for c in blocking_failures(checks)
        if c["name"] in names or str(c.get("observed") or "").startswith("could not read")
    ]


# Which observation each check reads; when that observation is {"error": ...} (its source failed), the
# check fails with the error instead of being skipped.
CHECK_SOURCES = {
    "wyupdate_update_available": "wyupdate",
    "host_egress": "egress",
    "password_authenticated_customers": "auth_status",
    "replication_queue_empty": "replication_queue",
    "sql_collation": "sql",
    "ssl_certificate": "certificates",
    "no_open_files": "open_files",
    "auth_status_app_credentials": "auth_status",
    "whitelist_services_8_0_450": "services",
    "free_disk_space": "disk_free_gb",
    "become_service_account": "become",
    "ovoc_device_active": "ovoc",
    "ovoc_ump_management_connected": "ovoc",
    "ovoc_alarms": "ovoc_alarms",
    "sysadminkit_version": "versions",
    "multitenant_version": "versions",
    "customer_versions": "versions",
    "customers_deployed": "versions",
    "customers_as_before": "versions",
    "licence_present": "licence",
    "invitation_portal_url": "invitation_settings",
    "customer_sbc_exists": "customers",
    "site_locations_deployed": "customers",
    "customers_enabled": "customers",
    "customers_counts": "customers",
    "customers_azure_tenant_id": "customers",
    "services_running": "service_states",
    "api_allowed_ips_ovoc": "api_allowed_ips",
    "dial_plan_prefixes": "customers",
    "script_templates": "script_templates",
    "tenant_admin_auth_verified": "auth_status",
    "sbc_connected": "sbc",
    "sbc_dial_plan_present": "sbc",
    # the first of these whose source failed makes the check fail with its error
    "sbc_user_dids_present": ("sbc", "user_dids", "sbc_numbers"),
}


def split_errors(obs):
    """Observations whose source failed (``{"error": msg}``) become None; their errors are returned apart."""
    clean, errs = {}, {}
    for k, v in (obs or {}).items():
        if isinstance(v, dict) and "error" in v and len(v) == 1:
            errs[k] = v["error"]
            clean[k] = None
        else:
            clean[k] = v
    return clean, errs


# Observations a host may not be able to give (a module or command missing on a hardened server): when they
# cannot be read the check warns (verify by hand) instead of failing.
SOFT_SOURCES = ("disk_free_gb",)


def apply_errors(checks, errs):
    for c in checks:
        keys = CHECK_SOURCES.get(c["name"])
        keys = keys if isinstance(keys, tuple) else (keys,)
        key = next((k for k in keys if k in errs), None)
        if c["status"] == SKIP and key is not None:
            c["status"] = WARN if key in SOFT_SOURCES else FAIL
            c["observed"] = "could not read %s: %s" % (key, str(errs[key])[:300])
            c["fix"] = "fix the error above (the UMP server, its API or the connection to it) and run again"
    return checks
