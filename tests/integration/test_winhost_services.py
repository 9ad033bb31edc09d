"""Service semantics of the lab host: recovery restarts, stuck services, dependencies, dropped connections."""

from __future__ import annotations

from tests.integration.winhost_helpers import run_tasks


def test_restarting_service_stays_stopped_once_recovery_is_take_no_action(fresh_lab, tmp_path):
    fresh_lab.fault("winhost.service_restarts", host="ump01", service="SysAdmin.TenantSvc")
    tasks = [
        {"name": "qfailure before", "ansible.windows.win_command": "sc.exe qfailure SysAdmin.TenantSvc"},
        {"name": "stop", "ansible.windows.win_service": {"name": "SysAdmin.TenantSvc", "state": "stopped"}},
        {"name": "look", "ansible.windows.win_shell": "get-service SysAdmin.TenantSvc"},
        {
            "name": "take no action",
            "ansible.windows.win_command": 'sc.exe failure SysAdmin.TenantSvc reset= 0 actions= ""',
        },
        {"name": "qfailure after", "ansible.windows.win_command": "sc.exe qfailure SysAdmin.TenantSvc"},
        {"name": "stop again", "ansible.windows.win_service": {"name": "SysAdmin.TenantSvc", "state": "stopped"}},
        {"name": "look again", "ansible.windows.win_service_info": {"name": "SysAdmin.TenantSvc"}},
        {"name": "not admin", "ansible.windows.win_command": "sc.exe qc NoSuchService", "ignore_errors": True},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert "FAILURE_ACTIONS              : RESTART -- Delay = 60000 milliseconds." in r["qfailure before"]["stdout"]
    assert r["stop"]["changed"] is True and r["stop"]["state"] == "stopped"
    # the recovery action brought it back
    assert any(line.startswith("Running  SysAdmin.TenantSvc") for line in r["look"]["stdout_lines"])
    assert r["take no action"]["stdout_lines"] == ["[SC] ChangeServiceConfig2 SUCCESS"]
    assert "RESET_PERIOD (in seconds)    : 0" in r["qfailure after"]["stdout"]
    assert "FAILURE_ACTIONS" not in r["qfailure after"]["stdout"]
    assert r["stop again"]["changed"] is True
    svc = r["look again"]["services"][0]
    assert svc["state"] == "stopped" and svc["failure_actions"] == []
    assert r["not admin"]["rc"] == 1060
    assert fresh_lab.host_state("ump01")["services"]["SysAdmin.TenantSvc"]["state"] == "stopped"


def test_service_that_will_not_stop_and_dependencies(fresh_lab, tmp_path):
    fresh_lab.fault("winhost.service_wont_stop", host="ump01", service="SysAdmin.PeeringSvc")
    fresh_lab.fault("winhost.service_wont_start", host="ump01", service="SysAdmin.TenantSvc", times=1)
    tasks = [
        {
            "name": "stuck",
            "ansible.windows.win_service": {"name": "SysAdmin.PeeringSvc", "state": "stopped"},
            "ignore_errors": True,
        },
        {"name": "stuck shell", "ansible.windows.win_shell": "Stop-Service SysAdmin.PeeringSvc", "ignore_errors": True},
        {"name": "was", "ansible.windows.win_service": {"name": "WAS", "state": "stopped"}, "ignore_errors": True},
        {
            "name": "was forced",
            "ansible.windows.win_service": {"name": "WAS", "state": "stopped", "force_dependent_services": True},
        },
        {"name": "w3svc after", "ansible.windows.win_service": {"name": "w3svc"}},
        {"name": "start w3svc", "ansible.windows.win_service": {"name": "w3svc", "state": "started"}},
        {"name": "was after", "ansible.windows.win_service": {"name": "WAS"}},
        {"name": "stop tenant", "ansible.windows.win_service": {"name": "SysAdmin.TenantSvc", "state": "stopped"}},
        {
            "name": "tenant will not start",
            "ansible.windows.win_service": {"name": "SysAdmin.TenantSvc", "state": "started"},
            "ignore_errors": True,
        },
        {
            "name": "tenant starts now",
            "ansible.windows.win_service": {"name": "SysAdmin.TenantSvc", "state": "started"},
        },
        {
            "name": "disable",
            "ansible.windows.win_service": {
                "name": "SysAdmin.UMP.Watchdog",
                "path": "C:\\acs\\w.exe",
                "start_mode": "disabled",
            },
        },
        {
            "name": "start disabled",
            "ansible.windows.win_service": {"name": "SysAdmin.UMP.Watchdog", "state": "started"},
            "ignore_errors": True,
        },
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["stuck"]["failed"] is True
    assert "cannot be stopped" in r["stuck"]["msg"]
    assert r["stuck shell"]["rc"] == 1 and "cannot be stopped" in r["stuck shell"]["stderr"]
    assert r["was"]["failed"] is True and "dependent services" in r["was"]["msg"]
    assert r["was forced"]["changed"] is True
    assert r["w3svc after"]["state"] == "stopped"
    assert r["start w3svc"]["state"] == "running"
    assert r["was after"]["state"] == "running"  # started as w3svc's dependency
    assert r["tenant will not start"]["failed"] is True and "cannot be started" in r["tenant will not start"]["msg"]
    assert r["tenant starts now"]["changed"] is True and r["tenant starts now"]["state"] == "running"
    assert r["disable"]["changed"] is True and r["disable"]["start_mode"] == "disabled"
    assert r["start disabled"]["failed"] is True


def test_dropped_connection_mid_command_fails_the_task_then_recovers(fresh_lab, tmp_path):
    fresh_lab.fault("winhost.drop", host="ump01", times=1)
    tasks = [
        {"name": "dropped", "ansible.windows.win_ping": {}, "ignore_errors": True},
        {"name": "next", "ansible.windows.win_ping": {}},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    # the winrm connection plugin reports a connection lost mid-command as a task failure
    # (only a requests Timeout becomes "unreachable": ansible/plugins/connection/winrm.py _winrm_exec)
    assert r["dropped"]["failed"] is True
    assert "Connection aborted" in r["dropped"]["msg"]
    assert r["next"]["ping"] == "pong"
    assert fresh_lab.counters().get("fault.winhost.drop") == 1
