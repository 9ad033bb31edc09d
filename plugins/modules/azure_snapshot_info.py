#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: azure_snapshot_info
short_description: List Azure disk snapshots by resource group, source disk or VM, and tags, newest first
version_added: "0.1.0"
description:
  - Lists managed-disk snapshots of a resource group (or of the whole subscription), filtered by name,
    source disk (or the OS disk of a VM) and tags, newest first.
  - This is how a rollback finds the pre-upgrade snapshot of a server when its checkpoint is lost.
options:
  resource_group:
    description: Resource group to list; the whole subscription when omitted.
    type: str
  name:
    description: Only the snapshot with this name.
    type: str
  source_disk:
    description: Only snapshots of this managed disk (name in O(resource_group), or ARM id).
    type: str
  vm_name:
    description:
      - Only snapshots of the current OS disk of this VM (in O(resource_group)).
    type: str
  tags:
    description: Only snapshots that have all these tags with these values.
    type: dict
    default: {}
  provisioning_state:
    description: Only snapshots in this provisioning state, for example V(Succeeded).
    type: str
extends_documentation_fragment:
  - ump365.upgrade.azure
  - ump365.upgrade.attributes.info_module
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_azure
seealso:
  - module: ump365.upgrade.azure_snapshot
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Find the newest finished snapshot of the server's OS disk
  ump365.upgrade.azure_snapshot_info:
    resource_group: rg-ump01
    vm_name: ump01
    provisioning_state: Succeeded
    tags:
      ump_upgrade_to: 8.0.515
  delegate_to: localhost
  register: found

- name: Use it
  ansible.builtin.debug:
    msg: "{{ found.snapshots[0].id }}"
  when: found.snapshots | length > 0
"""

RETURN = r"""
snapshots:
  description:
    - The matching snapshots, newest (C(time_created)) first.
    - Each has the fields of RV(ump365.upgrade.azure_snapshot#module:snapshot).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "/subscriptions/0000/.../snapshots/ump01-pre-upgrade", "name": "ump01-pre-upgrade",
            "time_created": "2026-01-01T12:00:00.000+00:00", "provisioning_state": "Succeeded",
            "source_disk_id": "/subscriptions/0000/.../disks/ump01_OsDisk_1", "incremental": false}]
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
from ansible_collections.ump365.upgrade.plugins.module_utils.azure import (
    AzureModule,
    resource_id,
    same_id,
    snapshot_facts,
    to_dict,
)


def main():
    am = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str"),
            name=dict(type="str"),
            source_disk=dict(type="str"),
            vm_name=dict(type="str"),
            tags=dict(type="dict", default={}),
            provisioning_state=dict(type="str"),
        ),
        mutually_exclusive=[("source_disk", "vm_name")],
        supports_check_mode=True,
    )
    p = am.params
    rg = p["resource_group"]
    try:
        if (p["vm_name"] or (p["source_disk"] and not p["source_disk"].startswith("/"))) and not rg:
            raise errors.ValidationError(
                "vm_name and a source_disk given by name need resource_group",
                system="azure",
                operation="list snapshots",
                remedy="set resource_group, or give source_disk as an ARM id",
            )
        az = am.azure
        source = None
        if p["vm_name"]:
            vm = to_dict(
                az.call(
                    "read VM", "%s/%s" % (rg, p["vm_name"]), lambda: az.client.virtual_machines.get(rg, p["vm_name"])
                )
            )
            source = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
        elif p["source_disk"]:
            source = resource_id(p["subscription_id"], rg, "disks", p["source_disk"])
        scope = rg or "subscription %s" % p["subscription_id"]
        if rg:
            items = az.call("list snapshots", scope, lambda: list(az.client.snapshots.list_by_resource_group(rg)))
        else:
            items = az.call("list snapshots", scope, lambda: list(az.client.snapshots.list()))
        out = []
        for item in items:
            facts = snapshot_facts(item)
            if p["name"] and facts["name"].lower() != p["name"].lower():
                continue
            if source and not same_id(facts["source_disk_id"], source):
                continue
            if any(facts["tags"].get(k) != str(v) for k, v in p["tags"].items()):
                continue
            if (
                p["provisioning_state"]
                and (facts["provisioning_state"] or "").lower() != p["provisioning_state"].lower()
            ):
                continue
            out.append(facts)
        out.sort(key=lambda s: (s["time_created"] or "", s["name"]), reverse=True)
        am.exit(changed=False, snapshots=out)
    except errors.UmpError as e:
        am.fail(e, snapshots=[])


if __name__ == "__main__":
    main()
