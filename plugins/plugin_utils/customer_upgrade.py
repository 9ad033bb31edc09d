# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Customer tenants on a UMP-365 server: which to upgrade, in which batches, and what their log says.

Pure functions for the controller. The Customer Upgrade executable's unattended switches and log
format are NOT public (facts/windows_wyupdate.md); the defaults are the lab's documented contract
(docs/assumptions.md), every pattern a parameter:

    <ISO time> | <customer> | Upgrading | <from version> |
    <ISO time> | <customer> | UpToDate | <target> |
    <ISO time> | <customer> | Failed | <version> | <reason>
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import hashlib
import re

from ansible_collections.ump365.upgrade.plugins.plugin_utils.versions import version_cmp
from ansible_collections.ump365.upgrade.plugins.plugin_utils.wyupdate import _lines, parse_time, seconds_between

DEFAULT_LINE_PATTERN = (
    r"^\s*(?P<time>\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-][\d:]+)?)\s*\|\s*(?P<customer>[^|]+?)\s*\|"
    r"\s*(?P<status>\w+)\s*\|\s*(?P<version>[^|]*?)\s*(?:\|\s?(?P<reason>.*?))?\s*$"
)
DEFAULT_STATUS_MAP = {"Upgrading": "upgrading", "UpToDate": "uptodate", "Failed": "failed"}
_SHORT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CustomerSelectionError(ValueError):
    """The operator's selection names customers that are not on the host, or is not valid."""


def valid_short_name(name):
    return isinstance(name, str) and bool(_SHORT.match(name))


def version_file_checksums(version):
    """SHA-1 of the contents a ``version.txt`` holding ``version`` may have (LF, CRLF, none, with BOM).

    win_find returns each file's SHA-1, so one call tells which customers are at the target without
    reading every file (docs/assumptions.md).
    """
    out = []
    for body in (version + "\n", version + "\r\n", version, version + "\n\n"):
        for prefix in (b"", b"\xef\xbb\xbf"):
            out.append(hashlib.sha1(prefix + body.encode("utf-8")).hexdigest().lower())
    return out


def customers_from_find(files, target, version_file="version.txt", known_versions=None):
    """Customers found by win_find under the tenants folder, with what their version file says.

    ``files``: win_find's ``files`` (each with ``path`` and ``checksum``). A customer is the folder
    that holds ``version_file``. Returns ``{short: {"version": v|None, "at_target": bool|None}}``:
    ``at_target`` is True when the checksum is the target's, False when it is one of
    ``known_versions``' (not the target) or any other content (then ``version`` is None).
    """
    want = set(version_file_checksums(target))
    known = {}
    for v in known_versions or []:
        for c in version_file_checksums(v):
            known[c] = v
    out = {}
    for f in files or []:
        path = (f.get("path") or "").replace("/", "\\")
        parts = [p for p in path.split("\\") if p]
        if len(parts) < 2 or parts[-1].lower() != version_file.lower():
            continue
        short = parts[-2]
        checksum = (f.get("checksum") or "").lower()
        if checksum and checksum in want:
            out[short] = {"version": target, "at_target": True}
        elif checksum and checksum in known:
            out[short] = {"version": known[checksum], "at_target": version_cmp(known[checksum], target) >= 0}
        else:
            out[short] = {"version": None, "at_target": False}
    return out


