# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run this collection's controller-side modules inside the task's worker process.

The Azure, SQL, UMP/SBC/OVOC REST and Graph modules run on the controller (``delegate_to: localhost``,
``ansible_connection: local``, the playbook's own Python). Executed the normal way, every such task
builds an AnsiballZ payload, starts a second Python interpreter that imports ansible.module_utils and
the SDK again, and parses its stdout: about 0.3-0.5 s of controller CPU and one more ~40-60 MiB process
per task, 25-30 tasks per host. The worker process that runs the action plugin is already a fork of
ansible-playbook, exits after the task and has the collection loader installed, so the module's
``main()`` can run there directly.

What stays the same as a normal module run:

* the arguments are the task's arguments plus the ``_ansible_*`` keys that ActionBase adds (check mode,
  no_log, diff, verbosity...), passed through ``ansible.module_utils.basic._ANSIBLE_ARGS`` and the
  ``legacy`` serialization profile exactly as AnsiballZ passes them;
* ``exit_json``/``fail_json`` print the result (after ``remove_values`` has masked every ``no_log``
  value) and raise SystemExit: the printed JSON is captured and goes through
  ``ActionBase._parse_returned_data`` and the same post-processing as ``_execute_module``, so the
  result, its warnings and the task's no_log/diff handling are those of a normal run;
* an exception out of ``main()`` becomes the usual "MODULE FAILURE" result with its traceback.

It runs in-process only where its preconditions hold, and otherwise falls back to the normal module
execution (``ActionBase._execute_module``):

* every ansible-core internal it needs is there (feature-detected at import against the running
  ansible-core: ``basic._ANSIBLE_ARGS``/``_ANSIBLE_PROFILE``, ``get_module_encoder``/``Direction``,
  ``ActionBase._update_module_args``/``_parse_returned_data``, ``remove_internal_keys``); when one is
  missing (a newer or older core), every task takes the normal path and ``-vvv`` says which;
* the task runs on the local connection, without become, async or a task ``environment``;
* the interpreter of the host the task runs on -- the **delegated** host's, from
  ``ansible_delegated_vars[delegate_to]``, when the task is delegated -- is set and is this Python
  (the roles set ``ansible_python_interpreter: "{{ ansible_playbook_python }}"``; the implicit localhost
  has it too). An unset interpreter means the normal path: the interpreter would be discovered;
* ``UMP365_INPROCESS_MODULES=0`` is not set in the controller's environment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib
import io
import json
import os
import sys
import traceback

from ansible.errors import AnsibleError
from ansible.module_utils import basic
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

try:  # ansible-core internals: absent in another core version -> the normal module execution
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:
    Direction = get_module_encoder = None
try:
    from ansible.vars.clean import remove_internal_keys
except ImportError:
    remove_internal_keys = None

display = Display()


def missing_internals():
    """The ansible-core internals in-process execution needs that this ansible-core lacks (names)."""
    missing = []
    for name in ("_ANSIBLE_ARGS", "_ANSIBLE_PROFILE"):
        if not hasattr(basic, name):
            missing.append("ansible.module_utils.basic.%s" % name)
    if get_module_encoder is None or Direction is None:
        missing.append("ansible.module_utils.common.json.get_module_encoder")
    elif not hasattr(Direction, "CONTROLLER_TO_MODULE"):
        missing.append("Direction.CONTROLLER_TO_MODULE")
    if remove_internal_keys is None:
        missing.append("ansible.vars.clean.remove_internal_keys")
    for name in ("_update_module_args", "_parse_returned_data", "_execute_module"):
        if not callable(getattr(ActionBase, name, None)):
            missing.append("ActionBase.%s" % name)
    return missing


MISSING_INTERNALS = missing_internals()

COLLECTION = "ump365.upgrade"
PROFILE = "legacy"


def _same_interpreter(value):
    if not value:
        return False
    try:
        return os.path.realpath(str(value)) == os.path.realpath(sys.executable) or str(value) == sys.executable
    except (OSError, ValueError):
        return False


def capture_main(module_path, module_args):
    """Run ``module_path``'s ``main()`` with ``module_args`` (already holding the ``_ansible_*`` keys).

    Returns ``(rc, stdout, stderr)`` as a module process would: rc 0 after exit_json, 1 after fail_json,
    1 with the traceback on stderr when main() raised.
    """
    encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode("utf-8")
    basic._ANSIBLE_PROFILE = PROFILE
    out, err = io.StringIO(), io.StringIO()
    rc = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                importlib.import_module(module_path).main()
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except AnsibleError:
        # the controller's own errors (the task's timeout raises TaskTimeoutError in this process):
        # modules never raise them, so they belong to the task executor
        raise
    except Exception:
        rc = 1
        err.write(traceback.format_exc())
    finally:
        basic._ANSIBLE_ARGS = None
    return rc, out.getvalue(), err.getvalue()


class InProcessModuleAction(ActionBase):
    """Action plugin for a pure-Python controller module of this collection (set ``MODULE``)."""

    MODULE = None
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def _why_not_in_process(self, task_vars):
        """None when the module can run in this process, else the reason it runs as a module process."""
        if os.environ.get("UMP365_INPROCESS_MODULES", "1").lower() in ("0", "false", "no"):
            return "UMP365_INPROCESS_MODULES=0"
        if MISSING_INTERNALS:
            return "this ansible-core lacks %s" % ", ".join(MISSING_INTERNALS)
        if getattr(self._connection, "transport", None) != "local":
            return "connection %s is not local" % getattr(self._connection, "transport", None)
        if self._task.async_val or self._play_context.become or any(self._task.environment or []):
            return "async, become or environment"
        host_vars = task_vars
        if self._task.delegate_to:
            # the delegated host's variables (they include the task's vars), as ActionBase reads them
            host_vars = (task_vars.get("ansible_delegated_vars") or {}).get(self._task.delegate_to)
            if not isinstance(host_vars, dict):
                return "no variables for the delegated host %s" % self._task.delegate_to
        interpreter = host_vars.get("ansible_python_interpreter")
        if interpreter is None or interpreter == "":
            return "ansible_python_interpreter is not set (it would be discovered)"
        try:
            interpreter = self._templar.template(interpreter)
        except Exception:  # an interpreter we cannot resolve here: let the normal path decide
            return "ansible_python_interpreter not resolved"
        if not _same_interpreter(interpreter):
            return "ansible_python_interpreter %s is not this Python (%s)" % (interpreter, sys.executable)
        return None

    def run(self, tmp=None, task_vars=None):
        result = super(InProcessModuleAction, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        fqcn = "%s.%s" % (COLLECTION, self.MODULE)
        why = self._why_not_in_process(task_vars)
        if why:
            display.vvv("Running %s as a module process: %s" % (fqcn, why))
            wrap_async = self._task.async_val and not self._connection.has_native_async
            result.update(self._execute_module(module_name=fqcn, task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result

        module_args = dict(self._task.args)
        self._update_module_args(fqcn, module_args, task_vars)
        display.vvv("Running %s in the worker process (ump365.upgrade plugin_utils/inprocess)" % fqcn)
        rc, stdout, stderr = capture_main(
            "ansible_collections.%s.plugins.modules.%s" % (COLLECTION, self.MODULE), module_args
        )
        data = self._parse_returned_data({"rc": rc, "stdout": stdout, "stderr": stderr}, PROFILE)
        data.pop("_ansible_suppress_tmpdir_delete", None)
        remove_internal_keys(data)
        for key in ("stdout", "stderr"):
            if key in data and key + "_lines" not in data:
                data[key + "_lines"] = (data.get(key) or "").splitlines()
        result.update(data)
        return result
