# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: report
type: aggregate
short_description: Write a JSON, HTML and JUnit XML report of every UMP-365 upgrade run
version_added: "0.1.0"
description:
  - For every run writes C(<dir>/<run id>.json), C(<run id>.html) and C(<run id>.junit.xml).
  - Per host, the report holds the phases with their start and end (the HTML draws them as a timeline),
    every check's result, versions before and after, the per-step wyUpdate and per-customer results,
    what was rolled back and why, failures with their message, retries, and the host's final state
    (C(upgraded), C(rolled_back), C(stopped_before_change), C(failed), or C(unchanged) for runs that
    change nothing such as C(preflight.yml) and C(verify.yml)); a host of the play that never ran a task
    (its batch never started because an earlier batch failed) is listed as C(not_started).
  - The phase of a task is its first C(phase_<name>) tag (tags are inherited from blocks, roles and
    includes), else the outermost role it runs in (C(wyupdate_steps) reports as C(wyupdate), C(swap_os_disk)
    as C(rollback)), else C(other).
  - Modules and tasks feed it through result keys C(ump_checks), C(ump_versions), C(ump_wyupdate_steps),
    C(ump_customers), C(ump_rollback), C(ump_final_state), C(ump_progress) and C(retries), returned by a
    module or set with C(ansible.builtin.set_fact). The conventions are in docs/report.md of the collection.
  - Secrets never reach the files or the progress lines. Results of C(no_log) tasks are censored by Ansible
    before any callback sees them; in addition the value of every variable (inventory, play, extra vars,
    facts) whose name matches O(secret_pattern) is replaced by C(********) wherever it occurs, and so is the
    value of any result key whose name matches.
  - Long waits show progress lines on the console, one per C(until)/C(retries) attempt (with the task's
    C(ump_progress) text when it returns one), per async poll, and a heartbeat naming the hosts still busy
    with a task every O(heartbeat) seconds.
author:
  - ump365.upgrade developers (@ump365)
requirements:
  - enable in configuration, for example C(callbacks_enabled = ump365.upgrade.report) in ansible.cfg or
    C(ANSIBLE_CALLBACKS_ENABLED=ump365.upgrade.report)
options:
  dir:
    description:
      - Directory the report files are written to; created when missing.
      - When this option is not set (neither in ansible.cfg nor in the environment), the inventory variable
        C(ump_report_dir) is used if a host of the first play that has it sets it (the lab inventory does),
        else C(./reports).
    type: path
    default: ./reports
    env:
      - name: UMP365_REPORT_DIR
    ini:
      - section: ump365_report
        key: dir
  run_id:
    description:
      - Names the report files. The default is the playbook's name and the start time in UTC,
        for example C(upgrade-20261123T162300Z). AWX job templates can pass the job id.
    type: str
    env:
      - name: UMP365_REPORT_RUN_ID
    ini:
      - section: ump365_report
        key: run_id
  secret_pattern:
    description:
      - Case-insensitive regular expression; the value of every variable and result key whose name
        matches it is scrubbed from the report files and the progress lines.
      - Names are matched in snake case (C(clientSecret) becomes C(client_secret)); the default matches
        names whose last word is a secret word, so C(ump_sql_password) is masked and
        C(password_customers) is not.
    type: str
    default: (^|_)(password|passwd|pass|pwd|secret|token|key|credentials?)$
    env:
      - name: UMP365_REPORT_SECRET_PATTERN
    ini:
      - section: ump365_report
        key: secret_pattern
  secret_min_length:
    description:
      - Secret values shorter than this are not searched for in free text (they would match ordinary
        words and numbers); keys matching O(secret_pattern) are masked whatever their length.
    type: int
    default: 6
    env:
      - name: UMP365_REPORT_SECRET_MIN_LENGTH
    ini:
      - section: ump365_report
        key: secret_min_length
  progress:
    description: Show progress lines on the console for retries, async polls and the heartbeat.
    type: bool
    default: true
    env:
      - name: UMP365_REPORT_PROGRESS
    ini:
      - section: ump365_report
        key: progress
  heartbeat:
    description:
      - Seconds between heartbeat lines naming the hosts still running a task that has taken longer than
        this. C(0) turns the heartbeat off.
    type: int
    default: 60
    env:
      - name: UMP365_REPORT_HEARTBEAT
    ini:
      - section: ump365_report
        key: heartbeat
