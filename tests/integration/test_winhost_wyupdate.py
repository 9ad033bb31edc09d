"""Simulated wyupdate.exe and Sysadmin.CustomerUpgrade.exe over real Ansible tasks, with every fault."""

from __future__ import annotations

import re

import pytest

from tests.integration.winhost_helpers import run_tasks

WY = "C:\\acs\\wyupdate.exe"
CU = "C:\\acs\\SysAdmin.CustomerUpgrade\\Sysadmin.CustomerUpgrade.exe"
RESULT = "C:\\acs\\wyupdate_logs\\result.log"
STEPLOG = "C:\\acs\\wyupdate_logs\\upgrade_8.0.515.log"
LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \| (?P<step>[^|]+) \| (?P<status>START|OK|FAILED|SKIPPED) \| (?P<msg>.*)$"
)

STOP_ALL = {"name": "stop services", "ansible.windows.win_shell": "Stop-Service sysadmin*, w3svc -Force"}


def _wy(name: str, become: bool = True, run_async: bool = False, **extra) -> dict:
    """wyUpdate as the roles run it; at scale 0 it is instant, so most tests skip async's 1 s poll."""
    task = {
        "name": name,
        "ansible.windows.win_command": f'{WY} /fromservice -logfile="{RESULT}"',
        "ignore_errors": True,
    }
    if run_async:
        task.update({"async": 60, "poll": 1})
    if become:
        task["become"] = True
    task.update(extra)
    return task


def _read(name: str, path: str) -> dict:
    return {"name": name, "ansible.windows.slurp": {"src": path}, "ignore_errors": True}


def _text(result: dict) -> str:
    import base64

    return base64.b64decode(result.get("content", "")).decode() if "content" in result else ""


# wyUpdate's -logfile line (Util/Logger.cs): M/d/yyyy HH:mm:ss:fff tt in the host culture, ": ", message
EN_US_LINE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d\d:\d\d:\d\d:\d{3} (?:AM|PM): (?P<msg>.*)$")
DE_DE_LINE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4} \d\d:\d\d:\d\d:\d{3} : (?P<msg>.*)$")
ERR = "The update failed to install."


def _last_result(text: str, culture: str = "en-US") -> str:
    """The message of the -logfile's last line, checking the line's time stamp is the culture's."""
    line = text.splitlines()[-1]
    m = (EN_US_LINE if culture == "en-US" else DE_DE_LINE).match(line)
    assert m, f"not a {culture} wyUpdate -logfile line: {line!r}"
    return m["msg"]


def _steps(text: str) -> list[tuple[str, str, str]]:
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, f"bad step log line {line!r}"
        out.append((m["step"], m["status"], m["msg"]))
    return out


