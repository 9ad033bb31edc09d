# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop or start Windows services, one by one with ansible.windows.win_service or in one batch.

The batch waits on the host: one script asks the SCM to stop (``Stop-Service -NoWait``) or start
(``ServiceController.Start()``) every service, then waits for each with
``ServiceController.WaitForStatus(<state>, <timeout>)``, which throws a TimeoutException when the service
did not get there in time. The controller sets no alarm of its own, so the task's ``timeout:`` keyword
(ansible-core's own SIGALRM in the worker) stays in force. ``each`` runs win_service per service, which
waits for as long as the service takes; only the task's ``timeout:`` bounds it (docs in
plugins/modules/win_services_state.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure
from ansible.plugins.action import ActionBase

from ansible_collections.ump365.upgrade.plugins.module_utils import action_specs, validation
from ansible.utils.display import Display

display = Display()

ARGSPEC = action_specs.WIN_SERVICES_STATE


# how PowerShell prints ServiceController.WaitForStatus running out of time (a MethodInvocationException)
TIMEOUT_TEXT = ("Time out has expired", "TimeoutException")


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


def _timespan(seconds):
    """A TimeSpan literal PowerShell converts from a string: [d.]hh:mm:ss."""
    days, rest = divmod(max(1, int(seconds)), 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    return ("%d." % days if days else "") + "%02d:%02d:%02d" % (h, m, sec)


def _quote(name):
    return "'%s'" % name.replace("'", "''")


def batch_script(names, state, timeout, force):
    """The batch: ask for every change, then wait on the host for each service within ``timeout``."""
    quoted = ", ".join(_quote(n) for n in names)
    if state == "stopped":
        lines = ["Stop-Service -Name %s -NoWait%s" % (quoted, " -Force" if force else "")]
        target = "Stopped"
    else:
        lines = ["(Get-Service -Name %s).Start()" % _quote(n) for n in names]
        target = "Running"
    lines += [
        "(Get-Service -Name %s).WaitForStatus('%s', '%s')" % (_quote(n), target, _timespan(timeout)) for n in names
    ]
    return "\n".join(lines)


def record_owners(record, names):
    """The services an error record is about: those its message names, else the one service named in
    the script line it quotes (a method call on one service); a record about the whole command (its
    script line names several services) belongs to those its message names only."""
    named = [n for n in names if n.lower() in record[0].lower()]
    if named:
        return named
    script = " ".join(x for x in record[1:] if x.startswith("+ ")).lower()
    named = [n for n in names if _quote(n).lower() in script]
    return named if len(named) == 1 else []


def error_records(stderr):
    """PowerShell's error records: a message line, then its ``At line:`` / ``+ ...`` lines."""
    records = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        if records and (line.startswith(("At line:", "At ", "+ ", "    +")) or re.match(r"^\s", line)):
            records[-1].append(line.strip())
        else:
            records.append([line.strip()])
    return records


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def _one(self, name, args, task_vars):
        module_args = {"name": name, "state": args["state"]}
        if args["state"] == "stopped" and args["force_dependent_services"]:
            module_args["force_dependent_services"] = True
        start = time.monotonic()
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
        except Exception as e:  # a dropped connection (requests/winrm errors) or an Ansible error
            row.update(changed=False, failed=True, state=None, timed_out=False, msg="%s: %s" % (type(e).__name__, e))
            row["connection_lost"] = _is_connection_error(e)
            # the command may have run on the host: changed, so the role reads the services again
            row["changed"] = row["connection_lost"]
            self._reset_connection()
        row["seconds"] = round(time.monotonic() - start, 3)
        return row

    def _batch(self, names, args, task_vars):
        """One WinRM command for every name; the waits run on the host (``batch_script``); per-service
        errors and timeouts from PowerShell's error records that name the service."""
        script = batch_script(names, args["state"], args["timeout"], args["force_dependent_services"])
        start = time.monotonic()
        connection_lost = False
        try:
            res = self._execute_module(
                module_name="ansible.windows.win_shell", module_args={"_raw_params": script}, task_vars=task_vars
            )
        except Exception as e:  # a dropped connection: every service is then judged by the next reading
            res = {"failed": True, "msg": "%s: %s" % (type(e).__name__, e)}
            connection_lost = _is_connection_error(e)
            self._reset_connection()
        seconds = round(time.monotonic() - start, 3)
        module_error = (res.get("msg") or "") if (res.get("failed") and "rc" not in res) else ""
        records = error_records(res.get("stderr") or "")
        owned = {name: [] for name in names}
        for record in records:
            for name in record_owners(record, names):
                owned[name].append(record)
        rows = []
        for name in names:
            mine = owned[name]
            timed_out = any(any(t in line for t in TIMEOUT_TEXT) for r in mine for line in r)
            errs = [r[0] for r in mine]
            failed = bool(mine) or bool(module_error)
            rows.append(
                {
                    "name": name,
                    "requested": args["state"],
                    # a timed-out or dropped command may have changed the host: changed, so the role reads again
                    "changed": not failed or timed_out or connection_lost,
                    "failed": failed,
                    "timed_out": timed_out,
                    "state": None if failed else ("stopped" if args["state"] == "stopped" else "running"),
                    "msg": ("no answer within %ds (the service did not reach %s)" % (args["timeout"], args["state"]))
                    if timed_out
                    else (" ".join(dict.fromkeys(errs)) or module_error)[:500],
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
