"""Service selection, recovery settings and the per-service table."""

from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.plugin_utils import win_services as ws

INFO = [
    {
        "name": "SysAdmin.TenantSvc",
        "state": "started",
        "start_mode": "auto",
        "failure_actions": [{"type": "restart", "delay_ms": 60000}] * 3,
        "failure_reset_period_sec": 86400,
    },
    {"name": "SysAdmin.CacheSrv.contoso01", "state": "started", "start_mode": "auto"},
    {"name": "SysAdmin.CacheSrv.fabrikam01", "state": "stopped", "start_mode": "disabled"},
    {"name": "W3SVC", "state": "stop_pending", "start_mode": "auto"},
    {"name": "WinRM", "state": "started", "start_mode": "auto"},
]


def test_match_patterns_any_case_and_exclusions():
    m = ws.match_services(INFO, ["sysadmin*", "w3svc"], exclude=["*fabrikam*"])
    assert [s["name"] for s in m] == ["SysAdmin.CacheSrv.contoso01", "SysAdmin.TenantSvc", "W3SVC"]
    assert m[1]["state"] == "running" and m[2]["state"] == "stop_pending"
    assert m[1]["recovery"]["actions"][0] == {"type": "restart", "delay_ms": 60000}
    assert m[0]["recovery"] is None


def test_only_services_that_need_it_are_acted_on():
    m = ws.match_services(INFO, ["SysAdmin*", "w3svc"])
    assert ws.needs_action(m, "stop") == ["SysAdmin.CacheSrv.contoso01", "SysAdmin.TenantSvc", "W3SVC"]
    stopped = [dict(s, state="stopped") for s in m]
    assert ws.needs_action(stopped, "stop") == []
    assert ws.needs_action(stopped, "start") == ["SysAdmin.CacheSrv.contoso01", "SysAdmin.TenantSvc", "W3SVC"]


def test_states_are_normalised():
    assert ws.normalize_state("started") == "running"
    assert ws.normalize_state("running") == "running"
    assert ws.normalize_state("stoppending") == "stop_pending"
    assert ws.normalize_state(None) == "absent"


QF = (
    "[SC] QueryServiceConfig2 SUCCESS\r\n\r\nSERVICE_NAME: SysAdmin.TenantSvc\r\n"
    "        RESET_PERIOD (in seconds)    : 86400\r\n        REBOOT_MESSAGE               : \r\n"
    "        COMMAND_LINE                 : \r\n"
    "        FAILURE_ACTIONS              : RESTART -- Delay = 60000 milliseconds.\r\n"
    "                                       RESTART -- Delay = 60000 milliseconds.\r\n"
    "                                       RUN PROCESS -- Delay = 1000 milliseconds.\r\n\r\n"
)


def test_parse_qfailure():
    r = ws.parse_qfailure(QF)
    assert r == {
        "reset_period_sec": 86400,
        "reboot_message": "",
        "command": "",
        "actions": [
            {"type": "restart", "delay_ms": 60000},
            {"type": "restart", "delay_ms": 60000},
            {"type": "run_command", "delay_ms": 1000},
        ],
    }
    assert ws.takes_action_on_failure(r)


def test_parse_qfailure_no_actions_and_errors():
    r = ws.parse_qfailure(
        "[SC] QueryServiceConfig2 SUCCESS\r\n\r\nSERVICE_NAME: x\r\n        RESET_PERIOD (in seconds)    : 0\r\n"
    )
    assert r["actions"] == [] and not ws.takes_action_on_failure(r)
    assert ws.parse_qfailure("[SC] OpenService FAILED 1060:\r\n") is None
    assert ws.parse_qfailure("") is None