def test_quickcheck_reports_the_update_and_the_full_run_upgrades_the_server(fresh_lab, tmp_path):
    from umplab.windows.ump import STEPS

    tasks = [
        {
            "name": "check",
            "ansible.windows.win_command": f'{WY} /quickcheck /justcheck /noerr /outputinfo="C:\\acs\\temp\\check.txt"',
            "register": "chk",
            "failed_when": "chk.rc not in [0, 2]",
        },
        _read("check file", "C:\\acs\\temp\\check.txt"),
        STOP_ALL,
        _wy("upgrade", run_async=True),
        _read("steps", STEPLOG),
        _read("result", RESULT),
        _read("version", "C:\\acs\\SysAdminKit\\version.txt"),
        {
            "name": "check again",
            "ansible.windows.win_command": f'{WY} /quickcheck /justcheck /noerr /outputinfo="C:\\acs\\temp\\check.txt"',
        },
        _read("check file again", "C:\\acs\\temp\\check.txt"),
        _wy("upgrade again"),
        _read("result again", RESULT),
        {"name": "new services", "ansible.windows.win_service_info": {"name": "SysAdmin.*"}},
    ]
    r = {k: v["ump02"] for k, v in run_tasks(fresh_lab, tmp_path, tasks, hosts="ump02").items()}
    assert r["check"]["rc"] == 2
    # frmMain/frmMain.Updating.cs: the new version on line 1, then the change text
    changes = fresh_lab.state()["vendor"]["changes"]
    assert _text(r["check file"]).split("\r\n") == ["8.0.515", *changes.split("\r\n"), ""]
    assert r["upgrade"]["rc"] == 0, r["upgrade"]
    steps = _steps(_text(r["steps"]))
    assert [s for s, st, _ in steps if st == "START"] == STEPS
    assert all(st in ("START", "OK") for _, st, _ in steps)
    # ump02 is the default lab's de-DE host: "12.7.2026 14:03:27:512 : Updated successfully."
    assert _last_result(_text(r["result"]), "de-DE") == "Updated successfully."
    assert _text(r["version"]).strip() == "8.0.515"
    assert r["check again"]["rc"] == 0
    # exit 0 writes nothing: the file is the first check's
    assert _text(r["check file again"]) == _text(r["check file"])
    assert r["upgrade again"]["rc"] == 0
    # already up to date: empty error and details (Frame.AlreadyUpToDate is not UpdatedSuccessfully)
    assert _last_result(_text(r["result again"]), "de-DE") == " - "
    names = {s["name"]: s for s in r["new services"]["services"]}
    for n in ("SysAdmin.QuickReplicationCycleWorker", "SysAdmin.UMP.Watchdog", "SysAdmin.SyncAcquiredNumber"):
        assert names[n]["state"] == "stopped" and names[n]["start_mode"] == "auto"
    assert names["SysAdmin.PeeringSvc"]["state"] == "started"  # win_service_info says "started" for Running

    st = fresh_lab.host_state("ump02")
    assert st["ump"]["components"] == {**st["ump"]["components"], **fresh_lab.state()["vendor"]["components_after"]}
    # RunSqlScripts changed SysAdminTenant on the backend SQL server of ump02
    dump = fresh_lab.state()["sql_dump"]["ump02-sql"]["SysAdminTenant"]
    settings = {row["Name"]: row["Value"] for row in dump["ApplicationSetting"]}
    assert settings["SysAdminKitVersion"] == "8.0.515" and settings["MultiTenantVersion"] == "8.0.515"
    assert "8.0.515" in [row["Version"] for row in dump["SchemaVersion"]]


def test_wyupdate_refusals_and_preconditions(fresh_lab, tmp_path):
    fresh_lab.fault("wyupdate.already_running", host="ump01", times=1)
    tasks = [
        _wy("not elevated", become=False),
        _read("result 1", RESULT),
        _wy("services running"),
        _read("steps 2", STEPLOG),
        _read("result 2", RESULT),
        _read("logreport 2", "C:\\acs\\wyupdate_logs\\LogReport.txt"),
    ]
    # the already_running fault fires on the first elevated run
    tasks.insert(2, _wy("already running"))
    tasks.insert(3, _read("result already", RESULT))
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["not elevated"]["rc"] == 1
    assert _last_result(_text(r["result 1"])) == f"{ERR} - wyUpdate needs elevation: run it as a member of UmpAdmins"
    assert r["already running"]["rc"] == 4
    assert _last_result(_text(r["result already"])) == f"{ERR} - another instance of wyUpdate is running"
    assert r["services running"]["rc"] == 1
    steps = _steps(_text(r["steps 2"]))
    failed = [s for s in steps if s[1] == "FAILED"]
    assert failed[0][0] == "CheckServices"
    assert failed[0][2].startswith("SysAdmin services still running: SysAdmin.CacheSrv.")
    assert "SysAdmin.TenantSvc" in failed[0][2]
    assert steps[-1][0] == "CheckServices"  # nothing after the failed step ran
    assert _last_result(_text(r["result 2"])).startswith(
        f"{ERR} - CheckServices failed: SysAdmin services still running"
    )
    assert _text(r["logreport 2"]).startswith("ERROR | CheckServices | SysAdmin services still running")
    assert fresh_lab.host_state("ump01")["ump"]["components"]["SysAdminKit"] == "8.0.400.64"


