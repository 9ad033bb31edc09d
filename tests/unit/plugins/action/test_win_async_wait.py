"""The controller-side wait for a Windows async job: progress, timeouts, stuck customers, reconnects."""

from __future__ import annotations

import base64
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleConnectionFailure

from ansible_collections.ump365.upgrade.plugins.action import win_async_wait as mod


class Clock:
    def __init__(self):
        self.t = 1000.0

    def monotonic(self):
        return self.t

    def sleep(self, s):
        self.t += s


def make_action(args, host="ump01"):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.diff = False
    conn = MagicMock()
    action = mod.ActionModule(task, conn, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    action._async_dir = lambda: "C:\\Users\\ump-svc\\.ansible_async"
    return action, {"inventory_hostname": host}


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(mod.time, "monotonic", c.monotonic)
    monkeypatch.setattr(mod.time, "sleep", c.sleep)
    monkeypatch.setattr(mod.display, "display", lambda *a, **k: None)
    monkeypatch.setattr(mod.display, "warning", lambda *a, **k: None)
    return c


def b64(text):
    return base64.b64encode(text.encode()).decode()


STEP_LOG_1 = (
    "2026-11-23T10:00:00Z | ClearWyupdateLog | START | x\r\n2026-11-23T10:00:01Z | ClearWyupdateLog | OK | y\r\n"
)
STEP_LOG_2 = (
    STEP_LOG_1
    + "2026-11-23T10:00:01Z | CheckDuplicates | START | x\r\n2026-11-23T10:00:02Z | CheckDuplicates | FAILED | dup\r\n"
)


def scripted(responses):
    """_execute_module that answers from a list per module name (the last answer repeats)."""
    calls = []

    def fake(module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args)))
        seq = responses[module_name]
        item = seq.pop(0) if len(seq) > 1 else seq[0]
        if isinstance(item, Exception):
            raise item
        return dict(item)

    return fake, calls


def test_progress_lines_and_the_finished_job(clock):
    action, tv = make_action(
        {
            "jid": "j1",
            "what": "wyUpdate",
            "progress": "wyupdate",
            "progress_path": "C:\\l.log",
            "delay": 5,
            "wait_on_host": False,
        }
    )
    action._execute_module, calls = scripted(
        {
            "ansible.legacy.async_status": [
                {"started": 1, "finished": 0},
                {"started": 1, "finished": 1, "rc": 1, "failed": True, "changed": True},
                {"erased": "x"},
            ],
            "ansible.windows.slurp": [{"content": b64(STEP_LOG_1)}, {"content": b64(STEP_LOG_2)}],
        }
    )
    r = action.run(task_vars=tv)
    assert r["finished"] and r["rc"] == 1 and not r.get("failed")
    assert r["polls"] == 2 and r["progress_log"] == STEP_LOG_2
    assert r["ump_progress"] == "ump01: wyUpdate step 2/26 CheckDuplicates failed: dup"
    assert r["events"] == [
        "ump01: wyUpdate step 1/26 ClearWyupdateLog ok",
        "ump01: wyUpdate step 2/26 CheckDuplicates failed: dup",
    ]
    assert calls[-1] == (
        "ansible.legacy.async_status",
        {"jid": "j1", "mode": "cleanup", "_async_dir": "C:\\Users\\ump-svc\\.ansible_async"},
    )
    assert calls[0][1]["_async_dir"] == "C:\\Users\\ump-svc\\.ansible_async"


def test_timeout_names_the_host_and_the_last_progress(clock):
    action, tv = make_action(
        {
            "jid": "j1",
            "what": "wyUpdate",
            "progress": "wyupdate",
            "progress_path": "C:\\l.log",
            "delay": 10,
            "timeout": 35,
            "wait_on_host": False,
        }
    )
    action._execute_module, _calls = scripted(
        {
            "ansible.legacy.async_status": [{"started": 1, "finished": 0}],
            "ansible.windows.slurp": [{"content": b64(STEP_LOG_1)}],
        }
    )
    r = action.run(task_vars=tv)
    assert r["failed"] and r["timed_out"] and not r["finished"]
    assert r["msg"].startswith("ump01: wyUpdate did not finish within 35s (last progress: ump01: wyUpdate step 1/26")
    assert clock.t == 1035.0  # waited the whole timeout, no longer
    assert 4 <= r["polls"] <= 12


