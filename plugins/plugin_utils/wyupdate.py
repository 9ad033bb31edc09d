# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wyUpdate on a UMP-365 server: what its check says, what its logs say, what its exit code means.

Pure functions (no Ansible, no I/O) so the controller decides and unit tests pin every case. Every
pattern is a parameter (role variables; docs/assumptions.md, "Windows host, wyUpdate and Customer Upgrade").

Public, from wyUpdate's source (github wyday/wyupdate; facts/windows_wyupdate.md):

- ``/outputinfo`` file of ``/quickcheck /justcheck`` (frmMain/frmMain.Updating.cs): exit 2 with the new
  version on line 1 and the change text after it; exit 1 with the error title on line 1 and its details
  after it; exit 0 writes nothing (a file left from an earlier run is stale and is ignored).
- ``-logfile`` (Util/Logger.cs): one line per run, ``DateTime.Now.ToString("M/d/yyyy HH:mm:ss:fff tt")``
  + ``": "`` + ``Updated successfully.`` or ``<error> - <details>``. The separators and the AM/PM
  designator are the host culture's (``12.7.2026 14:03:27:512 : ...`` on de-DE): the result is found after
  the ``: `` that ends the time stamp, never by its separators or designator.

NOT public (the lab's documented defaults):

- step log ``C:\\acs\\wyupdate_logs\\upgrade_<version>.log``: ``<ISO time> | <Step> | START|OK|FAILED|SKIPPED | <msg>``
- ``LogReport.txt``: ``ERROR | <Step> | <message>``
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.ump365.upgrade.plugins.module_utils.timeparse import parse_time as _parse_time

# The UMP package's steps in the guide's order ("Stop wyUpdate Processes", facts/windows_wyupdate.md).
GUIDE_STEPS = [
    "ClearWyupdateLog",
    "CheckDuplicates",
    "CheckSQLConn",
    "UmpAdmins",
    "ClearUpgradefolderSQLscripts",
    "CheckServices",
    "SetServices",
    "StartPeeringSvc",
    "CheckSQLDbBackupBackendFolder",
    "renameSysAdminKitFolder",
    "RunSqlScripts",
    "AddAuthPool",
    "InstallPowershellGetModule",
    "InstallMicrosoftTeamsModule",
    "InstallChocolatey",
    "InstallDotNet",
    "InstallRabbitmq",
    "InstallEmsMainAgent",
    "InstallEmsClientAgent",
    "InstallPublicOvocConnector",
    "Installtap-windows-9.23.3-I601-Win10",
    "RunCheckAzureTenantId_220",
    "RunCheckAzureTenantId_220_Password",
    "AlertCustomerUpgrade",
    "runLogReport",
    "Refresh_EMSCClientAgent_ignoreList",
]

# The guide's tables spell the tap-windows step with a lower-case L once ("I601" / "l601").
DEFAULT_ALIASES = {"Installtap-windows-9.23.3-l601-Win10": "Installtap-windows-9.23.3-I601-Win10"}

DEFAULT_PATTERNS = {
    # one step log line; named groups time, step, status, message
    "step_line": r"^\s*(?P<time>\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-][\d:]+)?)\s*\|\s*(?P<step>[^|]+?)\s*\|\s*(?P<status>\w+)\s*\|\s?(?P<message>.*?)\s*$",
    # one LogReport.txt error line; named groups step, message
    "logreport_line": r"^\s*ERROR\s*\|\s*(?P<step>[^|]+?)\s*\|\s?(?P<message>.*?)\s*$",
    # a -logfile line: the time stamp of "M/d/yyyy HH:mm:ss:fff tt" (fields by their digit counts, any
    # separators, any designator) and the message after the ": " that ends it; groups stamp, message
    "result_line": r"^\s*(?P<stamp>\d{1,2}\D{1,3}\d{1,2}\D{1,3}\d{4}\s+\d{1,2}\D{1,3}\d{2}\D{1,3}\d{2}\D{1,3}\d{3}[^:\r\n]*?): (?P<message>.*)$",
    # the message of a successful run
    "result_ok": r"^\s*Updated successfully\.\s*$",
    # the message of a failed run: "<error> - <details>" (groups error, details; both empty when up to date)
    "result_error": r"^(?P<error>.*?)\s?-(?:\s(?P<details>.*))?$",
    # line 1 of the /outputinfo file after exit 2: the new version; group value
    "check_version": r"^\s*(?P<value>\d+(?:\.\d+){1,3})\s*$",
}
# What the step log's status words mean.
DEFAULT_STATUS_MAP = {"START": "start", "OK": "ok", "FAILED": "failed", "SKIPPED": "skipped"}

# wyUpdate's documented exit codes (facts/windows_wyupdate.md).
DEFAULT_EXIT_MESSAGES = {
    0: "wyUpdate finished: updated successfully, or already up to date",
    1: "wyUpdate ended with an error",
    2: "an update is available (reported by /justcheck only)",
    3: "wyUpdate was cancelled",
    4: "another wyUpdate instance is already running on the host",
}

DEFAULT_ERROR_HINTS = [
    {
        "pattern": r"files? in use|locked|being used by another process",
        "hint": "close every file and folder opened under C:\\acs and C:\\acs\\tenants (log viewers, Explorer, "
        "RDP sessions; guide: Before Upgrading), then run the upgrade again",
    },
    {
        "pattern": r"elevation|administrator|access is denied",
        "hint": "run wyUpdate as a member of the UmpAdmins group: check ump_service_account / ump_service_password "
        "and the account's group membership",
    },
    {
        "pattern": r"another instance|already running",
        "hint": "wait until the running wyUpdate ends (or end it in Task Manager), then run again",
    },
    {
        "pattern": r"unable to (reach|download|connect)|download failed|could not connect",
        "hint": "open outbound HTTP 80 / HTTPS 443 from the host to the update repository and the component "
        "download sources (role firewall; guide: Configure Firewall), then run again",
    },
    {
        "pattern": r"services?.*(running|not stopped)",
        "hint": "stop every SysAdmin* service and w3svc (role services, services_action=stop), then run again",
    },
]

STEP_RESULT_KEYS = ("name", "status", "start", "end", "seconds", "message", "error")


class WyUpdateLogError(ValueError):
    """A pattern given by the operator is not a valid regular expression or lacks its named groups."""


def _compile(patterns, key, groups=()):
    merged = dict(DEFAULT_PATTERNS)
    merged.update({k: v for k, v in (patterns or {}).items() if v})
    try:
        rx = re.compile(merged[key], re.IGNORECASE)
    except re.error as e:
        raise WyUpdateLogError("pattern %s=%r is not a valid regular expression: %s" % (key, merged[key], e))
    missing = [g for g in groups if g not in rx.groupindex]
    if missing:
        raise WyUpdateLogError("pattern %s=%r lacks the named group(s) %s" % (key, merged[key], ", ".join(missing)))
    return rx


def _lines(text):
    if text is None:
        return []
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_time(value):
    """An ISO 8601 timestamp; one without an offset stays naive (local time); None when it is not one."""
    return _parse_time(value, naive="keep")


def seconds_between(start, end):
    a, b = parse_time(start), parse_time(end)
    if a is None or b is None or (a.tzinfo is None) != (b.tzinfo is None):
        return None
    return round((b - a).total_seconds(), 3)


def parse_check_output(text, rc=None, patterns=None):
    """The /justcheck answer (the /outputinfo file or stdout) read by the exit code, as wyUpdate writes it.

    Returns ``{"update_available": bool|None, "version", "changes", "error", "details", "valid"}``:
    exit 2: line 1 is the new version (pattern ``check_version``), the rest the change text; exit 1: line
    1 is the error title, the rest its details; exit 0: no update, nothing written (any text is a stale
    file and is ignored; ``version`` is None). ``valid`` is False when exit 2 gives no version, or on
    any other exit code.
    """
    ver_rx = _compile(patterns, "check_version", ("value",))
    lines = list(_lines(text))
    while lines and not lines[0].strip():
        lines.pop(0)
    first = lines[0].strip() if lines else ""
    rest = "\n".join(ln.rstrip() for ln in lines[1:]).strip()
    out = {"update_available": None, "version": None, "changes": "", "error": "", "details": "", "valid": False}
    try:
        rc = int(rc)
    except (TypeError, ValueError):
        rc = None
    if rc == 2:
        m = ver_rx.match(first)
        out.update(update_available=True, version=m.group("value").strip() if m else None, changes=rest)
        out["valid"] = bool(m)
        if not m:
            out["error"] = "line 1 of the check's answer is not a version: %r" % first[:200]
    elif rc == 0:
        out.update(update_available=False, valid=True)
    elif rc == 1:
        out.update(error=first or "wyUpdate's check failed (exit 1) and wrote no error", details=rest)
    return out


def _canonical(name, order, aliases):
    aliases = dict(DEFAULT_ALIASES, **(aliases or {}))
    for a, target in aliases.items():
        if a.lower() == name.lower():
            name = target
    for s in order:
        if s.lower() == name.lower():
            return s
    return name


def parse_step_log(text, order=None, patterns=None, status_map=None, aliases=None):
    """Events of the step log: ``{"events": [...], "garbled": [line, ...], "runs": n}``.

    Each event is ``{"time", "step", "status", "message", "raw"}`` with ``status`` mapped through
    ``status_map`` (unknown status words map to ``unknown``). Lines that do not match are kept in
    ``garbled`` (a truncated last line lands there too). When the log holds several runs (wyUpdate
    appends), only the last run's events are returned: a run starts whenever a step STARTs that comes
    at or before the previous START in the guide's order.
    """
    order = list(order or GUIDE_STEPS)
    rx = _compile(patterns, "step_line", ("time", "step", "status", "message"))
    smap = {k.upper(): v for k, v in (status_map or DEFAULT_STATUS_MAP).items()}
    index = {s: i for i, s in enumerate(order)}
    runs = []
    current = []
    garbled = []
    last_start_idx = None
    for line in _lines(text):
        if not line.strip():
            continue
        m = rx.match(line)
        if not m:
            garbled.append(line[:500])
            continue
        step = _canonical(m.group("step").strip(), order, aliases)
        status = smap.get(m.group("status").strip().upper(), "unknown")
        ev = {
            "time": m.group("time").strip(),
            "step": step,
            "status": status,
            "message": m.group("message").strip(),
            "raw": line[:500],
        }
        if status == "start":
            idx = index.get(step)
            if idx is not None and last_start_idx is not None and idx <= last_start_idx and current:
                runs.append(current)
                current = []
            if idx is not None:
                last_start_idx = idx
        current.append(ev)
    if current:
        runs.append(current)
    return {"events": runs[-1] if runs else [], "garbled": garbled, "runs": len(runs)}


def parse_logreport(text, order=None, patterns=None, aliases=None):
    """``LogReport.txt`` error lines as ``[{"step", "message"}]`` (other lines are ignored)."""
    order = list(order or GUIDE_STEPS)
    rx = _compile(patterns, "logreport_line", ("step", "message"))
    out = []
    for line in _lines(text):
        m = rx.match(line)
        if m:
            out.append({"step": _canonical(m.group("step").strip(), order, aliases), "message": m.group("message")})
    return out


def parse_result_log(text, patterns=None, skip_results=0):
    """The last result line of the -logfile.

    ``{"result": "success"|"error"|"no_update"|None, "error", "details", "stamp", "line", "count"}``:
    ``no_update`` is `` - `` (empty error and details: wyUpdate found nothing to install), ``None`` no
    recognised line. Lines that do not start with a time stamp continue the details of the line before
    (multi-line error details). The first ``skip_results`` stamped lines (earlier runs: the file is
    appended to) are not this run's. ``count`` is the number of stamped lines in the text.
    """
    line_rx = _compile(patterns, "result_line", ("stamp", "message"))
    ok_rx = _compile(patterns, "result_ok")
    err_rx = _compile(patterns, "result_error", ("details",))
    found = {"result": None, "error": "", "details": "", "stamp": "", "line": "", "count": 0}
    count = 0
    last = None
    for line in _lines(text):
        m = line_rx.match(line)
        if m:
            count += 1
            last = (
                {"stamp": m.group("stamp").strip(), "message": m.group("message"), "line": line.strip()}
                if (count > int(skip_results or 0))
                else None
            )
        elif last is not None and line.strip():
            last["message"] += "\n" + line.rstrip()
            last["line"] += "\n" + line.strip()
    found["count"] = count
    if last is None:
        return found
    msg = last["message"]
    found.update(stamp=last["stamp"], line=last["line"][:2000])
    if ok_rx.match(msg):
        found["result"] = "success"
        return found
    m = err_rx.match(msg.split("\n", 1)[0])
    if m:
        error = (m.groupdict().get("error") or "").strip()
        details = (m.group("details") or "").strip()
        if "\n" in msg:
            details = (details + "\n" + msg.split("\n", 1)[1]).strip()
        found.update(error=error, details=details, result="error" if (error or details) else "no_update")
        return found
    found.update(result="error", error=msg.strip()[:500], details="")
    return found


def exit_message(rc, messages=None):
    table = dict(DEFAULT_EXIT_MESSAGES)
    for k, v in (messages or {}).items():
        try:
            table[int(k)] = v
        except (TypeError, ValueError):
            continue
    if rc is None:
        return "wyUpdate did not report an exit code"
    try:
        rc = int(rc)
    except (TypeError, ValueError):
        return "wyUpdate returned a non-numeric exit code %r" % (rc,)
    return table.get(rc, "wyUpdate exited with the undocumented code %d" % rc)


def error_hint(text, hints=None):
    """The first operator hint whose pattern matches ``text``; None if none does."""
    for h in hints if hints is not None else DEFAULT_ERROR_HINTS:
        try:
            if text and re.search(h["pattern"], text, re.IGNORECASE):
                return h["hint"]
        except (re.error, KeyError, TypeError):
            continue
    return None


def step_results(events, order=None, logreport=None, excerpt_chars=600):
    """One result per step in the guide's order (plus any step the log names that the guide does not).

    ``status``: ok, failed, skipped, running (STARTed, no end: truncated log or still running),
    not_run (never started), unknown (an end status the map does not know).
    """
    order = list(order or GUIDE_STEPS)
    by_step = {}
    extra = []
    for ev in events:
        step = ev["step"]
        if step not in by_step:
            by_step[step] = {"name": step, "status": "not_run", "start": None, "end": None, "lines": []}
            if step not in order:
                extra.append(step)
        r = by_step[step]
        r["lines"].append(ev)
        if ev["status"] == "start":
            r["start"] = ev["time"]
            r["end"] = None
            r["status"] = "running"
            r["message"] = ev["message"]
        else:
            r["end"] = ev["time"]
            r["status"] = ev["status"]
            r["message"] = ev["message"]
    errors_by_step = {}
    for e in logreport or []:
        errors_by_step.setdefault(e["step"], []).append(e["message"])
    results = []
    for name in order + extra:
        r = by_step.get(name)
        if r is None:
            results.append(
                {
                    "name": name,
                    "status": "not_run",
                    "start": None,
                    "end": None,
                    "seconds": None,
                    "message": "",
                    "error": "",
                }
            )
            continue
        error = ""
        if r["status"] in ("failed", "unknown"):
            parts = [ev["message"] for ev in r["lines"] if ev["status"] != "start" and ev["message"]]
            parts += errors_by_step.get(name, [])
            seen = []
            for p in parts:
                if p not in seen:
                    seen.append(p)
            error = " / ".join(seen)[:excerpt_chars]
        results.append(
            {
                "name": name,
                "status": r["status"],
                "start": r["start"],
                "end": r["end"],
                "seconds": seconds_between(r["start"], r["end"]) if r["start"] and r["end"] else None,
                "message": r.get("message", ""),
                "error": error,
            }
        )
    return results


def progress(events, order=None):
    """A short progress summary of a (possibly partial) step log: steps ended, and the one running."""
    order = list(order or GUIDE_STEPS)
    ended = [ev for ev in events if ev["status"] != "start"]
    current = None
    for i in range(len(events) - 1, -1, -1):
        if events[i]["status"] == "start":
            step = events[i]["step"]
            if not any(ev["step"] == step and ev["status"] != "start" for ev in events[i + 1 :]):
                current = step
            break
    return {
        "total": len(order),
        "done": len({ev["step"] for ev in ended}),
        "current": current,
        "ended": [{"step": ev["step"], "status": ev["status"], "time": ev["time"]} for ev in ended],
    }


def evaluate_run(
    rc,
    step_log_text,
    logreport_text=None,
    result_log_text=None,
    order=None,
    patterns=None,
    status_map=None,
    aliases=None,
    exit_messages=None,
    hints=None,
    host="host",
    step_log_path="the step log",
    excerpt_chars=600,
    skip_results=0,
    step_log_configured=True,
    accept_missing_result=False,
    accept_no_steps=False,
):
    """Everything the role reports about one wyUpdate run, and whether it failed and why.

    Returns ``{"ok", "changed", "rc", "rc_message", "steps", "first_failed", "logreport_errors",
    "result", "garbled_lines", "warnings", "accepted", "msg"}``. ``ok`` requires exit code 0, no failed
    step, this run's result line (``Updated successfully.``, or `` - `` when there was nothing to
    install) and, where a step log is configured, at least one step seen in it. A missing result line or
    no step seen is a failure unless the operator accepted it (``accept_missing_result``,
    ``accept_no_steps``): then it is a warning in ``warnings`` and named in ``accepted``. A result line
    ``<error> - ...`` with exit code 0 still fails (the log wins over a lenient exit code).
    """
    order = list(order or GUIDE_STEPS)
    parsed = parse_step_log(step_log_text, order, patterns, status_map, aliases)
    logreport = parse_logreport(logreport_text, order, patterns, aliases) if logreport_text else []
    result = parse_result_log(result_log_text, patterns, skip_results)
    steps = step_results(parsed["events"], order, logreport, excerpt_chars)
    failed = [s for s in steps if s["status"] in ("failed", "unknown")]
    running = [s for s in steps if s["status"] == "running"]
    seen = [s for s in steps if s["status"] != "not_run"]
    rc_msg = exit_message(rc, exit_messages)
    try:
        rc_int = int(rc)
    except (TypeError, ValueError):
        rc_int = None
    warnings = []
    accepted = []
    evidence_problem = None
    if result.get("result") is None:
        text = (
            "no result line of this run in wyUpdate's -logfile (%d earlier line(s) skipped): wyUpdate's own verdict "
            "is unknown" % int(skip_results or 0)
        )
        if accept_missing_result:
            warnings.append(text + " (accepted: wyupdate_steps_accept_missing_result)")
            accepted.append("missing_result_line")
        else:
            evidence_problem = (
                text,
                "check wyupdate_steps_result_log (the -logfile path) and "
                "wyupdate_steps_patterns.result_line against the file on the host; set "
                "wyupdate_steps_accept_missing_result=true only where the site's wyUpdate writes no -logfile",
            )
    if step_log_configured and not seen and result.get("result") != "no_update":
        text = "none of the %d steps was seen in %s" % (len(order), step_log_path)
        if accept_no_steps:
            warnings.append(text + " (accepted: wyupdate_steps_accept_no_steps)")
            accepted.append("no_steps_seen")
        elif evidence_problem is None:
            evidence_problem = (
                text,
                "check wyupdate_steps_step_log and wyupdate_steps_patterns.step_line against "
                "the log on the host (playbooks/discover.yml records both); set "
                "wyupdate_steps_accept_no_steps=true only where the site has no step log",
            )
    ok = rc_int == 0 and not failed and result.get("result") != "error" and evidence_problem is None
    first = failed[0] if failed else None
    if ok:
        n_ok = len([s for s in steps if s["status"] in ("ok", "skipped")])
        if result.get("result") == "no_update":
            msg = "%s: wyUpdate finished (exit 0): nothing to install (already up to date)" % host
        else:
            msg = "%s: wyUpdate finished (exit 0): %d of %d steps ok or skipped" % (host, n_ok, len(order))
        if result.get("result") == "success":
            msg += "; " + (result.get("line") or "Updated successfully.")
        if warnings:
            msg += "; WARNING: " + "; ".join(warnings)
    else:
        result_text = " - ".join(x for x in (result.get("error"), result.get("details")) if x)
        if first:
            what = "step %s failed" % first["name"]
            detail = first["error"] or first["message"]
        elif running:
            what = "step %s started but did not end" % running[-1]["name"]
            detail = "the step log ends there (truncated, or wyUpdate was stopped)"
        elif result.get("result") == "error":
            what = "the result line reports an error"
            detail = result_text
        elif evidence_problem is not None:
            what = evidence_problem[0]
            detail = ""
        else:
            what = "no step failed in %s" % step_log_path
            detail = result_text
        hint = error_hint(" ".join([detail or "", result_text, rc_msg]), hints)
        if hint is None and evidence_problem is not None and not first and not running:
            hint = evidence_problem[1]
        if hint is None:
            if first:
                hint = "read %s and C:\\acs\\tools\\LogReport output for step %s, fix the cause and run again" % (
                    step_log_path,
                    first["name"],
                )
            else:
                hint = "read %s and the wyUpdate -logfile, fix the cause and run again" % step_log_path
        msg = "%s: wyUpdate failed (exit %s: %s): %s" % (host, rc, rc_msg, what)
        if detail:
            msg += ": %s" % detail
        if result.get("result") == "error" and result_text and result_text not in msg:
            msg += "; result line: %s" % result_text
        msg += ". Fix: %s" % hint
    return {
        "ok": ok,
        "changed": rc_int == 0 and any(s["status"] == "ok" for s in steps),
        "rc": rc_int if rc_int is not None else rc,
        "rc_message": rc_msg,
        "steps": steps,
        "first_failed": first,
        "logreport_errors": logreport,
        "result": result,
        "garbled_lines": parsed["garbled"][:20],
        "garbled_count": len(parsed["garbled"]),
        "runs_in_log": parsed["runs"],
        "warnings": warnings,
        "accepted": accepted,
        "msg": msg,
    }
