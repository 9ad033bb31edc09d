"""The host's run lock (roles/upgrade/tasks/run_lock.yml): of two runs at once on one host, one holds the lock
and the other refuses, naming it; a dead run's lock is broken only on request; only the holder releases it."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .test_azure_snapshot_rollback import snapshots, vm_disk
from .windows_roles_helpers import host_file, needs_winrm, run_playbook

OWNER = "C:\\ProgramData\\ump365.upgrade\\run.lock\\owner.json"
LOCK = "c:\\programdata\\ump365.upgrade\\run.lock"


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
    _plant_lock(wlab, {"run_id": "dead-run", "controller": "c2"}, made=made)
    run = run_playbook(wlab, "run_lock.yml", {"upgrade_run_id": "run-d"})
    assert run.rc == 0, run.failure()
    assert json.loads(host_file(wlab, OWNER))["run_id"] == "run-d"
    assert "taking over the run lock of run dead-run" in run.task("taken over")["msg"]


def _plant_lock(lab, owner: dict, made: str | None = None) -> None:
    """The run lock as another run holds it: the folder (made now, or at ``made`` by the host's clock) and its
    owner.json (``owner`` plus a start time of now)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lab.set_host_state("ump01", ["files", "c:\\programdata"], {"type": "directory", "path": "C:\\ProgramData"})
    lab.set_host_state("ump01", ["files", LOCK], {"type": "directory", "path": OWNER[:-11], "mtime": made or now})
    lab.set_host_state(
        "ump01",
        ["files", LOCK + "\\owner.json"],
        {"type": "file", "path": OWNER, "content": json.dumps({**owner, "started": now})},
    )


def _remove_lock(lab) -> None:
    """The run that held the lock ended (released it)."""
    lab.set_host_state("ump01", ["files", LOCK + "\\owner.json"], None)
    lab.set_host_state("ump01", ["files", LOCK], None)


def test_snapshot_and_rollback_take_the_run_lock_and_leave_none_behind(wlab, tmp_path):
    lab = wlab
    ckpt = {"ump_checkpoint_dir": str(tmp_path / "checkpoints"), "post_verify_expect_version": "8.0.400.64"}
    # while an upgrade on another controller (alive) holds the lock, snapshot.yml refuses before it writes the
    # checkpoint: no snapshot, no checkpoint (a fresh attempt would have replaced the running upgrade's)
    _plant_lock(lab, {"run_id": "upgrade-elsewhere", "controller": "awx-job-40", "pid": ""})
    proc = lab.playbook("playbooks/snapshot.yml", "--limit", "ump01", extra_vars=ckpt)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "another upgrade/rollback run holds this host's run lock" in proc.stdout, proc.stdout[-3000:]
    assert "run upgrade-elsewhere" in proc.stdout
    assert snapshots(lab) == [] and not (tmp_path / "checkpoints" / "ump01__8.0.515.json").exists()
    assert json.loads(host_file(lab, OWNER))["run_id"] == "upgrade-elsewhere"

    # that run ended: snapshot.yml takes the lock, snapshots holding it (the snapshot's disk holds its lock folder,
    # as an upgrade's does) and releases it
    _remove_lock(lab)
    proc = lab.playbook("playbooks/snapshot.yml", "--limit", "ump01", extra_vars=ckpt)
    assert "failed=0" in proc.stdout, proc.stdout[-3000:]
    assert [s["properties"]["provisioningState"] for s in snapshots(lab)] == ["Succeeded"]
    files = lab.host_state("ump01")["files"]
    assert LOCK not in files and LOCK + "\\owner.json" not in files
    disk = vm_disk(lab, "ump01")

    # a rerun with the snapshot taken has nothing to write: it takes no lock, so another run's lock does not stop it
    _plant_lock(lab, {"run_id": "upgrade-that-runs", "controller": "awx-job-41", "pid": ""})
    proc = lab.playbook("playbooks/snapshot.yml", "--limit", "ump01", extra_vars=ckpt)
    assert "changed=0" in proc.stdout.split("PLAY RECAP")[1].splitlines()[1], proc.stdout[-3000:]
    assert "failed=0" in proc.stdout and len(snapshots(lab)) == 1

    # while that upgrade (another controller's, alive) holds the lock, the operator's rollback refuses
    proc = lab.playbook("playbooks/rollback.yml", "--limit", "ump01", extra_vars=ckpt)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "another upgrade/rollback run holds this host's run lock" in proc.stdout, proc.stdout[-3000:]
    assert "run upgrade-that-runs" in proc.stdout
    assert vm_disk(lab, "ump01") == disk
    assert json.loads(host_file(lab, OWNER))["run_id"] == "upgrade-that-runs"

    # that run ended (released its lock); the rollback restores the snapshot, whose copy of the lock names
    # snapshot.yml's run: the rollback takes it anew and releases it at its end, leaving no lock behind
    _remove_lock(lab)
    proc = lab.playbook("playbooks/rollback.yml", "--limit", "ump01", extra_vars=ckpt)
    assert "failed=0" in proc.stdout, proc.stdout[-4000:]
    assert vm_disk(lab, "ump01") != disk
    assert "Take the run lock anew on the restored disk" in proc.stdout
    files = lab.host_state("ump01")["files"]
    assert LOCK not in files and LOCK + "\\owner.json" not in files, sorted(k for k in files if "programdata" in k)