def test_failed_step_leaves_the_host_partially_changed(fresh_lab, tmp_path):
    fresh_lab.fault("wyupdate.fail_step", host="ump01", step="RunSqlScripts")
    tasks = [
        STOP_ALL,
        _wy("upgrade"),
        _read("steps", STEPLOG),
        _read("result", RESULT),
        {"name": "logreport", "ansible.windows.win_command": "C:\\acs\\tools\\LogReport\\LogReport.exe"},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["upgrade"]["rc"] == 1
    assert r["logreport"]["stdout_lines"] == [
        "ERROR | RunSqlScripts | RunSqlScripts failed (lab fault wyupdate.fail_step)"
    ]
    steps = _steps(_text(r["steps"]))
    assert steps[-1][:2] == ("RunSqlScripts", "FAILED")
    assert _last_result(_text(r["result"])).startswith(f"{ERR} - RunSqlScripts failed:")
    st = fresh_lab.host_state("ump01")
    # version unchanged, but the steps before the failure did their work
    assert st["files"]["c:\\acs\\sysadminkit\\version.txt"]["content"].strip() == "8.0.400.64"
    assert st["ump"]["components"]["SysAdminKit"] == "8.0.400.64"
    assert "SysAdmin.UMP.Watchdog" in st["services"]
    assert "c:\\acs\\sysadminkit_8.0.400.64\\version.txt" in st["files"]
    settings = {
        row["Name"]: row["Value"]
        for row in fresh_lab.state()["sql_dump"]["ump01"]["SysAdminTenant"]["ApplicationSetting"]
    }
    assert settings["SysAdminKitVersion"] == "8.0.400.64"


@pytest.mark.parametrize(
    ("setup", "failing_step", "message"),
    [
        ({"fault": ("sql.down", {"host": "ump01"})}, "CheckSQLConn", "cannot connect to SQL Server ump01"),
        (
            {"egress_deny": "https://community.chocolatey.org/*"},
            "InstallChocolatey",
            "download failed: unable to connect to https://community.chocolatey.org/install.ps1",
        ),
    ],
)
def test_steps_fail_on_sql_and_egress(fresh_lab, tmp_path, setup, failing_step, message):
    if "fault" in setup:
        name, params = setup["fault"]
        fresh_lab.fault(name, **params)
    else:
        fresh_lab.set_host_state("ump01", ["egress"], {"allow": ["*"], "deny": [setup["egress_deny"]]})
    tasks = [STOP_ALL, _wy("upgrade"), _read("steps", STEPLOG)]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["upgrade"]["rc"] == 1
    step, status, msg = _steps(_text(r["steps"]))[-1]
    assert (step, status) == (failing_step, "FAILED")
    assert msg.startswith(message)


def test_locked_files_roll_back_and_hang_is_killed_by_async_timeout(fresh_lab, tmp_path):
    fresh_lab.set_host_state("ump01", ["open_files"], [{"path": "C:\\acs\\SysAdminKit\\web.config", "process": "w3wp"}])
    tasks = [
        STOP_ALL,
        _wy("locked"),
        _read("result", RESULT),
        {"name": "release", "ansible.windows.win_ping": {}},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["locked"]["rc"] == 1
    assert _last_result(_text(r["result"])) == f"{ERR} - files in use: C:\\acs\\SysAdminKit\\web.config"
    assert not any("STEPLOG" in k for k in fresh_lab.host_state("ump01")["files"])

    fresh_lab.set_host_state("ump01", ["open_files"], [])
    # the fault form of the same thing, once
    fresh_lab.fault("winhost.locked_files", host="ump01", path="C:\\acs\\SysAdminKit\\SysAdmin.TenantSvc.exe", times=1)
    tasks = [_wy("locked by fault"), _read("result by fault", RESULT)]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["locked by fault"]["rc"] == 1
    assert _last_result(_text(r["result by fault"])) == (
        f"{ERR} - files in use: C:\\acs\\SysAdminKit\\SysAdmin.TenantSvc.exe"
    )

    fresh_lab.fault("wyupdate.hang", host="ump01", step="InstallDotNet", times=1)
    # times=1: the hang fires once; StartPeeringSvc ran before it, so stop the services again
    stop_again = dict(STOP_ALL, name="stop services again")
    tasks = [
        STOP_ALL,
        _wy("hang", run_async=True, **{"async": 3}),
        _read("steps", STEPLOG),
        stop_again,
        _wy("after hang"),
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["hang"]["failed"] is True
    steps = [(s, st) for s, st, _ in _steps(_text(r["steps"]))]
    assert ("InstallDotNet", "START") in steps
    assert ("InstallDotNet", "OK") not in steps
    assert steps[-1] == ("InstallDotNet", "FAILED")  # killed by the async watchdog: cancelled
    # the killed instance is gone: a new run is not refused as "another instance"
    assert r["after hang"]["rc"] == 0


def test_customer_upgrade_contract_and_faults(fresh_lab, tmp_path):
    fresh_lab.fault("customer_upgrade.fail", host="ump01", customer="litware01", times=1)
    tasks = [
        {
            "name": "too early",
            "ansible.windows.win_command": f"{CU} /unattended /all",
            "become": True,
            "ignore_errors": True,
        },
        STOP_ALL,
        _wy("upgrade"),
        {
            "name": "some",
            "ansible.windows.win_command": f"{CU} /unattended /customers:adatum01,nosuch01,litware01",
            "become": True,
            "async": 60,
            "poll": 1,
            "ignore_errors": True,
        },
        {
            "name": "all",
            "ansible.windows.win_command": f"{CU} /unattended /all /log:C:\\acs\\temp\\cu.log",
            "become": True,
            "async": 60,
            "poll": 1,
        },
        _read("log", "C:\\acs\\temp\\cu.log"),
        {"name": "not elevated", "ansible.windows.win_command": f"{CU} /unattended /all", "ignore_errors": True},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    rx = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \| ([^|]+) \| (Upgrading|UpToDate|Failed) \| ([^|]+) \| (.*)$")

    def parse(lines):
        out = []
        for line in lines:
            m = rx.match(line)
            assert m, line
            out.append(m.groups())
        return out

    early = parse(r["too early"]["stdout_lines"])
    assert r["too early"]["rc"] == 1 and early[0][0] == "*" and "not at the target version" in early[0][3]
    some = parse(r["some"]["stdout_lines"])
    assert r["some"]["rc"] == 1
    assert some == [
        ("adatum01", "Upgrading", "8.0.400.64", ""),
        ("adatum01", "UpToDate", "8.0.515", ""),
        ("nosuch01", "Failed", "-", "unknown customer"),
        ("litware01", "Upgrading", "8.0.400.64", ""),
        ("litware01", "Failed", "8.0.400.64", "upgrade script failed (lab fault customer_upgrade.fail)"),
    ]
    allc = parse(r["all"]["stdout_lines"])
    assert r["all"]["rc"] == 0
    finals = {c: (s, v) for c, s, v, _ in allc if s != "Upgrading"}
    assert all(s == "UpToDate" and v == "8.0.515" for s, v in finals.values())
    # adatum01 was already done: UpToDate without an Upgrading line
    assert ("adatum01", "Upgrading") not in [(c, s) for c, s, _, _ in allc]
    assert parse(_text(r["log"]).splitlines()) == allc
    assert r["not elevated"]["rc"] == 1 and "member of UmpAdmins" in r["not elevated"]["stdout"]

    dump = fresh_lab.state()["sql_dump"]["ump01"]
    assert {c["Version"] for c in dump["SysAdminTenant"]["Customer"]} == {"8.0.515"}
    assert dump["SysAdminadatum01"]["SyncState"] == [{"Name": "Version", "Value": "8.0.515"}]
    assert fresh_lab.host_state("ump01")["files"]["c:\\acs\\tenants\\adatum01\\version.txt"]["content"] == "8.0.515\n"


def test_customer_upgrade_stuck_is_killed_by_the_async_timeout(fresh_lab, tmp_path):
    fresh_lab.fault("customer_upgrade.stuck", host="ump01", customer="adatum01")
    tasks = [
        STOP_ALL,
        _wy("upgrade"),
        {
            "name": "stuck",
            "ansible.windows.win_command": f"{CU} /unattended /customers:adatum01",
            "become": True,
            "async": 3,
            "poll": 1,
            "ignore_errors": True,
        },
        _read("log", "C:\\acs\\SysAdmin.CustomerUpgrade\\logs\\CustomerUpgrade.log"),
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["stuck"]["failed"] is True
    lines = _text(r["log"]).splitlines()
    assert lines[-1].split(" | ")[1:3] == ["adatum01", "Upgrading"]


def test_a_program_without_progress_is_stopped_by_the_progress_timeout(fresh_lab, tmp_path):
    """#18 item 4: wyUpdate hanging in a step (a prompt nobody answers) and a Customer Upgrade that is a GUI
    are found by win_async_wait's progress timeout, waited on the host (win_wait_for) and killed (taskkill)."""
    fresh_lab.fault("wyupdate.hang", host="ump01", step="CheckDuplicates", times=1)
    fresh_lab.fault("customer_upgrade.gui", host="ump01", times=1)
    wait = {
        "progress_timeout": 4,
        "wait_cap": 2,
        "timeout": 120,
        "cleanup": False,
    }
    cu_log = "C:\\acs\\SysAdmin.CustomerUpgrade\\logs\\gui.log"
    tasks = [
        STOP_ALL,
        _wy("hang", run_async=True, **{"async": 300, "poll": 0, "register": "hang"}),
        {
            "name": "wait for wyupdate",
            "ump365.upgrade.win_async_wait": {
                "jid": "{{ hang.ansible_job_id }}",
                "what": "wyUpdate",
                "progress": "wyupdate",
                "progress_path": STEPLOG,
                "stop_command": "taskkill.exe /F /T /IM wyupdate.exe",
                **wait,
            },
            "become": True,
            "ignore_errors": True,
        },
        {
            "name": "gui",
            "ansible.windows.win_command": f'"{CU}" /unattended /all /log:{cu_log}',
            "async": 300,
            "poll": 0,
            "become": True,
            "register": "gui",
        },
        {
            "name": "wait for the gui",
            "ump365.upgrade.win_async_wait": {
                "jid": "{{ gui.ansible_job_id }}",
                "what": "Customer Upgrade",
                "progress": "customer_upgrade",
                "progress_path": cu_log,
                "stop_command": "taskkill.exe /F /T /IM Sysadmin.CustomerUpgrade.exe",
                **wait,
            },
            "become": True,
            "ignore_errors": True,
        },
        {
            "name": "taskkill nothing",
            "ansible.windows.win_command": "taskkill.exe /F /IM wyupdate.exe",
            "ignore_errors": True,
        },
        _wy("after"),
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    w = r["wait for wyupdate"]
    assert w["failed"] and w["stalled"] and not w["finished"], w
    assert "wyUpdate made no progress for 4s" in w["msg"] and "taskkill.exe /F /T /IM wyupdate.exe" in w["msg"]
    assert w["host_waits"] >= 1  # waited on the host, not with controller sleeps
    g = r["wait for the gui"]
    assert g["failed"] and g["stalled"] and "Customer Upgrade made no progress for 4s" in g["msg"]
    assert "stopped it on the host" in g["msg"]
    # both programs are gone from the host: nothing left to kill, and a new wyUpdate is not "another instance"
    assert r["taskkill nothing"]["rc"] == 128
    assert r["after"]["rc"] == 0, r["after"]
    assert fresh_lab.counters().get("winhost.taskkill") == 2
    assert fresh_lab.counters().get("customer_upgrade.gui_waiting") == 1
