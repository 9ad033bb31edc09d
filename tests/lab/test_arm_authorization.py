"""The ARM emulator's Microsoft.Authorization reads and the faults preflight's gates are tested with
(issue 19): permissions, locks (and that a lock really refuses writes), a disk encryption set, a data disk."""

from __future__ import annotations

import requests
from azure.core.exceptions import HttpResponseError

from tests.lab.test_arm_emulator import compute, credential, host, snapshot_body

AUTHZ = "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Authorization/{what}"


def _get(lab, name, what, api):
    ep = lab.endpoints
    token = credential(lab).get_token("https://management.azure.com/.default").token
    url = ep["arm"]["base_url"] + AUTHZ.format(
        sub=ep["azure"]["subscription_id"], rg=host(lab, name)["resource_group"], what=what
    )
    return requests.get(
        url, params={"api-version": api}, headers={"Authorization": f"Bearer {token}"}, verify=lab.ca_file, timeout=10
    )


def test_permissions_and_locks_answer_arm_shapes(fresh_lab):
    r = _get(fresh_lab, "ump01", "permissions", "2022-04-01")
    assert r.status_code == 200
    assert r.json() == {"value": [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]}
    assert _get(fresh_lab, "ump01", "locks", "2020-05-01").json() == {"value": []}
    assert _get(fresh_lab, "ump01", "permissions", "2099-01-01").status_code == 400  # newer than the lab knows
    fresh_lab.fault("arm.missing_permission", host="ump01", action="Microsoft.Compute/snapshots/write")
    fresh_lab.fault("arm.lock", host="ump01", level="ReadOnly", lock_name="freeze")
    assert _get(fresh_lab, "ump01", "permissions", "2022-04-01").json()["value"][0]["notActions"] == [
        "Microsoft.Compute/snapshots/write"
    ]
    locks = _get(fresh_lab, "ump01", "locks", "2020-05-01").json()["value"]
    assert [(lk["name"], lk["properties"]["level"], lk["type"]) for lk in locks] == [
        ("freeze", "ReadOnly", "Microsoft.Authorization/locks")
    ]
    # ump02 is in another resource group: untouched
    assert _get(fresh_lab, "ump02", "locks", "2020-05-01").json() == {"value": []}


def test_a_readonly_lock_and_a_missing_action_really_refuse_the_snapshot(fresh_lab):
    c = compute(fresh_lab)
    rg = host(fresh_lab)["resource_group"]
    vm = c.virtual_machines.get(rg, "ump01")
    fresh_lab.fault("arm.lock", host="ump01", level="ReadOnly")
    try:
        c.snapshots.begin_create_or_update(rg, "ump01-locked", snapshot_body(vm)).result()
        raise AssertionError("a ReadOnly lock let a snapshot through")
    except HttpResponseError as e:
        assert e.status_code == 409 and e.error.code == "ScopeLocked"
    fresh_lab.clear_faults("arm.lock")
    fresh_lab.fault("arm.missing_permission", host="ump01", action="Microsoft.Compute/snapshots/write")
    try:
        c.snapshots.begin_create_or_update(rg, "ump01-denied", snapshot_body(vm)).result()
        raise AssertionError("a missing action let a snapshot through")
    except HttpResponseError as e:
        assert e.status_code == 403 and "Microsoft.Compute/snapshots/write" in str(e)


def test_disk_encryption_set_and_data_disk_become_real_state(fresh_lab):
    fresh_lab.fault("arm.des", host="ump01", des_name="des-1")
    fresh_lab.fault("arm.data_disk", host="ump01", lun=2)
    c = compute(fresh_lab)
    rg = host(fresh_lab)["resource_group"]
    vm = c.virtual_machines.get(rg, "ump01")
    assert [(d.lun, d.name) for d in vm.storage_profile.data_disks] == [(2, "ump01_DataDisk_2")]
    disk = c.disks.get(rg, vm.storage_profile.os_disk.name)
    assert disk.encryption.type == "EncryptionAtRestWithCustomerKey"
    assert disk.encryption.disk_encryption_set_id.endswith("/diskEncryptionSets/des-1")
    assert c.disks.get(rg, "ump01_DataDisk_2").managed_by.lower() == vm.id.lower()
