"""The host's run lock (roles/upgrade/tasks/run_lock.yml): of two runs at once on one host, one holds the lock
and the other refuses, naming it; a dead run's lock is broken only on request; only the holder releases it."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .windows_roles_helpers import host_file, needs_winrm, run_playbook

OWNER = "C:\\ProgramData\\ump365.upgrade\\run.lock\\owner.json"


@pytest.fixture
def wlab(fresh_lab):
    needs_winrm(fresh_lab)
    return fresh_lab


def test_two_runs_at_once_one_holds_the_lock_the_other_refuses(wlab):
    # both start together and neither releases: whatever the timing, exactly one gets the lock
    ids = ("run-a", "run-b")
    with ThreadPoolExecutor(2) as pool:
        futures = {rid: pool.submit(run_playbook, wlab, "run_lock.yml", {"upgrade_run_id": rid}) for rid in ids}
    runs = {rid: f.result() for rid, f in futures.items()}
    winners = [rid for rid, r in runs.items() if r.rc == 0]
    assert len(winners) == 1, {rid: (r.rc, r.failure()) for rid, r in runs.items()}
    winner = winners[0]
    loser = "run-b" if winner == "run-a" else "run-a"
    assert json.loads(host_file(wlab, OWNER))["run_id"] == winner
    msg = runs[loser].failure()
    assert f"run {winner}" in msg and "upgrade_break_lock=true" in msg and "Nothing on the host was changed" in msg

    # the loser releasing changes nothing: only the holder's run id releases the lock
    run_playbook(wlab, "run_lock.yml", {"upgrade_run_id": loser, "lock_release": True, "upgrade_run_lock": True})
    assert json.loads(host_file(wlab, OWNER))["run_id"] == winner

    # an operator breaks the dead run's lock explicitly; the run then holds and releases it
    run = run_playbook(
        wlab, "run_lock.yml", {"upgrade_run_id": "run-c", "upgrade_break_lock": True, "lock_release": True}
    )
    assert run.rc == 0, run.failure()
    assert host_file(wlab, OWNER) is None
    assert "c:\\programdata\\ump365.upgrade\\run.lock" not in wlab.host_state("ump01")["files"]


def test_a_dead_runs_lock_older_than_the_limit_is_taken_over_by_the_hosts_clock(wlab):
    # the folder was made 13 h ago by the host's clock; owner.json's start (another controller's clock) says
    # "just now": the age comes from the host, so the lock is a dead run's (limit 12 h) and is taken over
    made = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 13 * 3600))
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lock = "c:\\programdata\\ump365.upgrade\\run.lock"
    wlab.set_host_state("ump01", ["files", "c:\\programdata"], {"type": "directory", "path": "C:\\ProgramData"})
    wlab.set_host_state("ump01", ["files", lock], {"type": "directory", "path": OWNER[:-11], "mtime": made})
    owner = {"run_id": "dead-run", "controller": "c2", "started": now}
    wlab.set_host_state(
        "ump01", ["files", lock + "\\owner.json"], {"type": "file", "path": OWNER, "content": json.dumps(owner)}
    )
    run = run_playbook(wlab, "run_lock.yml", {"upgrade_run_id": "run-d"})
    assert run.rc == 0, run.failure()
    assert json.loads(host_file(wlab, OWNER))["run_id"] == "run-d"
    assert "taking over the run lock of run dead-run" in run.task("taken over")["msg"]
