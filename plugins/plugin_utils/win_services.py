# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The UMP services around an upgrade: which to stop/start, recovery settings, the per-service table.

Pure functions for the controller; the host is only asked through ansible.windows.win_service_info,
win_service and win_command (sc.exe). Service states are normalised to ``running``, ``stopped``,
``stop_pending``, ``start_pending``, ``paused``... (win_service_info says ``started``, win_service says
``running`` and ``stoppending``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

from ansible_collections.ump365.upgrade.plugins.plugin_utils.versions import version_cmp

# Created by 8.0.450, to be whitelisted on hardened servers (guide, "Additional SysAdmin Verifications").
WHITELIST = ["SysAdmin.QuickReplicationCycleWorker", "SysAdmin.UMP.Watchdog", "SysAdmin.SyncAcquiredNumber"]
WHITELIST_FROM_VERSION = "8.0.450"

_STATE_MAP = {
    "started": "running",
    "running": "running",
    "stopped": "stopped",
    "stoppending": "stop_pending",
    "startpending": "start_pending",
    "continuepending": "continue_pending",
    "pausepending": "pause_pending",
    "paused": "paused",
}


def normalize_state(state):
    if state is None:
        return "absent"
    return _STATE_MAP.get(str(state).replace("_", "").lower(), str(state).lower())


def _matches(name, patterns):
    return any(fnmatch.fnmatch(name.lower(), p.lower()) for p in patterns)


def match_services(services, patterns, exclude=None):
    """win_service_info's ``services`` whose name matches a pattern (Windows wildcards, any case).

    Returns a list of ``{"name", "state", "start_mode", "recovery"}`` sorted by name.
    """
    out = []
    for s in services or []:
        name = s.get("name") or ""
        if not name or not _matches(name, patterns) or _matches(name, exclude or []):
            continue
        out.append(
            {
                "name": name,
                "state": normalize_state(s.get("state")),
                "start_mode": (s.get("start_mode") or "").lower(),
                "recovery": recovery_from_info(s),
            }
        )
    return sorted(out, key=lambda x: x["name"].lower())


def needs_action(matched, action):
    """Names of services that must change: running ones for ``stop``; not running and not disabled for ``start``."""
    if action == "stop":
        return [s["name"] for s in matched if s["state"] != "stopped"]
    if action == "start":
        return [s["name"] for s in matched if s["state"] != "running" and s["start_mode"] != "disabled"]
    return []


def recovery_from_info(svc):
    """The recovery settings win_service_info reports, in the shape :func:`parse_qfailure` returns."""
    actions = svc.get("failure_actions")
    if actions is None:
        return None
    return {
        "reset_period_sec": int(svc.get("failure_reset_period_sec") or 0),
        "reboot_message": svc.get("failure_reboot_msg") or "",
        "command": svc.get("failure_command") or "",
        "actions": [
            {"type": (a.get("type") or "none").lower(), "delay_ms": int(a.get("delay_ms") or 0)} for a in actions
        ],
    }


_QF_ACTION = re.compile(r"(RESTART|RUN\s*PROCESS|RUN|REBOOT|NONE)\s*--\s*Delay\s*=\s*(\d+)", re.IGNORECASE)


def parse_qfailure(stdout):
    """``sc.exe qfailure <name>`` output as ``{"reset_period_sec", "reboot_message", "command", "actions"}``.

    Returns None when the output is not a successful qfailure answer.
    """
    if not stdout or "SUCCESS" not in stdout.upper():
        return None
    out = {"reset_period_sec": 0, "reboot_message": "", "command": "", "actions": []}
    in_actions = False
    for line in stdout.replace("\r\n", "\n").split("\n"):
        key, sep, value = line.partition(":")
        k = key.strip().upper()
        if sep and k.startswith("RESET_PERIOD"):
            m = re.search(r"\d+", value)
            out["reset_period_sec"] = int(m.group(0)) if m else 0
            in_actions = False
        elif sep and k == "REBOOT_MESSAGE":
            out["reboot_message"] = value.strip()
            in_actions = False
        elif sep and k == "COMMAND_LINE":
            out["command"] = value.strip()
            in_actions = False
        elif sep and k == "FAILURE_ACTIONS":
            in_actions = True
            line = value
        elif sep and k and not k.startswith("RESTART") and not in_actions:
            continue
        if in_actions:
            m = _QF_ACTION.search(line)
            if m:
                t = m.group(1).lower().replace(" ", "")
                t = {"runprocess": "run_command", "run": "run_command"}.get(t, t)
                out["actions"].append({"type": t, "delay_ms": int(m.group(2))})
    return out


def takes_action_on_failure(recovery):
    """True when any recovery action would restart, run or reboot (i.e. not "Take No Action")."""
    if not recovery:
        return False
    return any(a.get("type") not in (None, "", "none") for a in recovery.get("actions", []))


def _quote(value):
    return '"%s"' % str(value).replace('"', '\\"')


def sc_failure_command(name, recovery=None, sc_exe="sc.exe"):
    """The ``sc.exe failure`` command that sets ``recovery`` (None = Take No Action) on ``name``."""
    if not re.match(r"^[A-Za-z0-9_.$ -]+$", name or ""):
        raise ValueError("service name %r is not a valid Windows service name" % (name,))
    if not recovery or not recovery.get("actions"):
        reset = int((recovery or {}).get("reset_period_sec") or 0)
        return '%s failure %s reset= %d actions= ""' % (sc_exe, _quote(name), reset)
    words = {"restart": "restart", "run_command": "run", "reboot": "reboot", "none": ""}
    acts = "/".join("%s/%d" % (words.get(a["type"], ""), int(a.get("delay_ms") or 0)) for a in recovery["actions"])
    cmd = "%s failure %s reset= %d actions= %s" % (
        sc_exe,
        _quote(name),
        int(recovery.get("reset_period_sec") or 0),
        acts,
    )
    if recovery.get("reboot_message"):
        cmd += " reboot= %s" % _quote(recovery["reboot_message"])
    if recovery.get("command"):
        cmd += " command= %s" % _quote(recovery["command"])
    return cmd


def came_back(action_results, matched_after):
    """Services the stop reported stopped that the host now shows running again (a recovery restart)."""
    stopped_ok = {
        r["name"].lower()
        for r in action_results or []
        if not r.get("failed") and normalize_state(r.get("state")) == "stopped"
    }
    return [s["name"] for s in matched_after if s["name"].lower() in stopped_ok and s["state"] != "stopped"]


def service_table(matched_before, matched_after, action_results=None, recovery_changed=None, action_results_2=None):
    """One row per service: ``name, before, after, seconds, action, recovery_changed, error``."""
    after = {s["name"].lower(): s for s in matched_after or []}
    res = {}
    for r in list(action_results or []) + list(action_results_2 or []):
        key = r["name"].lower()
        prev = res.get(key)
        if prev is None:
            res[key] = dict(r)
        else:
            merged = dict(r)
            merged["seconds"] = round((prev.get("seconds") or 0) + (r.get("seconds") or 0), 3)
            merged["attempts"] = prev.get("attempts", 1) + 1
            res[key] = merged
    changed_rec = {n.lower() for n in recovery_changed or []}
    names = [s["name"] for s in matched_before or []]
    for s in matched_after or []:
        if s["name"] not in names:
            names.append(s["name"])
    before = {s["name"].lower(): s for s in matched_before or []}
    rows = []
    for name in names:
        r = res.get(name.lower())
        rows.append(
            {
                "name": name,
                "before": before.get(name.lower(), {}).get("state", "absent"),
                "after": after.get(name.lower(), {}).get("state", "absent"),
                "seconds": r.get("seconds") if r else 0,
                "action": ("stop" if r.get("requested") == "stopped" else "start") if r else "none",
                "recovery_changed": name.lower() in changed_rec,
                "error": (r.get("msg") or "") if r and r.get("failed") else "",
            }
        )
    return rows


def evaluate(action, rows, host="host", stop_timeout=None, start_timeout=None):
    """Whether the services reached the state ``action`` wants; the message names each that did not."""
    want = {"stop": "stopped", "start": "running", "verify_stopped": "stopped", "verify_running": "running"}[action]
    bad = [r for r in rows if r["after"] != want and r["after"] != "absent"]
    good = [r["name"] for r in rows if r["after"] == want]
    if not bad:
        return {
            "ok": True,
            "bad": [],
            "msg": "%s: %d service(s) %s: %s" % (host, len(good), want, ", ".join(good) or "none matched"),
        }
    detail = "; ".join(
        "%s is %s%s" % (r["name"], r["after"], (" (%s)" % r["error"]) if r.get("error") else "") for r in bad
    )
    if action in ("stop", "verify_stopped"):
        fix = (
            "stop them by hand (Services manager, or set recovery to Take No Action if they keep restarting) "
            "or raise services_stop_timeout, then run again. Services already stopped stay stopped (%s): "
            "to bring the host back now, run the services role with services_action=start" % (", ".join(good) or "none")
        )
        what = "did not stop" + (" within %ss" % stop_timeout if stop_timeout else "")
    else:
        fix = (
            "read the service's event log on the host (Event Viewer, System and Application), fix the cause and "
            "start it (Start-Service), or run the services role with services_action=start again"
        )
        what = "are not running" + (" after %ss" % start_timeout if start_timeout else "")
    return {
        "ok": False,
        "bad": [r["name"] for r in bad],
        "msg": "%s: %d service(s) %s: %s. Fix: %s" % (host, len(bad), what, detail, fix),
    }


def whitelist_report(services, kit_version=None, whitelist=None, required_from=WHITELIST_FROM_VERSION):
    """Which whitelisted services exist; missing ones are a warning before ``required_from`` is installed."""
    names = {(s.get("name") or "").lower() for s in services or []}
    wl = list(whitelist if whitelist is not None else WHITELIST)
    missing = [w for w in wl if w.lower() not in names]
    expected = bool(kit_version) and version_cmp(kit_version, required_from) >= 0
    if not missing:
        level, msg = "ok", "all %d whitelisted services exist" % len(wl)
    elif expected:
        level = "error"
        msg = "%s missing although SysAdminKit %s (>= %s) is installed: the upgrade did not create them" % (
            ", ".join(missing),
            kit_version,
            required_from,
        )
    else:
        level = "warning"
        msg = "%s not present yet: they are created when %s is installed; whitelist them on hardened servers" % (
            ", ".join(missing),
            required_from,
        )
    return {"present": [w for w in wl if w.lower() in names], "missing": missing, "level": level, "msg": msg}
