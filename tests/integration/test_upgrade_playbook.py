"""The main job against the lab: playbooks/upgrade.yml with the lab inventory, end to end."""

from __future__ import annotations

import json


def test_full_upgrade_then_a_rerun_changes_nothing(fresh_lab):
    lab = fresh_lab
    ckpt_dir = lab.state_dir / "checkpoints-e2e"
    report_dir = lab.state_dir / "reports-e2e"
    ev = {"ump_checkpoint_dir": str(ckpt_dir)}
    proc = lab.playbook("playbooks/upgrade.yml", extra_vars=ev, env={"UMP365_REPORT_DIR": str(report_dir)})
    assert "failed=0" in proc.stdout

    state = lab.state()
    for host in ("ump01", "ump02"):
        data = json.loads((ckpt_dir / f"{host}__8.0.515.json").read_text())
        assert data["phases"]["outcome"]["outputs"]["result"] == "upgraded"
        hs = lab.host_state(host)
        assert hs["ump"]["components"]["SysAdminKit"] == "8.0.515"
        ump_services = {
            n: s["state"] for n, s in hs["services"].items() if n.lower().startswith("sysadmin") or n == "w3svc"
        }
        assert set(ump_services.values()) == {"running"}, ump_services
        assert "SysAdmin.UMP.Watchdog" in ump_services  # created by the upgrade
    for sql in ("ump01", "ump02-sql"):  # ump01 keeps SysAdminTenant locally, ump02 on a backend SQL server
        customers = state["sql_dump"][sql]["SysAdminTenant"]["Customer"]
        assert {c["Version"] for c in customers} == {"8.0.515"}
        allowed = next(
            r["Value"]
            for r in state["sql_dump"][sql]["SysAdminTenant"]["ApplicationSetting"]
            if r["Name"] == "ApiAllowedIps"
        )
        assert "10.201.80.4" in json.loads(allowed)  # the guide's post-upgrade action
    snaps = [r for r in state["azure"]["resources"].values() if r["type"] == "Microsoft.Compute/snapshots"]
    assert sorted(s["name"].split("-")[0] for s in snaps) == ["ump01", "ump02"]  # one snapshot per host

    report = json.loads(next(report_dir.glob("*.json")).read_text())
    assert {h: v["final_state"] for h, v in report["hosts"].items()} == {"ump01": "upgraded", "ump02": "upgraded"}

    proc = lab.playbook("playbooks/upgrade.yml", extra_vars=ev)
    recap = proc.stdout.split("PLAY RECAP")[1]
    assert "changed=0" in recap and "changed=1" not in recap and "failed=0" in recap
