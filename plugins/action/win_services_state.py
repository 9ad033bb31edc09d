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

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

ARGSPEC = dict(
    names=dict(type="list", elements="str", required=True),
    state=dict(type="str", required=True, choices=["stopped", "started"]),
    timeout=dict(type="int", default=60),
    force_dependent_services=dict(type="bool", default=False),
)


class _ServiceTimeout(Exception):
    pass


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
        except (AnsibleConnectionFailure, AnsibleError) as e:
            row.update(changed=False, failed=True, state=None, timed_out=False, msg=str(e))
            self._reset_connection()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        row["seconds"] = round(time.monotonic() - start, 3)
        return row

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
        host = task_vars.get("inventory_hostname", "host")
        rows = []
        for name in args["names"]:
            row = self._one(name, args, task_vars)
            rows.append(row)
            display.display(
                "%s: %s %s in %.1fs%s"
                % (
                    host,
                    name,
                    row["state"] or ("timed out" if row["timed_out"] else "failed"),
                    row["seconds"],
                    (": " + row["msg"]) if row["failed"] and row["msg"] else "",
                )
            )
        result.update(
            changed=any(r["changed"] for r in rows),
            results=rows,
            failed_services=[r["name"] for r in rows if r["failed"]],
        )
        return result