def test_a_stuck_customer_stops_the_wait_and_is_named(clock):
    log = "2026-11-23T10:00:00Z | a01 | Upgrading | 8.0.400.64 | \r\n"
    action, tv = make_action(
        {
            "jid": "j2",
            "what": "Customer Upgrade batch 1",
            "progress": "customer_upgrade",
            "progress_path": "C:\\cu.log",
            "customers": ["a01", "b01"],
            "customer_timeout": 25,
            "delay": 10,
            "cleanup": False,
            "wait_on_host": False,
        }
    )
    action._execute_module, calls = scripted(
        {
            "ansible.legacy.async_status": [{"started": 1, "finished": 0}],
            "ansible.windows.slurp": [{"content": b64(log)}],
        }
    )
    r = action.run(task_vars=tv)
    assert r["failed"] and r["stuck"] == ["a01"]
    assert "customer(s) a01 still Upgrading after the per-customer timeout of 25s" in r["msg"]
    assert r["events"] == ["ump01: Customer Upgrade batch 1: customer a01 upgrading"]
    assert not any(c[1].get("mode") == "cleanup" for c in calls)


def test_a_dropped_connection_is_reopened(clock):
    action, tv = make_action({"jid": "j3", "what": "wyUpdate", "cleanup": False})
    action._execute_module, _calls = scripted(
        {
            "ansible.legacy.async_status": [
                AnsibleConnectionFailure("connection reset"),
                ConnectionResetError("peer reset"),
                {"started": 1, "finished": 1, "rc": 0},
            ]
        }
    )
    r = action.run(task_vars=tv)
    assert r["finished"] and r["rc"] == 0 and r["connection_errors"] == 2
    # the drops survived are the report's retries (docs/report.md)
    assert [(x["attempt"], x["code"]) for x in r["retries"]] == [(1, "connection_lost"), (2, "connection_lost")]
    assert "connection reset" in r["retries"][0]["error"]
    assert action._connection.close.call_count == 2


def test_connection_lost_for_good(clock):
    action, tv = make_action({"jid": "j4", "what": "wyUpdate", "connection_retries": 1, "progress_path": "C:\\x.log"})
    action._execute_module, _calls = scripted({"ansible.legacy.async_status": [AnsibleConnectionFailure("gone")]})
    r = action.run(task_vars=tv)
    assert r["failed"] and r["connection_lost"] and not r["finished"]
    assert len(r["retries"]) == 1
    assert r["msg"].startswith("ump01: WinRM connection lost while waiting for wyUpdate (job j4)")
    assert "C:\\x.log" in r["msg"]


def test_a_module_error_is_not_taken_for_a_dropped_connection(clock):
    action, tv = make_action({"jid": "j5"})
    action._execute_module, _calls = scripted({"ansible.legacy.async_status": [ValueError("bug")]})
    with pytest.raises(ValueError):
        action.run(task_vars=tv)


def test_unknown_job(clock):
    action, tv = make_action({"jid": "nope"})
    action._execute_module, _calls = scripted(
        {
            "ansible.legacy.async_status": [
                {"failed": True, "finished": 1, "started": 1, "msg": "could not find job at 'x'"}
            ]
        }
    )
    r = action.run(task_vars=tv)
    # async_status says finished (the job file is gone): returned as a finished, failed job for the role to judge
    assert r["finished"] and r["job"]["failed"]


def test_progress_needs_a_path(clock):
    action, tv = make_action({"jid": "j", "progress": "wyupdate"})
    with pytest.raises(mod.AnsibleError, match="needs progress_path"):
        action.run(task_vars=tv)


