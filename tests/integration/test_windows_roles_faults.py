"""Each lab fault ends with a clear failure naming the host, the step or customer, and what to do."""

from __future__ import annotations

import re

import pytest

from .windows_roles_helpers import checkpoint, host_file, needs_winrm, run_playbook, services_state


@pytest.fixture
def wlab(fresh_lab):
    needs_winrm(fresh_lab)
    return fresh_lab


def test_a_failing_step_and_another_instance_running(wlab):
    # two hosts, one fault each, one playbook run
    wlab.fault("wyupdate.fail_step", host="ump01", step="RunSqlScripts", message="Invalid object name dbo.Foo")
    wlab.fault("wyupdate.already_running", host="ump02")
    run = run_playbook(
        wlab, "windows_upgrade_flow.yml", {"flow_steps": ["stop", "wyupdate"], "target_hosts": "ump01,ump02"}
    )
    assert run.rc != 0

    msg = run.failure("ump01")
    assert msg.startswith("ump01: wyUpdate failed (exit 1: wyUpdate ended with an error): step RunSqlScripts failed")
    assert "Invalid object name dbo.Foo" in msg and "Fix:" in msg and "left stopped" in msg
    steps = {s["name"]: s for s in run.facts("ump01")["ump_wyupdate_steps"]}
    assert steps["renameSysAdminKitFolder"]["status"] == "ok"
    assert steps["RunSqlScripts"]["status"] == "failed"
    assert steps["AddAuthPool"]["status"] == "not_run"
    assert checkpoint(wlab, "ump01")["phases"]["wyupdate"]["status"] == "failed"

    msg = run.failure("ump02")
    assert msg.startswith("ump02: wyUpdate failed (exit 4: another wyUpdate instance is already running on the host")
    assert "wait until the running wyUpdate ends" in msg
    assert run.facts("ump02")["ump_wyupdate"]["rc"] == 4


def test_locked_files_and_a_hanging_step(wlab):
    wlab.fault("winhost.locked_files", host="ump01", path="C:\\acs\\tenants\\x\\logs\\sync.log")
    wlab.fault("wyupdate.hang", host="ump02", step="InstallDotNet")
    ev = {
        "flow_steps": ["stop", "wyupdate"],
        "target_hosts": "ump01,ump02",
        "wyupdate_steps_timeout": 4,
        "wyupdate_steps_poll_delay": 1,
        "wyupdate_steps_async_margin": 2,
    }
    run = run_playbook(wlab, "windows_upgrade_flow.yml", ev)
    assert run.rc != 0

    msg = run.failure("ump01")
    assert "files in use: C:\\acs\\tenants\\x\\logs\\sync.log" in msg
    assert "close every file and folder opened under C:\\acs" in msg

    msg = run.failure("ump02")
    # the last progress line is the step before the hang, or the hanging step itself when the poll
    # that saw it came after the async timeout killed the job (load-dependent, both are right)
    assert re.match(
        r"ump02: wyUpdate 8\.0\.515 did not finish within 4s \(last progress: ump02: wyUpdate 8\.0\.515 step "
        r"(15/26 InstallChocolatey ok|16/26 InstallDotNet)",
        msg,
    ), msg
    assert "The SysAdmin services are left stopped" in msg
    assert checkpoint(wlab, "ump02")["phases"]["wyupdate"]["status"] == "failed"


def test_wyupdate_with_services_still_running_fails_at_checkservices(wlab):
    run = run_playbook(wlab, "windows_upgrade_flow.yml", {"flow_steps": ["wyupdate"]})
    assert run.rc != 0
    msg = run.failure()
    assert "step CheckServices failed" in msg and "SysAdmin services still running" in msg
    assert "services_action=stop" in msg


def test_a_service_that_will_not_stop(wlab):
    wlab.fault("winhost.service_wont_stop", host="ump01", service="SysAdmin.TenantSvc")
    run = run_playbook(wlab, "windows_role.yml", {"windows_role": "services", "services_action": "stop"})
    assert run.rc != 0
    msg = run.failure()
    assert msg.startswith("ump01: 1 service(s) did not stop within 120s: SysAdmin.TenantSvc is running")
    assert "Services already stopped stay stopped (" in msg and "w3svc" in msg
    assert "services_action=start" in msg
    rows = {r["name"]: r for r in run.facts()["ump_services"]}
    assert rows["SysAdmin.TenantSvc"]["after"] == "running" and rows["SysAdmin.TenantSvc"]["error"]
    assert rows["w3svc"]["after"] == "stopped"
    assert checkpoint(wlab)["phases"]["services_stop"]["status"] == "failed"


