"""The main job against the lab: playbooks/upgrade.yml with the lab inventory."""

from __future__ import annotations

import json


def test_upgrade_playbook_runs_on_the_lab_and_checkpoints_each_host(fresh_lab):
    ckpt_dir = fresh_lab.state_dir / "checkpoints"
    proc = fresh_lab.playbook("playbooks/upgrade.yml", extra_vars={"ump_checkpoint_dir": str(ckpt_dir)})
    assert "failed=0" in proc.stdout
    for host in ("ump01", "ump02"):
        data = json.loads((ckpt_dir / f"{host}__8.0.515.json").read_text())
        assert data["phases"]["preflight"]["status"] == "done"
