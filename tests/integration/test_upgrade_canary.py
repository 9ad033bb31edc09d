"""Faults through the real roles: a failing host is rolled back and verified; a failing canary stops the fleet."""

from __future__ import annotations

import json

TARGET = "8.0.515"
OLD = "8.0.400.64"


def _snapshots(state: dict) -> list[str]:
    return sorted(
        r["name"].split("-")[0]
        for r in state["azure"]["resources"].values()
        if r["type"] == "Microsoft.Compute/snapshots"
    )


def _outcome(ckpt_dir, host: str) -> str:
    return json.loads((ckpt_dir / f"{host}__{TARGET}.json").read_text())["phases"]["outcome"]["outputs"]["result"]


def test_a_failing_canary_stops_the_fleet_before_the_next_host_changes(fresh_lab):
    lab = fresh_lab
    ckpt_dir = lab.state_dir / "checkpoints-canary"
    lab.fault("wyupdate.fail_step", host="ump01", step="RunSqlScripts")

    proc = lab.playbook("playbooks/upgrade.yml", extra_vars={"ump_checkpoint_dir": str(ckpt_dir)})
    assert proc.returncode != 0

    assert _outcome(ckpt_dir, "ump01") == "rolled_back"
    assert lab.host_state("ump01")["ump"]["components"]["SysAdminKit"] == OLD
    # the canary failed: ump02 was never touched
    assert not (ckpt_dir / f"ump02__{TARGET}.json").exists()
    assert _snapshots(lab.state()) == ["ump01"]
    assert lab.host_state("ump02")["ump"]["components"]["SysAdminKit"] == OLD
    assert {c["Version"] for c in lab.state()["sql_dump"]["ump02-sql"]["SysAdminTenant"]["Customer"]} == {OLD}
