#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: azure_vm_restore_info
short_description: Read what an OS-disk snapshot and restore of an Azure VM depend on
version_added: "0.2.0"
description:
  - Reads, before anything changes, what the snapshot and the OS-disk restore of a VM need, so that preflight
    can refuse a VM they would fail on.
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
  - This is an info module; it changes nothing and always reports C(changed=false).
options:
  resource_group:
    description: Resource group of the VM.
    type: str
    required: true
  vm_name:
    description: The VM.
    type: str
    required: true
  required_actions:
    description:
      - The RBAC actions the snapshot and the restore need on the resource group; RV(missing_actions) lists those
        the caller's permissions do not grant. With a disk encryption set on the OS disk,
        C(Microsoft.Compute/diskEncryptionSets/read) is added.
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
    description: The api-version of the Microsoft.Authorization permissions list.
    type: str
    default: "2022-04-01"
  locks_api_version:
    description: The api-version of the Microsoft.Authorization locks list.
    type: str
    default: "2020-05-01"
extends_documentation_fragment:
  - ump365.upgrade.azure
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_azure
seealso:
  - module: ump365.upgrade.azure_snapshot
  - module: ump365.upgrade.azure_vm_os_disk
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: What the snapshot and the restore depend on
  ump365.upgrade.azure_vm_restore_info:
    resource_group: rg-ump01
    vm_name: ump01
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
vm_id:
  description: The VM's ARM id.
  returned: always
  type: str
  sample: /subscriptions/0000/resourceGroups/rg-ump01/providers/Microsoft.Compute/virtualMachines/ump01
power_state:
  description: The instance view's C(PowerState/) code without the prefix (V(running), V(deallocated), ...), or
    V(unknown).
  returned: always
  type: str
  sample: running
ade:
  description: Whether the VM is encrypted with Azure Disk Encryption.
  returned: always
  type: bool
  sample: false
os_disk:
  description: The OS disk - C(id), C(name), C(encryption_type), C(disk_encryption_set_id) (or null).
  returned: always
  type: dict
  sample: {id: /subscriptions/0000/.../disks/ump01_OsDisk_1, name: ump01_OsDisk_1,
           encryption_type: EncryptionAtRestWithPlatformKey, disk_encryption_set_id: null}
data_disks:
  description: The data disks - C(lun), C(name), C(id), C(size_gb).
  returned: always
  type: list
  elements: dict
  sample: [{lun: 0, name: ump01_DataDisk_0, id: /subscriptions/0000/.../disks/ump01_DataDisk_0, size_gb: 256}]
permissions:
  description: The caller's permission entries on the resource group (C(actions), C(notActions), ...).
  returned: always
  type: list
  elements: dict
  sample: [{actions: ["*"], notActions: [], dataActions: [], notDataActions: []}]
missing_actions:
  description: The required actions that no permission entry grants.
  returned: always
  type: list
  elements: str
  sample: [Microsoft.Compute/snapshots/write]
locks:
  description: The management locks - C(name), C(level) (V(ReadOnly) or V(CanNotDelete)), C(scope), C(notes).
  returned: always
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
  description: Number of HTTP requests sent to Azure Resource Manager.
  returned: always
  type: int
  sample: 6
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


def main():
    am = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            vm_name=dict(type="str", required=True),
            required_actions=dict(type="list", elements="str", default=list(DEFAULT_ACTIONS)),
            permissions_api_version=dict(type="str", default="2022-04-01"),
            locks_api_version=dict(type="str", default="2020-05-01"),
        ),
        supports_check_mode=True,
    )
    p = am.params
    rg, name = p["resource_group"], p["vm_name"]
    ref = "VM %s/%s" % (rg, name)
    try:
        az = am.azure
        c = az.client
        vm = to_dict(az.call("read VM", ref, lambda: c.virtual_machines.get(rg, name)))
        power = power_of(az.call("read VM instance view", ref, lambda: c.virtual_machines.instance_view(rg, name)))
        os_ref = vm["properties"]["storageProfile"]["osDisk"]
        os_id = os_ref["managedDisk"]["id"]
        parts = arm_id_parts(os_id)
        disk = to_dict(az.call("read OS disk", os_id, lambda: c.disks.get(parts["resource_group"], parts["name"])))
        enc = (disk.get("properties") or {}).get("encryption") or {}
        des_id = enc.get("diskEncryptionSetId") or (
            (os_ref.get("managedDisk") or {}).get("diskEncryptionSet") or {}
        ).get("id")
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
    except errors.UmpError as e:
        am.fail(e)
    am.exit(
        changed=False,
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


if __name__ == "__main__":
    main()
