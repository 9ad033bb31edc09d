"""The upgrade orchestration on its own (role upgrade): checkpoints, resume, rescue and rollback.

Every phase is played by a stand-in role that logs what ran and fails on request ("host:phase"), on
four local hosts (h2 has a backend SQL server), so these tests need no lab and pin the control flow.
Each run gives every host its own scenario, which keeps the number of playbook runs small.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, COLLECTIONS, REPO

PLAYBOOK = REPO / "tests/integration/playbooks/upgrade_fake.yml"
INVENTORY = REPO / "tests/integration/inventories/fake.yml"
ALL = ["preflight", "snapshot", "services_stop", "wyupdate", "customer_upgrade", "services_start", "post_verify"]
ROLLBACK = ["swap_os_disk", "services_start_rb", "verify_old_version"]


class Run:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.log = tmp / "phases.log"
        self.ckpt = tmp / "ckpt"

    def __call__(self, *args: str, **extra) -> subprocess.CompletedProcess:
        ev = {"ump_checkpoint_dir": str(self.ckpt), "fake_phase_log": str(self.log), **extra}
        env = dict(
            os.environ,
            ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_ROLES_PATH=str(REPO / "tests/integration/roles"),
            ANSIBLE_NOCOLOR="1",
        )
        for f in self.tmp.glob("phases.log.*"):
            f.unlink()
        return subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(PLAYBOOK), "-e", json.dumps(ev), *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=300,
        )

    def ran(self, host: str) -> list[str]:
        log = self.tmp / f"phases.log.{host}"
        if not log.exists():
            return []
        return [line.split()[1] for line in log.read_text().splitlines()]

    def phases(self, host: str) -> dict:
        return json.loads((self.ckpt / f"{host}__8.0.515.json").read_text())["phases"]

    def outcome(self, host: str) -> str:
        return self.phases(host)["outcome"]["outputs"]["result"]


@pytest.fixture
def run(tmp_path):
    return Run(tmp_path)


def test_rollback_resume_and_idempotence(run):
    p = run(fake_phase_fail="h1:wyupdate,h3:snapshot,h4:wyupdate,h4:swap_os_disk")
    assert p.returncode != 0
    out = p.stdout

    # h1: failed after a change -> rolled back, told why
    assert run.ran("h1") == ["preflight", "snapshot", "services_stop", "wyupdate", *ROLLBACK]
    assert run.outcome("h1") == "rolled_back"
    assert "h1: the upgrade to 8.0.515 failed in phase wyupdate" in out and "rolled back to its" in out
    assert run.phases("h1")["wyupdate"]["status"] == "rolled_back" and run.phases("h1")["snapshot"]["status"] == "done"
    # h2: unaffected by the others; its backend databases are backed up after the snapshot
    assert run.ran("h2") == ["preflight", "snapshot", "sql_backup", *ALL[2:]]
    assert run.outcome("h2") == "upgraded"
    # h3: failed before any change -> no rollback
    assert run.ran("h3") == ["preflight", "snapshot"]
    assert run.outcome("h3") == "stopped_before_change" and "Nothing on the host was changed" in out
    # h4: the rollback itself failed -> loud, nothing after the failed step
    assert run.ran("h4") == ["preflight", "snapshot", "services_stop", "wyupdate", "swap_os_disk"]
    assert run.outcome("h4") == "rollback_failed" and "h4: MANUAL ACTION REQUIRED" in out

    # rerun without faults: h1 resumes after its snapshot (never a second one), h2 does nothing
    p = run()
    assert p.returncode == 0, p.stdout[-3000:]
    assert run.ran("h1") == ALL[2:]
    assert run.outcome("h1") == "upgraded"
    assert run.ran("h2") == []
    assert run.ran("h3") == ["snapshot", *ALL[2:]]

    # and once more: nothing runs, nothing changes
    p = run()
    assert p.returncode == 0
    assert all(run.ran(h) == [] for h in ("h1", "h2", "h3", "h4"))
    assert "changed=0" in p.stdout.split("PLAY RECAP")[1] and "changed=1" not in p.stdout.split("PLAY RECAP")[1]


def test_without_rollback_a_rerun_resumes_at_the_failed_phase(run):
    p = run(fake_phase_fail="h1:customer_upgrade", ump_rollback_on_failure=False, upgrade_only_phases=[])
    assert p.returncode != 0
    assert run.outcome("h1") == "failed" and "playbooks/rollback.yml" in p.stdout
    assert "swap_os_disk" not in run.ran("h1")
    p = run("--limit", "h1")
    assert p.returncode == 0
    # services_stop is re-run (services may have come back), wyupdate is not
    assert run.ran("h1") == ["services_stop", "customer_upgrade", "services_start", "post_verify"]


def test_tags_select_one_phase(run):
    p = run("--tags", "preflight", "--limit", "h1,h2")
    assert p.returncode == 0, p.stdout[-3000:]
    assert run.ran("h1") == ["preflight"] and run.ran("h2") == ["preflight"]
    assert "outcome" not in run.phases("h1") or run.outcome("h1") != "rolled_back"
