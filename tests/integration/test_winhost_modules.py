"""Real ansible.windows modules over the real winrm connection plugin against the lab's Windows hosts."""

from __future__ import annotations

import json
import re

from tests.integration.winhost_helpers import (
    assert_contains_documented,
    assert_keys_documented,
    run_tasks,
)


def _adhoc_results(stdout: str) -> dict[str, dict]:
    """Parse ``host | STATUS => {json}`` blocks of the default ad-hoc output."""
    out = {}
    for m in re.finditer(r"^(\S+) \| (\w+!?) => (\{.*?^\})", stdout, re.S | re.M):
        out[m.group(1)] = dict(json.loads(m.group(3)), _status=m.group(2))
    return out


def test_adhoc_win_ping_on_every_ump_server(lab):
    proc = lab.adhoc("ump_servers", "ansible.windows.win_ping")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = _adhoc_results(proc.stdout)
    assert set(res) == {"ump01", "ump02"}
    for r in res.values():
        assert r["_status"] == "SUCCESS"
        assert r["ping"] == "pong"
        assert r["changed"] is False


def test_adhoc_win_service_returns_what_the_real_module_returns_for_a_running_service(lab):
    proc = lab.adhoc("ump_servers", "ansible.windows.win_service", "name=SysAdmin.TenantSvc")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = _adhoc_results(proc.stdout)
    for host in ("ump01", "ump02"):
        r = dict(res[host])
        assert r.pop("_status") == "SUCCESS"
        assert r == {
            "can_pause_and_continue": False,
            "changed": False,
            "depended_by": [],
            "dependencies": [],
            "description": "",
            "desktop_interact": False,
            "display_name": "SysAdmin.TenantSvc",
            "exists": True,
            "name": "SysAdmin.TenantSvc",
            "path": "C:\\acs\\SysAdminKit\\SysAdmin.TenantSvc.exe",
            "start_mode": "auto",
            "state": "running",
            "username": f"{host.upper()}\\ump-svc",
        }
        assert_keys_documented("ansible.windows.win_service", r)


