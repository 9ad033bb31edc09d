# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop or start Windows services one by one with ansible.windows.win_service, each within a timeout.

win_service has no wait timeout of its own (Stop-Service waits for as long as the service takes), so
the controller bounds each call and measures how long each service took (docs in
plugins/modules/win_services_state.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import signal
import time

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure
from ansible.plugins.action import ActionBase

from ansible_collections.ump365.upgrade.plugins.module_utils import action_specs, validation
from ansible.utils.display import Display

display = Display()

ARGSPEC = action_specs.WIN_SERVICES_STATE


class _ServiceTimeout(Exception):
    pass


def _is_connection_error(exc):
    """Whether ``exc`` means the WinRM connection broke (the command may still have run on the host)."""
    if isinstance(exc, AnsibleConnectionFailure):
        return True
    return any(
        (getattr(cls, "__module__", "") or "").startswith(("requests", "urllib3", "winrm", "http.client"))
        or cls.__name__ in ("ConnectionError", "ConnectionResetError", "BrokenPipeError", "RemoteDisconnected")
        for cls in type(exc).__mro__
    )


def _lost(rows, method):
    """(services, message) per dropped WinRM command: one per service, or one for a batch's single command."""
    lost = [r for r in rows if r.get("connection_lost")]
    if method == "batch" and lost:
        return [(", ".join(r["name"] for r in lost), lost[0]["msg"])]
    return [(r["name"], r["msg"]) for r in lost]


def _on_alarm(signum, frame):
    raise _ServiceTimeout()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _one(self, name, args, task_vars):
        module_args = {"name": name, "state": args["state"]}
        if args["state"] == "stopped" and args["force_dependent_services"]:
            module_args["force_dependent_services"] = True
        start = time.monotonic()
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(max(1, args["timeout"]))
        row = {"name": name, "requested": args["state"]}
        try:
            res = self._execute_module(
                module_name="ansible.windows.win_service", module_args=module_args, task_vars=task_vars
            )
            row.update(
                changed=bool(res.get("changed")),
                failed=bool(res.get("failed")),
                state=res.get("state"),
                msg=res.get("msg", ""),
                timed_out=False,
            )
        except _ServiceTimeout:
            row.update(
                changed=True,
                failed=True,
                state=None,
                timed_out=True,
                msg="no answer within %ds (the service did not reach %s)" % (args["timeout"], args["state"]),
            )
            self._reset_connection()
        except Exception as e:  # a dropped connection (requests/winrm errors) or an Ansible error
            row.update(changed=False, failed=True, state=None, timed_out=False, msg="%s: %s" % (type(e).__name__, e))
            row["connection_lost"] = _is_connection_error(e)
            # the command may have run on the host: changed, so the role reads the services again
            row["changed"] = row["connection_lost"]
            self._reset_connection()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        row["seconds"] = round(time.monotonic() - start, 3)
        return row

    def _batch(self, names, args, task_vars):
        """One Stop-Service/Start-Service for every name (one WinRM command); per-service errors from stderr."""
        verb = "Stop-Service" if args["state"] == "stopped" else "Start-Service"
        quoted = ", ".join("'%s'" % n.replace("'", "''") for n in names)
        script = "%s -Name %s%s" % (
            verb,
            quoted,
            " -Force" if args["force_dependent_services"] and verb == "Stop-Service" else "",
        )
        start = time.monotonic()
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(max(1, args["timeout"]))
        timed_out = False
        connection_lost = False
        res = {}
        try:
            res = self._execute_module(
                module_name="ansible.windows.win_shell", module_args={"_raw_params": script}, task_vars=task_vars
            )
        except _ServiceTimeout:
            timed_out = True
            self._reset_connection()
        except Exception as e:  # a dropped connection: every service is then judged by the next reading
            res = {"failed": True, "msg": "%s: %s" % (type(e).__name__, e)}
            connection_lost = _is_connection_error(e)
            self._reset_connection()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        seconds = round(time.monotonic() - start, 3)
        module_error = (res.get("msg") or "") if (res.get("failed") and "rc" not in res) else ""
        stderr = (res.get("stderr") or "") + "\n" + module_error
        rows = []
        for name in names:
            errs = [line.strip() for line in stderr.splitlines() if name.lower() in line.lower()]
            failed = timed_out or bool(errs) or bool(module_error)
            rows.append(
                {
                    "name": name,
                    "requested": args["state"],
                    # a timed-out or dropped command may have run on the host: changed, so the role reads again
                    "changed": not failed or timed_out or connection_lost,
                    "failed": failed,
                    "timed_out": timed_out,
                    "state": None if failed else ("stopped" if args["state"] == "stopped" else "running"),
                    "msg": ("no answer within %ds" % args["timeout"])
                    if timed_out
                    else (" ".join(errs) or module_error)[:500],
                    "seconds": None,
                    "batch_seconds": seconds,
                    "connection_lost": connection_lost,
                }
            )
        return rows

    def _reset_connection(self):
        # the interrupted command's shell may be busy; the next call opens a fresh one
        try:
            self._connection.close()
        except Exception:  # already gone
            pass

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _valid, args = self.validate_argument_spec(argument_spec=ARGSPEC)
        invalid = validation.problems(args, ARGSPEC)
        if invalid:
            raise AnsibleActionFail(
                "win_services_state: invalid input: %s" % "; ".join(invalid), result={"invalid_options": invalid}
            )
        host = task_vars.get("inventory_hostname", "host")
        rows = []
        if args["method"] == "batch" and args["names"]:
            rows = self._batch(args["names"], args, task_vars)
        for name in args["names"] if args["method"] == "each" else []:
            rows.append(self._one(name, args, task_vars))
        for row in rows:
            display.display(
                "%s: %s %s%s%s"
                % (
                    host,
                    row["name"],
                    row["state"] or ("timed out" if row["timed_out"] else "failed"),
                    (" in %.1fs" % row["seconds"]) if row["seconds"] is not None else "",
                    (": " + row["msg"]) if row["failed"] and row["msg"] else "",
                )
            )
        result.update(
            changed=any(r["changed"] for r in rows),
            results=rows,
            failed_services=[r["name"] for r in rows if r["failed"]],
            # a dropped connection is a retry of the run report (docs/report.md): the role's next reading of
            # the services judges whether the command ran on the host
            retries=[
                {
                    "attempt": 1,
                    "error": "WinRM connection lost while setting %s %s: %s" % (names, args["state"], msg),
                    "type": "connection_lost",
                    "status": None,
                    "code": "connection_lost",
                    "delay": 0,
                }
                for names, msg in _lost(rows, args["method"])
            ],
        )
        return result
