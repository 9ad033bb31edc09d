"""Run state that survives the job's container (issue 20 item 2).

Every job of the workflow runs as AWX runs it: a new process with a fresh private data directory
(AWX_PRIVATE_DATA_DIR, JOB_ID), a fresh ANSIBLE_LOCAL_TEMP and nothing left from the job before; only
the persistent volume (a directory holding the administrator's marker file) is shared. One job is
killed mid-way (SIGKILL to its process group, as when AWX loses the node or the container), and the next
job resumes or finishes the rollback from what is on the volume. The phases are the stand-in roles of
test_upgrade_orchestration.py (no lab: the orchestration and the store are what is under test).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from itertools import count
from pathlib import Path

import pytest

from tests.conftest import BIN, COLLECTIONS, REPO

PLAYBOOK = REPO / "tests/integration/playbooks/upgrade_fake.yml"
INVENTORY = REPO / "tests/integration/inventories/fake.yml"
MARKER = ".ump365-persistent-store"
JOB_IDS = count(100)


class Awx:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.volume = tmp / "volume"
        (self.volume / "checkpoints").mkdir(parents=True)
        (self.volume / MARKER).write_text("")
        self.log = tmp / "phases.log"

    def launch(self, *args: str, checkpoint_dir: Path | None = None, **extra) -> subprocess.Popen:
        job = next(JOB_IDS)
        private = self.tmp / f"job{job}"  # AWX's private data directory: new for every job
        (private / "tmp").mkdir(parents=True)
        ev = {
            "ump_checkpoint_dir": str(checkpoint_dir or self.volume / "checkpoints"),
            "fake_phase_log": str(self.log),
            **extra,
        }
        env = dict(
            os.environ,
            ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_ROLES_PATH=str(REPO / "tests/integration/roles"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCAL_TEMP=str(private / "tmp"),
            ANSIBLE_SHOW_CUSTOM_STATS="1",
            AWX_PRIVATE_DATA_DIR=str(private),
            JOB_ID=str(job),
        )
        for f in self.tmp.glob("phases.log.*"):
            f.unlink()
        return subprocess.Popen(
            [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(PLAYBOOK), "-e", json.dumps(ev), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=private,
            env=env,
            start_new_session=True,
        )

    def run(self, *args: str, **kw) -> tuple[int, str]:
        proc = self.launch(*args, **kw)
        out, _ = proc.communicate(timeout=300)
        return proc.returncode, out

    def run_and_kill_at(self, host: str, phase: str, *args: str, **kw) -> None:
        proc = self.launch(*args, fake_phase_hang=f"{host}:{phase}", **kw)
        log = self.tmp / f"phases.log.{host}"
        deadline = time.monotonic() + 240
        while not (log.exists() and f"{host} {phase} " in log.read_text()):
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "the job never reached the phase"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the node or the container is gone
        proc.communicate(timeout=60)

    def ran(self, host: str) -> list[str]:
        log = self.tmp / f"phases.log.{host}"
        return [line.split()[1] for line in log.read_text().splitlines()] if log.exists() else []

    def phases(self, host: str) -> dict:
        return json.loads((self.volume / "checkpoints" / f"{host}__8.0.515.json").read_text())["phases"]


@pytest.fixture
def awx(tmp_path):
    return Awx(tmp_path)


def test_a_killed_job_resumes_in_the_next_job_from_the_volume(awx):
    # canary job killed during wyUpdate: the state of the run is on the volume, not in the dead job
    awx.run_and_kill_at("h1", "wyupdate", "-l", "h1")
    assert awx.phases("h1")["snapshot"]["status"] == "done"
    assert awx.phases("h1")["wyupdate"]["status"] == "started"

    # the relaunch is a new job: resumes after the snapshot (no second snapshot), finishes the host
    rc, out = awx.run("-l", "h1")
    assert rc == 0, out[-4000:]
    assert awx.ran("h1") == ["services_stop", "wyupdate", "customer_upgrade", "services_start", "post_verify"]
    assert awx.phases("h1")["outcome"]["outputs"]["result"] == "upgraded"
    # per-host outcome as a job artifact (set_stats), and the report's location in the job output
    stats = out.split("CUSTOM STATS:", 1)[1]
    assert '"h1"' in stats and '"upgraded"' in stats, stats[:2000]
    assert "ump365.upgrade.report: " in out


def test_a_job_killed_while_rolling_back_is_finished_by_the_next_job(awx):
    awx.run_and_kill_at("h3", "swap_os_disk", "-l", "h3", fake_phase_fail="h3:wyupdate")
    assert awx.phases("h3")["rollback"]["status"] == "started"

    rc, out = awx.run("-l", "h3")
    assert rc != 0  # the host failed its upgrade: the job says so
    assert awx.ran("h3")[0] == "swap_os_disk" and "wyupdate" not in awx.ran("h3")
    assert awx.phases("h3")["outcome"]["outputs"]["result"] == "rolled_back"
    assert '"rolled_back"' in out.split("CUSTOM STATS:", 1)[1]


@pytest.mark.parametrize("where", ["no_marker", "private_dir"])
def test_state_that_would_die_with_the_container_is_refused(awx, where):
    if where == "no_marker":  # a directory of the container, not the volume
        proc = awx.launch("-l", "h2", checkpoint_dir=awx.tmp / "not-a-volume")
    else:  # the job's own private data directory, even with the marker: AWX deletes it with the job
        private = awx.tmp / "inside"
        private.mkdir()
        (private / MARKER).write_text("")
        proc = _launch_with_private(awx, private, private / "checkpoints")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert "refusing to keep the run's state where it would be lost" in out
    assert awx.ran("h2") == [], "nothing may run before the state has a safe place"


def _launch_with_private(awx: Awx, private: Path, ckpt: Path) -> subprocess.Popen:
    (private / "tmp").mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_ROLES_PATH=str(REPO / "tests/integration/roles"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(private / "tmp"),
        AWX_PRIVATE_DATA_DIR=str(private),
        JOB_ID="999",
    )
    ev = {"ump_checkpoint_dir": str(ckpt), "fake_phase_log": str(awx.log)}
    return subprocess.Popen(
        [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(PLAYBOOK), "-e", json.dumps(ev), "-l", "h2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=private,
        env=env,
    )


def test_the_command_line_keeps_the_local_store(awx, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("AWX_PRIVATE_DATA_DIR", "JOB_ID")}
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_ROLES_PATH=str(REPO / "tests/integration/roles"),
    )
    ev = {"ump_checkpoint_dir": str(tmp_path / "plain"), "fake_phase_log": str(awx.log)}
    p = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(PLAYBOOK), "-e", json.dumps(ev), "-l", "h4"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout[-3000:]
    assert (tmp_path / "plain" / "h4__8.0.515.json").is_file()