def test_modules_return_their_documented_keys_and_are_idempotent(fresh_lab, tmp_path):
    tasks = [
        {"name": "ping", "ansible.windows.win_ping": {"data": "hello"}},
        {"name": "facts", "ansible.windows.setup": {}},
        {"name": "service info", "ansible.windows.win_service_info": {"name": "SysAdmin*"}},
        {"name": "stop w3svc", "ansible.windows.win_service": {"name": "w3svc", "state": "stopped"}},
        {"name": "stop w3svc again", "ansible.windows.win_service": {"name": "w3svc", "state": "stopped"}},
        {"name": "start w3svc", "ansible.windows.win_service": {"name": "w3svc", "state": "started"}},
        {
            "name": "manual start mode check mode",
            "ansible.windows.win_service": {"name": "SysAdmin.PeeringSvc", "start_mode": "manual"},
            "check_mode": True,
        },
        {"name": "missing service", "ansible.windows.win_service": {"name": "NoSuchSvc"}},
        {"name": "hostname", "ansible.windows.win_command": "hostname"},
        {"name": "get-service", "ansible.windows.win_shell": "get-service sysadmin*, w3svc"},
        {"name": "unknown cmdlet", "ansible.windows.win_shell": "Get-Random -Maximum 3", "ignore_errors": True},
        {"name": "stat file", "ansible.windows.win_stat": {"path": "C:\\acs\\SysAdminKit\\version.txt"}},
        {"name": "stat dir", "ansible.windows.win_stat": {"path": "c:/acs/tenants"}},
        {"name": "stat missing", "ansible.windows.win_stat": {"path": "C:\\acs\\nope.txt"}},
        {"name": "slurp", "ansible.windows.slurp": {"src": "C:\\acs\\SysAdminKit\\version.txt"}},
        {"name": "not emulated", "ansible.windows.win_whoami": {}, "ignore_errors": True},
        {"name": "bad option", "ansible.windows.win_ping": {"nope": 1}, "ignore_errors": True},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}

    assert r["ping"]["ping"] == "hello"
    assert_keys_documented("ansible.windows.win_ping", r["ping"])
    assert r["ping"]["invocation"]["module_args"] == {"data": "hello"}

    facts = r["facts"]["ansible_facts"]
    assert facts["ansible_hostname"] == "UMP01"
    assert facts["ansible_fqdn"] == "ump01.ump.lab.test"
    assert facts["ansible_os_family"] == "Windows"
    assert facts["ansible_distribution_version"].startswith("10.0.17763")
    assert "10.201.80.11" in facts["ansible_ip_addresses"]
    assert facts["ansible_windows_domain"] == "WORKGROUP"

    info = r["service info"]
    assert_keys_documented("ansible.windows.win_service_info", info)
    assert_contains_documented("ansible.windows.win_service_info", "services", info["services"], complete=True)
    names = {s["name"] for s in info["services"]}
    assert "SysAdmin.TenantSvc" in names and "w3svc" not in names
    tenant = next(s for s in info["services"] if s["name"] == "SysAdmin.TenantSvc")
    # win_service_info.ps1 maps Running to "started" (win_service says "running")
    assert tenant["state"] == "started" and tenant["start_mode"] == "auto"
    assert [a["type"] for a in tenant["failure_actions"]] == ["restart", "restart", "restart"]

    assert r["stop w3svc"]["changed"] is True and r["stop w3svc"]["state"] == "stopped"
    assert r["stop w3svc again"]["changed"] is False
    assert r["start w3svc"]["changed"] is True and r["start w3svc"]["state"] == "running"
    assert r["manual start mode check mode"]["changed"] is True
    assert r["missing service"]["exists"] is False
    for k in ("stop w3svc", "start w3svc"):
        assert_keys_documented("ansible.windows.win_service", r[k])

    assert r["hostname"]["stdout_lines"] == ["UMP01"]
    assert r["hostname"]["rc"] == 0
    assert_keys_documented("ansible.windows.win_command", r["hostname"])
    assert "Running  SysAdmin.TenantSvc SysAdmin.TenantSvc" in r["get-service"]["stdout_lines"]
    assert_keys_documented("ansible.windows.win_shell", r["get-service"])
    assert r["unknown cmdlet"]["failed"] is True and r["unknown cmdlet"]["rc"] == 1
    assert "is not recognized as the name of a cmdlet" in r["unknown cmdlet"]["stderr"]

    st = r["stat file"]["stat"]
    assert st["exists"] and st["isreg"] and st["size"] == len("8.0.400.64\n")
    assert_keys_documented("ansible.windows.win_stat", r["stat file"])
    assert_contains_documented("ansible.windows.win_stat", "stat", [st])
    assert r["stat dir"]["stat"]["isdir"] is True
    assert r["stat dir"]["stat"]["path"] == "C:\\acs\\tenants"
    assert r["stat missing"]["stat"] == {"exists": False}
    import base64

    assert base64.b64decode(r["slurp"]["content"]) == b"8.0.400.64\n"
    assert_keys_documented("ansible.windows.slurp", r["slurp"])

    assert r["not emulated"]["failed"] is True
    assert "ansible.windows.win_whoami" in r["not emulated"]["msg"]
    assert r["bad option"]["failed"] is True
    assert "Unsupported parameters for (win_ping) module: nope" in r["bad option"]["msg"]

    # the world changed and changed back: w3svc runs
    assert fresh_lab.host_state("ump01")["services"]["w3svc"]["state"] == "running"


