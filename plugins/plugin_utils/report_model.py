# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run report's model: built from task events, independent of Ansible's objects (controller only).

``RunReport`` collects phases, checks, versions, wyUpdate steps, customers, rollback, failures and retries
per host and concludes each host's final state; ``as_dict()`` is the JSON document (docs/report.schema.json),
scrubbed of secrets. Rendering is in ``report_render``, secrets in ``report_secrets``, the Ansible callback
in plugins/callback/report.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import time

from ansible.release import __version__ as ansible_version

from ansible_collections.ump365.upgrade.plugins.plugin_utils.report_secrets import SecretScrubber

SCHEMA_VERSION = 1

# The upgrade's phases in runbook order: read from the one phase model the engine runs,
# roles/upgrade/vars/main.yml (docs/report.md), plus "rollback". Others (firewall, token_migration, other)
# may appear.
PHASE_MODEL = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "upgrade", "vars", "main.yml")


def _load_phase_model(path=PHASE_MODEL):
    import yaml

    with open(path) as f:
        data = yaml.safe_load(f)
    phases = data["upgrade_phases"]
    return (
        tuple(p["name"] for p in phases) + ("rollback",),
        # role name -> phase, for roles whose name is not the phase's (a role serving two phases is tagged)
        dict(
            {p["role"].rsplit(".", 1)[-1]: p["name"] for p in phases if p["role"].rsplit(".", 1)[-1] != p["name"]},
            swap_os_disk="rollback",
        ),
        # phases that change the UMP server; a host that failed before any of them ran was stopped before change
        tuple(p["name"] for p in phases if p.get("changes_host")) + ("services", "rollback"),
    )


PHASES, ROLE_PHASES, CHANGING_PHASES = _load_phase_model()
FINAL_STATES = ("upgraded", "rolled_back", "stopped_before_change", "failed", "unchanged", "not_started")
CHECK_STATUSES = ("pass", "warn", "fail", "skip")
ROLLBACK_OK = ("ok", "success", "succeeded", "done", "rolled_back", "restored")


def utc_iso(ts):
    if ts is None:
        return None
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def duration(seconds):
    seconds = int(round(seconds or 0))  # noqa: RUF046
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "%dh%02dm%02ds" % (h, m, s) if h else "%dm%02ds" % (m, s)


def jsonable(value, depth=0):
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
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v, depth + 1) for v in value]
    return str(value)


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

    def task_result(
        self, host, phase, task, status, result, now=None, ignore_errors=False, task_fields=None, action=None
    ):
        """``status``: ok, changed, failed, skipped, unreachable. ``result``: the task's result dict.
        ``task_fields``: the task's attributes as the worker ran it (its resolved ``args``), for secrets."""
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
        self.scrubber.learn_task(task_fields, result, action)
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
                entry["client_retries"] = jsonable(client_retries)
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
                    "observed": jsonable(c.get("observed")),
                    "expected": jsonable(c.get("expected")),
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
                        entry[extra] = jsonable(c[extra])
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
                    h["versions"][k] = jsonable(versions[k])
        for key, target in (("ump_wyupdate_steps", "wyupdate_steps"), ("ump_customers", "customers")):
            rows = part.get(key)
            if isinstance(rows, list):
                for row in rows:
                    if not isinstance(row, dict):
                        continue
                    row = jsonable(row)
                    name = row.get("name", row.get("step"))
                    h[target] = [x for x in h[target] if name is None or x.get("name", x.get("step")) != name]
                    h[target].append(row)
        rb = part.get("ump_rollback")
        if isinstance(rb, dict):
            h["rollback"] = dict(h["rollback"] or {}, **jsonable(rb))
        state = part.get("ump_final_state")
        if state in FINAL_STATES:
            h["final_state"] = state
            outcome = part.get("ump_outcome")
            reason = outcome.get("reason") if isinstance(outcome, dict) else None
            h["final_state_reason"] = str(jsonable(reason)) if reason else ""

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
        return self.scrubber.scrub(jsonable(data))


def phase_of(tags, role_name):
    """A task's phase: its first ``phase_<name>`` tag, else its role (``wyupdate_steps`` reports as
    ``wyupdate``, ``swap_os_disk`` as ``rollback``), else ``other``."""
    for tag in tags or ():
        if isinstance(tag, str) and tag.startswith("phase_") and len(tag) > 6:
            return tag[6:]
    if role_name:
        role_name = str(role_name).rsplit(".", 1)[-1]
        return ROLE_PHASES.get(role_name, role_name)
    return "other"