def test_polls_are_paced_by_progress():
    d = mod.ActionModule._next_delay
    args = {"delay": 15, "min_delay": 1}
    # nothing ended yet: 1, 2, 4, 8, 15, 15 s
    assert [d(args, {}, p, 0) for p in range(1, 7)] == [1, 2, 4, 8, 15, 15]
    # 20 of 26 steps in 14 s: about 4.2 s left
    assert round(d(args, {"done": 20, "total": 26}, 3, 14.0), 1) == 4.2
    # early and slow: capped at delay
    assert d(args, {"done": 1, "total": 26}, 2, 40.0) == 15
    # everything ended (the job is finishing): the shortest wait
    assert d(args, {"done": 26, "total": 26}, 5, 20.0) == 1


def host_wait(clock, answers):
    """win_wait_for on the fake host: each answer is True (the log grew after 7 s) or False (ran out its timeout)."""
    seen = []

    def fake(module_args):
        grew = answers.pop(0) if len(answers) > 1 else answers[0]
        seen.append(dict(module_args))
        if grew:
            clock.t += 7
            return {"changed": False, "elapsed": 7, "wait_attempts": 7}
        clock.t += module_args["timeout"]
        return {
            "failed": True,
            "msg": "timeout while waiting for string regex %s in file %s to match" % (module_args["regex"], "x"),
        }

    return fake, seen


def with_host_wait(scripted_fake, wait_fake):
    def fake(module_name, module_args, task_vars):
        if module_name == "ansible.windows.win_wait_for":
            return wait_fake(module_args)
        return scripted_fake(module_name, module_args, task_vars)

    return fake


LOG_B = STEP_LOG_1 + "2026-11-23T10:00:01Z | CheckDuplicates | START | x\r\n"


def test_waits_on_the_host_and_reads_the_status_only_after_a_quiet_wait(clock):
    action, tv = make_action(
        {"jid": "j1", "what": "wyUpdate", "progress": "wyupdate", "progress_path": "C:\\l.log", "cleanup": False}
    )
    fake, calls = scripted(
        {
            "ansible.legacy.async_status": [{"started": 1, "finished": 0}, {"started": 1, "finished": 1, "rc": 0}],
            "ansible.windows.slurp": [{"content": b64(STEP_LOG_1)}, {"content": b64(LOG_B)}],
        }
    )
    wait, waits = host_wait(clock, [True, False])
    action._execute_module = with_host_wait(fake, wait)
    r = action.run(task_vars=tv)
    assert r["finished"] and r["rc"] == 0 and r["host_waits"] == 2 and not r["stalled"]
    # the first wait returns once the file is longer than what was read; no fixed delay on the controller
    assert waits[0] == {
        "path": "C:\\l.log",
        "regex": "\\A[\\s\\S]{%d}" % (len(STEP_LOG_1) + 1),
        "timeout": 120,
        "sleep": 1,
    }
    assert waits[1]["regex"] == "\\A[\\s\\S]{%d}" % (len(LOG_B) + 1)
    # status once at the start and once after the quiet wait; the log again only after it grew (and at the end)
    assert [c[0] for c in calls] == [
        "ansible.legacy.async_status",
        "ansible.windows.slurp",
        "ansible.windows.slurp",
        "ansible.legacy.async_status",
        "ansible.windows.slurp",
    ]
    assert clock.t == 1000 + 7 + 120


