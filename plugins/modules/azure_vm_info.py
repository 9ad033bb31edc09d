#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: azure_vm_info
short_description: Read an Azure VM, its managed disks and what an OS-disk snapshot and restore depend on
version_added: "0.1.0"
description:
  - Reads one virtual machine (one GET) and returns its id, size, location and the managed disks it uses,
    the OS disk first; a VM that does not exist is RV(exists=false), not an error. This is how
    C(playbooks/cleanup.yml) finds the disk the VM runs on.
  - With O(restore_info=true) it also reads, before anything changes, what the snapshot and the OS-disk
    restore of the VM need, so that C(preflight) (and C(discover)) can refuse a VM they would fail on; a VM
    that does not exist is then an error.
  - The VM's power state (instance view C(PowerState/...)).
  - Azure Disk Encryption (the C(AzureDiskEncryption) extension, C(osDisk.encryptionSettings) or the disk's
    C(encryptionSettingsCollection)); Azure does not support swapping the OS disk of such a VM.
  - The OS disk's encryption at rest (C(properties.encryption.type)) and its disk encryption set, which the
    restored disk must carry too.
  - The VM's data disks (C(storageProfile.dataDisks)).
  - The caller's permissions on the resource group (Microsoft.Authorization Permissions - List For Resource
    Group, api-version 2022-04-01) and which of O(required_actions) they do not grant.
  - The management locks on the resource group and its resources (Management Locks - List At Resource Group
    Level, api-version 2020-05-01).
  - This is an info module; it changes nothing and always reports C(changed=false), in any mode.
  - It replaces C(azure_vm_restore_info) (O(restore_info=true); O(vm_name) is an alias of O(name)).
options:
  resource_group:
    description: Resource group of the VM.
    type: str
    required: true
  name:
    description: Name of the VM.
    type: str
    required: true
    aliases: [vm_name]
  restore_info:
    description:
      - Also read the power state, the OS disk's encryption, the data disks, the caller's permissions and the
        locks (RV(power_state), RV(ade), RV(os_disk), RV(data_disks), RV(permissions), RV(missing_actions),
        RV(locks)); four more requests.
    type: bool
    default: false
  required_actions:
    description:
      - With O(restore_info=true), the RBAC actions the snapshot and the restore need on the resource group;
        RV(missing_actions) lists those the caller's permissions do not grant. With a disk encryption set on the
        OS disk, C(Microsoft.Compute/diskEncryptionSets/read) is added.
    type: list
    elements: str
    default:
      - Microsoft.Compute/virtualMachines/read
      - Microsoft.Compute/virtualMachines/write
      - Microsoft.Compute/virtualMachines/deallocate/action
      - Microsoft.Compute/virtualMachines/start/action
      - Microsoft.Compute/virtualMachines/instanceView/read
      - Microsoft.Compute/disks/read
      - Microsoft.Compute/disks/write
      - Microsoft.Compute/snapshots/read
      - Microsoft.Compute/snapshots/write
      - Microsoft.Compute/locations/DiskOperations/read
      - Microsoft.Compute/locations/operations/read
  permissions_api_version:
    description: The api-version of the Microsoft.Authorization permissions list (O(restore_info=true)).
    type: str
    default: "2022-04-01"
  locks_api_version:
    description: The api-version of the Microsoft.Authorization locks list (O(restore_info=true)).
    type: str
    default: "2020-05-01"
extends_documentation_fragment:
  - ump365.upgrade.azure
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_azure
seealso:
  - module: ump365.upgrade.azure_snapshot_info
  - module: ump365.upgrade.azure_snapshot
  - module: ump365.upgrade.azure_vm_os_disk
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Read the VM and its OS disk
  ump365.upgrade.azure_vm_info:
    resource_group: rg-ump01
    name: ump01
  delegate_to: localhost
  register: vm

- name: Use it
  ansible.builtin.debug:
    msg: "{{ vm.vm.os_disk.id }}"
  when: vm.exists

- name: What the snapshot and the restore depend on
  ump365.upgrade.azure_vm_info:
    resource_group: rg-ump01
    name: ump01
    restore_info: true
  delegate_to: localhost
  register: restore_info

- name: Refuse what the restore could not undo
  ansible.builtin.assert:
    that:
      - restore_info.power_state == 'running'
      - not restore_info.ade
      - restore_info.missing_actions | length == 0
      - restore_info.locks | selectattr('level', 'equalto', 'ReadOnly') | list | length == 0
