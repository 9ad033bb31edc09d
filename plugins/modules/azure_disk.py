#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: azure_disk
short_description: Delete an unattached Azure managed disk (a restored or previous OS disk) and wait until it is gone
version_added: "0.2.0"
description:
  - Deletes the managed disk O(name) in O(resource_group) and waits for Azure's delete operation to end.
  - Refuses a disk that is in use, before sending anything that changes it - one whose C(managedBy) is set
    (attached to a VM, also while the VM is deallocated) or whose C(diskState) is not C(Unattached)
    (C(Attached), C(Reserved), C(ActiveSAS), ...). Azure refuses such a delete too (409 C(OperationNotAllowed)).
  - With O(created_before), a disk created at or after that time (or whose creation time Azure does not
    report) is kept and RV(kept) says why; this is how C(playbooks/cleanup.yml) applies its retention.
  - Idempotent; a disk that is not there is not an error (C(changed=false)).
  - Only deletion is supported (O(state=absent)); disks are created by M(ump365.upgrade.azure_vm_os_disk).
options:
  resource_group:
    description: Resource group of the disk.
    type: str
    required: true
  name:
    description: Name of the managed disk (1-80 letters, digits, C(_), C(.), C(-)).
    type: str
    required: true
  state:
    description: V(absent) deletes the disk (the only state).
    type: str
    choices: [absent]
    default: absent
  created_before:
    description:
      - Delete the disk only when Azure's C(timeCreated) of it is before this time (ISO 8601; without an
        offset, UTC). Unset, the disk's age does not matter.
    type: str
  wait:
    description: Wait until Azure has deleted the disk.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the delete; Azure goes on after a timeout and a rerun picks it up.
    type: int
    default: 1800
extends_documentation_fragment:
  - ump365.upgrade.azure
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_azure
attributes:
  check_mode:
    support: full
    description: In check mode nothing is deleted; the result says whether the disk would be (the refusals apply too).
  diff_mode:
    support: full
    description: Shows the disk before and C({}) after.
seealso:
  - module: ump365.upgrade.azure_vm_os_disk
  - module: ump365.upgrade.azure_snapshot
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Delete the OS disk the VM ran on before its rollback, if older than 14 days
  ump365.upgrade.azure_disk:
    resource_group: rg-ump01
    name: ump01_OsDisk_1_abc
    state: absent
    created_before: "{{ '%Y-%m-%dT%H:%M:%SZ' | ansible.builtin.strftime(now().timestamp() - 14 * 86400, utc=true) }}"
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: ARM id of the disk.
  returned: always
  type: str
  sample: /subscriptions/0000/resourceGroups/rg-ump01/providers/Microsoft.Compute/disks/ump01_OsDisk_1_abc
name:
  description: Name of the disk.
  returned: always
  type: str
  sample: ump01_OsDisk_1_abc
kept:
  description: Why the disk was not deleted (younger than O(created_before), or no creation time); empty otherwise.
  returned: always
  type: str
  sample: "created 2026-01-10T08:00:00+00:00, not before 2026-01-01T00:00:00Z"
disk:
  description: The disk as Azure showed it before the delete (empty when it was not there).
  returned: always
  type: dict
  contains:
    id:
      description: ARM id.
      type: str
    name:
      description: Name.
      type: str
    time_created:
      description: When Azure created it (ISO 8601).
      type: str
    disk_state:
      description: C(Unattached), C(Attached), C(Reserved), ...
      type: str
    managed_by:
      description: ARM id of the VM the disk is attached to, or empty.
      type: str
    provisioning_state:
      description: C(Succeeded), C(Updating), C(Failed), ...
      type: str
    source_resource_id:
      description: The snapshot or disk it was created from, if any.
      type: str
    disk_size_gb:
      description: Size in GB.
      type: int
    tags:
      description: Tags.
      type: dict
  sample: {"name": "ump01_OsDisk_1_abc", "disk_state": "Unattached", "managed_by": "",
           "time_created": "2026-01-01T12:00:00.000+00:00"}
retries:
  description: Requests that were retried (409 conflicts, 429 throttling, 5xx), one entry per retry.
  returned: always
  type: list
  elements: dict
  sample: [{"operation": "delete disk", "status": 429, "code": "TooManyRequests", "delay": 1.0}]
operations:
  description: The long-running operations waited for, with their final status and duration.
  returned: always
  type: list
  elements: dict
  sample: [{"operation": "delete disk", "status": "Succeeded", "seconds": 30.2}]
arm_requests:
  description: Number of HTTP requests sent to Azure Resource Manager.
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.azure import AzureModule, resource_id, to_dict
from ansible_collections.ump365.upgrade.plugins.module_utils.timeparse import parse_time


def disk_facts(disk):
    d = to_dict(disk) or {}
    props = d.get("properties") or {}
    return dict(
        id=d.get("id"),
        name=d.get("name"),
        time_created=props.get("timeCreated"),
        disk_state=props.get("diskState"),
        managed_by=d.get("managedBy") or "",
        provisioning_state=props.get("provisioningState"),
        source_resource_id=(props.get("creationData") or {}).get("sourceResourceId"),
        disk_size_gb=props.get("diskSizeGB"),
        tags=dict(d.get("tags") or {}),
    )


def main():
    am = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            name=dict(type="str", required=True),
            state=dict(type="str", default="absent", choices=["absent"]),
            created_before=dict(type="str"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
        ),
        supports_check_mode=True,
    )
    p = am.params
    rg, name = p["resource_group"], p["name"]
    disk_id = resource_id(p["subscription_id"], rg, "disks", name)
    try:
        if p["wait_timeout"] < 1:
            raise errors.ValidationError("wait_timeout must be >= 1, got %d" % p["wait_timeout"], system="azure")
        cutoff = parse_time(p["created_before"]) if p["created_before"] else None
        az = am.azure
        disks = az.client.disks
        existing = az.get_or_none("read disk", disk_id, lambda: disks.get(rg, name))
        if existing is None:
            am.exit(changed=False, id=disk_id, name=name, kept="", disk={}, diff=dict(before={}, after={}))
        before = disk_facts(existing)
        if before["managed_by"] or (before["disk_state"] or "Unattached") != "Unattached":
            raise errors.ConfigurationError(
                "disk %s is in use (diskState %s, managedBy %s): an attached or reserved disk is never deleted"
                % (name, before["disk_state"], before["managed_by"] or "-"),
                system="azure",
                operation="delete disk",
                resource=before["id"],
                remedy="leave it: it is the disk a VM runs on or has attached; detach it first only if it is not needed",
            )
        if cutoff is not None:
            created = parse_time(before["time_created"])
            if created is None or created >= cutoff:
                why = (
                    "Azure reports no creation time (%r)" % (before["time_created"],)
                    if created is None
                    else "created %s, not before %s" % (before["time_created"], p["created_before"])
                )
                am.exit(
                    changed=False,
                    id=before["id"],
                    name=name,
                    kept=why,
                    disk=before,
                    diff=dict(before=before, after=before),
                )
        if not am.check_mode:
            if p["wait"]:
                az.lro("delete disk", before["id"], lambda **kw: disks.begin_delete(rg, name, **kw), p["wait_timeout"])
            else:
                az.call("delete disk", before["id"], lambda: disks.begin_delete(rg, name, polling=False))
        am.exit(changed=True, id=before["id"], name=name, kept="", disk=before, diff=dict(before=before, after={}))
    except errors.UmpError as e:
        am.fail(e, id=disk_id, name=name)


if __name__ == "__main__":
    main()