"""

import datetime
import html
import json
import os
import re
import threading
import time
import xml.etree.ElementTree as ET

from ansible.plugins.callback import CallbackBase

from ansible.release import __version__ as ansible_version
from ansible.template import Templar

SCHEMA_VERSION = 1
MASK = "********"

# The upgrade's phases in runbook order (docs/report.md). Others (firewall, token_migration, other) may appear.
PHASES = (
    "preflight",
    "snapshot",
    "sql_backup",
    "services_stop",
    "wyupdate",
    "customer_upgrade",
    "services_start",
    "post_verify",
    "rollback",
)
# Role name -> phase, for roles whose name is not the phase's. `services` serves two phases: tag it.
ROLE_PHASES = {
    "wyupdate_steps": "wyupdate",
    "swap_os_disk": "rollback",
}
# Phases that change the UMP server; a host that failed before any of them ran was stopped before change.
CHANGING_PHASES = ("services_stop", "wyupdate", "customer_upgrade", "services_start", "services", "rollback")
FINAL_STATES = ("upgraded", "rolled_back", "stopped_before_change", "failed", "unchanged", "not_started")
CHECK_STATUSES = ("pass", "warn", "fail", "skip")
ROLLBACK_OK = ("ok", "success", "succeeded", "done", "rolled_back", "restored")

DEFAULTS = {
    "dir": "./reports",
    "run_id": None,
    "secret_pattern": r"(^|_)(password|passwd|pass|pwd|secret|token|key|credentials?)$",
    "secret_min_length": 6,
    "progress": True,
    "heartbeat": 60,
}


def utc_iso(ts):
    if ts is None:
        return None
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def _duration(seconds):
    seconds = int(round(seconds or 0))  # noqa: RUF046
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "%dh%02dm%02ds" % (h, m, s) if h else "%dm%02ds" % (m, s)


def _jsonable(value, depth=0):
    """Plain JSON types only (results may hold tagged strings, tuples, dates)."""
    if depth > 40:
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v, depth + 1) for v in value]
    return str(value)


def _dict2items_pair(value):
    """A ``{key, value}`` item of ``dict2items`` (or ``with_dict``): its ``key`` is a variable's name, not a
    key named "key", so whether ``value`` is secret depends on that name."""
    return isinstance(value, dict) and set(value) == {"key", "value"} and isinstance(value["key"], str)


class SecretScrubber:
    """Masks secret values everywhere and the values of secret-named keys."""

    def __init__(self, pattern=DEFAULTS["secret_pattern"], min_length=DEFAULTS["secret_min_length"]):
        self.key_rx = re.compile(pattern, re.I)
        self.min_length = int(min_length)
        self.values = set()

    def key_is_secret(self, key):
        """The name is matched in snake case (``clientSecret`` -> ``client_secret``), so the default
        pattern looks at the last word: ``ump_api_client_secret`` and ``access_token`` are secrets,
        ``password_customers``, ``token_migration_status`` and ``ClientSecretExpirationDate`` are not."""
        name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(key)).lower()
        return bool(self.key_rx.search(name))

    def add(self, value):
        """Remember a secret value (strings under it when it is a dict or list)."""
        if isinstance(value, dict):
            for v in value.values():
                self.add(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                self.add(v)
        elif value is not None and not isinstance(value, (bool, int, float)):
            try:
                text = str(value)
            except Exception:  # a vaulted value we cannot decrypt: nothing to search for
                return
            if len(text) >= self.min_length:
                self.values.add(text)

    def collect_vars(self, variables, depth=0):
        """Remember the values of variables whose name matches, at any depth of plain dicts."""
        if depth > 8 or not isinstance(variables, dict):
            return
        if _dict2items_pair(variables):
            variables = {variables["key"]: variables["value"]}
        for key, value in variables.items():
            if self.key_is_secret(key):
                self.add(value)
            elif isinstance(value, dict):
                self.collect_vars(value, depth + 1)
            elif isinstance(value, list):
                for item in value:
                    self.collect_vars(item, depth + 1)

    def text(self, value):
        for secret in sorted(self.values, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def scrub(self, data, depth=0):
        if depth > 40:
            return MASK
        if isinstance(data, str):
            return self.text(data)
        if _dict2items_pair(data):
            masked = self.key_is_secret(data["key"]) and data["value"] not in (None, "", [], {})
            return {"key": data["key"], "value": MASK if masked else self.scrub(data["value"], depth + 1)}
        if isinstance(data, dict):
            out = {}
            for k, v in data.items():
                if self.key_is_secret(k) and v not in (None, "", [], {}) and not isinstance(v, (bool, int, float)):
                    out[k] = MASK
                else:
                    out[k] = self.scrub(v, depth + 1)
            return out
        if isinstance(data, list):
            return [self.scrub(v, depth + 1) for v in data]
        return data


class RunReport:
    """The run's data, built from events; independent of Ansible's objects so it is easy to test."""

    def __init__(self, run_id, playbook="", started=None, scrubber=None):
        self.run_id = run_id
        self.playbook = playbook
        self.started = started if started is not None else time.time()
        self.ended = None
        self.check_mode = False
        self.scrubber = scrubber or SecretScrubber()
        self.hosts = {}
        self.play_hosts = set()  # every host the plays targeted (all serial batches, within --limit)

    # ------------------------------------------------------------------ building
    def host(self, name):
        if name not in self.hosts:
            self.hosts[name] = {
                "phases": [],
                "checks": [],
                "versions": {"before": None, "after": None},
                "wyupdate_steps": [],
                "customers": [],
                "rollback": None,
                "failures": [],
                "retries": [],
                "final_state": None,
                "final_state_reason": "",
                "stats": {},
                "started": None,
                "ended": None,
            }
        return self.hosts[name]

    def _span(self, host, phase, now, create):
        spans = self.host(host)["phases"]
        if spans and spans[-1]["name"] == phase:
            return spans[-1]
        if not create:
            for span in reversed(spans):
                if span["name"] == phase:
                    return span
        span = {
            "name": phase,
            "start": now,
            "end": now,
            "tasks": 0,
            "ok": 0,
            "changed": 0,
            "failed": 0,
            "skipped": 0,
            "ignored": 0,
            "unreachable": 0,
        }
        spans.append(span)
        return span

    def task_started(self, host, phase, now=None):
        now = time.time() if now is None else now
        h = self.host(host)
        h["started"] = h["started"] or now
        span = self._span(host, phase, now, create=True)
        span["end"] = max(span["end"], now)

    def task_result(self, host, phase, task, status, result, now=None, ignore_errors=False):
        """``status``: ok, changed, failed, skipped, unreachable. ``result``: the task's result dict."""
        now = time.time() if now is None else now
        h = self.host(host)
        h["started"] = h["started"] or now
        h["ended"] = now
        span = self._span(host, phase, now, create=False)
        span["end"] = max(span["end"], now)
        span["tasks"] += 1
        if status == "failed" and ignore_errors:
            span["ignored"] += 1
        elif status in span:
            span[status] += 1
        if status == "changed":
            span["ok"] += 1
        result = result if isinstance(result, dict) else {}
        self._learn_secrets(result)
        for part in self._parts(result):
            self._harvest(host, phase, task, part)
        if status in ("failed", "unreachable"):
            msg = result.get("msg") or result.get("censored") or result.get("stderr") or result.get("reason") or ""
            items = [r for r in result.get("results") or [] if isinstance(r, dict) and r.get("failed")]
            if items:  # a loop: say which items failed and why
                msgs = [
                    "%s: %s"
                    % (r.get("_ansible_item_label", r.get("item", "?")), r.get("msg") or r.get("censored") or "failed")
                    for r in items[:5]
                ]
                msg = "%s (%s)" % (msg or "items failed", "; ".join(msgs))
            h["failures"].append(
                {
                    "phase": phase,
                    "task": task,
                    "msg": str(msg or "failed"),
                    "time": utc_iso(now),
                    "ignored": bool(ignore_errors),
                    "unreachable": status == "unreachable",
                }
            )
        attempts = result.get("attempts")
        client_retries = result.get("retries") if isinstance(result.get("retries"), list) else []
        if (isinstance(attempts, int) and attempts > 1) or client_retries:
            entry = {"phase": phase, "task": task, "attempts": attempts if isinstance(attempts, int) else 1}
            if isinstance(result.get("retries"), int):
                entry["max_attempts"] = result["retries"]  # ansible-core counts the first run in it
            if client_retries:
                entry["client_retries"] = _jsonable(client_retries)
            h["retries"].append(entry)

    @staticmethod
    def _parts(result):
        """The dicts of one result that may carry report keys: itself, its facts, its loop items."""
        parts = [result]
        if isinstance(result.get("ansible_facts"), dict):
            parts.append(result["ansible_facts"])
        for item in result.get("results") or []:
            if isinstance(item, dict):
                parts.append(item)
                if isinstance(item.get("ansible_facts"), dict):
                    parts.append(item["ansible_facts"])
        return parts

    def _learn_secrets(self, result, depth=0):
        """set_fact of a secret-named variable, or a module returning a secret-named key."""
        if depth > 6 or not isinstance(result, dict):
            return
        if _dict2items_pair(result):
            result = {result["key"]: result["value"]}
        for key, value in result.items():
            if key in ("invocation",):
                continue
            if self.scrubber.key_is_secret(key):
                self.scrubber.add(value)
            elif isinstance(value, dict):
                self._learn_secrets(value, depth + 1)
            elif isinstance(value, list):
                for item in value:
                    self._learn_secrets(item, depth + 1)

    def _harvest(self, host, phase, task, part):
        h = self.host(host)
        checks = part.get("ump_checks")
        if isinstance(checks, list):
            for c in checks:
                if not isinstance(c, dict) or not c.get("name"):
                    continue
                status = str(c.get("status", "")).lower()
                entry = {
                    "name": str(c["name"]),
                    "status": status if status in CHECK_STATUSES else "fail",
                    "observed": _jsonable(c.get("observed")),
                    "expected": _jsonable(c.get("expected")),
                    "fix": None if c.get("fix") is None else str(c.get("fix")),
                    "phase": phase,
                    "task": task,
                }
                if status not in CHECK_STATUSES:
                    entry["fix"] = "check %r reported an unknown status %r (pass, warn, fail, skip)" % (
                        entry["name"],
                        c.get("status"),
                    )
                # baseline/policy/items/new_items: post_verify's comparison with preflight (docs/checks.md)
                for extra in ("severity", "blocking", "details", "baseline", "policy", "items", "new_items"):
                    if extra in c:
                        entry[extra] = _jsonable(c[extra])
                same = ("name", "status", "observed", "expected", "fix")
                if any(x["phase"] != phase and all(x[k] == entry[k] for k in same) for x in h["checks"]):
                    continue  # an accumulated fact reported again in a later phase: keep the first report
                # same check in the same phase again (re-run, accumulated set_fact): the later one wins
                h["checks"] = [x for x in h["checks"] if not (x["name"] == entry["name"] and x["phase"] == phase)]
                h["checks"].append(entry)
        if part.get("insecure_http") is True:
            # a module let a credential cross plain http:// (allow_insecure_http): always a warning
            url = str(part.get("insecure_url") or "")
            if not any(x["name"] == "insecure_transport" and x["observed"] == url for x in h["checks"]):
                h["checks"].append(
                    {
                        "name": "insecure_transport",
                        "status": "warn",
                        "observed": url,
                        "expected": "https://",
                        "fix": "a credential was sent over plain http:// because ump_allow_insecure_http is set; "
                        "use the https:// URL and unset it",
                        "phase": phase,
                        "task": task,
                    }
                )
        versions = part.get("ump_versions")
        if isinstance(versions, dict):
            for k in ("before", "after"):
                if versions.get(k) is not None:
                    h["versions"][k] = _jsonable(versions[k])
        for key, target in (("ump_wyupdate_steps", "wyupdate_steps"), ("ump_customers", "customers")):
            rows = part.get(key)
            if isinstance(rows, list):
                for row in rows:
                    if not isinstance(row, dict):
                        continue
                    row = _jsonable(row)
                    name = row.get("name", row.get("step"))
                    h[target] = [x for x in h[target] if name is None or x.get("name", x.get("step")) != name]
                    h[target].append(row)
        rb = part.get("ump_rollback")
        if isinstance(rb, dict):
            h["rollback"] = dict(h["rollback"] or {}, **_jsonable(rb))
        state = part.get("ump_final_state")
        if state in FINAL_STATES:
            h["final_state"] = state
            outcome = part.get("ump_outcome")
            reason = outcome.get("reason") if isinstance(outcome, dict) else None
            h["final_state_reason"] = str(_jsonable(reason)) if reason else ""

    def set_stats(self, host, stats):
        self.host(host)["stats"] = dict(stats)

    # ------------------------------------------------------------------ conclusions
    def final_state(self, name):
        h = self.host(name)
        if h["started"] is None and not h["phases"] and not h["failures"] and not h["final_state"]:
            return "not_started", (
                "no task ran on this host: the play stopped before its batch (an earlier batch failed, "
                "see max_fail_percentage); rerun the playbook once the failed hosts are dealt with"
            )
        if h["final_state"]:
            reason = h["final_state_reason"]
            if h["final_state"] == "upgraded":
                return "upgraded", reason or "every phase completed"
            label = h["final_state"].replace("_", " ")
            return h["final_state"], "%s: %s" % (label, reason) if reason else "%s (set by the upgrade role)" % label
        ran = [p for p in h["phases"] if p["tasks"] > p["skipped"]]
        failed = [f for f in h["failures"] if not f["ignored"]]
        stats = h.get("stats") or {}
        rescued = stats.get("rescued", 0) > 0
        rollback_spans = [p for p in ran if p["name"] == "rollback"]
        if rollback_spans or h["rollback"]:
            result = str((h["rollback"] or {}).get("result", "")).lower()
            rb_failed = any(p["failed"] or p["unreachable"] for p in rollback_spans)
            if rb_failed or (result and result not in ROLLBACK_OK):
                return "failed", "the rollback itself failed"
            reason = (h["rollback"] or {}).get("reason") or (failed[0]["msg"] if failed else "")
            return "rolled_back", "rolled back: %s" % reason if reason else "rolled back"
        if failed or stats.get("failures", 0) > 0 or stats.get("unreachable", 0) > 0:
            first = failed[0] if failed else {"phase": "?", "msg": "failed"}
            if rescued and not failed:
                first = {"phase": "?", "msg": "rescued"}
            changed_phases = [p["name"] for p in ran if p["name"] in CHANGING_PHASES]
            if not changed_phases:
                return "stopped_before_change", "stopped in %s before any change: %s" % (first["phase"], first["msg"])
            return "failed", "failed in %s: %s" % (first["phase"], first["msg"])
        if any(p["name"] in CHANGING_PHASES and p["name"] != "rollback" for p in ran) and not self.check_mode:
            return "upgraded", "every phase completed"
        return "unchanged", "no phase that changes the server ran" + (" (check mode)" if self.check_mode else "")

    def as_dict(self):
        end = self.ended or time.time()
        hosts = {}
        totals = {
            "hosts": len(set(self.hosts) | self.play_hosts),
            "states": {},
            "checks": dict.fromkeys(CHECK_STATUSES, 0),
        }
        for name in sorted(set(self.hosts) | self.play_hosts):
            h = self.host(name)
            state, reason = self.final_state(name)
            totals["states"][state] = totals["states"].get(state, 0) + 1
            for c in h["checks"]:
                totals["checks"][c["status"]] += 1
            phases = []
            for p in h["phases"]:
                if p["failed"] or p["unreachable"]:
                    status = "failed"
                elif p["tasks"] and p["skipped"] == p["tasks"]:
                    status = "skipped"
                elif p["changed"]:
                    status = "changed"
                else:
                    status = "ok"
                phases.append(
                    {
                        "name": p["name"],
                        "status": status,
                        "start": utc_iso(p["start"]),
                        "end": utc_iso(p["end"]),
                        "offset_s": round(p["start"] - self.started, 3),
                        "duration_s": round(p["end"] - p["start"], 3),
                        "tasks": p["tasks"],
                        "changed": p["changed"],
                        "failed": p["failed"] + p["unreachable"],
                        "skipped": p["skipped"],
                        "ignored": p["ignored"],
                    }
                )
            hosts[name] = {
                "final_state": state,
                "final_state_reason": reason,
                "started": utc_iso(h["started"]),
                "ended": utc_iso(h["ended"]),
                "stats": h["stats"],
                "phases": phases,
                "checks": h["checks"],
                "versions": h["versions"],
                "wyupdate_steps": h["wyupdate_steps"],
                "customers": h["customers"],
                "rollback": h["rollback"],
                "failures": h["failures"],
                "retries": h["retries"],
            }
        failed = any(h["final_state"] in ("failed", "rolled_back") for h in hosts.values()) or totals["checks"]["fail"]
        data = {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "playbook": self.playbook,
            "ansible_version": ansible_version,
            "check_mode": self.check_mode,
            "started": utc_iso(self.started),
            "ended": utc_iso(end),
            "duration_s": round(end - self.started, 3),
            "result": "failed" if failed else "passed",
            "phase_order": list(PHASES),
            "totals": totals,
            "hosts": hosts,
        }
        return self.scrubber.scrub(_jsonable(data))


