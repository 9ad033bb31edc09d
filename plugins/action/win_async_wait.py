# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a Windows async job, showing progress from its log, on the controller.

The host is asked only through ansible.windows.async_status and ansible.windows.slurp; the progress,
the timeouts, the stuck-customer detection and the WinRM reconnects are decided here (docs in
plugins/modules/win_async_wait.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import time

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.ump365.upgrade.plugins.module_utils import action_specs, validation
from ansible.utils.display import Display

from ansible_collections.ump365.upgrade.plugins.plugin_utils import customer_upgrade as cu
from ansible_collections.ump365.upgrade.plugins.plugin_utils import wyupdate as wy

display = Display()

ARGSPEC = action_specs.WIN_ASYNC_WAIT


def _is_connection_error(exc):
    """Whether ``exc`` means the WinRM connection broke (not that the module failed)."""
    if isinstance(exc, AnsibleConnectionFailure):
        return True
    for cls in type(exc).__mro__:
        mod = getattr(cls, "__module__", "") or ""
        if mod.startswith(("requests", "urllib3", "winrm", "http.client")) or cls.__name__ in (
            "ConnectionError",
            "ConnectionResetError",
            "BrokenPipeError",
            "RemoteDisconnected",
        ):
            return True
    return False


class _ConnectionLost(AnsibleConnectionFailure):
    pass


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _host(self, task_vars):
        return task_vars.get("inventory_hostname", "host")

    def _async_dir(self):
        return self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))

    def _call(self, name, args, task_vars, state):
        """One module call, reconnecting after a dropped WinRM connection up to ``connection_retries``."""
        while True:
            try:
                return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
            except Exception as e:  # a dropped connection surfaces as requests/urllib3/winrm errors too
                if not _is_connection_error(e):
                    raise
                state["connection_errors"] += 1
                if state["connection_errors"] > state["connection_retries"]:
                    raise _ConnectionLost("%s: %s" % (type(e).__name__, e))
                display.warning(
                    "%s: WinRM connection lost while waiting for %s (%s); reconnecting (%d of %d)"
                    % (state["host"], state["what"], e, state["connection_errors"], state["connection_retries"])
                )
                delay = min(30, 2 ** state["connection_errors"])
                # a survived drop is a retry of the run report (docs/report.md, module_utils/retry.py's shape)
                state["retries"].append(
                    {
                        "attempt": state["connection_errors"],
                        "error": "WinRM connection lost while waiting for %s: %s" % (state["what"], e),
                        "type": type(e).__name__,
                        "status": None,
                        "code": "connection_lost",
                        "delay": delay,
                    }
                )
                time.sleep(delay)
                try:
                    self._connection.close()
                except Exception:  # the connection is already gone; a new one is made on the next call
                    pass

    def _status(self, jid, task_vars, state):
        args = {"jid": jid, "mode": "status", "_async_dir": self._async_dir()}
        res = self._call("ansible.legacy.async_status", args, task_vars, state)
        for k in ("started", "finished"):
            if k in res:
                res[k] = bool(res[k])
        return res

    def _read_log(self, path, task_vars, state):
        res = self._call("ansible.windows.slurp", {"src": path}, task_vars, state)
        if res.get("failed") or "content" not in res:
            return None
        return to_text(base64.b64decode(res["content"]), errors="surrogate_or_replace")

    def _progress(self, text, args, state):
        """Show lines for what ended since the last read; return stuck customers (if any)."""
        host = state["host"]
        if args["progress"] == "wyupdate":
            order = args["step_order"] or wy.GUIDE_STEPS
            parsed = wy.parse_step_log(text, order, args["patterns"] or None)
            for ev in parsed["events"]:
                if ev["status"] == "start":
                    continue
                key = (ev["step"], ev["status"], ev["time"])
                if key in state["seen"]:
                    continue
                state["seen"].add(key)
                pos = order.index(ev["step"]) + 1 if ev["step"] in order else "?"
                line = "%s: %s step %s/%d %s %s" % (host, state["what"], pos, len(order), ev["step"], ev["status"])
                if ev["status"] != "ok" and ev["message"]:
                    line += ": %s" % ev["message"][:200]
                state["events"].append(line)
                display.display(line)
                if ev["status"] in ("failed", "unknown"):
                    state["failed_seen"] = True  # a failed step ends the run: poll its end, do not wait on the log
            state["total"] = len(order)
            state["done"] = len({ev["step"] for ev in parsed["events"] if ev["status"] != "start"})
            current = wy.progress(parsed["events"], order)["current"]
            state["current"] = (
                "step %s (%s/%d)" % (current, order.index(current) + 1 if current in order else "?", len(order))
                if current
                else None
            )
            return []
        if args["progress"] == "customer_upgrade":
            parsed = cu.parse_log(text, (args["patterns"] or {}).get("customer_line"))
            now = time.monotonic()
            wanted = {c.lower() for c in args["customers"]}
            for name, rec in parsed["customers"].items():
                if wanted and name.lower() not in wanted:
                    continue
                if rec["status"] == "upgrading":
                    state["first_seen"].setdefault(name, now)
                key = (name, rec["status"], rec.get("end") or rec.get("start"))
                if key in state["seen"]:
                    continue
                state["seen"].add(key)
                line = "%s: %s: customer %s %s" % (host, state["what"], name, rec["status"])
                if rec.get("reason"):
                    line += " (%s)" % rec["reason"][:200]
                state["events"].append(line)
                display.display(line)
            mine = [r for n, r in parsed["customers"].items() if not wanted or n.lower() in wanted]
            state["total"] = len(wanted) or len(mine)
            state["done"] = len([r for r in mine if r["status"] != "upgrading"])
            if args["customer_timeout"] > 0:
                return cu.stuck_customers(parsed, state["first_seen"], now, args["customer_timeout"])
        return []

    def _wait_on_host(self, args, log_text, seconds, task_vars, state, results_file=None):
        """One ansible.windows.win_wait_for on the host: True when the log grew past its length (or, with
        ``results_file``, the job ended), False when the wait ran out, None when the host cannot wait (fall
        back to polling)."""
        if results_file:
            # async_watchdog.ps1 (ansible-core 2.19) sets $result.finished = $true and writes the result with
            # ConvertTo-Json; async_wrapper.ps1 wrote finished = 0 at the start
            wargs = {
                "path": results_file,
                "regex": '"finished"\\s*:\\s*(true|1)\\b',
                "timeout": int(seconds),
                "sleep": 1,
            }
        else:
            known = len((log_text or "").lstrip("\ufeff"))
            wargs = {
                "path": args["progress_path"],
                # the file's text (Get-Content -Raw) is longer than what was read: something was appended
                "regex": "\\A[\\s\\S]{%d}" % (known + 1),
                "timeout": int(seconds),
                "sleep": 1,
            }
        res = self._call("ansible.windows.win_wait_for", wargs, task_vars, state)
        if not res.get("failed"):
            return True
        if "timeout while waiting" in to_text(res.get("msg", "")):
            return False
        display.warning(
            "%s: cannot wait on the host for %s (%s); polling from the controller instead"
            % (state["host"], state["what"], to_text(res.get("msg", ""))[:200])
        )
        return None

    def _stop(self, args, task_vars, state):
        """Stop the program on the host with ``stop_command``; a note for the message."""
        if not args["stop_command"]:
            return "; no stop_command is set, so it is still running on the host: end it there (Task Manager)"
        try:
            res = self._call("ansible.windows.win_command", {"cmd": args["stop_command"]}, task_vars, state)
        except AnsibleError as e:
            return "; stopping it with '%s' failed (%s): end it on the host" % (args["stop_command"], e)
        if res.get("rc") == 0:
            return "; stopped it on the host with '%s'" % args["stop_command"]
        return "; '%s' answered exit %s: %s" % (
            args["stop_command"],
            res.get("rc"),
            (to_text(res.get("stderr") or res.get("stdout") or res.get("msg") or "")).strip()[:200],
        )

    @staticmethod
    def _next_delay(args, state, polls, elapsed):
        """Seconds until the next poll: paced by the progress seen, never more than ``delay``.

        Once something has ended, the time left is estimated from the pace so far (a short job is not
        waited on for a whole ``delay``); before that, the wait starts at ``min_delay`` and doubles.
        """
        top = max(0, args["delay"])
        low = max(0, min(args["min_delay"], top))
        done, total = state.get("done", 0), state.get("total", 0)
        if total and done >= total:  # everything ended: the job is about to exit
            return low
        if done > 0:
            return max(low, min(top, elapsed * (total - done) / float(done)))
        return max(low, min(top, low * 2 ** max(0, polls - 1)))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _valid, args = self.validate_argument_spec(argument_spec=ARGSPEC)
        invalid = validation.problems(args, ARGSPEC)
        if invalid:
            raise AnsibleActionFail(
                "win_async_wait: invalid input: %s" % "; ".join(invalid), result={"invalid_options": invalid}
            )
        host = self._host(task_vars)
        if args["progress"] != "none" and not args["progress_path"]:
            raise AnsibleError("win_async_wait: progress=%s needs progress_path" % args["progress"])
        state = {
            "host": host,
            "what": args["what"],
            "connection_errors": 0,
            "connection_retries": max(0, args["connection_retries"]),
            "seen": set(),
            "events": [],
            "first_seen": {},
            "retries": [],
        }
        start = time.monotonic()
        deadline = start + max(1, args["timeout"])
        polls = 0
        log_text = None
        stuck = []
        job = None
        stalled = False
        host_waits = 0
        wait_on_host = bool(args["wait_on_host"] and args["progress_path"] and args["progress"] != "none")
        job_wait = wait_on_host and args["wait_for"] == "job"
        results_file = None  # from the first async_status; False: none named (wait on the log instead)
        progress_timeout = max(0, args["progress_timeout"])
        last_change = start
        need_status = True
        finished = False
        last_wait = None  # what the last on-host wait saw: True grew, False quiet, None none yet
        try:
            while True:
                if need_status or job is None:
                    job = self._status(args["jid"], task_vars, state)
                    polls += 1
                    finished = job.get("finished", False)
                    if job_wait and results_file is None:
                        results_file = job.get("results_file") or False
                # on-host waits: read the log when it grew (a quiet wait means nothing new to read); waiting on
                # the job's end, after every wait (the progress of the last wait_cap seconds)
                job_mode = bool(job_wait and results_file)
                read_now = args["progress"] != "none" and (
                    finished
                    or (wait_on_host and (job_mode or last_wait is not False))
                    or (not wait_on_host and args["progress_every"] > 0 and polls % args["progress_every"] == 0)
                )
                if read_now:
                    text = self._read_log(args["progress_path"], task_vars, state)
                    if text is not None:
                        if text != log_text:
                            last_change = time.monotonic()
                        log_text = text
                        stuck = self._progress(text, args, state)
                elif log_text is not None and args["progress"] == "customer_upgrade" and args["customer_timeout"] > 0:
                    # nothing new read (a quiet wait): a customer can still run out its time
                    stuck = self._progress(log_text, args, state)
                if finished:
                    break
                if job.get("failed") and "could not find job" in to_text(job.get("msg", "")):
                    break
                if stuck:
                    break
                now = time.monotonic()
                if now >= deadline:
                    break
                if progress_timeout and now - last_change >= progress_timeout:
                    stalled = True
                    break
                left = deadline - now
                if progress_timeout:
                    left = min(left, last_change + progress_timeout - now)
                if args["progress"] == "customer_upgrade" and args["customer_timeout"] > 0:
                    left = min(left, max(1, args["customer_timeout"] / 2.0))
                done, total = state.get("done", 0), state.get("total", 0)
                about_to_end = bool(total and done >= total) or state.get("failed_seen", False)
                if wait_on_host and (job_mode or not about_to_end):
                    grew = self._wait_on_host(
                        args,
                        log_text,
                        max(1, int(min(args["wait_cap"], left) + 0.999)),
                        task_vars,
                        state,
                        results_file if job_mode else None,
                    )
                    host_waits += 1
                    last_wait = grew
                    if grew is None:  # the host cannot wait (module missing or failing): poll from here
                        wait_on_host = False
                        need_status = True
                        continue
                    # a grown log: the job is still writing, read it now and its status after the next quiet wait;
                    # the job's results file says finished: read its status (and the log) now
                    need_status = grew if job_mode else not grew
                    if not grew:
                        display.display(
                            "%s: %s still running after %ds (%s)"
                            % (host, args["what"], now - start, state.get("current") or "no new log line")
                        )
                    continue
                need_status = True
                last_wait = None
                if args["progress"] == "none" or not read_now:
                    display.display(
                        "%s: %s still running after %ds (poll %d)" % (host, args["what"], now - start, polls)
                    )
                time.sleep(min(left, self._next_delay(args, state, polls, now - start)))
        except AnsibleConnectionFailure as e:
            result.update(
                failed=True,
                finished=False,
                connection_lost=True,
                retries=state["retries"],
                polls=polls,
                host_waits=host_waits,
                stalled=False,
                elapsed=round(time.monotonic() - start, 3),
                progress_log=log_text,
                events=state["events"],
                msg="%s: WinRM connection lost while waiting for %s (job %s) after %d reconnects: %s. The job may still "
                "be running on the host; check it there (%s) before running again"
                % (host, args["what"], args["jid"], state["connection_retries"], e, args["progress_path"] or "its log"),
            )
            return result
        stop_note = ""
        if stalled:
            stop_note = self._stop(args, task_vars, state)
            # the stopped program's job ends: collect its result (a few quick polls, never more than ~10 s)
            for wait in (0.5, 1, 2, 3, 4):
                time.sleep(wait)
                job = self._status(args["jid"], task_vars, state)
                polls += 1
                if job.get("finished"):
                    break
        elapsed = round(time.monotonic() - start, 3)
        result.update(
            host_waits=host_waits,
            stalled=stalled,
            polls=polls,
            elapsed=elapsed,
            progress_log=log_text,
            events=state["events"],
            connection_errors=state["connection_errors"],
            retries=state["retries"],
            stuck=stuck,
            timed_out=False,
            changed=False,
        )
        finished = bool(job and job.get("finished")) and not stalled
        result["finished"] = finished
        # the run report (plugins/callback/report.py) shows this with the task
        result["ump_progress"] = state["events"][-1] if state["events"] else "%d poll(s)" % polls
        if finished:
            job = dict(job)
            result["job"] = job
            result["rc"] = job.get("rc")
            # the job's own outcome (a non-zero rc, failed) is for the caller to judge: waiting succeeded
            result["failed"] = False
            result["changed"] = bool(job.get("changed"))
            if args["cleanup"]:
                try:
                    self._call(
                        "ansible.legacy.async_status",
                        {"jid": args["jid"], "mode": "cleanup", "_async_dir": self._async_dir()},
                        task_vars,
                        state,
                    )
                except AnsibleError as e:
                    display.warning("%s: could not remove the async job file of %s: %s" % (host, args["what"], e))
            return result
        result["job"] = job or {}
        result["failed"] = True
        if stalled:
            last = state["events"][-1] if state["events"] else "no progress line at all"
            cause = args["likely_cause"] or (
                "the program waits for a person: a GUI window or a console prompt that nobody can see or answer "
                "under the non-interactive WinRM session"
            )
            result["msg"] = (
                "%s: %s made no progress for %ds (nothing new in %s; last progress: %s)%s. Likely cause: %s. Fix: run it "
                "once on the host in an interactive session to see what it waits for, then use its unattended mode (or the "
                "operator-performed step); if it is only slow, raise the progress timeout"
                % (host, args["what"], progress_timeout, args["progress_path"], last, stop_note, cause)
            )
        elif stuck:
            result["msg"] = (
                "%s: %s: customer(s) %s still Upgrading after the per-customer timeout of %ds. The executable keeps "
                "running on the host until its async limit; check %s and C:\\acs\\tenants\\<customer>\\logs, and when it "
                "has ended run again (finished customers are skipped)"
                % (host, args["what"], ", ".join(stuck), args["customer_timeout"], args["progress_path"])
            )
        elif job and job.get("failed"):
            result["msg"] = "%s: cannot follow %s (job %s): %s" % (host, args["what"], args["jid"], job.get("msg"))
        else:
            result["timed_out"] = True
            last = state["events"][-1] if state["events"] else "no progress line yet"
            running = (", still running: %s" % state["current"]) if state.get("current") else ""
            result["msg"] = (
                "%s: %s did not finish within %ds (last progress: %s%s). It keeps running on the host until its "
                "async limit ends it; check %s, and when it has ended run again or raise the timeout"
                % (host, args["what"], args["timeout"], last, running, args["progress_path"] or "the host")
            )
        return result
