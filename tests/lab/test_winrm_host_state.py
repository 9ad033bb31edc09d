"""The host a WinRM client sees is the contents of its VM's OS disk: snapshot -> change -> restore."""

from __future__ import annotations

import re

from tests.lab import winrm_inproc

import winrm

from umplab.world import arm_key

inproc_lab = winrm_inproc.inproc_lab  # the in-process lab fixture


def _session(lab, world, user: str, password: str) -> winrm.Session:
    return winrm.Session(
        f"https://127.0.0.1:{world.hosts['ump01']['winrm_port']}/wsman",
        auth=(user, password),
        transport="ntlm",
        server_cert_validation="validate",
        ca_trust_path=str(lab.tls.ca_file),
    )


def test_snapshot_change_restore_brings_the_earlier_host_back(inproc_lab):
    lab, world = inproc_lab
    svc = _session(lab, world, "ump-svc", world.data["secrets"]["service_account_password"])
    vm = world.resource(world.hosts["ump01"]["vm_id"])
    os_disk = world.host_os_disk_id("ump01")
    snap = os_disk.rsplit("/disks/", 1)[0] + "/snapshots/ump01-pre-upgrade"
    world.copy_disk_contents(os_disk, snap)

    # change the host through WinRM: stop the services, run wyUpdate as the UmpAdmins member
    assert svc.run_ps("Stop-Service sysadmin*, w3svc -Force").status_code == 0
    r = svc.run_cmd("C:\\acs\\wyupdate.exe", ["/fromservice", '-logfile="C:\\acs\\wyupdate_logs\\r.log"'])
    assert r.status_code == 0, r.std_err
    assert svc.run_ps("Get-Content C:\\acs\\SysAdminKit\\version.txt").std_out.strip() == b"8.0.515"
    assert world.app_setting("ump01", "SysAdminKitVersion") == "8.0.515"  # local SQL on ump01's disk

    # restore: a new disk from the snapshot, swapped in as the OS disk
    restored = os_disk.rsplit("/disks/", 1)[0] + "/disks/ump01-restored"
    world.copy_disk_contents(snap, restored)
    with world.lock:
        world.resources[arm_key(restored)] = dict(world.resource(os_disk), id=restored, name="ump01-restored")
        vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"] = restored

    assert svc.run_ps("Get-Content C:\\acs\\SysAdminKit\\version.txt").std_out.strip() == b"8.0.400.64"
    out = svc.run_ps("Get-Service SysAdmin.TenantSvc").std_out.decode()
    assert "Running  SysAdmin.TenantSvc" in out
    assert world.app_setting("ump01", "SysAdminKitVersion") == "8.0.400.64"
    # the changed disk still holds the upgraded state
    assert world.disk_contents[arm_key(os_disk)]["ump"]["components"]["SysAdminKit"] == "8.0.515"


def test_wyupdate_without_elevation_and_accounts_come_from_the_disk(inproc_lab):
    lab, world = inproc_lab
    admin = _session(lab, world, "labadmin", world.data["secrets"]["winrm_admin_password"])
    r = admin.run_cmd("C:\\acs\\wyupdate.exe", ["/fromservice", '-logfile="C:\\acs\\r.log"'])
    assert r.status_code == 1
    line = admin.run_ps("Get-Content C:\\acs\\r.log").std_out.strip().decode()
    # Util/Logger.cs: "M/d/yyyy HH:mm:ss:fff tt" + ": " (ump01 is en-US)
    assert re.match(
        r"^\d{1,2}/\d{1,2}/\d{4} \d\d:\d\d:\d\d:\d{3} (AM|PM): "
        r"The update failed to install\. - wyUpdate needs elevation: run it as a member of UmpAdmins$",
        line,
    ), line
    # a password changed on the disk is what the host checks
    with world.lock:
        world.host_state("ump01")["accounts"]["labadmin"]["password"] = "Changed!123"
    assert _session(lab, world, "labadmin", "Changed!123").run_cmd("hostname").status_code == 0


