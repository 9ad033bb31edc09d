# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight check set ("Before Upgrading UMP-365", "Configure Firewall", the snapshot's Azure
rights, "Additional SysAdmin Verifications"): observations in, check results out (check_model.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timezone

from ansible_collections.ump365.upgrade.plugins.plugin_utils import win_services
from ansible_collections.ump365.upgrade.plugins.plugin_utils import wyupdate as wy
from ansible_collections.ump365.upgrade.plugins.plugin_utils.versions import version_at_least, version_matches
from ansible_collections.ump365.upgrade.plugins.plugin_utils.check_model import (
    FAIL,
    PASS,
    SKIP,
    S_ADDITIONAL,
    S_BEFORE,
    S_FIREWALL,
    S_PASSWORD,
    WARN,
    _lower,
    _short,
    apply_errors,
    check,
    expected_redirect_uri,
    not_gathered,
    parse_time,
    split_errors,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_token_migration import (
    password_customers,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.checks_azure import (
    check_azure,
)


# the services 8.0.450 creates: one list, in win_services.py (the services role reads the same)
WHITELIST_SERVICES = tuple(win_services.WHITELIST)
WHITELIST_FROM_VERSION = win_services.WHITELIST_FROM_VERSION
REQUIRED_COLLATION = "SQL_Latin1_General_CP1_CI_AS"


# --------------------------------------------------------------------------- preflight
def check_wyupdate(obs, target, patterns=None):
    """wyUpdate's /justcheck answer, read as wyUpdate's source writes it (plugin_utils/wyupdate.py)."""
    name, exp = "wyupdate_update_available", "wyUpdate offers an update to %s" % target
    w = obs.get("wyupdate")
    if w is None:
        return not_gathered(name, exp, "wyUpdate check not run", True, S_BEFORE)
    rc = w.get("rc")
    ans = wy.parse_check_output(w.get("info"), rc, patterns)
    latest = ans.get("version")
    installed = w.get("installed_version")
    fix = (
        "run C:\\acs\\wyupdate.exe /quickcheck /justcheck on the host and check its update server "
        "(C:\\acs\\client.wyc) offers %s; wyUpdate exit codes: 0 up to date, 1 error, 2 update available" % target
    )
    if rc == 2:
        if not ans["valid"]:
            return check(
                name,
                FAIL,
                "update available (exit 2) but its answer could not be read: %s" % (ans.get("error") or "empty")[:200],
                exp,
                "check preflight_wyupdate_outputinfo and preflight_wyupdate_patterns.check_version against the "
                "answer file on the host (line 1 is the new version)",
                True,
                S_BEFORE,
            )
        if not version_matches(latest, target):
            return check(
                name,
                FAIL,
                "update to %s available (exit 2)" % latest,
                exp,
                fix + "; the update server offers %s, not the target version" % latest,
                True,
                S_BEFORE,
            )
        return check(name, PASS, "update to %s available (exit 2)" % latest, exp, None, True, S_BEFORE)
    if rc == 0:
        if installed and version_matches(installed, target):
            return check(name, PASS, "already at %s (exit 0)" % installed, exp, None, True, S_BEFORE)
        return check(name, FAIL, "no update available (exit 0)", exp, fix, True, S_BEFORE)
    err = " - ".join(x for x in (ans.get("error"), ans.get("details")) if x) if rc == 1 else ""
    err = err or (w.get("stderr") or "").strip()
    return check(
        name,
        FAIL,
        "wyUpdate check failed (exit %s)%s" % (rc, (": " + err[:200]) if err else ""),
        exp,
        fix,
        True,
        S_BEFORE,
    )


def check_egress(obs):
    name, exp = "host_egress", "HTTP/HTTPS reachable from the host: update repository and install components"
    probes = obs.get("egress")
    if probes is None:
        return not_gathered(name, exp, "egress probes not run", True, S_FIREWALL)
    if not probes:
        # no probe answered (or none was configured): nothing seen is not a pass
        return check(
            name,
            WARN,
            "unknown: no endpoint was probed",
            exp,
            "check preflight_egress_endpoints and the probe's output",
            True,
            S_FIREWALL,
        )
    bad = [p for p in probes if not p.get("ok")]
    if not bad:
        return check(name, PASS, "%d endpoint(s) reachable" % len(probes), exp, None, True, S_FIREWALL)
    return check(
        name,
        FAIL,
        "unreachable: " + _short("%s (%s)" % (p.get("name"), p.get("error") or p.get("status")) for p in bad),
        exp,
        "open outbound HTTP 80 / HTTPS 443 in the enterprise firewall (and the host firewall) to %s "
        "(guide, Configure Firewall)" % _short(p.get("url") for p in bad),
        True,
        S_FIREWALL,
        details=bad,
    )


def check_become(obs, account=None, group="UmpAdmins"):
    """wyUpdate and the Customer Upgrade run as the service account (become runas): it must log on, and be in
    UmpAdmins. A wrong password fails here, before any change."""
    name = "become_service_account"
    exp = "become as the UMP service account %s works and the account is in %s" % (account or "(not set)", group)
    b = obs.get("become")
    if b is None:
        return not_gathered(name, exp, "become not tried", True, S_BEFORE)
    if not account:
        return check(
            name,
            FAIL,
            "no service account given",
            exp,
            "set ump_service_account and ump_service_password (the account the UMP services run as)",
            True,
            S_BEFORE,
        )
    if b.get("error") or not b.get("account"):
        return check(
            name,
            FAIL,
            "could not become %s: %s" % (account, str(b.get("error") or "no answer")[:300]),
            exp,
            "check ump_service_password (the service account's password) and that the account may log on to the "
            "host; nothing was changed",
            True,
            S_BEFORE,
        )
    who = str(b.get("account"))
    groups = [_lower(g) for g in b.get("groups") or []]
    if _lower(who.rsplit("\\", 1)[-1]) != _lower(account.rsplit("\\", 1)[-1].split("@", 1)[0]):
        return check(
            name, FAIL, "ran as %s" % who, exp, "check ump_service_account and the become settings", True, S_BEFORE
        )
    if _lower(group) not in [g.rsplit("\\", 1)[-1] for g in groups]:
        return check(
            name,
            FAIL,
            "%s is not in %s (groups: %s)" % (who, group, _short(b.get("groups") or [])),
            exp,
            "add the service account to the local group %s (guide, Before Upgrading)" % group,
            True,
            S_BEFORE,
        )
    return check(name, PASS, "%s, member of %s" % (who, group), exp, None, True, S_BEFORE)


def check_password_customers(obs):
    name, exp = "password_authenticated_customers", "no customer authenticated by username and password"
    auth = obs.get("auth_status")
    if auth is None:
        return not_gathered(name, exp, "Authentication Status not read", False, S_PASSWORD)
    rows = password_customers(auth)
    if not rows:
        return check(name, PASS, "none", exp, None, False, S_PASSWORD)
    return check(
        name,
        WARN,
        "%d on password: %s" % (len(rows), _short(r["customer"] for r in rows)),
        exp,
        "after the upgrade switch them to token authentication (playbooks/token_migration.yml; guide, "
        "Switching to Token Authentication); the list is in %s" % (obs.get("password_customers_file") or "the report"),
        False,
        S_PASSWORD,
        details=rows,
    )


def _queue_command(cmd):
    """One open command as "id customer state"; the client passes the API's keys (Id, Customer, State) through."""
    cmd = cmd if isinstance(cmd, dict) else {}

    def get(key):
        return cmd.get(key, cmd.get(key.capitalize(), "?"))

    return "%s %s %s" % (get("id"), get("customer"), get("state"))


def check_replication_queue(obs):
    name, exp = "replication_queue_empty", "Open Commands: 0, Executing: 0, Queued: 0"
    q = obs.get("replication_queue")
    if q is None:
        return not_gathered(name, exp, "replication queue not read", True, S_BEFORE)
    o, e, qu = q.get("open_commands"), q.get("executing"), q.get("queued")
    seen = "Open Commands: %s, Executing: %s, Queued: %s" % (o, e, qu)
    if (q.get("reads") or 1) > 1:
        seen += " (after waiting %ss, %s reads)" % (q.get("waited") or 0, q.get("reads"))
    if (o or 0) == 0 and (e or 0) == 0 and (qu or 0) == 0:
        return check(name, PASS, seen, exp, None, True, S_BEFORE)
    cmds = q.get("commands") or []
    return check(
        name,
        FAIL,
        seen,
        exp,
        "wait until the replication processes complete (Multitenant portal: Queue Changes / Monitoring M365 "
        "Replication Actions Queue), then run again; open: %s" % (_short(_queue_command(c) for c in cmds) or "-"),
        True,
        S_BEFORE,
    )


def check_sql_collation(obs):
    name, exp = "sql_collation", REQUIRED_COLLATION
    sql = obs.get("sql")
    if sql is None:
        return not_gathered(name, exp, "SQL Server not read", True, S_ADDITIONAL)
    coll = sql.get("collation")
    if coll == REQUIRED_COLLATION:
        return check(name, PASS, coll, exp, None, True, S_ADDITIONAL)
    return check(
        name,
        FAIL,
        coll,
        exp,
        "the server collation cannot be changed in place: reinstall SQL Server with collation %s and restore "
        "the databases (guide, Additional SysAdmin Verifications)" % REQUIRED_COLLATION,
        True,
        S_ADDITIONAL,
    )


def check_backend(obs):
    """On a backend SQL server: c:/acs/dbbackup exists and the UMP service account logs in to SQL."""
    b = obs.get("backend")
    n1, e1 = "backend_dbbackup_folder", "c:/acs/dbbackup/ exists on the backend SQL server"
    n2, e2 = "backend_service_account", "the backend SQL Server accepts the UMP service account"
    if b is None:
        return [not_gathered(n1, e1, "no backend SQL server", True, S_BEFORE)]
    if not b.get("enabled"):
        return [
            check(n1, SKIP, "no backend SQL server (SQL on the UMP server)", e1, None, True, S_BEFORE),
            check(n2, SKIP, "no backend SQL server (SQL on the UMP server)", e2, None, True, S_BEFORE),
        ]
    out = []
    folder = b.get("dbbackup")
    if folder is None:
        out.append(not_gathered(n1, e1, "backend host not asked", True, S_BEFORE))
    elif folder.get("exists") and folder.get("isdir", True):
        out.append(check(n1, PASS, "%s on %s" % (folder.get("path"), b.get("host")), e1, None, True, S_BEFORE))
    else:
        out.append(
            check(
                n1,
                FAIL,
                "missing: %s on %s" % (folder.get("path"), b.get("host")),
                e1,
                "create the folder c:/acs/dbbackup/ on the backend SQL server %s (guide, Before Upgrading)"
                % b.get("host"),
                True,
                S_BEFORE,
            )
        )
    login = b.get("service_account_login")
    if login is None:
        out.append(not_gathered(n2, e2, "SQL login not tried", True, S_BEFORE))
    elif login.get("ok"):
        out.append(check(n2, PASS, "%s logs in" % login.get("user"), e2, None, True, S_BEFORE))
    else:
        out.append(
            check(
                n2,
                FAIL,
                "%s refused: %s" % (login.get("user"), (login.get("error") or "")[:200]),
                e2,
                "the backend SQL server's username and password must be identical to the UMP service account used "
                "to install the UMP server (guide, SQL Server Configuration)",
                True,
                S_BEFORE,
            )
        )
    out.append(check_backup_space(b))
    return out


def check_backup_space(b):
    """The backup of the UMP databases fits on the backend SQL server's backup drive (xp_fixeddrives), so a
    full disk stops the host in preflight, before the services stop and the snapshot, not in sql_backup."""
    name = "backend_backup_free_space"
    space = b.get("backup_space") or {}
    drive, need = space.get("drive") or "?", space.get("needed_mb")
    exp = "more free space on %s: of the backend SQL server than the UMP databases' %s MB" % (drive, need)
    free = space.get("free_mb")
    if free is None or need is None:
        return not_gathered(name, exp, space.get("error") or "free space not reported by SQL Server", False, S_BEFORE)
    seen = "%s MB free on %s: of %s (the UMP databases need about %s MB)" % (free, drive, b.get("host"), need)
    if int(free) > int(need):
        return check(name, PASS, seen, exp, None, True, S_BEFORE)
    return check(
        name,
        FAIL,
        seen,
        exp,
        "free at least %s MB on drive %s: of the backend SQL server %s (the backup folder's drive), then run again"
        % (int(need) + 1, drive, b.get("host")),
        True,
        S_BEFORE,
    )


def check_certificate(obs, fqdn, min_days, warn_days, now):
    name = "ssl_certificate"
    exp = "a certificate for %s with its private key, valid more than %s days" % (fqdn, min_days)
    certs = obs.get("certificates")
    if certs is None:
        return not_gathered(name, exp, "certificate store not read", True, S_BEFORE)
    fq = _lower(fqdn)

    def matches(c):
        names = [_lower(n) for n in (c.get("dns_names") or [])]
        subj = _lower(c.get("subject"))
        wild = "*." + fq.split(".", 1)[1] if "." in fq else None
        return (
            fq in names or (wild in names if wild else False) or subj == "cn=" + fq or subj.startswith("cn=" + fq + ",")
        )

    cands = [c for c in certs if matches(c)]
    fix = (
        "install a valid SSL certificate for %s in LocalMachine\\My on the UMP server and bind it in IIS "
        "(guide, Installing SSL Certificates on UMP Windows Server)" % fqdn
    )
    if not cands:
        return check(name, FAIL, "no certificate for %s (%d in store)" % (fqdn, len(certs)), exp, fix, True, S_BEFORE)
    best = max(cands, key=lambda c: parse_time(c.get("not_after")) or now)
    not_after = parse_time(best.get("not_after"))
    days = int((not_after - now).total_seconds() // 86400) if not_after else None
    seen = "%s expires %s (%s days)%s" % (
        best.get("subject"),
        best.get("not_after"),
        days,
        "" if best.get("has_private_key", True) else ", no private key",
    )
    if not best.get("has_private_key", True):
        return check(name, FAIL, seen, exp, fix, True, S_BEFORE)
    if days is None or days < int(min_days):
        return check(name, FAIL, seen, exp, fix + "; renew it before the upgrade", True, S_BEFORE)
    if days < int(warn_days):
        return check(name, WARN, seen, exp, "renew the certificate within %s days" % days, True, S_BEFORE)
    return check(name, PASS, seen, exp, None, True, S_BEFORE)


def check_open_files(obs):
    name, exp = "no_open_files", "no open files or folders under C:\\acs and C:\\acs\\tenants"
    of = obs.get("open_files")
    if of is None:
        return not_gathered(name, exp, "open files not listed", True, S_BEFORE)
    if of.get("error"):
        return check(
            name,
            WARN,
            "could not list open files: %s" % of["error"][:200],
            exp,
            "check by hand that no file under C:\\acs is open (Computer Management > Shared Folders > Open Files, "
            "or openfiles /query), close them, then run again",
            True,
            S_BEFORE,
        )
    if of.get("files") is None:
        return check(
            name,
            WARN,
            "unknown: openfiles gave no list",
            exp,
            "check by hand that no file under C:\\acs is open, then run again",
            True,
            S_BEFORE,
        )
    files = [f for f in of.get("files") or [] if _lower(f).startswith("c:\\acs")]
    if not files and of.get("local_listed") is False:
        # openfiles lists local handles only with the "maintain objects list" global flag on (Windows' default
        # is off): an empty list then says nothing about the files open on the host
        return check(
            name,
            WARN,
            "unknown: openfiles cannot list local open files (the global flag 'maintain objects list' is off)",
            exp,
            "check by hand that no file under C:\\acs is open (Resource Monitor > CPU > Associated Handles, or "
            "Sysinternals handle.exe), or turn the flag on with 'openfiles /local on' and a restart",
            True,
            S_BEFORE,
        )
    if not files:
        return check(name, PASS, "none", exp, None, True, S_BEFORE)
    return check(
        name,
        FAIL,
        "%d open: %s" % (len(files), _short(files, 5)),
        exp,
        "close every file and log file under C:\\acs and C:\\acs\\tenants (wyUpdate and SysAdminCustomerUpgrade "
        "back these folders up; an open file interrupts the upgrade)",
        True,
        S_BEFORE,
        details=files,
    )


def check_auth_status_credentials(obs, fqdn, section=S_BEFORE, blocking=True):
    """The Authentication Status page: client ID, secret and redirect URI (preflight and post_verify)."""
    name = "auth_status_app_credentials"
    redirect = expected_redirect_uri(fqdn)
    exp = "client ID and secret set, redirect %s" % redirect
    auth = obs.get("auth_status")
    if auth is None:
        return not_gathered(name, exp, "Authentication Status not read", blocking, section)
    problems = []
    if not auth.get("client_id"):
        problems.append("client ID missing")
    if not auth.get("client_secret_configured"):
        problems.append("client secret missing")
    if _lower(auth.get("redirect_uri")) != _lower(redirect):
        problems.append("redirect is %s" % (auth.get("redirect_uri") or "empty"))
    seen = "client ID %s, secret %s, redirect %s" % (
        auth.get("client_id") or "-",
        "set" if auth.get("client_secret_configured") else "missing",
        auth.get("redirect_uri") or "-",
    )
    if not problems:
        return check(name, PASS, seen, exp, None, blocking, section)
    return check(
        name,
        FAIL,
        seen,
        exp,
        "in the Multitenant portal, Security > Authentication Status: enter the synchronization app registration's "
        "client ID and secret and the redirect %s, then Apply Changes (%s)" % (redirect, "; ".join(problems)),
        blocking,
        section,
    )


def check_whitelist_services(obs, current_version):
    name = "whitelist_services_8_0_450"
    exp = "present (to be white-listed on hardened servers): " + ", ".join(WHITELIST_SERVICES)
    services = obs.get("services")
    if services is None:
        return not_gathered(name, exp, "services not listed", False, S_ADDITIONAL)
    present = {_lower(s) for s in services}
    missing = [s for s in WHITELIST_SERVICES if _lower(s) not in present]
    if not missing:
        return check(name, PASS, "all three present", exp, None, False, S_ADDITIONAL)
    if current_version and not version_at_least(current_version, WHITELIST_FROM_VERSION):
        return check(
            name,
            PASS,
            "not created yet (%s < %s; the upgrade creates %s)"
            % (current_version, WHITELIST_FROM_VERSION, _short(missing)),
            exp,
            None,
            False,
            S_ADDITIONAL,
        )
    return check(
        name,
        WARN,
        "missing: " + ", ".join(missing),
        exp,
        "on a hardened server add %s to the service white-list; they are created by the 8.0.450 upgrade"
        % ", ".join(WHITELIST_SERVICES),
        False,
        S_ADDITIONAL,
    )


def check_free_disk(obs, min_gb):
    name, exp = "free_disk_space", ">= %s GB free on C:" % min_gb
    free = obs.get("disk_free_gb")
    if free is None:
        return not_gathered(name, exp, "disk space not read", True, S_BEFORE)
    seen = "%.1f GB free on C:" % float(free)
    if float(free) >= float(min_gb):
        return check(name, PASS, seen, exp, None, True, S_BEFORE)
    return check(
        name,
        FAIL,
        seen,
        exp,
        "free space on C: (wyUpdate downloads the packages to a temporary folder and backs up C:\\acs)",
        True,
        S_BEFORE,
    )


DISCOVER_FIX = (
    "the host does not look like the vendor details this run assumes (docs/assumptions.md): run "
    "playbooks/discover.yml for this site first (read-only), review the site profile it writes and pass its vars "
    "file to the upgrade (-e @<ump_report_dir>/site_profile/site.yml)"
)


def check_site_layout(obs):
    """The customers' folder the customer upgrade reads is on the host (a site whose layout differs from the
    defaults is found here, before any change, and sent to playbooks/discover.yml)."""
    name, exp = "site_layout", "the customers' folder (customer_upgrade_tenants_dir) exists on the host"
    lay = obs.get("site_layout") or {}
    path = lay.get("tenants_dir")
    if lay.get("error") or lay.get("exists") is None:
        return not_gathered(name, exp, lay.get("error") or "the customers' folder was not looked for", True, S_BEFORE)
    profiled = " (site profile of %s)" % lay["profiled"] if lay.get("profiled") else " (no site profile given)"
    if lay.get("exists") and lay.get("isdir"):
        return check(name, PASS, "%s exists%s" % (path, profiled), exp, None, True, S_BEFORE)
    return check(
        name,
        FAIL,
        "%s is not on the host%s" % (path, profiled),
        exp,
        DISCOVER_FIX
        if not lay.get("profiled")
        else "set customer_upgrade_tenants_dir (and preflight_tenants_dir) "
        "to the host's customers' folder; run playbooks/discover.yml again to see where it is",
        True,
        S_BEFORE,
    )


def preflight_checks(obs, params=None):
    """Every check of "Before Upgrading UMP-365" (and the Additional SysAdmin Verifications)."""
    p = dict(params or {})
    obs, errs = split_errors(obs)
    now = parse_time(p.get("now")) or datetime.now(timezone.utc)
    if p.get("now") and parse_time(p.get("now")) is None:
        raise ValueError("now=%r is not an ISO 8601 time" % (p.get("now"),))
    target = p.get("target_version") or obs.get("target_version")
    fqdn = p.get("fqdn") or obs.get("fqdn")
    out = [check_wyupdate(obs, target, p.get("wyupdate_patterns")), check_egress(obs)]
    out += check_azure(obs)
    out.append(check_become(obs, p.get("service_account"), p.get("admin_group") or "UmpAdmins"))
    out += [check_password_customers(obs), check_replication_queue(obs), check_sql_collation(obs)]
    out += check_backend(obs)
    out += [
        check_certificate(obs, fqdn, p.get("cert_min_days", 14), p.get("cert_warn_days", 30), now),
        check_open_files(obs),
        check_auth_status_credentials(obs, fqdn),
        check_whitelist_services(obs, obs.get("current_version")),
        check_free_disk(obs, p.get("min_free_gb", 10)),
    ]
    if "site_layout" in obs:
        out.append(check_site_layout(obs))
    non_blocking = set(p.get("non_blocking") or [])
    for c in out:
        if c["name"] in non_blocking:
            c["blocking"] = False
    return apply_errors(out, errs)