# ---------------------------------------------------------------------- renderers
STATUS_COLOURS = {
    "ok": "#2e7d32",
    "changed": "#ef6c00",
    "failed": "#c62828",
    "skipped": "#9e9e9e",
    "pass": "#2e7d32",
    "warn": "#f9a825",
    "fail": "#c62828",
    "skip": "#9e9e9e",
    "upgraded": "#2e7d32",
    "unchanged": "#546e7a",
    "not_started": "#9e9e9e",
    "rolled_back": "#ef6c00",
    "stopped_before_change": "#f9a825",
    "failed_state": "#c62828",
}

CSS = """
body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#212121}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f5f5f5}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.timeline{position:relative;margin:8px 0 20px;border-left:1px solid #bbb}
.axis{position:relative;height:18px;font-size:11px;color:#666;margin-left:140px}
.axis span{position:absolute;transform:translateX(-50%)}
.row{display:flex;align-items:center;height:26px}
.row .label{width:140px;font-size:13px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.track{position:relative;flex:1;height:20px;background:#fafafa;border:1px solid #eee}
.bar{position:absolute;top:1px;height:18px;border-radius:3px;color:#fff;font-size:11px;line-height:18px;
overflow:hidden;white-space:nowrap;padding-left:3px;box-sizing:border-box;min-width:3px}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:12px;height:12px;
border-radius:2px;margin-right:4px;vertical-align:middle}
pre{margin:0;white-space:pre-wrap;font-size:12px}
"""


