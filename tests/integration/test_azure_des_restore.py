"""A restored OS disk keeps the disk encryption set of the disk it replaces (issue 19 item 3), against the
lab's ARM emulator, which gives a disk created from a snapshot only the encryption its PUT asks for."""

from __future__ import annotations

from tests.integration.test_azure_snapshot_rollback import run_module, vm_disk


def test_restored_os_disk_keeps_the_disk_encryption_set(fresh_lab):
    lab = fresh_lab
    lab.fault("arm.des", host="ump01", des_name="des-ump01")
    info, _ = run_module(lab, "azure_vm_restore_info", {"resource_group": "rg-ump01", "vm_name": "ump01"})
    assert not info["failed"], info
    des = info["os_disk"]["disk_encryption_set_id"]
    assert des.endswith("/diskEncryptionSets/des-ump01")
    assert "Microsoft.Compute/diskEncryptionSets/read" not in info["missing_actions"]  # allowed ["*"]
    snap, _ = run_module(lab, "azure_snapshot", {"resource_group": "rg-ump01", "vm_name": "ump01", "name": "des-snap"})
    assert not snap["failed"], snap
    done, _ = run_module(
        lab,
        "azure_vm_os_disk",
        {"resource_group": "rg-ump01", "vm_name": "ump01", "snapshot": "des-snap", "new_disk": True},
    )
    assert not done["failed"], done
    restored = lab.state()["azure"]["resources"][vm_disk(lab, "ump01").lower()]
    assert restored["properties"]["encryption"] == {
        "type": "EncryptionAtRestWithCustomerKey",
        "diskEncryptionSetId": des,
    }
