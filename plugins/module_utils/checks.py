# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade guide's checks as pure functions: observations in, check results out.

The preflight, post_verify and token_migration roles gather observations (module results: the UMP
portal, OVOC, the SBC, SQL, Azure, and primitives of the Windows host) into one dictionary; the filters
in plugins/filter/checks.py hand it to :func:`preflight_checks` / :func:`post_verify_checks`, which
return one check per item of the guide in the run report's convention (docs/report.md)::

    {name, status: pass|warn|fail|skip, observed, expected, fix, blocking, section}

An observation that was not gathered (its source is switched off, or does not apply to the host) is
``None`` and gives ``skip``: a check never passes on data it has not seen. docs/checks.md lists every
check with its source section in the guide.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import fnmatch
import io
import json
import re
from datetime import datetime, timedelta, timezone

from ansible_collections.ump365.upgrade.plugins.module_utils import wyupdate as wy

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

WHITELIST_SERVICES = ("SysAdmin.QuickReplicationCycleWorker", "SysAdmin.UMP.Watchdog", "SysAdmin.SyncAcquiredNumber")
WHITELIST_FROM_VERSION = "8.0.450"
REQUIRED_COLLATION = "SQL_Latin1_General_CP1_CI_AS"
DEFAULT_WAN_OVOC_IP = "169.254.0.1"


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
def version_tuple(v):
    """'8.0.400.64' -> (8, 0, 400, 64); non-numeric parts sort as 0; None -> ()."""
    if v is None:
        return ()
    parts = []
    for p in str(v).strip().split("."):
        m = re.match(r"\d+", p)
        parts.append(int(m.group(0)) if m else 0)
    return tuple(parts)


def version_matches(actual, expected):
    """True when ``actual`` is ``expected`` or a build of it ('8.0.515' matches '8.0.515.12')."""
    if actual is None or expected is None:
        return False
    a, e = version_tuple(actual), version_tuple(expected)
    return bool(e) and a[: len(e)] == e


def version_at_least(actual, minimum):
    a, m = version_tuple(actual), version_tuple(minimum)
    n = max(len(a), len(m))
    return a + (0,) * (n - len(a)) >= m + (0,) * (n - len(m))