def test_a_service_that_comes_back_gets_no_action_and_its_recovery_is_restored(wlab):
    wlab.fault("winhost.service_restarts", host="ump01", service="SysAdmin.TenantSvc")
    run = run_playbook(wlab, "windows_role.yml", {"windows_role": "services", "services_action": "stop"})
    assert run.rc == 0, run.stdout[-3000:]
    rows = {r["name"]: r for r in run.facts()["ump_services"]}
    assert rows["SysAdmin.TenantSvc"]["after"] == "stopped" and rows["SysAdmin.TenantSvc"]["recovery_changed"]
    st = wlab.host_state("ump01")["services"]["SysAdmin.TenantSvc"]
    assert st["state"] == "stopped" and not st["recovery"]["actions"]
    phases = checkpoint(wlab)["phases"]
    recorded = phases["services_stop"]["outputs"]["recovery"]["SysAdmin.TenantSvc"]
    assert [a["type"] for a in recorded["actions"]] == ["restart", "restart", "restart"]
    # recorded before the phase ended, in the engine's progress record (a crash after Take No Action keeps them)
    assert phases["progress.services_stop"]["status"] == "started"
    assert phases["progress.services_stop"]["outputs"]["recovery"]["SysAdmin.TenantSvc"] == recorded

    run = run_playbook(wlab, "windows_role.yml", {"windows_role": "services", "services_action": "start"})
    assert run.rc == 0, run.stdout[-3000:]
    st = wlab.host_state("ump01")["services"]["SysAdmin.TenantSvc"]
    assert st["state"] == "running" and st["recovery"]["actions"] == ["restart", "restart", "restart"]
    assert {r["name"]: r for r in run.facts()["ump_services"]}["SysAdmin.TenantSvc"]["recovery_changed"]


def test_a_stuck_customer_is_named_and_a_rerun_skips_finished_ones(wlab):
    customers = sorted(wlab.host_state("ump01")["ump"]["customers"])
    stuck = customers[1]
    wlab.fault("customer_upgrade.stuck", host="ump01", customer=stuck)
    ev = {
        "flow_steps": ["stop", "wyupdate", "customers"],
        "customer_upgrade_customer_timeout": 3,
        "customer_upgrade_poll_delay": 1,
        "customer_upgrade_batch_size": 2,
    }
    run = run_playbook(wlab, "windows_upgrade_flow.yml", ev)
    assert run.rc != 0
    msg = run.failure()
    assert msg.startswith(f"ump01: customer upgrade: {stuck} stuck"), msg
    assert f"check customer {stuck} on the host" in msg
    rows = {r["name"]: r for r in run.facts()["ump_customers"]}
    assert rows[customers[0]]["status"] == "upgraded"
    assert rows[stuck]["status"] == "stuck"
    assert rows[customers[3]]["status"] == "not_run"  # the second batch did not start
    phases = checkpoint(wlab)["phases"]
    assert phases["customer_upgrade"]["status"] == "failed"  # recorded by the engine, with the role's outputs
    assert phases["customer_upgrade"]["outputs"]["finished"] == [customers[0]]
    # after the first batch, before the phase ended: the engine's progress record
    assert phases["progress.customer_upgrade"]["outputs"]["finished"] == [customers[0]]

    # the stuck program is still running on the host; once it is gone, a rerun upgrades only the rest
    wlab.clear_faults()
    counters = wlab.counters().get("customer_upgrade.customers", 0)
    run = run_playbook(wlab, "windows_upgrade_flow.yml", {"flow_steps": ["customers"]})
    assert run.rc == 0, run.stdout[-3000:]
    rows = {r["name"]: r for r in run.facts()["ump_customers"]}
    assert rows[customers[0]]["status"] == "skipped"
    assert {rows[c]["status"] for c in customers[1:]} == {"upgraded"}
    assert wlab.counters().get("customer_upgrade.customers", 0) - counters == 3


def test_a_failing_customer_is_named_and_others_still_upgrade(wlab):
    customers = sorted(wlab.host_state("ump01")["ump"]["customers"])
    bad = customers[2]
    wlab.fault("customer_upgrade.fail", host="ump01", customer=bad, message="upgrade script 12 failed")
    run = run_playbook(wlab, "windows_upgrade_flow.yml", {"flow_steps": ["stop", "wyupdate", "customers"]})
    assert run.rc != 0
    msg = run.failure()
    assert f"customer upgrade: {bad} failed (upgrade script 12 failed)" in msg
    rows = {r["name"]: r for r in run.facts()["ump_customers"]}
    assert rows[bad]["status"] == "failed" and rows[bad]["version_after"] == "8.0.400.64"
    assert {rows[c]["status"] for c in customers if c != bad} == {"upgraded"}
    assert host_file(wlab, f"C:\\acs\\tenants\\{bad}\\version.txt").strip() == "8.0.400.64"


def test_unknown_requested_customer(wlab):
    run = run_playbook(
        wlab, "windows_role.yml", {"windows_role": "customer_upgrade", "ump_upgrade_customers": ["nosuchcustomer"]}
    )
    assert run.rc != 0
    assert "customer(s) nosuchcustomer requested" in run.failure()
    assert services_state(wlab)["SysAdmin.TenantSvc"] == "running"
