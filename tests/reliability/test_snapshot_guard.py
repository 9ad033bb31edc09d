"""Never an upgrade without a snapshot, also when the snapshot phase is left out (issue 22 item 1).

The engine checks this attempt's snapshot before the first phase that changes the host (wyUpdate): in Azure
when this run did not take it (roles/upgrade/tasks/phase.yml). A run with ``--skip-tags snapshot`` stops the
services, takes no snapshot and must then refuse wyUpdate: the host is given its services back (recovery
"services"), keeps its version and files, and its checkpoint records the refusal as the error of phase
wyupdate (the phase the rescue reads from the failed task's tag), rolled back. All read from the lab and the checkpoint.
"""

from __future__ import annotations

import json

from tests.integration.test_azure_snapshot_rollback import snapshots
from tests.reliability.conftest import FAST_WAITS, OLD, TARGET, acs_files
from tests.reliability.test_crash_resume import _stopped_ump_services

HOST = "ump01"


def test_a_run_without_the_snapshot_phase_never_starts_wyupdate(own_lab):
    lab = own_lab(1)
    files_before = acs_files(lab.host_state(HOST))
    proc = lab.playbook(
        "playbooks/upgrade.yml",
        "--skip-tags",
        "snapshot",
        extra_vars={"ump_upgrade_batches": ["100%"], **FAST_WAITS},
    )
    out = proc.stdout
    assert proc.returncode != 0, out[-3000:]
    assert "needs this attempt's" in out and "snapshot" in out, out[-3000:]

    assert snapshots(lab) == []
    host = lab.host_state(HOST)
    assert host["ump"]["components"]["SysAdminKit"] == OLD  # wyUpdate never ran
    assert acs_files(host) == files_before
    assert not _stopped_ump_services(host), "the services stopped for the upgrade were not started again"

    phases = json.loads((lab.state_dir / "checkpoints" / f"{HOST}__{TARGET}.json").read_text())["phases"]
    # the failure is wyupdate's (recorded failed with the refusal, then marked rolled back with services_stop)
    assert phases["services_stop"]["status"] == "rolled_back" and "snapshot" not in phases
    assert phases["wyupdate"]["status"] == "rolled_back"
    assert "needs this attempt's snapshot" in phases["wyupdate"]["error"]
    assert phases["outcome"]["outputs"]["result"] == "rolled_back"
    assert phases["outcome"]["outputs"]["recovery"] == "services"