"""

RETURN = r"""
exists:
  description: Whether the VM exists.
  returned: always
  type: bool
  sample: true
vm:
  description: The VM; empty when it does not exist.
  returned: always
  type: dict
  contains:
    id:
      description: ARM id of the VM.
      type: str
    name:
      description: Name of the VM.
      type: str
    location:
      description: Azure region.
      type: str
    vm_size:
      description: The VM size.
      type: str
    os_disk:
      description: The managed OS disk (C(id), C(name)); empty when the OS disk is not a managed disk.
      type: dict
    data_disks:
      description: The managed data disks (C(lun), C(id), C(name)).
      type: list
      elements: dict
  sample: {"id": "/subscriptions/0000/resourceGroups/rg-ump01/providers/Microsoft.Compute/virtualMachines/ump01",
           "name": "ump01", "location": "westeurope", "vm_size": "Standard_D4s_v5",
           "os_disk": {"id": "/subscriptions/0000/.../disks/ump01_OsDisk_1", "name": "ump01_OsDisk_1"},
           "data_disks": []}
vm_id:
  description: The VM's ARM id.
  returned: when O(restore_info=true)
  type: str
  sample: /subscriptions/0000/resourceGroups/rg-ump01/providers/Microsoft.Compute/virtualMachines/ump01
power_state:
  description: The instance view's C(PowerState/) code without the prefix (V(running), V(deallocated), ...), or
    V(unknown).
  returned: when O(restore_info=true)
  type: str
  sample: running
ade:
  description: Whether the VM is encrypted with Azure Disk Encryption.
  returned: when O(restore_info=true)
  type: bool
  sample: false
os_disk:
  description: The OS disk - C(id), C(name), C(encryption_type), C(disk_encryption_set_id) (or null).
  returned: when O(restore_info=true)
  type: dict
  sample: {id: /subscriptions/0000/.../disks/ump01_OsDisk_1, name: ump01_OsDisk_1,
           encryption_type: EncryptionAtRestWithPlatformKey, disk_encryption_set_id: null}
data_disks:
  description: The data disks - C(lun), C(name), C(id), C(size_gb).
  returned: when O(restore_info=true)
  type: list
  elements: dict
  sample: [{lun: 0, name: ump01_DataDisk_0, id: /subscriptions/0000/.../disks/ump01_DataDisk_0, size_gb: 256}]
permissions:
  description: The caller's permission entries on the resource group (C(actions), C(notActions), ...).
  returned: when O(restore_info=true)
  type: list
  elements: dict
  sample: [{actions: ["*"], notActions: [], dataActions: [], notDataActions: []}]
missing_actions:
  description: The required actions that no permission entry grants.
  returned: when O(restore_info=true)
  type: list
  elements: str
  sample: [Microsoft.Compute/snapshots/write]
locks:
  description: The management locks - C(name), C(level) (V(ReadOnly) or V(CanNotDelete)), C(scope), C(notes).
  returned: when O(restore_info=true)
  type: list
  elements: dict
  sample: [{name: no-delete, level: CanNotDelete, scope: /subscriptions/0000/resourceGroups/rg-ump01, notes: ""}]
retries:
  description: Requests that were retried.
  returned: always
  type: list
  elements: dict
operations:
  description: Always empty (the module starts no long-running operation).
  returned: always
  type: list
  elements: dict
arm_requests:
  description: Number of HTTP requests sent to Azure Resource Manager (1; 5 with O(restore_info=true)).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.azure import (
    AzureModule,
    ade_enabled,
    arm_id_parts,
    missing_actions,
    power_of,
    to_dict,
)

DEFAULT_ACTIONS = [
    "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Compute/virtualMachines/write",
    "Microsoft.Compute/virtualMachines/deallocate/action",
    "Microsoft.Compute/virtualMachines/start/action",
    "Microsoft.Compute/virtualMachines/instanceView/read",
    "Microsoft.Compute/disks/read",
    "Microsoft.Compute/disks/write",
    "Microsoft.Compute/snapshots/read",
    "Microsoft.Compute/snapshots/write",
    "Microsoft.Compute/locations/DiskOperations/read",
    "Microsoft.Compute/locations/operations/read",
]
DES_ACTION = "Microsoft.Compute/diskEncryptionSets/read"


