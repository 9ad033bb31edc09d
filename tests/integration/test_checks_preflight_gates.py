"""preflight.yml's gates before any change (issue 19 item 3) against the lab's ARM and hosts: a wrong
service-account password, a ReadOnly lock, a missing RBAC action, Azure Disk Encryption, a data disk; a disk
encryption set passes. Nothing is changed and no snapshot is taken."""

from __future__ import annotations

from .checks_helpers import checks, run, statuses


def _snapshots(lab) -> list[str]:
    return [r["name"] for r in lab.state()["azure"]["resources"].values() if r["type"] == "Microsoft.Compute/snapshots"]


def test_preflight_gates_before_any_change(fresh_lab, tmp_path):
    lab = fresh_lab
    # ump01: the service account's password is not the one in the inventory; a ReadOnly lock on its resource
    # group; the identity lacks snapshots/write there
    lab.set_host_state("ump01", ["accounts", "ump-svc", "password"], "changed-by-someone")
    lab.fault("arm.lock", host="ump01", level="ReadOnly", lock_name="freeze")
    lab.fault("arm.missing_permission", host="ump01", action="Microsoft.Compute/snapshots/write")
    # ump02: Azure Disk Encryption and a data disk; its OS disk also uses a disk encryption set (fine)
    lab.fault("arm.ade", host="ump02")
    lab.fault("arm.data_disk", host="ump02", lun=0)
    lab.fault("arm.des", host="ump02", des_name="des-ump02")
    services_before = {h: lab.host_state(h)["services"] for h in ("ump01", "ump02")}

    proc, report = run(lab, "playbooks/preflight.yml", tmp_path, "pf-gates")
    assert proc.returncode != 0
    gates = {"become_service_account", "azure_resource_locks", "azure_snapshot_rights"}
    assert gates <= statuses(report, "ump01", "fail"), checks(report, "ump01")
    assert {"azure_disk_encryption", "azure_data_disks"} <= statuses(report, "ump02", "fail"), checks(report, "ump02")
    c1, c2 = checks(report, "ump01"), checks(report, "ump02")
    assert "LogonUser failed" in c1["become_service_account"]["observed"]
    assert "ReadOnly freeze" in c1["azure_resource_locks"]["observed"]
    assert "Microsoft.Compute/snapshots/write" in c1["azure_snapshot_rights"]["observed"]
    assert "ump02_DataDisk_0" in c2["azure_data_disks"]["observed"]
    for ok in ("become_service_account", "azure_resource_locks", "azure_snapshot_rights", "azure_vm"):
        assert c2[ok]["status"] == "pass", c2[ok]
    # nothing changed: no snapshot, services as they were
    assert _snapshots(lab) == []
    for h, svc in services_before.items():
        assert {n: s["state"] for n, s in lab.host_state(h)["services"].items()} == {
            n: s["state"] for n, s in svc.items()
        }


def test_disk_encryption_set_passes_and_lock_is_real(fresh_lab, tmp_path):
    lab = fresh_lab
    lab.fault("arm.des", host="ump02", des_name="des-ump02")
    lab.fault("arm.lock", host="ump01", level="CanNotDelete", lock_name="keep")
    _proc, report = run(lab, "playbooks/preflight.yml", tmp_path, "pf-des", "--check")
    c1, c2 = checks(report, "ump01"), checks(report, "ump02")
    assert c2["azure_disk_encryption"]["status"] == "pass", c2["azure_disk_encryption"]
    assert "des-ump02" in c2["azure_disk_encryption"]["observed"]
    # CanNotDelete does not block the snapshot or the restore: a warning
    assert c1["azure_resource_locks"]["status"] == "warn" and not c1["azure_resource_locks"]["blocking"]