def select_customers(found, target, requested=None, pattern=None, exclude=None, finished=None):
    """Which customers to upgrade and why the others are skipped.

    :param found: ``customers_from_find`` output (or ``{short: {"version", "at_target"}}``)
    :param requested: explicit list of short names (empty/None = every customer on the host)
    :param pattern: shell-style pattern the names must match (None/'' = all)
    :param exclude: shell-style patterns of names never to upgrade
    :param finished: names the checkpoint records as finished in an earlier run
    :returns: ``{"selected": [...], "skipped": [{"name", "reason", "version"}], "unknown": [...]}``
    :raises CustomerSelectionError: a requested name is not a valid short name
    """
    requested = [r for r in (requested or []) if r not in (None, "")]
    bad = [r for r in requested if not valid_short_name(r)]
    if bad:
        raise CustomerSelectionError(
            "customer short name(s) %s are not valid (letters, digits, '.', '_', '-')" % ", ".join(repr(b) for b in bad)
        )
    lower = {k.lower(): k for k in found}
    unknown = [r for r in requested if r.lower() not in lower]
    names = [lower[r.lower()] for r in requested if r.lower() in lower] if requested else sorted(found, key=str.lower)
    finished_l = {n.lower() for n in (finished or [])}
    selected, skipped = [], []
    for name in names:
        info = found.get(name, {})
        if pattern and not fnmatch.fnmatch(name.lower(), pattern.lower()):
            skipped.append({"name": name, "reason": "not matching %s" % pattern, "version": info.get("version")})
        elif any(fnmatch.fnmatch(name.lower(), x.lower()) for x in exclude or []):
            skipped.append({"name": name, "reason": "excluded", "version": info.get("version")})
        elif info.get("at_target"):
            skipped.append({"name": name, "reason": "already at %s" % target, "version": info.get("version")})
        elif name.lower() in finished_l:
            skipped.append(
                {
                    "name": name,
                    "reason": "finished in an earlier run (checkpoint), although its version file does not show %s"
                    % target,
                    "version": info.get("version"),
                }
            )
        else:
            selected.append(name)
    return {"selected": selected, "skipped": skipped, "unknown": unknown}


def batches(names, size):
    size = int(size)
    if size < 1:
        raise CustomerSelectionError("batch size must be at least 1, got %r" % size)
    return [list(names[i : i + size]) for i in range(0, len(names), size)]


def parse_log(text, pattern=None, status_map=None, since=None):
    """The Customer Upgrade log: per customer, its last attempt (the log is appended across runs).

    Returns ``{"customers": {name: {"status", "from_version", "version", "start", "end", "reason"}},
    "garbled": [...]}``; status is ``upgrading`` (started, no outcome yet), ``uptodate``, ``failed``
    or ``unknown``. Lines older than ``since`` (ISO time) are ignored when given.
    """
    try:
        rx = re.compile(pattern or DEFAULT_LINE_PATTERN, re.IGNORECASE)
    except re.error as e:
        raise CustomerSelectionError("customer log pattern %r is not a valid regular expression: %s" % (pattern, e))
    for g in ("time", "customer", "status", "version"):
        if g not in rx.groupindex:
            raise CustomerSelectionError("customer log pattern %r lacks the named group %s" % (pattern, g))
    smap = {k.lower(): v for k, v in (status_map or DEFAULT_STATUS_MAP).items()}
    since_t = parse_time(since) if since else None
    out = {}
    garbled = []
    for line in _lines(text):
        if not line.strip():
            continue
        m = rx.match(line)
        if not m:
            garbled.append(line[:300])
            continue
        t = m.group("time").strip()
        if since_t is not None:
            tt = parse_time(t)
            if tt is not None and (tt.tzinfo is None) == (since_t.tzinfo is None) and tt < since_t:
                continue
        name = m.group("customer").strip()
        status = smap.get(m.group("status").strip().lower(), "unknown")
        version = m.group("version").strip()
        reason = (m.groupdict().get("reason") or "").strip()
        if status == "upgrading":
            out[name] = {"status": "upgrading", "from_version": version, "version": version, "start": t, "end": None}
            out[name]["reason"] = ""
            continue
        rec = out.setdefault(
            name, {"status": status, "from_version": None, "version": version, "start": None, "end": None}
        )
        rec.update({"status": status, "version": version or rec.get("version"), "end": t, "reason": reason})
    return {"customers": out, "garbled": garbled}


def stuck_customers(parsed, first_seen, now, timeout):
    """Customers ``upgrading`` for longer than ``timeout`` seconds by the controller's clock.

    ``first_seen``: ``{name: monotonic seconds when the controller first saw it upgrading}``.
    """
    out = []
    for name, rec in parsed.get("customers", {}).items():
        if rec["status"] == "upgrading" and name in first_seen and now - first_seen[name] > timeout:
            out.append(name)
    return sorted(out)


