"""plugin_utils/inprocess.py: a controller module's main() run in this process prints what a module process would."""

from __future__ import annotations

import json
import sys

import pytest
from ansible_collections.ump365.upgrade.plugins.plugin_utils import inprocess
from ansible_collections.ump365.upgrade.plugins.plugin_utils.inprocess import capture_main

MODULE = "ansible_collections.ump365.upgrade.plugins.modules.%s"


def test_exit_json_is_captured_with_rc_0(tmp_path):
    rc, out, err = capture_main(
        MODULE % "checkpoint",
        {"path": str(tmp_path), "host": "ump01", "run_id": "8.0.515", "phase": "snapshot", "status": "done"},
    )
    assert rc == 0, err
    res = json.loads(out)
    assert res["changed"] and "snapshot" in res["done_phases"]
    assert (tmp_path / "ump01__8.0.515.json").exists()


def test_check_mode_and_fail_json(tmp_path):
    rc, out, _err = capture_main(
        MODULE % "checkpoint",
        {"path": str(tmp_path), "host": "ump01", "run_id": "r", "phase": "snapshot", "_ansible_check_mode": True},
    )
    assert rc == 0 and json.loads(out)["changed"] and not list(tmp_path.iterdir())  # nothing written
    rc, out, _err = capture_main(MODULE % "checkpoint", {"host": "ump01"})
    res = json.loads(out)
    assert rc == 1 and res["failed"] and "path" in res["msg"]


def test_no_log_values_are_masked_in_what_is_printed():
    secret = "S3cr3t-never-shown"
    # no server: the module fails, and its invocation (printed with the result) masks the password
    rc, out, _err = capture_main(
        MODULE % "sql_info",
        {"server": "127.0.0.1", "port": 9, "username": "u", "password": secret, "timeout": 1, "retries": 1},
    )
    assert rc == 1 and json.loads(out)["failed"]
    assert secret not in out


def test_an_exception_is_a_module_failure_with_its_traceback():
    rc, out, err = capture_main("json", {})  # a module without main()
    assert rc == 1 and out == "" and "AttributeError" in err


# ---------------------------------------------------------------- when it runs in-process, and the fallback


class _Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class _Templar:
    def __init__(self, variables):
        self.variables = variables

    def template(self, value):
        if value == "{{ ansible_playbook_python }}":
            return self.variables["ansible_playbook_python"]
        return value


def _action(delegate_to="localhost", transport="local"):
    action = object.__new__(inprocess.InProcessModuleAction)
    action.MODULE = "sql_info"
    action._connection = _Obj(transport=transport, has_native_async=False, _shell=_Obj(tmpdir=None))
    action._task = _Obj(async_val=0, environment=[], delegate_to=delegate_to, args={"server": "x"})
    action._play_context = _Obj(become=False)
    action._templar = _Templar({"ansible_playbook_python": sys.executable})
    return action


def _vars(host_interpreter, delegated_interpreter):
    """A Windows host's task vars with the task delegated to localhost (vars of the delegated host apart)."""
    delegated = {"ansible_connection": "local"}
    if delegated_interpreter is not None:
        delegated["ansible_python_interpreter"] = delegated_interpreter
    out = {"ansible_connection": "winrm", "ansible_delegated_vars": {"localhost": delegated}}
    if host_interpreter is not None:
        out["ansible_python_interpreter"] = host_interpreter
    return out


def test_the_delegated_hosts_interpreter_decides_not_the_task_hosts():
    action = _action()
    assert action._why_not_in_process(_vars(None, "{{ ansible_playbook_python }}")) is None
    assert action._why_not_in_process(_vars("/usr/bin/python3-of-the-windows-host", sys.executable)) is None
    why = action._why_not_in_process(_vars(sys.executable, "/opt/other/python3"))
    assert why and "/opt/other/python3" in why


def test_an_unset_interpreter_takes_the_normal_path():
    assert "not set" in _action()._why_not_in_process(_vars(sys.executable, None))
    not_delegated = _action(delegate_to=None)
    assert "not set" in not_delegated._why_not_in_process({"ansible_connection": "local"})
    assert not_delegated._why_not_in_process({"ansible_python_interpreter": sys.executable}) is None


def test_a_missing_ansible_core_internal_takes_the_normal_path(monkeypatch):
    monkeypatch.delattr(inprocess.basic, "_ANSIBLE_PROFILE", raising=False)
    missing = inprocess.missing_internals()
    assert missing == ["ansible.module_utils.basic._ANSIBLE_PROFILE"]
    monkeypatch.setattr(inprocess, "MISSING_INTERNALS", missing)
    why = _action()._why_not_in_process(_vars(None, sys.executable))
    assert why and "_ANSIBLE_PROFILE" in why


def test_this_ansible_core_has_every_internal():
    assert inprocess.missing_internals() == []


@pytest.mark.parametrize("env", ["0", "false"])
def test_the_fallback_runs_the_module_the_normal_way(monkeypatch, env):
    monkeypatch.setenv("UMP365_INPROCESS_MODULES", env)
    calls = []
    monkeypatch.setattr(inprocess.ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    monkeypatch.setattr(inprocess, "capture_main", lambda *a: pytest.fail("ran in-process"))
    action = _action()
    action._execute_module = lambda **kw: calls.append(kw) or {"changed": False, "ok": 1}
    action._remove_tmp_path = lambda path: None
    result = action.run(task_vars=_vars(None, sys.executable))
    assert result == {"changed": False, "ok": 1}
    assert calls == [
        {"module_name": "ump365.upgrade.sql_info", "task_vars": _vars(None, sys.executable), "wrap_async": 0}
    ]
