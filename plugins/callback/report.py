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
    includes), else the role whose tasks file it is in (C(wyupdate_steps) reports as C(wyupdate), C(swap_os_disk)
    as C(rollback)), else C(other).
  - Modules and tasks feed it through result keys C(ump_checks), C(ump_versions), C(ump_wyupdate_steps),
    C(ump_customers), C(ump_rollback), C(ump_final_state), C(ump_progress) and C(retries), returned by a
    module or set with C(ansible.builtin.set_fact). The conventions are in docs/report.md of the collection.
  - Secrets never reach the files or the progress lines. Results of C(no_log) tasks are censored by Ansible
    before any callback sees them. The callback never templates a variable (no vault or lookup runs from
    it); it learns the values to mask from what the tasks already resolved (the arguments a task ran with
    under a secret option name (every C(no_log) option of this collection, or a name matching
    O(secret_pattern)), result keys and facts whose name matches, and masks them as C(********) wherever
    they occur); the value of any result key whose name matches is masked too.
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

import os
import re
import threading
import time

from ansible.plugins.callback import CallbackBase

from ansible_collections.ump365.upgrade.plugins.plugin_utils.report_model import (
    PHASES,
    RunReport,
    duration,
    phase_of,
)
from ansible_collections.ump365.upgrade.plugins.plugin_utils.report_render import write_report
from ansible_collections.ump365.upgrade.plugins.plugin_utils.report_secrets import (
    DEFAULT_MIN_LENGTH,
    DEFAULT_PATTERN,
    MASK,
    SecretScrubber,
)

# what tests and other plugins import from here
__all__ = ["DEFAULTS", "MASK", "PHASES", "CallbackModule", "RunReport", "SecretScrubber", "task_phase"]

DEFAULTS = {
    "dir": "./reports",
    "run_id": None,
    "secret_pattern": DEFAULT_PATTERN,
    "secret_min_length": DEFAULT_MIN_LENGTH,
    "progress": True,
    "heartbeat": 60,
}
# the role of a task, from its file's path (Task.get_path(), public): .../roles/<name>/tasks/x.yml:12
ROLE_IN_PATH = re.compile(r"[/\\]roles[/\\]([^/\\]+)[/\\](?:tasks|handlers)[/\\]")


# ---------------------------------------------------------------------- the callback
def task_phase(task):
    """A task's phase: its first ``phase_<name>`` tag (tags are inherited from blocks, roles and includes),
    else the role whose tasks file it is in, else ``other``. Only public task API: ``tags``, ``get_path()``."""
    try:
        tags = list(task.tags or [])
    except Exception:
        tags = []
    role = None
    try:
        found = ROLE_IN_PATH.findall(task.get_path() or "")
        role = found[-1] if found else None
    except Exception:
        role = None
    return phase_of(tags, role)


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
        self._inventory_report_dir = None  # None: not read yet; "": read, none usable
        self._play = None

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
        """The hosts the play targets (every serial batch, within --limit): the magic variable
        ``ansible_play_hosts_all`` of the play's variables. Nothing is templated."""
        self._play = play
        try:
            variables = play.get_variable_manager().get_vars(play=play, include_hostvars=False)
        except Exception as e:
            self._display.vvv("ump365.upgrade.report: cannot read the play's hosts: %s" % e)
            return
        self._ensure_report().play_hosts.update(str(h) for h in variables.get("ansible_play_hosts_all") or [])

    def _read_report_dir(self, host):
        """The inventory's ``ump_report_dir`` of the first host that runs a task, read as it is written
        (a plain path; a value that needs templating is not templated here: the default is used)."""
        if self._inventory_report_dir is not None or self._play is None:
            return
        try:
            variables = self._play.get_variable_manager().get_vars(
                play=self._play, host=host, include_hostvars=False, include_delegate_to=False
            )
        except Exception as e:
            self._display.vvv("ump365.upgrade.report: cannot read the variables of %s: %s" % (host, e))
            return
        value = variables.get("ump_report_dir")
        if not value:
            self._inventory_report_dir = ""
        elif "{{" in str(value) or "{%" in str(value):
            self._inventory_report_dir = ""
            self._display.warning(
                "ump365.upgrade.report: ump_report_dir is a template (%s), which the report does not render; "
                "writing to the dir option instead (set UMP365_REPORT_DIR or a plain path)" % value
            )
        else:
            self._inventory_report_dir = str(value)

    # -------------------------------------------------------------- tasks
    def v2_runner_on_start(self, host, task):
        self._read_report_dir(host)
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
            # the arguments the worker ran the task with (already templated, public in ansible-core 2.19)
            task_fields=getattr(result, "task_fields", None),
            # the action as the worker ran it (roles write FQCNs); no plugin resolution here
            action=(getattr(result, "task_fields", None) or {}).get("action"),
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
            duration(time.time() - started),
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
            duration(time.time() - started),
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
                duration(now - oldest),
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
