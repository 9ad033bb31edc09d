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


def test_wyupdate_failing_on_one_host_rolls_it_back_and_the_other_upgrades(fresh_lab):
    lab = fresh_lab
    ckpt_dir = lab.state_dir / "checkpoints-rollback"
    report_dir = lab.state_dir / "reports-rollback"
    customers_before = lab.state()["sql_dump"]["ump02-sql"]["SysAdminTenant"]["Customer"]
    lab.fault("wyupdate.fail_step", host="ump02", step="RunSqlScripts")

    proc = lab.playbook(
        "playbooks/upgrade.yml",
        extra_vars={"ump_checkpoint_dir": str(ckpt_dir), "ump_upgrade_batches": [2]},
        env={"UMP365_REPORT_DIR": str(report_dir)},
    )
    assert proc.returncode != 0
    assert "ump02: the upgrade to 8.0.515 failed in phase wyupdate" in proc.stdout

    assert _outcome(ckpt_dir, "ump01") == "upgraded"
    assert lab.host_state("ump01")["ump"]["components"]["SysAdminKit"] == TARGET
    assert _outcome(ckpt_dir, "ump02") == "rolled_back"
    assert lab.host_state("ump02")["ump"]["components"]["SysAdminKit"] == OLD
    state = lab.state()
    assert state["sql_dump"]["ump02-sql"]["SysAdminTenant"]["Customer"] == customers_before
    assert {c["Version"] for c in state["sql_dump"]["ump01"]["SysAdminTenant"]["Customer"]} == {TARGET}

    report = json.loads(next(report_dir.glob("*.json")).read_text())
    assert report["hosts"]["ump02"]["final_state"] == "rolled_back"
    assert report["hosts"]["ump01"]["final_state"] == "upgraded"
