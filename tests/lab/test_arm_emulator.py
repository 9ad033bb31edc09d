"""The ARM emulator against the real azure-identity / azure-mgmt-compute: tokens, LROs, errors, faults."""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient

SNAP_API = "2026-03-02"


def credential(lab, secret=None):
    ep = lab.endpoints
    return ClientSecretCredential(
        ep["entra"]["tenant_id"],
        ep["entra"]["automation_client_id"],
        secret or ep["secrets"]["azure_client_secret"],
        authority=ep["entra"]["authority"],
        disable_instance_discovery=True,
        connection_verify=lab.ca_file,
    )


def compute(lab, **kw):
    ep = lab.endpoints
    return ComputeManagementClient(
        kw.pop("cred", None) or credential(lab),
        ep["azure"]["subscription_id"],
        base_url=ep["arm"]["base_url"],
        connection_verify=lab.ca_file,
        **kw,
    )


def host(lab, name="ump01"):
    return lab.endpoints["hosts"][name]


def snapshot_body(vm, **extra):
    body = {
        "location": vm.location,
        "sku": {"name": "Standard_LRS"},
        "properties": {
            "creationData": {
                "createOption": "Copy",
                "sourceResourceId": vm.storage_profile.os_disk.managed_disk.id,
            }
        },
    }
    body.update(extra)
    return body


def test_token_flow_and_full_restore_cycle_with_the_real_sdk(fresh_lab):
    c = compute(fresh_lab)
    rg = host(fresh_lab)["resource_group"]
    vm = c.virtual_machines.get(rg, "ump01")
    disk_id = vm.storage_profile.os_disk.managed_disk.id
    before = fresh_lab.host_state("ump01")

    snap = c.snapshots.begin_create_or_update(rg, "s1", snapshot_body(vm)).result()
    assert snap.provisioning_state == "Succeeded"
    assert snap.creation_data.source_resource_id.lower() == disk_id.lower()
    assert snap.hyper_v_generation == "V2" and snap.os_type == "Windows"

    fresh_lab.set_host_state("ump01", ["files", "c:\\acs\\after.txt"], {"type": "file", "content": "x"})
    disk = c.disks.begin_create_or_update(
        rg,
        "d1",
        {
            "location": vm.location,
            "zones": vm.zones,
            "sku": {"name": "Premium_LRS"},
            "properties": {"osType": "Windows", "creationData": {"createOption": "Copy", "sourceResourceId": snap.id}},
        },
    ).result()
    assert disk.provisioning_state == "Succeeded" and disk.disk_state == "Unattached"
    assert disk.security_profile.security_type == "TrustedLaunch"  # inherited from the snapshot

    c.virtual_machines.begin_deallocate(rg, "ump01").result()
    st = fresh_lab.state()
    assert st["azure"]["power"][vm.id.lower()] == "deallocated"

    vm.storage_profile.os_disk.managed_disk.id = disk.id
    vm.storage_profile.os_disk.name = disk.name
    updated = c.virtual_machines.begin_create_or_update(rg, "ump01", vm).result()
    assert updated.storage_profile.os_disk.managed_disk.id == disk.id
    assert updated.storage_profile.os_disk.create_option == "FromImage"
    c.virtual_machines.begin_start(rg, "ump01").result()
    codes = [s.code for s in c.virtual_machines.instance_view(rg, "ump01").statuses]
    assert "PowerState/running" in codes
    # the host is what was on the disk when the snapshot was taken
    assert fresh_lab.host_state("ump01") == before
    old = c.disks.get(rg, disk_id.split("/")[-1])
    assert old.disk_state == "Unattached" and old.managed_by is None
    assert [s.name for s in c.snapshots.list_by_resource_group(rg)] == ["s1"]


def test_wrong_secret_is_a_client_authentication_error(lab):
    c = compute(lab, cred=credential(lab, secret="wrong-secret"))
    with pytest.raises(ClientAuthenticationError):
        c.virtual_machines.get(host(lab)["resource_group"], "ump01")


def test_token_for_another_audience_is_refused(lab):
    c = compute(lab, credential_scopes=["api://some-other-api/.default"])
    with pytest.raises(HttpResponseError) as e:
        c.virtual_machines.get(host(lab)["resource_group"], "ump01")
    assert e.value.status_code == 403


def _token(lab) -> str:
    return credential(lab).get_token("https://management.azure.com/.default").token


@pytest.fixture
def slow_lab(fresh_lab):
    fresh_lab.set_scale(1.0)  # a snapshot now takes 300 s: nothing here waits for it
    try:
        yield fresh_lab
    finally:
        fresh_lab.set_scale(0.0)
        fresh_lab.reset()


