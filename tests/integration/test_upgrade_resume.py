"""The controller killed in the wyUpdate phase, then the playbook run again: it resumes and converges."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from tests.conftest import BIN, REPO

TARGET = "8.0.515"


def _wyupdate_job_running(lab, ckpt_file) -> bool:
    """The checkpoint says the wyupdate phase started and the host's step log has a first line."""
    if not ckpt_file.exists():
        return False
    try:
        phases = json.loads(ckpt_file.read_text())["phases"]
    except (ValueError, KeyError):
        return False  # the file is being rewritten
    if phases.get("wyupdate", {}).get("status") != "started":
        return False
    files = lab.host_state("ump01").get("files", {})
    return any(f"upgrade_{TARGET}.log" in k.lower() for k in files)


def test_killed_in_wyupdate_then_rerun_converges_with_one_snapshot_per_host(fresh_lab):
    lab = fresh_lab
    ckpt_dir = lab.state_dir / "checkpoints-resume"
    # the rerun waits 1 s (not 30) before starting wyUpdate again while the crashed run's instance is running
    ev = {"ump_checkpoint_dir": str(ckpt_dir), "upgrade_wyupdate_busy_delay": 1, "wyupdate_steps_poll_delay": 1}
    ckpt_file = ckpt_dir / f"ump01__{TARGET}.json"
    # a scale where wyUpdate's steps take a few seconds: the job is still running on the host when the
    # controller dies, and when the rerun reaches the wyupdate phase
    lab.set_scale(0.01)
    try:
        cmd = [
            str(BIN / "ansible-playbook"),
            "-i",
            str(REPO / "inventories" / "lab"),
            str(REPO / "playbooks" / "upgrade.yml"),
            "-e",
            json.dumps(ev),
        ]
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=lab.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 300
            while not _wyupdate_job_running(lab, ckpt_file):
                assert proc.poll() is None, "the playbook ended before the wyupdate phase"
                assert time.monotonic() < deadline, "the wyupdate phase did not start in time"
                time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

        assert json.loads(ckpt_file.read_text())["phases"]["wyupdate"]["status"] == "started"
        assert lab.host_state("ump01")["ump"]["components"]["SysAdminKit"] == "8.0.400.64"

        rerun = lab.playbook("playbooks/upgrade.yml", extra_vars=ev)
    finally:
        lab.set_scale(0)
    assert rerun.returncode == 0, rerun.stdout[-6000:]
    assert "failed=0" in rerun.stdout
    # the crashed run's wyUpdate was still running on ump01: the rerun's start answered exit 4 and waited
    assert "TASK [ump365.upgrade.wyupdate_steps : Start wyUpdate again]" in rerun.stdout

    state = lab.state()
    for host in ("ump01", "ump02"):
        data = json.loads((ckpt_dir / f"{host}__{TARGET}.json").read_text())
        assert data["phases"]["outcome"]["outputs"]["result"] == "upgraded", data
        assert lab.host_state(host)["ump"]["components"]["SysAdminKit"] == TARGET
    snaps = [r for r in state["azure"]["resources"].values() if r["type"] == "Microsoft.Compute/snapshots"]
    assert sorted(s["name"].split("-")[0] for s in snaps) == ["ump01", "ump02"]  # one snapshot per host