def _badge(text, key=None):
    colour = STATUS_COLOURS.get(key or text, "#546e7a")
    if key is None and text == "failed":
        colour = STATUS_COLOURS["failed_state"]
    return '<span class="badge" style="background:%s">%s</span>' % (colour, html.escape(str(text)))


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return "<pre>%s</pre>" % html.escape(json.dumps(value, indent=1, sort_keys=True))
    return html.escape(str(value))


def _table(rows, columns, badge_col=None):
    if not rows:
        return '<p class="meta">none</p>'
    out = ["<table><tr>%s</tr>" % "".join("<th>%s</th>" % html.escape(c) for c in columns)]
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c)
            cells.append("<td>%s</td>" % (_badge(v) if c == badge_col and v is not None else _cell(v)))
        out.append("<tr>%s</tr>" % "".join(cells))
    out.append("</table>")
    return "".join(out)


def render_html(data):
    total = max(float(data.get("duration_s") or 0), 0.001)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>UMP-365 run %s</title><style>%s</style></head><body>" % (html.escape(data["run_id"]), CSS),
        "<h1>UMP-365 run report: %s</h1>" % html.escape(data["run_id"]),
        '<p class="meta">playbook %s &middot; %s to %s (%s) &middot; ansible-core %s%s &middot; result %s</p>'
        % (
            html.escape(data.get("playbook") or ""),
            html.escape(data["started"]),
            html.escape(data["ended"]),
            _duration(data["duration_s"]),
            html.escape(str(data.get("ansible_version"))),
            " &middot; CHECK MODE" if data.get("check_mode") else "",
            _badge(data["result"], "ok" if data["result"] == "passed" else "fail"),
        ),
        "<h2>Hosts</h2>",
    ]
    summary = []
    for name, h in data["hosts"].items():
        counts = {}
        for c in h["checks"]:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
        summary.append(
            {
                "host": name,
                "final state": h["final_state"],
                "why": h["final_state_reason"],
                "checks pass/warn/fail": "%d / %d / %d"
                % (counts.get("pass", 0), counts.get("warn", 0), counts.get("fail", 0)),
                "version before": h["versions"].get("before"),
                "version after": h["versions"].get("after"),
            }
        )
    parts.append(
        _table(
            summary,
            ["host", "final state", "why", "checks pass/warn/fail", "version before", "version after"],
            "final state",
        )
    )
    # what a person must act on, across hosts: failed and warning checks, failures not ignored
    attention = []
    for name, h in data["hosts"].items():
        for c in h["checks"]:
            if c["status"] in ("fail", "warn"):
                attention.append(
                    {
                        "host": name,
                        "phase": c["phase"],
                        "what": c["name"],
                        "status": c["status"],
                        "observed": c["observed"],
                        "expected": c["expected"],
                        "fix": c["fix"],
                    }
                )
        for f in h["failures"]:
            if not f["ignored"]:
                attention.append(
                    {"host": name, "phase": f["phase"], "what": f["task"], "status": "fail", "observed": f["msg"]}
                )
    attention.sort(key=lambda r: (r["status"] != "fail", r["host"]))
    attention_html = '<h2 id="attention">Needs attention</h2>' + (
        _table(attention, ["host", "phase", "what", "status", "observed", "expected", "fix"], "status")
        if attention
        else '<p class="meta">nothing: every check passed and no task failed</p>'
    )
    # timeline: one row per host, phases as bars on a shared time axis
    parts.append("<h2>Timeline</h2>")
    parts.append('<div class="legend">')
    for s in ("ok", "changed", "failed", "skipped"):
        parts.append('<span><i style="background:%s"></i>%s</span>' % (STATUS_COLOURS[s], s))
    parts.append("</div>")
    parts.append('<div class="axis">')
    for i in range(6):
        shift = "0" if i == 0 else ("-100%" if i == 5 else "-50%")
        parts.append(
            '<span style="left:%.1f%%;transform:translateX(%s)">%s</span>' % (i * 20, shift, _duration(total * i / 5))
        )
    parts.append('</div><div class="timeline">')
    for name, h in data["hosts"].items():
        parts.append(
            '<div class="row" data-host="%s"><div class="label">%s</div><div class="track">'
            % ((html.escape(name),) * 2)
        )
        for p in h["phases"]:
            left = max(0.0, min(100.0, 100.0 * p["offset_s"] / total))
            width = max(0.4, min(100.0 - left, 100.0 * p["duration_s"] / total))
            title = "%s: %s, %s to %s (%s), %d tasks, %d changed, %d failed" % (
                p["name"],
                p["status"],
                p["start"],
                p["end"],
                _duration(p["duration_s"]),
                p["tasks"],
                p["changed"],
                p["failed"],
            )
            parts.append(
                '<div class="bar" data-phase="%s" title="%s" style="left:%.3f%%;width:%.3f%%;background:%s">%s</div>'
                % (
                    html.escape(p["name"]),
                    html.escape(title),
                    left,
                    width,
                    STATUS_COLOURS.get(p["status"], "#546e7a"),
                    html.escape(p["name"]),
                )
            )
        parts.append("</div></div>")
    parts.append("</div>")
    parts.append(attention_html)
    for name, h in data["hosts"].items():
        parts.append('<h2 id="host-%s">%s %s</h2>' % (html.escape(name), html.escape(name), _badge(h["final_state"])))
        parts.append('<p class="meta">%s</p>' % html.escape(h["final_state_reason"]))
        parts.append("<h3>Phases</h3>")
        parts.append(
            _table(
                h["phases"],
                ["name", "status", "start", "end", "duration_s", "tasks", "changed", "failed", "skipped"],
                "status",
            )
        )
        parts.append("<h3>Checks</h3>")
        parts.append(_table(h["checks"], ["phase", "name", "status", "observed", "expected", "fix"], "status"))
        parts.append("<h3>Versions</h3>")
        parts.append(_table([h["versions"]], ["before", "after"]))
        parts.append("<h3>wyUpdate steps</h3>")
        cols = sorted(
            {k for r in h["wyupdate_steps"] for k in r}, key=lambda k: (k not in ("name", "step", "status"), k)
        )
        parts.append(_table(h["wyupdate_steps"], cols, "status"))
        parts.append("<h3>Customers</h3>")
        cols = sorted({k for r in h["customers"] for k in r}, key=lambda k: (k not in ("name", "status"), k))
        parts.append(_table(h["customers"], cols, "status"))
        parts.append("<h3>Rollback</h3>")
        parts.append(_table([h["rollback"]] if h["rollback"] else [], ["reason", "snapshot", "result"]))
        parts.append("<h3>Failures</h3>")
        parts.append(_table(h["failures"], ["time", "phase", "task", "msg", "ignored", "unreachable"]))
        parts.append("<h3>Retries</h3>")
        parts.append(_table(h["retries"], ["phase", "task", "attempts", "max_attempts", "client_retries"]))
    parts.append("</body></html>\n")
    return "".join(parts)


