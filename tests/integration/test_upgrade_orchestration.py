"""The upgrade orchestration on its own (role upgrade): checkpoints, resume, rescue and rollback.

Every phase is played by a stand-in role that logs what ran and fails on request, on two local hosts
(h2 has a backend SQL server), so these tests need no lab and pin the control flow exactly.
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
        self.log.unlink(missing_ok=True)
        return subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(PLAYBOOK), "-e", json.dumps(ev), *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=300,
        )

    def ran(self, host: str) -> list[str]:
        if not self.log.exists():
            return []
        return [line.split()[1] for line in self.log.read_text().splitlines() if line.split()[0] == host]

    def checkpoint(self, host: str) -> dict:
        return json.loads((self.ckpt / f"{host}__8.0.515.json").read_text())

    def outcome(self, host: str) -> str:
        return self.checkpoint(host)["phases"]["outcome"]["outputs"]["result"]


@pytest.fixture
def run(tmp_path):
    return Run(tmp_path)


def test_all_phases_run_in_order_and_a_rerun_does_nothing(run):
    p = run()
    assert p.returncode == 0, p.stdout[-3000:]
    assert run.ran("h1") == ALL
    assert run.ran("h2") == ["preflight", "snapshot", "sql_backup", *ALL[2:]]  # backend SQL: databases backed up
    assert run.outcome("h1") == "upgraded" and run.outcome("h2") == "upgraded"
    p = run()
    assert p.returncode == 0
    assert run.ran("h1") == [] and run.ran("h2") == []
    assert "changed=0" in p.stdout.split("PLAY RECAP")[1]


def test_failure_after_the_snapshot_rolls_back_then_a_rerun_never_takes_a_second_snapshot(run):
    p = run(fake_phase_fail="wyupdate", fake_phase_fail_host="h2")
    assert p.returncode != 0
    assert run.ran("h1") == ALL  # the other host is not affected
    assert run.ran("h2") == [
        "preflight",
        "snapshot",
        "sql_backup",
        "services_stop",
        "wyupdate",
        "swap_os_disk",
        "sql_restore",
        "services_start_rb",
        "verify_old_version",
    ]
    assert run.outcome("h2") == "rolled_back"
    assert "h2: the upgrade to 8.0.515 failed in phase wyupdate" in p.stdout
    assert "rolled back to its" in p.stdout
    ck = run.checkpoint("h2")["phases"]
    assert ck["wyupdate"]["status"] == "rolled_back" and ck["snapshot"]["status"] == "done"

    p = run()  # fault gone: resume
    assert p.returncode == 0, p.stdout[-3000:]
    assert run.ran("h2") == ["services_stop", "wyupdate", "customer_upgrade", "services_start", "post_verify"]
    assert run.outcome("h2") == "upgraded"


def test_failure_before_any_change_stops_the_host_without_rollback(run):
    p = run(fake_phase_fail="snapshot", fake_phase_fail_host="h1")
    assert p.returncode != 0
    assert run.ran("h1") == ["preflight", "snapshot"]
    assert run.outcome("h1") == "stopped_before_change"
    assert "Nothing on the host was changed" in p.stdout


def test_without_rollback_a_rerun_resumes_at_the_failed_phase(run):
    p = run(fake_phase_fail="customer_upgrade", ump_rollback_on_failure=False)
    assert p.returncode != 0
    assert run.outcome("h1") == "failed"
    assert "playbooks/rollback.yml" in p.stdout
    p = run()
    assert p.returncode == 0
    # services_stop is re-run (services may have come back), wyupdate is not
    assert run.ran("h1") == ["services_stop", "customer_upgrade", "services_start", "post_verify"]


def test_a_failing_rollback_demands_manual_action(run):
    p = run(fake_phase_fail="wyupdate,swap_os_disk", fake_phase_fail_host="h1")
    assert p.returncode != 0
    assert run.outcome("h1") == "rollback_failed"
    assert "h1: MANUAL ACTION REQUIRED" in p.stdout
    assert run.ran("h1")[-1] == "swap_os_disk"  # nothing after the failed rollback step ran
    assert run.outcome("h2") == "upgraded"


def test_tags_select_one_phase(run):
    p = run("--tags", "preflight")
    assert p.returncode == 0, p.stdout[-3000:]
    assert run.ran("h1") == ["preflight"] and run.ran("h2") == ["preflight"]