def test_processes_die_with_their_machine(inproc_lab):
    import threading
    import time

    lab, world = inproc_lab
    world.add_fault("wyupdate.hang", host="ump01", step="CheckDuplicates")
    svc = _session(lab, world, "ump-svc", world.data["secrets"]["service_account_password"])
    result: dict = {}

    def run() -> None:
        try:
            result["r"] = svc.run_cmd("C:\\acs\\wyupdate.exe", ["/fromservice", '-logfile="C:\\acs\\r.log"'])
        except Exception as e:  # the connection dies with the VM
            result["e"] = e

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 10
    log = "c:\\acs\\wyupdate_logs\\upgrade_8.0.515.log"
    while time.monotonic() < deadline:  # wait until the hung step has started
        with world.lock:
            if "CheckDuplicates | START" in world.host_state("ump01")["files"].get(log, {}).get("content", ""):
                break
        time.sleep(0.05)
    world.set_power_state(world.hosts["ump01"]["vm_id"], "deallocated")
    t.join(15)
    assert not t.is_alive()
    assert "e" in result or result["r"].status_code != 0
    # the hung wyUpdate is gone: after the restart a new run is not "another instance"
    world.set_power_state(world.hosts["ump01"]["vm_id"], "running")
    world.clear_faults()
    svc.run_ps("Stop-Service sysadmin*, w3svc -Force")
    r = svc.run_cmd("C:\\acs\\wyupdate.exe", ["/fromservice", '-logfile="C:\\acs\\r.log"'])
    assert r.status_code == 0


def test_a_stop_shorter_than_a_process_poll_still_kills_it(inproc_lab):
    """Deallocate and start again within the hung process's 1 s poll: it died with the first boot."""
    import threading
    import time

    lab, world = inproc_lab
    world.add_fault("wyupdate.hang", host="ump01", step="CheckDuplicates")
    svc = _session(lab, world, "ump-svc", world.data["secrets"]["service_account_password"])
    t = threading.Thread(
        target=lambda: _swallow(
            lambda: svc.run_cmd("C:\\acs\\wyupdate.exe", ["/fromservice", '-logfile="C:\\acs\\r.log"'])
        )
    )
    t.start()
    log = "c:\\acs\\wyupdate_logs\\upgrade_8.0.515.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with world.lock:
            if "CheckDuplicates | START" in world.host_state("ump01")["files"].get(log, {}).get("content", ""):
                break
        time.sleep(0.05)
    vm = world.hosts["ump01"]["vm_id"]
    with world.lock:  # a stop and a start with nothing in between
        world.set_power_state(vm, "deallocated")
        world.set_power_state(vm, "running")
    assert world.vm_stops(vm) == 1
    t.join(15)
    world.clear_faults()
    svc.run_ps("Stop-Service sysadmin*, w3svc -Force")
    r = svc.run_cmd("C:\\acs\\wyupdate.exe", ["/fromservice", '-logfile="C:\\acs\\r.log"'])
    assert r.status_code == 0, r.std_out  # not "another instance of wyUpdate is running"


def _swallow(fn):
    try:
        fn()
    except Exception:  # the connection may die with the VM
        pass


def test_a_lab_reset_kills_what_ran_on_the_old_state(inproc_lab):
    import copy
    import threading
    import time

    lab, world = inproc_lab
    world.add_fault("customer_upgrade.stuck", host="ump01", customer="adatum01")
    with world.lock:  # as if wyUpdate had run: the kit is at the target
        world.host_state("ump01")["ump"]["components"]["SysAdminKit"] = "8.0.515"
    svc = _session(lab, world, "ump-svc", world.data["secrets"]["service_account_password"])
    cu = "C:\\acs\\SysAdmin.CustomerUpgrade\\Sysadmin.CustomerUpgrade.exe"
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(r=svc.run_cmd(cu, ["/unattended", "/customers:adatum01"])))
    t.start()
    log = "c:\\acs\\sysadmin.customerupgrade\\logs\\customerupgrade.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with world.lock:
            if "Upgrading" in world.host_state("ump01")["files"].get(log, {}).get("content", ""):
                break
        time.sleep(0.05)
    # what `umplab reset` does to a disk: its contents are replaced by the seeded copy
    key = arm_key(world.host_os_disk_id("ump01"))
    with world.lock:
        world.disk_contents[key] = copy.deepcopy(world.disk_contents[key])
    t.join(15)
    assert not t.is_alive()
    assert result["r"].status_code == 3  # cancelled