def _disk(ref):
    disk_id = ((ref or {}).get("managedDisk") or {}).get("id")
    if not disk_id:
        return {}
    return {"id": disk_id, "name": disk_id.rstrip("/").rsplit("/", 1)[-1]}


def vm_facts(vm):
    """The fields the roles read from a VM (ARM JSON shape), the OS disk first."""
    props = vm.get("properties") or {}
    storage = props.get("storageProfile") or {}
    data = []
    for d in storage.get("dataDisks") or []:
        disk = _disk(d)
        if disk:
            data.append(dict(disk, lun=d.get("lun")))
    return {
        "id": vm.get("id"),
        "name": vm.get("name"),
        "location": vm.get("location"),
        "vm_size": (props.get("hardwareProfile") or {}).get("vmSize"),
        "os_disk": _disk(storage.get("osDisk")),
        "data_disks": data,
    }


def restore_facts(az, p, vm):
    """What an OS-disk snapshot and restore of the VM depend on (power, encryption, data disks, rights, locks)."""
    rg, name = p["resource_group"], p["name"]
    ref = "VM %s/%s" % (rg, name)
    c = az.client
    power = power_of(az.call("read VM instance view", ref, lambda: c.virtual_machines.instance_view(rg, name)))
    os_ref = vm["properties"]["storageProfile"]["osDisk"]
    os_id = os_ref["managedDisk"]["id"]
    parts = arm_id_parts(os_id)
    disk = to_dict(az.call("read OS disk", os_id, lambda: c.disks.get(parts["resource_group"], parts["name"])))
    enc = (disk.get("properties") or {}).get("encryption") or {}
    des_id = enc.get("diskEncryptionSetId") or ((os_ref.get("managedDisk") or {}).get("diskEncryptionSet") or {}).get(
        "id"
    )
    data_disks = [
        dict(
            lun=d.get("lun"),
            name=d.get("name"),
            id=(d.get("managedDisk") or {}).get("id"),
            size_gb=d.get("diskSizeGB"),
        )
        for d in vm["properties"]["storageProfile"].get("dataDisks") or []
    ]
    scope = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Authorization" % (p["subscription_id"], rg)
    permissions = az.arm_get_all(
        "list permissions", "resource group %s" % rg, scope + "/permissions", p["permissions_api_version"]
    )
    required = list(p["required_actions"]) + ([DES_ACTION] if des_id else [])
    locks = [
        dict(
            name=lk.get("name"),
            level=(lk.get("properties") or {}).get("level"),
            scope=(lk.get("id") or "").split("/providers/Microsoft.Authorization/locks/")[0],
            notes=(lk.get("properties") or {}).get("notes") or "",
        )
        for lk in az.arm_get_all("list locks", "resource group %s" % rg, scope + "/locks", p["locks_api_version"])
    ]
    return dict(
        vm_id=vm.get("id"),
        power_state=power,
        ade=ade_enabled(vm, disk),
        os_disk=dict(
            id=os_id,
            name=disk.get("name"),
            encryption_type=enc.get("type"),
            disk_encryption_set_id=des_id,
        ),
        data_disks=data_disks,
        permissions=permissions,
        missing_actions=missing_actions(permissions, required),
        locks=locks,
    )


def main():
    am = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            name=dict(type="str", required=True, aliases=["vm_name"]),
            restore_info=dict(type="bool", default=False),
            required_actions=dict(type="list", elements="str", default=list(DEFAULT_ACTIONS)),
            permissions_api_version=dict(type="str", default="2022-04-01"),
            locks_api_version=dict(type="str", default="2020-05-01"),
        ),
        supports_check_mode=True,
    )
    p = am.params
    rg, name = p["resource_group"], p["name"]
    try:
        az = am.azure
        if p["restore_info"]:
            # what the restore depends on cannot be read without the VM: a missing VM is an error here
            vm = to_dict(az.call("read VM", "VM %s/%s" % (rg, name), lambda: az.client.virtual_machines.get(rg, name)))
            facts = restore_facts(az, p, vm)
        else:
            vm = az.get_or_none("read VM", "%s/%s" % (rg, name), lambda: az.client.virtual_machines.get(rg, name))
            if vm is None:
                am.exit(changed=False, exists=False, vm={})
            vm, facts = to_dict(vm), {}
    except errors.UmpError as e:
        am.fail(e, exists=False, vm={})
    am.exit(changed=False, exists=True, vm=vm_facts(vm), **facts)


if __name__ == "__main__":
    main()