def render_junit(data):
    suites = ET.Element("testsuites", name="ump365.upgrade %s" % data["run_id"])
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for name, h in data["hosts"].items():
        suite = ET.SubElement(suites, "testsuite", name=name, timestamp=h["started"] or data["started"])
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        seconds = 0.0
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="final_state", value=h["final_state"])
        ET.SubElement(props, "property", name="final_state_reason", value=h["final_state_reason"])
        for p in h["phases"]:
            case = ET.SubElement(
                suite, "testcase", classname="%s.phases" % name, name=p["name"], time="%.3f" % p["duration_s"]
            )
            seconds += p["duration_s"]
            counts["tests"] += 1
            if p["status"] == "failed":
                msgs = [f["msg"] for f in h["failures"] if f["phase"] == p["name"] and not f["ignored"]]
                unreachable = any(f["unreachable"] for f in h["failures"] if f["phase"] == p["name"])
                tag = "error" if unreachable else "failure"
                counts["errors" if unreachable else "failures"] += 1
                el = ET.SubElement(case, tag, message=(msgs[0] if msgs else "failed")[:500])
                el.text = "\n".join(msgs)
            elif p["status"] == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message="every task of the phase was skipped")
        for c in h["checks"]:
            case = ET.SubElement(
                suite, "testcase", classname="%s.%s.checks" % (name, c["phase"]), name=c["name"], time="0"
            )
            counts["tests"] += 1
            detail = "observed: %s\nexpected: %s\nfix: %s" % (
                json.dumps(c["observed"], sort_keys=True),
                json.dumps(c["expected"], sort_keys=True),
                c["fix"] or "",
            )
            if c["status"] == "fail":
                counts["failures"] += 1
                el = ET.SubElement(case, "failure", message="%s failed: %s" % (c["name"], (c["fix"] or "")[:400]))
                el.text = detail
            elif c["status"] == "skip":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=(c["fix"] or "not applicable")[:400])
            else:
                out = ET.SubElement(case, "system-out")
                out.text = ("WARN: " if c["status"] == "warn" else "PASS: ") + detail
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("time", "%.3f" % seconds)
    for k, v in totals.items():
        suites.set(k, str(v))
    suites.set("time", "%.3f" % data["duration_s"])
    if hasattr(ET, "indent"):
        ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_report(data, directory):
    """Write the three files atomically; return their paths."""
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o750)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", data["run_id"]) or "run"
    paths = {}
    for ext, text in (
        ("json", json.dumps(data, indent=1, sort_keys=True) + "\n"),
        ("html", render_html(data)),
        ("junit.xml", render_junit(data)),
    ):
        path = os.path.join(directory, "%s.%s" % (safe, ext))
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
        paths[ext] = path
    return paths