def parse_time(value):
    """An ISO 8601 time ('2026-05-01T10:00:00Z', '...+00:00', '2026-05-01 10:00:00') as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    s = str(value).strip().replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:\d\d)?$", s)
    if not m:
        m2 = re.match(r"^(\d{4}-\d\d-\d\d)$", s)
        if not m2:
            raise ValueError("not an ISO 8601 time: %r" % value)
        return datetime.strptime(m2.group(1), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    dt = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    tz = m.group(3) or "+00:00"
    sign = 1 if tz[0] == "+" else -1
    offset = sign * (int(tz[1:3]) * 60 + int(tz[4:6]))
    return (dt - timedelta(minutes=offset)).replace(tzinfo=timezone.utc)


def parse_keyvalue(text):
    """``key=value`` lines (wyUpdate's /outputinfo file) as a dict with lower-case keys."""
    out = {}
    for line in (text or "").splitlines():
        line = line.strip().lstrip("\ufeff")
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out[k.strip().lower()] = v.strip()
    return out


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


def password_customers(auth_status):
    """The customers the Authentication Status page shows with method Password (the guide's list)."""
    out = []
    for c in (auth_status or {}).get("customers") or []:
        if _lower(c.get("method")) == "password":
            out.append(
                {
                    "customer": c.get("customer"),
                    "m365_email": c.get("m365_email"),
                    "method": c.get("method"),
                    "last_verified": c.get("last_verified"),
                    "last_status": c.get("last_status"),
                }
            )
    return sorted(out, key=lambda c: _lower(c["customer"]))


CSV_FIELDS = ("customer", "m365_email", "method", "last_verified", "last_status")


def customers_csv(rows, fields=CSV_FIELDS):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows or []:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    return buf.getvalue()


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


# --------------------------------------------------------------------------- preflight
def check_wyupdate(obs, target, patterns=None):
    """wyUpdate's /justcheck answer, read as wyUpdate's source writes it (module_utils/wyupdate.py)."""
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


def check_azure(obs):
    """The VM, its disks, and what the snapshot and the restore need in Azure (azure_vm_restore_info)."""
    out = []
    az = obs.get("azure")
    names = (
        ("azure_vm", "the UMP VM exists and is running"),
        ("azure_os_disk", "the VM's managed OS disk is readable"),
        ("azure_snapshot_rights", "the automation's identity may snapshot and restore in the VM's resource group"),
        ("azure_disk_encryption", "no Azure Disk Encryption (its OS disk cannot be swapped)"),
        ("azure_data_disks", "no data disks (only the OS disk is snapshotted and restored)"),
        ("azure_resource_locks", "no lock that forbids the snapshot or the restore"),
    )
    if az is None:
        return [not_gathered(n, e, "Azure checks not run", True, S_SNAPSHOT) for n, e in names]
    vm = az.get("vm") or {}
    if not vm.get("exists", bool(vm)):
        why = "VM not read: %s%s" % (
            az.get("vm_name"),
            (" (%s)" % str(vm.get("error"))[:300]) if vm.get("error") else "",
        )
        out.append(
            check(
                names[0][0],
                FAIL,
                why,
                names[0][1],
                "set ump_azure_subscription_id, ump_azure_resource_group and ump_azure_vm_name to the UMP VM; "
                "grant the identity read on it",
                True,
                S_SNAPSHOT,
            )
        )
        return out + [not_gathered(n, e, "the VM was not read", True, S_SNAPSHOT) for n, e in names[1:]]
    power = vm.get("power_state")
    out.append(
        check(
            names[0][0],
            PASS if power in ("running", "VM running") else FAIL,
            "%s (%s)" % (az.get("vm_name"), power or "power state unknown"),
            names[0][1],
            "start the VM (and wait until the UMP services run) before the upgrade",
            True,
            S_SNAPSHOT,
        )
    )
    disk = az.get("os_disk") or {}
    if disk.get("id"):
        out.append(check(names[1][0], PASS, disk.get("name") or disk.get("id"), names[1][1], None, True, S_SNAPSHOT))
    else:
        out.append(
            check(
                names[1][0],
                FAIL,
                "no managed OS disk found",
                names[1][1],
                "the VM must use a managed OS disk (the snapshot and the swap need it)",
                True,
                S_SNAPSHOT,
            )
        )
    missing = az.get("missing_actions")
    if missing is None:
        out.append(not_gathered(names[2][0], names[2][1], "permissions not read", True, S_SNAPSHOT))
    elif missing:
        out.append(
            check(
                names[2][0],
                FAIL,
                "missing: %s" % _short(missing),
                names[2][1],
                "grant the automation's identity these actions on the resource group (docs/azure.md has the "
                "least-privilege role); nothing was changed",
                True,
                S_SNAPSHOT,
                details=missing,
            )
        )
    else:
        out.append(check(names[2][0], PASS, "every required action granted", names[2][1], None, True, S_SNAPSHOT))
    if az.get("ade") is None:
        out.append(not_gathered(names[3][0], names[3][1], "encryption not read", True, S_SNAPSHOT))
    elif az.get("ade"):
        out.append(
            check(
                names[3][0],
                FAIL,
                "Azure Disk Encryption is enabled on the VM",
                names[3][1],
                "Azure does not support swapping the OS disk of a VM encrypted with Azure Disk Encryption, so a "
                "failed upgrade could not be rolled back: upgrade it by hand with an Azure Backup restore point, or "
                "move it to encryption at host / a disk encryption set first (docs/azure.md)",
                True,
                S_SNAPSHOT,
            )
        )
    else:
        des = disk.get("disk_encryption_set_id")
        out.append(
            check(
                names[3][0],
                PASS,
                (
                    "%s with disk encryption set %s (the restored disk keeps it)"
                    % (disk.get("encryption_type"), des.rstrip("/").split("/")[-1])
                )
                if des
                else (disk.get("encryption_type") or "platform-managed key"),
                names[3][1],
                None,
                True,
                S_SNAPSHOT,
            )
        )
    data = az.get("data_disks")
    if data is None:
        out.append(not_gathered(names[4][0], names[4][1], "data disks not read", True, S_SNAPSHOT))
    elif not data:
        out.append(check(names[4][0], PASS, "none", names[4][1], None, True, S_SNAPSHOT))
    else:
        listed = _short("LUN %s %s" % (d.get("lun"), d.get("name")) for d in data)
        allowed = az.get("data_disks_policy") == "allow"
        out.append(
            check(
                names[4][0],
                WARN if allowed else FAIL,
                ("%s (allowed: they are NOT snapshotted or restored)" if allowed else "%s") % listed,
                names[4][1],
                "a rollback restores only the OS disk: SQL Server data or UMP files on a data disk would stay at the "
                "upgraded state beside an old OS disk. Move them to the OS disk, or upgrade this host by hand with "
                "snapshots of every disk; preflight_data_disks=allow accepts the risk (docs/azure.md)",
                not allowed,
                S_SNAPSHOT,
                details=data,
            )
        )
    locks = az.get("locks")
    if locks is None:
        out.append(not_gathered(names[5][0], names[5][1], "locks not read", True, S_SNAPSHOT))
    else:
        ro = [lk for lk in locks if _lower(lk.get("level")) == "readonly"]
        nd = [lk for lk in locks if _lower(lk.get("level")) == "cannotdelete"]
        desc = _short("%s %s on %s" % (lk.get("level"), lk.get("name"), lk.get("scope")) for lk in (ro or nd))
        if ro:
            out.append(
                check(
                    names[5][0],
                    FAIL,
                    desc,
                    names[5][1],
                    "a ReadOnly lock forbids creating the snapshot and the disk, and deallocating and updating the VM: "
                    "remove it for the upgrade window (Azure portal, Locks) and put it back afterwards",
                    True,
                    S_SNAPSHOT,
                    details=ro,
                )
            )
        elif nd:
            out.append(
                check(
                    names[5][0],
                    WARN,
                    desc,
                    names[5][1],
                    "CanNotDelete does not stop the snapshot or the restore, but playbooks/cleanup.yml cannot delete "
                    "old snapshots and disks while it is there",
                    False,
                    S_SNAPSHOT,
                    details=nd,
                )
            )
        else:
            out.append(check(names[5][0], PASS, "no locks", names[5][1], None, True, S_SNAPSHOT))
    return out


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


# --------------------------------------------------------------------------- token migration
def token_migration_status(auth_status, invitations, targets=None):
    """Per password customer (or ``targets``): method now, its latest invitation and where it stands."""
    custs = {_lower(c.get("customer")): c for c in (auth_status or {}).get("customers") or []}
    inv_by = {}
    for i in invitations or []:
        key = _lower(i.get("Customer") or i.get("customer"))
        if key not in inv_by or (i.get("Id") or 0) >= (inv_by[key].get("Id") or 0):
            inv_by[key] = i
    if targets is None:
        # the customers still on password, and those switched by an invitation of ours ("Request")
        names = [r["customer"] for r in password_customers(auth_status)]
        for i in invitations or []:
            n = i.get("Customer") or i.get("customer")
            if _lower(i.get("InvitationType")) == "request" and n and _lower(n) not in [_lower(x) for x in names]:
                names.append(n)
    else:
        names = targets
    out = []
    for n in names:
        c = custs.get(_lower(n), {})
        inv = inv_by.get(_lower(n))
        method = c.get("method")
        if _lower(method) == "token":
            state = "token"
        elif inv is None:
            state = "no_invitation"
        elif inv.get("DeviceAuthenticated") or _lower(inv.get("State")) == "accepted":
            state = "accepted"
        elif _lower(inv.get("State")) in ("expired", "revoked"):
            state = _lower(inv.get("State"))
        else:
            state = "invited"
        out.append(
            {
                "customer": n,
                "method": method,
                "state": state,
                "invitation_id": inv.get("Id") if inv else None,
                "invitation_email": inv.get("InvitationEmail") if inv else None,
                "sent": inv.get("CreatedAt") if inv else None,
            }
        )
    return out


GRANT_CONSENT_STEPS = (
    "Grant Consent path (guide, Upgrading M365 Connection to Token Authentication): the customer's admin signs in "
    "to the Customer portal, Configuration > M365 Configuration, and clicks Grant Consent (password-based and token "
    "authentication; Multi-factor authentication must be off for that account)"
)


def token_migration_checks(status, plan=None):
    """``plan`` (customer -> ``dry_run`` | ``switch_to_token`` | ``grant_consent``) says what this run did for a
    customer still on password: nothing yet (dry run), an invitation, or the Grant Consent path."""
    plan = {_lower(k): v for k, v in (plan or {}).items()}
    out = []
    for s in status or []:
        st = s["state"]
        action = plan.get(_lower(s["customer"]))
        if st == "token":
            res, fix = PASS, None
        elif st == "no_invitation" and action == "dry_run":
            res, fix = (
                WARN,
                "dry run, nothing sent: name the customer in token_migration_customers (or confirm the listed ones "
                "with token_migration_confirm=true) to send Switch to Token; or the " + GRANT_CONSENT_STEPS,
            )
            st = "not invited (dry run)"
        elif st == "no_invitation" and action == "grant_consent":
            res, fix = WARN, GRANT_CONSENT_STEPS
            st = "waiting for Grant Consent"
        elif st in ("invited", "accepted"):
            res, fix = WARN, "the customer's admin must open the invitation link and authenticate (device code)"
        else:
            res, fix = (
                FAIL,
                "send the invitation again (Security > Authentication Status > Switch to token, or Resend invitation)",
            )
        out.append(
            check(
                "token_auth_%s" % s["customer"],
                res,
                "%s%s"
                % (
                    st,
                    " (invitation %s to %s)" % (s["invitation_id"], s["invitation_email"])
                    if s["invitation_id"]
                    else "",
                ),
                "customer authenticated by token",
                fix,
                False,
                S_TOKEN,
            )
        )
    return out


# --------------------------------------------------------------------------- Windows primitives -> observations
def disk_free_gb(disks, drive="C"):
    """Free GB of ``drive`` from community.windows.win_disk_facts (``ansible_facts.ansible_disks``, as win_disk_facts.ps1 sets it); None if not found."""
    d = _lower(drive).rstrip(":\\")
    for disk in disks or []:
        for part in disk.get("partitions") or []:
            if _lower(part.get("drive_letter")) != d:
                continue
            for vol in part.get("volumes") or []:
                if vol.get("size_remaining") is not None:
                    return round(float(vol["size_remaining"]) / 1024**3, 1)
    return None


def parse_openfiles(text):
    """Paths from ``openfiles.exe /query /fo csv /v`` (the last column is the open file's path)."""
    rows = list(csv.reader(io.StringIO(text or "")))
    out = []
    for row in rows:
        if not row or row[0].strip().lower() in ("hostname", "info:"):
            continue
        path = row[-1].strip()
        if re.match(r"^[a-zA-Z]:\\", path):
            out.append(path)
    return out


def certificates_from_info(certs):
    """ansible.windows.win_certificate_info ``certificates`` -> the fields the certificate check reads."""
    out = []
    for c in certs or []:
        out.append(
            {
                "subject": c.get("subject"),
                "dns_names": c.get("dns_names") or [],
                "not_after": c.get("valid_to_iso8601"),
                "has_private_key": c.get("has_private_key", True),
                "thumbprint": c.get("thumbprint"),
            }
        )
    return out


def egress_from_uri_results(results):
    """A looped ansible.windows.win_uri (loop over dict2items of the endpoints) -> egress probe list."""
    out = []
    for r in results or []:
        item = r.get("item") or {}
        status = r.get("status_code")
        ok = not r.get("failed") and status is not None and 200 <= int(status) < 400
        out.append(
            {
                "name": item.get("name", item.get("key")),
                "url": item.get("url", item.get("value")),
                "ok": ok,
                "status": status,
                "error": None if ok else (r.get("msg") or "")[:200],
            }
        )
    return out


CURL_WRITE_OUT = "%{http_code} %{time_total} %{url_effective}\\n"
_CURL_LINE = re.compile(r"^(\d{3}) (\S+) (\S+)\s*$")
_CURL_ERROR = re.compile(r"^curl: \((\d+)\) (.*?)\s*$")


def curl_probe_command(endpoints, timeout=15, curl="C:\\Windows\\System32\\curl.exe"):
    """One curl.exe command line that sends a HEAD to every endpoint URL in turn.

    ``-sS``: no progress meter but an error line per failed transfer; ``-o NUL`` once per URL (curl pairs
    each ``-o`` with one URL); ``--write-out`` uses only variables of curl 7.55.1 (Server 2019's inbox
    curl): a line ``<http_code> <time_total> <url_effective>`` per transfer, failed ones too (000).
    """
    items = endpoints.items() if isinstance(endpoints, dict) else [(e.get("name"), e.get("url")) for e in endpoints]
    parts = ['"%s"' % curl, "-sS", "-I", "--max-time", str(int(timeout)), "-w", '"%s"' % CURL_WRITE_OUT]
    for _name, url in items:
        if not re.match(r"^https?://[^\s\"]+$", str(url or "")):
            raise ValueError("endpoint URL %r is not an http(s) URL without spaces or quotes" % (url,))
        parts += ["-o", "NUL", str(url)]
    return " ".join(parts)


def egress_from_curl(result, endpoints):
    """The registered result of :func:`curl_probe_command` run by win_command -> egress probe list.

    Transfers are matched to the endpoints by position (curl runs the URLs in the order given); the
    error lines on stderr (``curl: (N) message``) belong, in order, to the transfers with code 000. A
    probe is ok when the HTTP status is 200 to 399, as with win_uri. A command that did not run (curl
    missing, WinRM error) fails every probe with its message.
    """
    items = endpoints.items() if isinstance(endpoints, dict) else [(e.get("name"), e.get("url")) for e in endpoints]
    result = result or {}
    lines = [m for m in (_CURL_LINE.match(x) for x in (result.get("stdout") or "").splitlines()) if m]
    errs = [m for m in (_CURL_ERROR.match(x) for x in (result.get("stderr") or "").splitlines()) if m]
    # no transfer line at all: curl did not run (not found, WinRM error) or refused its arguments
    why = (result.get("msg") or result.get("stderr") or "curl.exe gave no answer").strip()[:200]
    out = []
    for n, (name, url) in enumerate(items):
        if n >= len(lines):
            out.append(
                {"name": name, "url": url, "ok": False, "status": None, "error": why if not lines else "not probed"}
            )
            continue
        code = int(lines[n].group(1))
        ok = 200 <= code < 400
        error = None
        if code == 0:
            k = sum(1 for m in lines[:n] if m.group(1) == "000")
            error = ("curl error %s: %s" % (errs[k].group(1), errs[k].group(2))) if k < len(errs) else "no HTTP answer"
        elif not ok:
            error = "HTTP %d" % code
        out.append({"name": name, "url": url, "ok": ok, "status": code or None, "error": error})
    return out


def versions_summary(versions):
    """The Tenants page as the report's versions: SysAdminKit, MultiTenant and each customer's version."""
    v = versions or {}
    return {
        "sysadminkit": v.get("sysadminkit_version"),
        "multitenant": v.get("multitenant_version"),
        "customers": {str(c.get("name")): c.get("version") for c in v.get("customers") or []},
    }


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
        key = CHECK_SOURCES.get(c["name"])
        if c["status"] == SKIP and key in errs:
            c["status"] = WARN if key in SOFT_SOURCES else FAIL
            c["observed"] = "could not read %s: %s" % (key, str(errs[key])[:300])
            c["fix"] = "fix the error above (the UMP server, its API or the connection to it) and run again"
    return checks