def test_lro_is_time_based_with_integer_retry_after_and_conflicting_writes(slow_lab):
    fresh_lab = slow_lab
    h = host(fresh_lab)
    sub = fresh_lab.endpoints["azure"]["subscription_id"]
    base = fresh_lab.endpoints["arm"]["base_url"]
    auth = {"Authorization": f"Bearer {_token(fresh_lab)}"}
    url = f"{base}/subscriptions/{sub}/resourceGroups/{h['resource_group']}/providers/Microsoft.Compute/snapshots/slow"
    vm = requests.get(
        f"{base}{h['vm_id']}", params={"api-version": "2026-04-01"}, headers=auth, verify=fresh_lab.ca_file, timeout=10
    ).json()
    body = {
        "location": vm["location"],
        "properties": {
            "creationData": {
                "createOption": "Copy",
                "sourceResourceId": vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"],
            }
        },
    }
    r = requests.put(
        url, params={"api-version": SNAP_API}, json=body, headers=auth, verify=fresh_lab.ca_file, timeout=10
    )
    assert r.status_code == 202
    # ARM's 202 body of a new snapshot says Updating (azure-rest-api-specs example Snapshot_Create_FromAnExistingSnapshot)
    assert r.json()["properties"]["provisioningState"] == "Updating"
    assert "/DiskOperations/" in r.headers["Azure-AsyncOperation"] and "/DiskOperations/" in r.headers["Location"]
    assert 1 <= int(r.headers["Retry-After"]) <= 30
    poll = requests.get(r.headers["Azure-AsyncOperation"], headers=auth, verify=fresh_lab.ca_file, timeout=10)
    assert poll.json()["status"] == "InProgress" and int(poll.headers["Retry-After"]) >= 1
    res = requests.get(url, params={"api-version": SNAP_API}, headers=auth, verify=fresh_lab.ca_file, timeout=10)
    assert res.json()["properties"]["provisioningState"] == "Updating"
    again = requests.put(
        url, params={"api-version": SNAP_API}, json=body, headers=auth, verify=fresh_lab.ca_file, timeout=10
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "OperationNotAllowed"
    missing = requests.get(url, headers=auth, verify=fresh_lab.ca_file, timeout=10)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingApiVersionParameter"
    noauth = requests.get(url, params={"api-version": SNAP_API}, verify=fresh_lab.ca_file, timeout=10)
    assert noauth.status_code == 401


def test_arm_errors_carry_their_codes(fresh_lab):
    c = compute(fresh_lab, retry_total=0)
    rg = host(fresh_lab)["resource_group"]
    with pytest.raises(ResourceNotFoundError) as e:
        c.virtual_machines.get("rg-nope", "ump01")
    assert e.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as e:
        c.snapshots.get(rg, "nope")
    assert e.value.error.code == "ResourceNotFound"
    vm = c.virtual_machines.get(rg, "ump01")
    with pytest.raises(HttpResponseError) as e:
        c.snapshots.begin_create_or_update(rg, "bad", snapshot_body(vm, sku={"name": "Ultra_Fast"}))
    assert e.value.status_code == 400 and e.value.error.code == "InvalidParameter" and "sku.name" in str(e.value)
    with pytest.raises(HttpResponseError) as e:
        c.snapshots.begin_create_or_update(rg, "-bad-name", snapshot_body(vm))
    assert e.value.error.code == "InvalidParameter"

    fresh_lab.fault("arm.403", action="Microsoft.Compute/snapshots/write")
    with pytest.raises(HttpResponseError) as e:
        c.snapshots.begin_create_or_update(rg, "denied", snapshot_body(vm))
    assert e.value.status_code == 403 and e.value.error.code == "AuthorizationFailed"
    assert "Microsoft.Compute/snapshots/write" in e.value.error.message
    assert c.virtual_machines.get(rg, "ump01").name == "ump01"

    fresh_lab.fault("arm.429", op="snapshots.read", times=1, retry_after=0)
    with pytest.raises(HttpResponseError) as e:
        c.snapshots.get(rg, "nope")
    assert e.value.status_code == 429 and e.value.response.headers["Retry-After"] == "0"

    fresh_lab.fault("arm.409", op="virtualMachines.deallocate", times=1)
    with pytest.raises(HttpResponseError) as e:
        c.virtual_machines.begin_deallocate(rg, "ump01")
    assert e.value.status_code == 409 and e.value.error.code == "OperationNotAllowed"


def test_sdk_default_retry_absorbs_429_with_retry_after(fresh_lab):
    c = compute(fresh_lab)
    fresh_lab.fault("arm.429", op="virtualMachines.read", times=2, retry_after=0)
    assert c.virtual_machines.get(host(fresh_lab)["resource_group"], "ump01").name == "ump01"
    assert fresh_lab.counters()["arm.requests.virtualMachines.read"] == 3


def test_failed_snapshot_fault_and_swap_guards(fresh_lab):
    c = compute(fresh_lab, retry_total=0)
    rg = host(fresh_lab)["resource_group"]
    vm = c.virtual_machines.get(rg, "ump01")
    fresh_lab.fault("arm.snapshot_failed", host="ump01", times=1)
    with pytest.raises(HttpResponseError) as e:
        c.snapshots.begin_create_or_update(rg, "bad", snapshot_body(vm)).result()
    assert e.value.error.code == "InternalDiskManagementError"
    assert c.snapshots.get(rg, "bad").provisioning_state == "Failed"

    # another VM's disk in another zone cannot become ump01's OS disk; createOption cannot change
    rg2 = host(fresh_lab, "ump02")["resource_group"]
    vm2 = c.virtual_machines.get(rg2, "ump02")
    vm.storage_profile.os_disk.managed_disk.id = vm2.storage_profile.os_disk.managed_disk.id
    with pytest.raises(HttpResponseError) as e:
        c.virtual_machines.begin_create_or_update(rg, "ump01", vm)
    assert e.value.status_code == 409 and "already attached" in str(e.value)
    vm = c.virtual_machines.get(rg, "ump01")
    vm.storage_profile.os_disk.create_option = "Attach"
    with pytest.raises(HttpResponseError) as e:
        c.virtual_machines.begin_create_or_update(rg, "ump01", vm)
    assert e.value.error.code == "PropertyChangeNotAllowed"

    fresh_lab.fault("arm.ade", host="ump01")
    vm = c.virtual_machines.get(rg, "ump01")
    assert vm.resources[0].publisher == "Microsoft.Azure.Security"
    disk = c.disks.get(rg, vm.storage_profile.os_disk.managed_disk.id.split("/")[-1])
    assert disk.encryption_settings_collection.enabled is True
