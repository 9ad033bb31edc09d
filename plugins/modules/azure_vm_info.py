#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: azure_vm_info
short_description: Read an Azure VM and its managed disks (read-only)
version_added: "0.1.0"
description:
  - Reads one virtual machine (one GET) and returns its id, size, location and the managed disks it uses,
    the OS disk first; a VM that does not exist is RV(exists=false), not an error.
  - This is how C(preflight) sees the VM and its OS disk; it changes nothing, so it reports C(changed=false)
    in any mode.
options:
  resource_group:
    description: Resource group of the VM.
    type: str
    required: true
  name:
    description: Name of the VM.
    type: str
    required: true
extends_documentation_fragment:
  - ump365.upgrade.azure
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_azure
seealso:
  - module: ump365.upgrade.azure_snapshot_info
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
  sample: 1
"""

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.azure import AzureModule, to_dict


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


def main():
    am = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            name=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    p = am.params
    rg, name = p["resource_group"], p["name"]
    try:
        az = am.azure
        vm = az.get_or_none("read VM", "%s/%s" % (rg, name), lambda: az.client.virtual_machines.get(rg, name))
        if vm is None:
            am.exit(changed=False, exists=False, vm={})
        am.exit(changed=False, exists=True, vm=vm_facts(to_dict(vm)))
    except errors.UmpError as e:
        am.fail(e, exists=False, vm={})


if __name__ == "__main__":
    main()
