"""Preflight's open-files and free-space checks through the real module contracts on the lab host
(openfiles.exe's CSV, community.windows.win_disk_facts' ansible_facts.ansible_disks)."""

from __future__ import annotations

import json


def _checks(lab) -> dict:
    report = sorted((lab.state_dir / "reports-prim").glob("preflight-*.json"))[-1]
    hosts = json.loads(report.read_text())["hosts"]
    return {(h, c["name"]): c for h, v in hosts.items() for c in v.get("checks", [])}


def test_open_files_and_low_disk_space_block_only_their_host(lab):
    lab.set_host_state("ump01", ["open_files"], [{"path": "C:\\acs\\tenants\\x\\logs\\sync.log", "user": "rdpuser"}])
    lab.set_host_state("ump01", ["os", "drives"], {"C": {"size_gb": 127, "free_gb": 3}})
    proc = lab.playbook(
        "playbooks/preflight.yml", check=False, env={"UMP365_REPORT_DIR": str(lab.state_dir / "reports-prim")}
    )
    assert proc.returncode != 0
    checks = _checks(lab)
    assert checks[("ump01", "no_open_files")]["status"] == "fail"
    assert "C:\\acs\\tenants\\x\\logs\\sync.log" in str(checks[("ump01", "no_open_files")]["observed"])
    assert checks[("ump01", "free_disk_space")]["status"] == "fail"
    assert checks[("ump02", "no_open_files")]["status"] == "pass"
    assert checks[("ump02", "free_disk_space")]["status"] == "pass"
    # a real (not --check) preflight changes nothing on a healthy host: ump02's recap shows changed=0
    # (the VM is read with azure_vm_info, the report files on the controller are no change of the host)
    from .checks_helpers import recap

    assert recap(proc)["ump02"]["changed"] == 0, recap(proc)
