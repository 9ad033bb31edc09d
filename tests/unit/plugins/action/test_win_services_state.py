"""Stopping/starting services one by one with a timeout each, or in one batch."""

from __future__ import annotations

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


def test_no_controller_alarm_the_task_timeout_stays_in_force(monkeypatch):
    """The action never touches SIGALRM: ansible-core's task ``timeout:`` (its own alarm in the worker)
    must not be replaced or cancelled by it."""
    import signal

    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    seen = []

    def handler(signum, frame):
        seen.append(signum)

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(3600)  # what ansible-core's TaskTimeoutError set-up looks like from here
    try:
        for method in ("each", "batch"):
            action, tv = make_action({"names": ["a"], "state": "stopped", "method": method, "timeout": 5})
            action._execute_module = lambda **kw: {"changed": True, "state": "stopped", "rc": 0, "stderr": ""}
            action.run(task_vars=tv)
            assert signal.getsignal(signal.SIGALRM) is handler, method
            assert signal.alarm(3600) > 3000, "the task's alarm was cancelled (%s)" % method
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_batch_waits_on_the_host_and_a_timeout_is_the_services_own(monkeypatch):
    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    action, tv = make_action({"names": ["hung", "ok"], "state": "stopped", "method": "batch", "timeout": 90})
    calls = []
    stderr = (
        'Exception calling "WaitForStatus" with "2" argument(s): "Time out has expired and the operation has not '
        'been completed."\r\nAt line:2 char:1\r\n+ (Get-Service -Name \'hung\').WaitForStatus(\'Stopped\', \'00:01:30\')\r\n'
        "+ ~~~~~~~~~~~~\r\n    + CategoryInfo          : NotSpecified: (:) [], MethodInvocationException\r\n"
        "    + FullyQualifiedErrorId : TimeoutException\r\n"
    )

    def fake(module_name, module_args, task_vars):
        calls.append(module_args["_raw_params"])
        return {"rc": 1, "stderr": stderr, "failed": True}

    action._execute_module = fake
    r = action.run(task_vars=tv)
    assert calls == [
        "Stop-Service -Name 'hung', 'ok' -NoWait\n"
        "(Get-Service -Name 'hung').WaitForStatus('Stopped', '00:01:30')\n"
        "(Get-Service -Name 'ok').WaitForStatus('Stopped', '00:01:30')"
    ]
    hung, ok = r["results"]
    assert hung["timed_out"] and hung["failed"] and "no answer within 90s" in hung["msg"]
    assert ok["state"] == "stopped" and not ok["failed"] and not ok["timed_out"]
    assert r["failed_services"] == ["hung"]


def test_batch_is_one_command_with_errors_per_service(monkeypatch):
    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    action, tv = make_action({"names": ["SysAdmin.TenantSvc", "w3svc"], "state": "stopped", "method": "batch"})
    calls = []

    def fake(module_name, module_args, task_vars):
        calls.append((module_name, module_args))
        return {"rc": 1, "stderr": "Stop-Service : Service 'SysAdmin.TenantSvc (SysAdmin.TenantSvc)' cannot be stopped"}

    action._execute_module = fake
    r = action.run(task_vars=tv)
    assert calls[0][0] == "ansible.windows.win_shell"
    assert calls[0][1]["_raw_params"].startswith("Stop-Service -Name 'SysAdmin.TenantSvc', 'w3svc' -NoWait\n")
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
    assert (
        seen["_raw_params"]
        == "(Get-Service -Name 'it''s').Start()\n(Get-Service -Name 'it''s').WaitForStatus('Running', '00:01:00')"
    )


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