def customer_table(
    target, selected, skipped, parsed_log, found_after=None, found_before=None, stuck=None, batches_run=None
):
    """The per-customer table the run report shows (one dict per customer, the selected ones first).

    ``status``: ``upgraded``, ``failed``, ``stuck``, ``not_run`` (its batch did not run), ``unverified``
    (the log says UpToDate but the version file does not show the target), or ``skipped``.
    """
    customers = (parsed_log or {}).get("customers", {})
    lower = {k.lower(): v for k, v in customers.items()}
    after = {k.lower(): v for k, v in (found_after or {}).items()}
    before = {k.lower(): v for k, v in (found_before or {}).items()}
    stuck_l = {s.lower() for s in stuck or []}
    ran = {n.lower() for b in (batches_run or []) for n in b} if batches_run is not None else None
    global_failure = lower.get("*") if (lower.get("*") or {}).get("status") == "failed" else None
    table = []
    for name in selected:
        rec = lower.get(name.lower())
        b = before.get(name.lower(), {})
        a = after.get(name.lower(), {})
        row = {
            "name": name,
            "version_before": (rec or {}).get("from_version") or b.get("version"),
            "version_after": None,
            "status": "not_run",
            "seconds": None,
            "reason": "",
        }
        if ran is not None and name.lower() not in ran:
            row["reason"] = "not run (an earlier batch failed, or check mode)"
            rec = None
        elif name.lower() in stuck_l:
            row.update(status="stuck", reason="still Upgrading when the per-customer timeout ran out")
        elif rec is None and global_failure:
            row.update(status="failed", reason=global_failure.get("reason") or "the run failed before any customer")
        elif rec is None:
            row["reason"] = "the log has no line for this customer"
        elif rec["status"] == "uptodate":
            row["status"] = "upgraded"
            row["version_after"] = rec.get("version") or target
            if a and not a.get("at_target"):
                row.update(status="unverified", reason="log says UpToDate but version.txt does not show %s" % target)
        elif rec["status"] == "failed":
            row.update(status="failed", reason=rec.get("reason") or "Failed", version_after=rec.get("version"))
        elif rec["status"] == "upgrading":
            row.update(status="stuck", reason="no outcome in the log (still Upgrading)")
        else:
            row.update(status="failed", reason="unknown status in the log")
        if rec and rec.get("start") and rec.get("end"):
            row["seconds"] = seconds_between(rec["start"], rec["end"])
        if row["version_after"] is None and a.get("at_target"):
            row["version_after"] = target
        table.append(row)
    for s in skipped:
        v = s.get("version")
        table.append(
            {
                "name": s["name"],
                "version_before": v,
                "version_after": v,
                "status": "skipped",
                "seconds": 0,
                "reason": s.get("reason", ""),
            }
        )
    return table


def summarize(table, host="host", log_path="the Customer Upgrade log"):
    """``{"ok", "changed", "failed": [...], "msg"}`` for the role's final assertion."""
    bad = [r for r in table if r["status"] in ("failed", "stuck", "unverified", "not_run")]
    upgraded = [r["name"] for r in table if r["status"] == "upgraded"]
    skipped = [r["name"] for r in table if r["status"] == "skipped"]
    if not bad:
        msg = "%s: %d customer(s) upgraded (%s), %d skipped" % (
            host,
            len(upgraded),
            ", ".join(upgraded) or "none",
            len(skipped),
        )
        return {"ok": True, "changed": bool(upgraded), "failed": [], "msg": msg}
    parts = []
    for r in bad:
        parts.append("%s %s%s" % (r["name"], r["status"], (" (%s)" % r["reason"]) if r["reason"] else ""))
    first = bad[0]
    if first["status"] == "stuck":
        fix = (
            "check customer %s on the host (%s, C:\\acs\\tenants\\%s\\logs); when Sysadmin.CustomerUpgrade.exe has "
            "ended, run again (a rerun of a host that was not rolled back skips the customers at the target)"
            % (first["name"], log_path, first["name"])
        )
    else:
        fix = (
            "read %s for customer %s, fix the cause and run again (a rerun of a host that was not rolled back "
            "skips the customers at the target)"
        ) % (
            log_path,
            first["name"],
        )
    # only the customers that failed are named: the others' state is the run report's customer table (a full
    # rollback undoes their upgrade too, so a reason listing them as upgraded would mislead)
    msg = (
        "%s: customer upgrade: %s (%d other customer(s) upgraded before the failure; see the report's "
        "customer table). Fix: %s"
    ) % (
        host,
        "; ".join(parts),
        len(upgraded),
        fix,
    )
    return {"ok": False, "changed": bool(upgraded), "failed": [r["name"] for r in bad], "msg": msg}


