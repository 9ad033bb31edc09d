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
ALL = ["preflight", "services_stop", "snapshot", "wyupdate", "customer_upgrade", "services_start", "post_verify"]
ROLLBACK = ["swap_os_disk", "services_start_rb", "verify_old_version"]
SERVICES_ONLY = ["services_start_rb", "verify_old_version"]


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


def test_rollback_levels_fresh_attempt_and_idempotence(run):
    p = run(fake_phase_fail="h1:wyupdate,h3:snapshot,h4:wyupdate,h4:swap_os_disk")
    assert p.returncode != 0
    out = p.stdout

    # h1: wyUpdate failed and nothing says it changed nothing (no step results, no version recorded to look
    # for SysAdminKit_<old>): unknown is a change -> the full recovery, told why
    assert run.ran("h1") == ["preflight", "services_stop", "snapshot", "wyupdate", *ROLLBACK]
    assert run.outcome("h1") == "rolled_back"
    assert "h1: the upgrade to 8.0.515 failed in phase wyupdate" in out and "Recovery (full" in out
    assert run.phases("h1")["wyupdate"]["status"] == "rolled_back" and run.phases("h1")["snapshot"]["status"] == "done"
    assert run.phases("h1")["outcome"]["outputs"]["recovery"] == "full"
    first_attempt = run.phases("h1")["attempt"]["outputs"]["id"]
    # h2: unaffected by the others; the services stop before the snapshot, the backup after it
    assert run.ran("h2") == ["preflight", "services_stop", "snapshot", "sql_backup", *ALL[3:]]
    assert run.outcome("h2") == "upgraded"
    # h3: the snapshot failed after the services stopped -> only the services are restored, no disk swap
    assert run.ran("h3") == ["preflight", "services_stop", "snapshot", *SERVICES_ONLY]
    assert run.outcome("h3") == "rolled_back" and run.phases("h3")["outcome"]["outputs"]["recovery"] == "services"
    assert "only the services were stopped" in run.phases("h3")["outcome"]["outputs"]["recovery_why"]
    # h4: the rollback itself failed -> loud, nothing after the failed step
    assert run.ran("h4") == ["preflight", "services_stop", "snapshot", "wyupdate", "swap_os_disk"]
    assert run.outcome("h4") == "rollback_failed" and "h4: MANUAL ACTION REQUIRED" in out

    # rerun without faults: the rolled-back hosts start a fresh attempt (preflight and snapshot again,
    # a new attempt id), h2 does nothing
    p = run("--limit", "h1,h2,h3")
    assert p.returncode == 0, p.stdout[-3000:]
    assert run.ran("h1") == ALL and run.ran("h3") == ALL
    assert run.outcome("h1") == "upgraded"
    attempt = run.phases("h1")["attempt"]["outputs"]
    assert attempt["number"] == 2 and attempt["id"] != first_attempt
    assert attempt["previous"][0]["id"] == first_attempt and attempt["previous"][0]["outcome"] == "rolled_back"
    assert run.ran("h2") == []

    # and once more: nothing runs, nothing changes
    p = run("--limit", "h1,h2,h3")
    assert p.returncode == 0
    assert all(run.ran(h) == [] for h in ("h1", "h2", "h3"))
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
    # the phases left out are not recorded, and the host is not recorded upgraded
    assert "outcome" not in run.phases("h1") and "post_verify" not in run.phases("h1")


@pytest.mark.parametrize("tag", ["post_verify", "phase_post_verify"])
def test_skip_tags_leave_a_phase_out_and_never_mark_it_done(run, tag):
    p = run("--skip-tags", tag, "--limit", "h1")
    assert p.returncode == 0, p.stdout[-3000:]
    assert run.ran("h1") == ALL[:-1]
    assert "post_verify" not in run.phases("h1") and "outcome" not in run.phases("h1")
    # the next run runs it (the host was not upgraded yet)
    p = run("--limit", "h1")
    assert p.returncode == 0, p.stdout[-3000:]
    assert "post_verify" in run.ran("h1") and run.outcome("h1") == "upgraded"
