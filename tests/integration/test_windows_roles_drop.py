"""WinRM dropped mid-run: the wait re-opens the connection; elsewhere the role fails saying what to do."""

from __future__ import annotations

from .windows_roles_helpers import needs_winrm, run_playbook, services_state


def test_the_wait_survives_a_dropped_connection(fresh_lab):
    lab = fresh_lab
    needs_winrm(lab)
    run = run_playbook(lab, "windows_async_drop.yml")
    assert run.rc == 0, run.stdout[-3000:]
    r = run.facts()["drop_result"]
    assert r["finished"] and r["rc"] == 2 and r["connection_errors"] == 1
    assert lab.counters().get("fault.winhost.drop") == 1


def test_a_drop_in_a_plain_task_fails_clearly(fresh_lab):
    lab = fresh_lab
    needs_winrm(lab)
    lab.fault("winhost.drop", host="ump01", times=1)
    run = run_playbook(lab, "windows_upgrade_flow.yml")
    assert run.rc != 0
    msg = run.failure()
    assert msg.startswith(
        'ump01: the services role (services_action=stop) stopped at task "Read the services on the host"'
    )
    assert "The WinRM connection to the host broke" in msg and "Fix:" in msg
    assert lab.counters().get("fault.winhost.drop") == 1
    # nothing was changed: the drop hit the first reading
    assert services_state(lab)["SysAdmin.TenantSvc"] == "running"