def test_sc_failure_commands_round_trip():
    assert ws.sc_failure_command("SysAdmin.TenantSvc") == 'sc.exe failure "SysAdmin.TenantSvc" reset= 0 actions= ""'
    cmd = ws.sc_failure_command("SysAdmin.TenantSvc", ws.parse_qfailure(QF))
    assert cmd == 'sc.exe failure "SysAdmin.TenantSvc" reset= 86400 actions= restart/60000/restart/60000/run/1000'
    rec = {
        "reset_period_sec": 10,
        "reboot_message": "bye",
        "command": "x.exe",
        "actions": [{"type": "reboot", "delay_ms": 5}],
    }
    assert (
        ws.sc_failure_command("a", rec)
        == 'sc.exe failure "a" reset= 10 actions= reboot/5 reboot= "bye" command= "x.exe"'
    )


def test_sc_failure_command_rejects_injection():
    with pytest.raises(ValueError, match="not a valid Windows service name"):
        ws.sc_failure_command('x" & del C:\\ & "')


def test_came_back_and_table():
    before = ws.match_services(INFO, ["SysAdmin*"])
    results = [
        {"name": "SysAdmin.TenantSvc", "requested": "stopped", "state": "stopped", "failed": False, "seconds": 1.5},
        {
            "name": "SysAdmin.CacheSrv.contoso01",
            "requested": "stopped",
            "state": None,
            "failed": True,
            "msg": "cannot stop",
            "seconds": 0.2,
        },
    ]
    after_info = [dict(i) for i in INFO]
    after_info[1]["state"] = "started"
    after_info[0]["state"] = "started"  # TenantSvc came back
    after = ws.match_services(after_info, ["SysAdmin*"])
    assert ws.came_back(results, after) == ["SysAdmin.TenantSvc"]
    rows = ws.service_table(before, after, results, recovery_changed=["SysAdmin.TenantSvc"])
    by = {r["name"]: r for r in rows}
    assert by["SysAdmin.TenantSvc"] == {
        "name": "SysAdmin.TenantSvc",
        "before": "running",
        "after": "running",
        "seconds": 1.5,
        "action": "stop",
        "recovery_changed": True,
        "error": "",
    }
    assert by["SysAdmin.CacheSrv.contoso01"]["error"] == "cannot stop"
    assert by["SysAdmin.CacheSrv.fabrikam01"]["action"] == "none"


def test_second_attempt_adds_up():
    r1 = [{"name": "a", "requested": "stopped", "state": "stopped", "seconds": 1.0}]
    r2 = [{"name": "a", "requested": "stopped", "state": "stopped", "seconds": 2.0}]
    m = [{"name": "a", "state": "stopped"}]
    assert ws.service_table(m, m, r1, None, r2)[0]["seconds"] == 3.0


def test_evaluate_stop_names_what_is_still_running_and_what_is_stopped():
    rows = [
        {"name": "a", "after": "stopped", "error": ""},
        {"name": "b", "after": "running", "error": "cannot stop b"},
    ]
    ev = ws.evaluate("stop", rows, host="ump01", stop_timeout=120)
    assert not ev["ok"] and ev["bad"] == ["b"]
    assert "ump01: 1 service(s) did not stop within 120s: b is running (cannot stop b)" in ev["msg"]
    assert "Services already stopped stay stopped (a)" in ev["msg"]
    assert "services_action=start" in ev["msg"]


def test_evaluate_start_and_verify():
    rows = [{"name": "a", "after": "running", "error": ""}, {"name": "b", "after": "stopped", "error": ""}]
    ev = ws.evaluate("start", rows, host="h")
    assert not ev["ok"] and "b is stopped" in ev["msg"]
    assert ws.evaluate("verify_stopped", [{"name": "a", "after": "stopped"}])["ok"]


def test_whitelist_before_and_after_8_0_450():
    svcs = [{"name": "SysAdmin.UMP.Watchdog"}]
    r = ws.whitelist_report(svcs, "8.0.400.64")
    assert r["level"] == "warning" and r["missing"] == [
        "SysAdmin.QuickReplicationCycleWorker",
        "SysAdmin.SyncAcquiredNumber",
    ]
    assert ws.whitelist_report(svcs, "8.0.515")["level"] == "error"
    assert ws.whitelist_report(svcs, "")["level"] == "warning"
    full = [{"name": n} for n in ws.WHITELIST]
    assert ws.whitelist_report(full, "8.0.515")["level"] == "ok"