def test_curl_exe_probes_urls_from_the_egress_policy(inproc_lab):
    """curl.exe as Server 2019 ships it: one line of --write-out per transfer, failed ones too."""
    from ansible_collections.ump365.upgrade.plugins.plugin_utils import checks

    lab, world = inproc_lab
    with world.lock:
        world.host_state("ump01")["egress"] = {"allow": ["*"], "deny": ["*.chocolatey.org"]}
    eps = {"repo": "https://ump-updates.audiocodes.example/wyupdate/", "choco": "https://community.chocolatey.org/x"}
    # the command line as win_command sends it (one string; CreateProcess-style quoting)
    r = _session(lab, world, "labadmin", world.data["secrets"]["winrm_admin_password"]).run_cmd(
        checks.curl_probe_command(eps, 15)
    )
    out, err = r.std_out.decode(), r.std_err.decode()
    assert out.splitlines() == [f"200 0.031000 {eps['repo']}", f"000 15.000000 {eps['choco']}"]
    assert err == "curl: (28) Connection timed out after 15001 milliseconds\n"
    assert r.status_code == 28  # the last transfer's error
    rows = checks.egress_from_curl({"rc": r.status_code, "stdout": out, "stderr": err}, eps)
    assert [x["ok"] for x in rows] == [True, False]
    # a --write-out variable curl 7.55.1 does not know is named on stderr, as curl does
    r = _session(lab, world, "labadmin", world.data["secrets"]["winrm_admin_password"]).run_cmd(
        "curl.exe", ["-s", "-o", "NUL", "-w", "%{exitcode}", eps["repo"]]
    )
    assert r.std_out == b"" and b"unknown --write-out variable: 'exitcode'" in r.std_err


def test_services_wait_on_the_host_and_a_service_that_does_not_stop_times_out(inproc_lab):
    """The batch the win_services_state action sends (plugins/action/win_services_state.py batch_script):
    Stop-Service -NoWait, then ServiceController.WaitForStatus per service with a timeout, on the host."""
    from ansible_collections.ump365.upgrade.plugins.action.win_services_state import batch_script

    lab, world = inproc_lab
    svc = _session(lab, world, "ump-svc", world.data["secrets"]["service_account_password"])
    world.add_fault("winhost.service_wont_stop", host="ump01", service="w3svc")
    r = svc.run_ps(batch_script(["SysAdmin.TenantSvc", "w3svc"], "stopped", 30, True))
    err = r.std_err.decode()
    assert r.status_code == 1
    assert "Cannot stop w3svc service" in err
    assert 'Exception calling "WaitForStatus" with "2" argument(s): "Time out has expired' in err
    assert "+ (Get-Service -Name 'w3svc').WaitForStatus('Stopped', '00:00:30')" in err
    assert "'SysAdmin.TenantSvc').WaitForStatus" not in err  # that one reached Stopped in time
    state = world.host_state("ump01")["services"]
    assert state["SysAdmin.TenantSvc"]["state"] == "stopped" and state["w3svc"]["state"] == "running"
    world.clear_faults()
    r = svc.run_ps(batch_script(["SysAdmin.TenantSvc", "w3svc"], "started", 30, False))
    assert r.status_code == 0, r.std_err
    state = world.host_state("ump01")["services"]
    assert state["SysAdmin.TenantSvc"]["state"] == "running" and state["w3svc"]["state"] == "running"