# ---------------------------------------------------------------------- the callback
def task_phase(task):
    """A task's phase: its first ``phase_<name>`` tag, else its outermost role, else ``other``."""
    try:
        tags = list(task.tags or [])
    except Exception:
        tags = []
    for tag in tags:
        if isinstance(tag, str) and tag.startswith("phase_") and len(tag) > 6:
            return tag[6:]
    role_name = None
    node = task
    depth = 0
    while node is not None and depth < 50:
        role = getattr(node, "_role", None)
        if role is not None:
            role_name = getattr(role, "_role_name", None) or role.get_name()
        node = getattr(node, "_parent", None)
        depth += 1
    if role_name:
        role_name = str(role_name).rsplit(".", 1)[-1]
        return ROLE_PHASES.get(role_name, role_name)
    return "other"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "ump365.upgrade.report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self.report = None
        self.paths = None
        self._running = {}  # host -> (task name, phase, start)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._inventory_report_dir = None

    def _opt(self, name):
        try:
            value = self.get_option(name)
        except (KeyError, AttributeError):
            value = None
        return DEFAULTS[name] if value is None else value

    def _report_dir(self):
        """The ``dir`` option when it was set, else the inventory's ``ump_report_dir``, else the default."""
        try:
            origin = self.get_option_and_origin("dir")[1]
        except (KeyError, AttributeError):
            origin = "default"
        if origin == "default" and self._inventory_report_dir:
            return self._inventory_report_dir
        return self._opt("dir")

    def _ensure_report(self, playbook_name=""):
        if self.report is None:
            started = time.time()
            run_id = self._opt("run_id") or "%s-%s" % (
                os.path.splitext(os.path.basename(playbook_name or "run"))[0],
                time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started)),
            )
            scrubber = SecretScrubber(self._opt("secret_pattern"), self._opt("secret_min_length"))
            self.report = RunReport(run_id, os.path.basename(playbook_name or ""), started, scrubber)
        return self.report

    def _progress(self, line):
        if not self._opt("progress"):
            return
        self._display.display("[ump365 progress] " + self._ensure_report().scrubber.text(line))

    # -------------------------------------------------------------- playbook and play
    def v2_playbook_on_start(self, playbook):
        self._ensure_report(getattr(playbook, "_file_name", "") or "")
        interval = int(self._opt("heartbeat") or 0)
        if interval > 0 and self._opt("progress") and self._thread is None:
            self._thread = threading.Thread(target=self._heartbeat_loop, args=(interval,), daemon=True)
            self._thread.start()

    def v2_playbook_on_play_start(self, play):
        report = self._ensure_report()
        try:
            report.check_mode = report.check_mode or bool(play.check_mode)
        except Exception:
            pass
        self._read_play_vars(play)

    def _read_play_vars(self, play):
        """Values of secret-named variables of every host of the play (inventory, play and extra vars),
        and the inventory's ``ump_report_dir``."""
        scrubber = self._ensure_report().scrubber
        try:
            vm = play.get_variable_manager()
            inventory = getattr(vm, "_inventory", None)
            hosts = inventory.get_hosts(play.hosts) if inventory is not None else []
        except Exception:
            return
        try:  # every serial batch's hosts (a batch restricts the inventory to itself), --limit still applies
            everyone = inventory.get_hosts(play.hosts, ignore_restrictions=True)
        except Exception:
            everyone = hosts
        self._ensure_report().play_hosts.update(h.get_name() for h in everyone)
        for host in [None, *hosts]:
            try:
                variables = vm.get_vars(play=play, host=host) if host is not None else vm.get_vars(play=play)
            except Exception as e:
                self._display.vvv("ump365.upgrade.report: cannot read the variables of %s: %s" % (host, e))
                continue
            secret_vars = {}
            for key, value in variables.items():
                if scrubber.key_is_secret(key) or isinstance(value, dict):
                    secret_vars[key] = value
            templar = Templar(loader=getattr(play, "_loader", None), variables=variables)
            if self._inventory_report_dir is None and variables.get("ump_report_dir"):
                report_dir = variables["ump_report_dir"]
                try:
                    report_dir = templar.template(report_dir) if "{{" in str(report_dir) else report_dir
                    self._inventory_report_dir = str(report_dir)
                except Exception as e:
                    self._display.warning("ump365.upgrade.report: cannot resolve ump_report_dir: %s" % e)
            for key, value in list(secret_vars.items()):
                if isinstance(value, str) and "{{" in value:
                    try:
                        secret_vars[key] = templar.template(value)
                    except Exception:  # an undefined or failing template: its raw text is what we know
                        pass
            scrubber.collect_vars(secret_vars)

    # -------------------------------------------------------------- tasks
    def v2_runner_on_start(self, host, task):
        phase = task_phase(task)
        now = time.time()
        with self._lock:
            self._running[host.get_name()] = (task.get_name(), phase, now)
        self._ensure_report().task_started(host.get_name(), phase, now)

    def _finish(self, result, status, ignore_errors=False):
        host = result.host.get_name()
        task = result.task
        with self._lock:
            self._running.pop(host, None)
        res = result.result
        if status == "ok" and res.get("changed"):
            status = "changed"
        self._ensure_report().task_result(
            host,
            task_phase(task),
            task.get_name(),
            status,
            dict(res),
            ignore_errors=ignore_errors,
        )

    def v2_runner_on_ok(self, result):
        self._finish(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, "failed", ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._finish(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._finish(result, "unreachable")

    def v2_runner_retry(self, result):
        res = result.result
        host = result.host.get_name()
        task = result.task
        attempts = res.get("attempts", "?")
        retries = res.get("retries")
        total = "/%s" % retries if isinstance(retries, int) else ""  # retries includes the first run
        with self._lock:
            started = self._running.get(host, (None, None, time.time()))[2]
        facts = res.get("ansible_facts") if isinstance(res.get("ansible_facts"), dict) else {}
        detail = res.get("ump_progress") or facts.get("ump_progress") or res.get("msg") or ""
        line = "%s | %s | %s: attempt %s%s, %s elapsed" % (
            host,
            task_phase(task),
            task.get_name(),
            attempts,
            total,
            _duration(time.time() - started),
        )
        if detail:
            line += " | %s" % str(detail)[:300]
        self._progress(line)

    def v2_runner_on_async_poll(self, result):
        res = result.result
        host = result.host.get_name()
        # the poll's result belongs to ansible's internal async_status task: name the task that waits
        with self._lock:
            task_name, phase, started = self._running.get(
                host, (result.task.get_name(), task_phase(result.task), time.time())
            )
        line = "%s | %s | %s: async job %s still running, %s elapsed" % (
            host,
            phase,
            task_name,
            res.get("ansible_job_id", "?"),
            _duration(time.time() - started),
        )
        if res.get("ump_progress"):
            line += " | %s" % str(res["ump_progress"])[:300]
        self._progress(line)

    def heartbeat(self, min_seconds, now=None):
        """One heartbeat: a line per task that has run longer than ``min_seconds``, with its hosts."""
        now = time.time() if now is None else now
        groups = {}
        with self._lock:
            for host, (task, phase, start) in self._running.items():
                if now - start >= min_seconds:
                    groups.setdefault((phase, task), []).append((host, start))
        lines = []
        for (phase, task), hosts in sorted(groups.items()):
            oldest = min(started for dummy, started in hosts)
            line = "still running: %s | %s on %s, %s elapsed" % (
                phase,
                task,
                ", ".join(sorted(h for h, dummy in hosts)),
                _duration(now - oldest),
            )
            lines.append(line)
            self._progress(line)
        return lines

    def _heartbeat_loop(self, interval):
        while not self._stop.wait(interval):
            try:
                self.heartbeat(interval)
            except Exception:  # a heartbeat must never break the run
                pass

    # -------------------------------------------------------------- the end
    def v2_playbook_on_stats(self, stats):
        self._stop.set()
        report = self._ensure_report()
        report.ended = time.time()
        for host in sorted(stats.processed.keys()):
            report.set_stats(host, stats.summarize(host))
        data = report.as_dict()
        directory = os.path.expanduser(str(self._report_dir()))
        try:
            self.paths = write_report(data, directory)
        except OSError as e:
            self._display.warning("ump365.upgrade.report: could not write the report to %s: %s" % (directory, e))
            return
        self._display.display(
            "ump365.upgrade.report: %s, %s, %s" % (self.paths["json"], self.paths["html"], self.paths["junit.xml"])
        )
