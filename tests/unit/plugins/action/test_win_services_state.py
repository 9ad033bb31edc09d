"""Stopping/starting services one by one with a timeout each, or in one batch."""

from __future__ import annotations

import time
from unittest.mock import MagicMock

from ansible_collections.ump365.upgrade.plugins.action import win_services_state as mod


def make_action(args):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.diff = False
    action = mod.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action, {"inventory_hostname": "ump01"}


def test_each_service_gets_its_own_call_result_and_time(monkeypatch):
    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    action, tv = make_action({"names": ["a", "b"], "state": "stopped"})
    calls = []

    def fake(module_name, module_args, task_vars):
        calls.append((module_name, module_args))
        if module_args["name"] == "b":
            return {"failed": True, "msg": "Cannot stop b service on computer '.'."}
        return {"changed": True, "state": "stopped"}

    action._execute_module = fake
    r = action.run(task_vars=tv)
    assert calls == [
        ("ansible.windows.win_service", {"name": "a", "state": "stopped"}),
        ("ansible.windows.win_service", {"name": "b", "state": "stopped"}),
    ]
    assert r["changed"] and r["failed_services"] == ["b"]
    assert r["results"][0]["state"] == "stopped" and r["results"][0]["seconds"] >= 0
    assert r["results"][1]["msg"].startswith("Cannot stop b")


def test_a_hung_service_times_out_and_the_next_one_still_runs(monkeypatch):
    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    action, tv = make_action({"names": ["hung", "ok"], "state": "stopped", "timeout": 1})

    def fake(module_name, module_args, task_vars):
        if module_args["name"] == "hung":
            time.sleep(5)
        return {"changed": True, "state": "stopped"}

    action._execute_module = fake
    r = action.run(task_vars=tv)
    hung, ok = r["results"]
    assert hung["timed_out"] and hung["failed"] and "no answer within 1s" in hung["msg"]
    assert ok["state"] == "stopped" and not ok["failed"]
    assert action._connection.close.called


def test_batch_is_one_command_with_errors_per_service(monkeypatch):
    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    action, tv = make_action({"names": ["SysAdmin.TenantSvc", "w3svc"], "state": "stopped", "method": "batch"})
    calls = []

    def fake(module_name, module_args, task_vars):
        calls.append((module_name, module_args))
        return {"rc": 1, "stderr": "Stop-Service : Service 'SysAdmin.TenantSvc (SysAdmin.TenantSvc)' cannot be stopped"}

    action._execute_module = fake
    r = action.run(task_vars=tv)
    assert calls == [("ansible.windows.win_shell", {"_raw_params": "Stop-Service -Name 'SysAdmin.TenantSvc', 'w3svc'"})]
    rows = {x["name"]: x for x in r["results"]}
    assert rows["SysAdmin.TenantSvc"]["failed"] and rows["w3svc"]["state"] == "stopped"
    assert rows["w3svc"]["seconds"] is None and rows["w3svc"]["batch_seconds"] >= 0


def test_batch_start_quotes_names():
    action, tv = make_action({"names": ["it's"], "state": "started", "method": "batch"})
    seen = {}
    action._execute_module = lambda module_name, module_args, task_vars: (
        seen.update(module_args) or {"rc": 0, "stderr": ""}
    )
    mod.display.display = lambda *a, **k: None
    action.run(task_vars=tv)
    assert seen["_raw_params"] == "Start-Service -Name 'it''s'"


def test_a_dropped_connection_is_reported_as_a_retry(monkeypatch):
    from ansible.errors import AnsibleConnectionFailure

    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    action, tv = make_action({"names": ["a", "b"], "state": "stopped"})

    def fake(module_name, module_args, task_vars):
        if module_args["name"] == "a":
            raise AnsibleConnectionFailure("Connection aborted")
        if module_args["name"] == "b":
            raise ValueError("not a connection problem")
        return {}

    action._execute_module = fake
    r = action.run(task_vars=tv)
    assert r["failed_services"] == ["a", "b"]
    assert [x["code"] for x in r["retries"]] == ["connection_lost"]
    assert "Connection aborted" in r["retries"][0]["error"] and "setting a stopped" in r["retries"][0]["error"]
    assert action._connection.close.call_count == 2


def test_a_dropped_batch_command_is_one_retry_naming_every_service(monkeypatch):
    from ansible.errors import AnsibleConnectionFailure

    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    action, tv = make_action({"names": ["a", "b"], "state": "stopped", "method": "batch"})

    def fake(module_name, module_args, task_vars):
        assert module_name == "ansible.windows.win_shell"
        raise AnsibleConnectionFailure("Connection aborted")

    action._execute_module = fake
    r = action.run(task_vars=tv)
    assert r["failed_services"] == ["a", "b"]
    assert len(r["retries"]) == 1 and r["retries"][0]["code"] == "connection_lost"
    assert r["changed"], "the command may have run: changed, so the role reads the services again"
    assert "setting a, b stopped" in r["retries"][0]["error"]