def db_cross_check(db_customers, found, target, requested=None, pattern=None, exclude=None, host="host", where=None):
    """Compare the host-side evidence with SysAdminTenant, the authoritative list of the server's customers.

    ``db_customers``: ``[{"name", "version"}]`` read from SysAdminTenant; ``found``: the customers the host
    shows (``customers_from_find``). The customers that need the upgrade are the database's below ``target``
    (narrowed by the operator's ``requested`` / ``pattern`` / ``exclude``). Returns ``{"ok", "need",
    "missing", "msg"}``: not ok when the host accounts for fewer of them than the database lists (``missing``:
    the database's customers the host shows no evidence of), so zero customers found on the host can never
    count as "all customers upgraded".
    """
    if db_customers is None:
        return {
            "ok": False,
            "need": [],
            "missing": [],
            "msg": "%s: the customers in SysAdminTenant could not be read" % host,
        }
    requested_l = {r.lower() for r in requested or [] if r}
    need = []
    for c in db_customers:
        name = str(c.get("name") or "")
        if not name:
            continue
        if requested_l and name.lower() not in requested_l:
            continue
        if pattern and not fnmatch.fnmatch(name.lower(), pattern.lower()):
            continue
        if any(fnmatch.fnmatch(name.lower(), x.lower()) for x in exclude or []):
            continue
        if c.get("version") and version_cmp(c.get("version"), target) >= 0:
            continue
        need.append(name)
    found_l = {k.lower() for k in found or {}}
    missing = [n for n in need if n.lower() not in found_l]
    if not missing:
        return {
            "ok": True,
            "need": need,
            "missing": [],
            "msg": "%s: the host accounts for all %d customer(s) SysAdminTenant lists below %s"
            % (host, len(need), target),
        }
    msg = (
        "%s: SysAdminTenant lists %d customer(s) below %s (%s), but the host shows evidence of %d of them: no version "
        "file for %s under %s. Nothing was upgraded for them. Fix: check customer_upgrade_tenants_dir and "
        "customer_upgrade_version_file against the host's tenants layout (playbooks/discover.yml records it)"
        % (
            host,
            len(need),
            target,
            ", ".join(need),
            len(need) - len(missing),
            ", ".join(missing),
            where or "the tenants folder",
        )
    )
    return {"ok": False, "need": need, "missing": missing, "msg": msg}


def db_after_check(db_customers, need, target, host="host"):
    """After the run: every customer the database said needed the upgrade is at ``target`` in the database.

    Returns ``{"ok", "below": [...], "msg"}``; zero upgraded while the database still has customers below the
    target is a failure, whatever the host's log says.
    """
    if db_customers is None:
        return {"ok": False, "below": list(need or []), "msg": "%s: SysAdminTenant could not be read again" % host}
    versions = {str(c.get("name") or "").lower(): c.get("version") for c in db_customers}
    below = [n for n in need or [] if not versions.get(n.lower()) or version_cmp(versions[n.lower()], target) < 0]
    if not below:
        return {
            "ok": True,
            "below": [],
            "msg": "%s: SysAdminTenant shows every upgraded customer at %s" % (host, target),
        }
    return {
        "ok": False,
        "below": below,
        "msg": "%s: after the customer upgrade SysAdminTenant still shows %d customer(s) below %s: %s"
        % (
            host,
            len(below),
            target,
            ", ".join("%s (%s)" % (n, versions.get(n.lower()) or "no version") for n in below),
        ),
    }