def test_become_runas_switches_identity_and_checks_the_password(fresh_lab, tmp_path):
    tasks = [
        {"name": "plain", "ansible.windows.win_command": "whoami"},
        {"name": "become", "ansible.windows.win_command": "whoami", "become": True},
        {
            "name": "wrong password",
            "ansible.windows.win_command": "whoami",
            "become": True,
            "vars": {"ansible_become_password": "wrong"},
            "ignore_errors": True,
        },
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["plain"]["stdout_lines"] == ["ump01\\labadmin"]
    assert r["become"]["stdout_lines"] == ["ump01\\ump-svc"]
    assert r["wrong password"]["failed"] is True
    assert "Failed to become user ump-svc" in r["wrong password"]["msg"]
    assert fresh_lab.endpoints["secrets"]["service_account_password"] not in json.dumps(r)


def test_async_runs_in_the_background_and_async_status_reports_it(fresh_lab, tmp_path):
    tasks = [
        {
            "name": "async poll",
            "ansible.windows.win_command": "hostname",
            "async": 30,
            "poll": 1,
            "become": True,
        },
        {"name": "fire", "ansible.windows.win_command": "whoami", "async": 30, "poll": 0, "register": "job"},
        {
            "name": "wait",
            "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"},
            "register": "st",
            "until": "st.finished",
            "retries": 20,
            "delay": 1,
        },
        {"name": "cleanup", "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}", "mode": "cleanup"}},
        {
            "name": "gone",
            "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"},
            "ignore_errors": True,
        },
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["async poll"]["finished"] is True
    assert r["async poll"]["stdout_lines"] == ["UMP01"]
    assert r["fire"]["started"] is True and r["fire"]["finished"] is False
    assert r["wait"]["finished"] is True and r["wait"]["stdout_lines"] == ["ump01\\labadmin"]
    assert r["cleanup"]["erased"].endswith(r["fire"]["ansible_job_id"])
    assert r["gone"]["failed"] is True and "could not find job" in r["gone"]["msg"]


def test_powershell_subset_pipelines_and_win_powershell(fresh_lab, tmp_path):
    tasks = [
        {"name": "stop one", "ansible.windows.win_service": {"name": "SysAdmin.PeeringSvc", "state": "stopped"}},
        {
            "name": "running names",
            "ansible.windows.win_shell": "Get-Service -Name sysadmin* | Where-Object {$_.Status -eq 'Running'} | "
            "Select-Object -ExpandProperty Name",
        },
        {
            "name": "json",
            "ansible.windows.win_shell": "Get-Service w3svc, WAS | Select-Object Name, Status | ConvertTo-Json",
        },
        {"name": "unsupported", "ansible.windows.win_shell": "Get-Service | Invoke-Magic", "ignore_errors": True},
        {
            "name": "win_powershell",
            "ansible.windows.win_powershell": {"script": "Get-Service w3svc | Select-Object -ExpandProperty Status"},
        },
        {"name": "win_powershell error", "ansible.windows.win_powershell": {"script": "Get-Random"}},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    names = r["running names"]["stdout_lines"]
    assert "SysAdmin.TenantSvc" in names and "SysAdmin.PeeringSvc" not in names
    data = json.loads(r["json"]["stdout"])
    assert [(d["Name"], d["Status"]) for d in data] == [("w3svc", 4), ("WAS", 4)]
    assert r["unsupported"]["failed"] is True and "Invoke-Magic" in r["unsupported"]["stderr"]
    assert r["win_powershell"]["output"] == ["Running"]
    assert_keys_documented("ansible.windows.win_powershell", r["win_powershell"])
    assert r["win_powershell error"]["error"] and r["win_powershell error"].get("failed") is not True


def test_win_shell_with_environment_sees_it_in_multi_line_scripts(lab, tmp_path):
    """#18 item 6: the task's environment: reaches $env:X (PowerShell) and %X% (cmd.exe) in multi-line scripts,
    and the output is what powershell.exe writes: one CRLF-ended line per Write-Host / Write-Output / value."""
    tasks = [
        {
            "name": "ps",
            "ansible.windows.win_shell": "$dir = \"$env:UMP_LAB_DIR\\sub\"\nWrite-Host $env:UMP_LAB_DIR\nWrite-Output $dir\n$dir",
            "environment": {"UMP_LAB_DIR": "C:\\acs\\x y"},
        },
        {
            "name": "cmd",
            "ansible.windows.win_shell": "echo %UMP_LAB_DIR%",
            "args": {"executable": "cmd"},
            "environment": {"UMP_LAB_DIR": "C:\\acs\\x y"},
        },
    ]
    r = {k: v["ump01"] for k, v in run_tasks(lab, tmp_path, tasks).items()}
    assert r["ps"]["stdout"] == "C:\\acs\\x y\r\nC:\\acs\\x y\\sub\r\nC:\\acs\\x y\\sub\r\n", r["ps"]
    assert r["cmd"]["stdout"] == "C:\\acs\\x y\r\n", r["cmd"]