def test_no_progress_stops_the_program_on_the_host_and_names_the_likely_cause(clock):
    stop = "taskkill.exe /F /T /IM Sysadmin.CustomerUpgrade.exe"
    action, tv = make_action(
        {
            "jid": "j3",
            "what": "Customer Upgrade batch 1",
            "progress": "customer_upgrade",
            "progress_path": "C:\\cu.log",
            "customers": ["a01"],
            "progress_timeout": 600,
            "stop_command": stop,
            "timeout": 7200,
            "cleanup": False,
        }
    )
    statuses = [{"started": 1, "finished": 0}] * 6 + [{"started": 1, "finished": 1, "rc": 1}]
    fake, calls = scripted(
        {
            "ansible.legacy.async_status": statuses,
            # a GUI writes no log at all
            "ansible.windows.slurp": [{"failed": True, "msg": "Path C:\\cu.log is not found"}],
            "ansible.windows.win_command": [{"rc": 0, "stdout": "SUCCESS: The process ... has been terminated."}],
        }
    )
    wait, waits = host_wait(clock, [False])
    action._execute_module = with_host_wait(fake, wait)
    r = action.run(task_vars=tv)
    assert r["failed"] and r["stalled"] and not r["finished"] and not r["timed_out"]
    assert ("ansible.windows.win_command", {"cmd": stop}) in calls
    assert "ump01: Customer Upgrade batch 1 made no progress for 600s" in r["msg"]
    assert "stopped it on the host with '%s'" % stop in r["msg"]
    assert "GUI window or a console prompt" in r["msg"] and "non-interactive" in r["msg"]
    # it gave up at the progress timeout, not the overall one
    assert 1600 <= clock.t <= 1615
    # waiting cost at most one WinRM command per minute (waits of 120 s, each followed by one status read)
    before_stop = calls[: calls.index(("ansible.windows.win_command", {"cmd": stop}))]
    assert len(before_stop) + len(waits) <= 600 / 60 + 2


def test_waits_on_the_host_for_the_end_of_the_job_reading_the_log_after_each_wait(clock):
    """wait_for=job (the default): one win_wait_for on the job's results file per wait_cap, one log read after it;
    the end of the job ends the wait at once, however many lines the log gained meanwhile."""
    rf = "C:\\Users\\ump-svc\\.ansible_async\\j9.4711"
    action, tv = make_action(
        {"jid": "j9.4711", "what": "wyUpdate", "progress": "wyupdate", "progress_path": "C:\\l.log", "cleanup": False}
    )
    fake, calls = scripted(
        {
            "ansible.legacy.async_status": [
                {"started": 1, "finished": 0, "results_file": rf},
                {"started": 1, "finished": 1, "rc": 0, "results_file": rf},
            ],
            "ansible.windows.slurp": [
                {"content": b64(STEP_LOG_1)},
                {"content": b64(LOG_B)},
                {"content": b64(STEP_LOG_2)},
            ],
        }
    )
    # the first wait runs out its cap, the second sees the job's end after 7 s
    wait, waits = host_wait(clock, [False, True])
    action._execute_module = with_host_wait(fake, wait)
    r = action.run(task_vars=tv)
    assert r["finished"] and r["rc"] == 0 and r["host_waits"] == 2 and not r["stalled"]
    assert waits[0] == {"path": rf, "regex": '"finished"\\s*:\\s*(true|1)\\b', "timeout": 120, "sleep": 1}
    # status at the start and at the end; the log after each of the two waits (between them, no other command)
    assert [c[0] for c in calls] == [
        "ansible.legacy.async_status",
        "ansible.windows.slurp",
        "ansible.windows.slurp",
        "ansible.legacy.async_status",
        "ansible.windows.slurp",
    ]
    assert len(waits) == 2 and waits[1]["path"] == rf
    assert r["progress_log"] == STEP_LOG_2
    assert clock.t == 1000 + 120 + 7


def test_the_job_regex_matches_the_watchdogs_result_and_not_the_wrappers():
    import re

    rx = re.compile('"finished"\\s*:\\s*(true|1)\\b', re.I)
    # async_wrapper.ps1 writes finished = 0; async_watchdog.ps1 sets $result.finished = $true (ConvertTo-Json)
    assert not rx.search('{"started":  1, "finished":  0, "results_file": "x"}')
    assert not rx.search('{"started": true, "finished": false}')
    assert rx.search('{"started":  1,\r\n    "finished":  true, "rc": 0}')
