#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: azure_snapshot
short_description: Snapshot an Azure VM's OS disk (or a named managed disk) and wait until it is usable
version_added: "0.1.0"
description:
  - Creates a full or incremental snapshot of the OS disk of O(vm_name), or of O(source_disk), and waits
    until Azure reports it C(Succeeded) (unlike C(azure.azcollection.azure_rm_snapshot), which returns at once).
  - Idempotent by name. A snapshot of that name from the same source is left alone (its tags are updated
    when O(tags) differ); one from another source is an error; a C(Failed) one is provisioned again.
  - With O(state=absent) the snapshot is deleted.
  - This replaces the guide's "Backing up UMP-365 - Disk Snapshot" portal steps.
options:
  resource_group:
    description: Resource group of the snapshot, and of O(vm_name) and a O(source_disk) given by name.
    type: str
    required: true
  name:
    description:
      - Name of the snapshot (1-80 letters, digits, C(_), C(.), C(-); starting with a letter or digit,
        ending with a letter, digit or C(_)).
    type: str
    required: true
  vm_name:
    description:
      - The VM whose OS disk is snapshotted.
      - With O(source_disk) as well, the module checks that the disk is this VM's OS disk.
    type: str
  source_disk:
    description: A managed disk to snapshot, by name (in O(resource_group)) or by ARM id.
    type: str
  incremental:
    description: Take an incremental snapshot (only the changes since the disk's previous snapshot are billed).
    type: bool
    default: false
  sku:
    description: Storage type of the snapshot.
    type: str
    choices: [Standard_LRS, Premium_LRS, Standard_ZRS]
    default: Standard_LRS
  tags:
    description: Tags of the snapshot, for example C(LiveCloudEnv=qa-mgmt).
    type: dict
    default: {}
  state:
    description: V(present) creates the snapshot; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Wait until the snapshot is C(Succeeded) (or deleted).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the snapshot; Azure goes on after a timeout and a rerun picks it up.
    type: int
    default: 1800
extends_documentation_fragment:
  - ump365.upgrade.azure
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_azure
attributes:
  check_mode:
    support: full
    description: In check mode nothing is created or deleted; the result says what would be.
  diff_mode:
    support: full
    description: Shows the snapshot before and after.
seealso:
  - module: ump365.upgrade.azure_snapshot_info
  - module: ump365.upgrade.azure_vm_os_disk
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Snapshot the OS disk of the UMP server before the upgrade
  ump365.upgrade.azure_snapshot:
    resource_group: rg-ump01
    vm_name: ump01
    name: ump01-8.0.400.64-to-8.0.515-20260101T120000Z
    tags:
      LiveCloudEnv: qa-mgmt
  delegate_to: localhost
  register: snap

- name: Delete it once the upgrade is confirmed
  ump365.upgrade.azure_snapshot:
    resource_group: rg-ump01
    name: "{{ snap.name }}"
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: ARM id of the snapshot (empty when O(state=absent)).
  returned: always
  type: str
  sample: /subscriptions/0000/resourceGroups/rg-ump01/providers/Microsoft.Compute/snapshots/ump01-pre-upgrade
name:
  description: Name of the snapshot.
  returned: always
  type: str
  sample: ump01-pre-upgrade
snapshot:
  description: The snapshot as Azure shows it (empty when absent).
  returned: always
  type: dict
  contains:
    id:
      description: ARM id.
      type: str
    name:
      description: Name.
      type: str
    location:
      description: Region.
      type: str
    resource_group:
      description: Resource group.
      type: str
    source_disk_id:
      description: ARM id of the disk it was taken from.
      type: str
    time_created:
      description: When Azure created it (ISO 8601).
      type: str
    provisioning_state:
      description: C(Updating) (ARM's state while a new snapshot is being created; older API versions say C(Creating)), C(Succeeded) or C(Failed).
      type: str
    disk_size_gb:
      description: Size in GB.
      type: int
    incremental:
      description: Whether it is incremental.
      type: bool
    sku:
      description: Storage type.
      type: str
    tags:
      description: Tags.
      type: dict
    os_type:
      description: C(Windows) or C(Linux).
      type: str
    hyper_v_generation:
      description: C(V1) or C(V2).
      type: str
    security_type:
      description: Security type inherited from the disk, for example C(TrustedLaunch).
      type: str
  sample: {"id": "/subscriptions/0000/.../snapshots/ump01-pre-upgrade", "provisioning_state": "Succeeded",
           "incremental": false, "disk_size_gb": 128}
retries:
  description: Requests that were retried (409 conflicts, 429 throttling, 5xx), one entry per retry.
  returned: always
  type: list
  elements: dict
  sample: [{"operation": "create snapshot", "status": 429, "code": "TooManyRequests", "delay": 1.0}]
operations:
  description: The long-running operations waited for, with their final status and duration.
  returned: always
  type: list
  elements: dict
  sample: [{"operation": "create snapshot", "status": "Succeeded", "seconds": 301.2}]
arm_requests:
  description: Number of HTTP requests sent to Azure Resource Manager.
  returned: always
  type: int
  sample: 5
"""

import re
import time

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.azure import (
    AzureModule,
    resource_id,
    same_id,
    snapshot_facts,
    to_dict,
)

NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")


def validate(p):
    if not NAME_RE.match(p["name"]):
        raise errors.ValidationError(
            "snapshot name %r is invalid: use 1-80 letters, digits, '_', '.', '-', starting with a letter or digit "
            "and ending with a letter, digit or '_'" % p["name"],
            system="azure",
            operation="validate arguments",
        )
    if p["wait_timeout"] < 1:
        raise errors.ValidationError("wait_timeout must be >= 1, got %d" % p["wait_timeout"], system="azure")


def resolve_source(am, p):
    """(source disk id, location) from vm_name and/or source_disk."""
    az = am.azure
    ops = az.client
    rg = p["resource_group"]
    sub = p["subscription_id"]
    vm = None
    if p["vm_name"]:
        vm = to_dict(
            az.call("read VM", "%s/%s" % (rg, p["vm_name"]), lambda: ops.virtual_machines.get(rg, p["vm_name"]))
        )
        os_disk_id = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
        if p["source_disk"]:
            wanted = resource_id(sub, rg, "disks", p["source_disk"])
            if not same_id(wanted, os_disk_id):
                raise errors.ValidationError(
                    "disk %s is not the OS disk of VM %s (its OS disk is %s)" % (wanted, p["vm_name"], os_disk_id),
                    system="azure",
                    operation="create snapshot",
                    resource=p["name"],
                    remedy="give only vm_name to snapshot its OS disk, or only source_disk for another disk",
                )
        return os_disk_id, vm["location"]
    disk_id = resource_id(sub, rg, "disks", p["source_disk"])
    parts = disk_id.split("/")
    disk = to_dict(az.call("read disk", disk_id, lambda: ops.disks.get(parts[4], parts[-1])))
    return disk["id"], disk["location"]


def wait_existing(am, p, snap):
    """A snapshot someone else is still creating: re-read it until it settles or the timeout passes."""
    az = am.azure
    deadline = time.monotonic() + p["wait_timeout"]
    while (to_dict(snap)["properties"].get("provisioningState") or "") in ("Creating", "Updating"):
        if time.monotonic() >= deadline:
            raise errors.OperationTimeoutError(
                "still %s after %d s" % (to_dict(snap)["properties"].get("provisioningState"), p["wait_timeout"]),
                system="azure",
                operation="wait for snapshot",
                resource=to_dict(snap)["id"],
            )
        time.sleep(min(10.0, max(0.5, deadline - time.monotonic())))
        snap = az.call(
            "read snapshot",
            p["name"],
            lambda: az.client.snapshots.get(p["resource_group"], p["name"]),
        )
    return snap


def main():
    am = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            name=dict(type="str", required=True),
            vm_name=dict(type="str"),
            source_disk=dict(type="str"),
            incremental=dict(type="bool", default=False),
            sku=dict(type="str", default="Standard_LRS", choices=["Standard_LRS", "Premium_LRS", "Standard_ZRS"]),
            tags=dict(type="dict", default={}),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
        ),
        required_if=[("state", "present", ["vm_name", "source_disk"], True)],
        supports_check_mode=True,
    )
    p = am.params
    rg, name = p["resource_group"], p["name"]
    try:
        validate(p)
        az = am.azure
        snaps = az.client.snapshots
        snap_ref = "%s/%s" % (rg, name)
        existing = az.get_or_none("read snapshot", snap_ref, lambda: snaps.get(rg, name))
        before = snapshot_facts(existing) if existing is not None else {}

        if p["state"] == "absent":
            if existing is None:
                am.exit(changed=False, id="", name=name, snapshot={}, diff=dict(before={}, after={}))
            if not am.check_mode:
                if p["wait"]:
                    az.lro(
                        "delete snapshot",
                        before["id"],
                        lambda **kw: snaps.begin_delete(rg, name, **kw),
                        p["wait_timeout"],
                    )
                else:
                    az.call("delete snapshot", before["id"], lambda: snaps.begin_delete(rg, name))
            am.exit(changed=True, id="", name=name, snapshot={}, diff=dict(before=before, after={}))

        source_id, location = resolve_source(am, p)
        body = {
            "location": location,
            "tags": dict(p["tags"]),
            "sku": {"name": p["sku"]},
            "properties": {
                "creationData": {"createOption": "Copy", "sourceResourceId": source_id},
                "incremental": p["incremental"],
            },
        }
        if existing is not None:
            if not same_id(before["source_disk_id"], source_id):
                raise errors.ConfigurationError(
                    "a snapshot named %s already exists from another disk (%s), not from %s"
                    % (name, before["source_disk_id"], source_id),
                    system="azure",
                    operation="create snapshot",
                    resource=before["id"],
                    remedy="choose another snapshot name, or delete the existing snapshot (state=absent)",
                )
            if before["incremental"] != p["incremental"]:
                raise errors.ConfigurationError(
                    "snapshot %s exists with incremental=%s; it cannot be changed to %s"
                    % (name, before["incremental"], p["incremental"]),
                    system="azure",
                    operation="create snapshot",
                    resource=before["id"],
                    remedy="choose another snapshot name or delete the existing one",
                )
            failed = before["provisioning_state"] == "Failed"
            wanted_tags = dict(before["tags"], **p["tags"])
            if not failed and wanted_tags == before["tags"]:
                if p["wait"] and before["provisioning_state"] in ("Creating", "Updating"):
                    existing = wait_existing(am, p, existing)
                am.exit(
                    changed=False,
                    id=before["id"],
                    name=name,
                    snapshot=snapshot_facts(existing),
                    diff=dict(before=before, after=before),
                )
            body["tags"] = wanted_tags
            body["sku"] = {"name": before["sku"] if not failed else p["sku"]}
            after = dict(before, tags=wanted_tags, provisioning_state="Succeeded")
        else:
            after = dict(
                id=resource_id(p["subscription_id"], rg, "snapshots", name),
                name=name,
                location=location,
                resource_group=rg,
                source_disk_id=source_id,
                provisioning_state="Succeeded",
                incremental=p["incremental"],
                sku=p["sku"],
                tags=dict(p["tags"]),
            )
        if am.check_mode:
            am.exit(changed=True, id=after["id"], name=name, snapshot=after, diff=dict(before=before, after=after))
        action = (
            "re-create snapshot"
            if existing is not None and before["provisioning_state"] == "Failed"
            else ("update snapshot" if existing is not None else "create snapshot")
        )
        if p["wait"]:
            result = az.lro(
                action,
                after["id"],
                lambda **kw: snaps.begin_create_or_update(rg, name, body, **kw),
                p["wait_timeout"],
            )
        else:
            az.call(action, after["id"], lambda: snaps.begin_create_or_update(rg, name, body, polling=False))
            result = az.call("read snapshot", after["id"], lambda: snaps.get(rg, name))
        facts = snapshot_facts(result)
        if p["wait"] and facts["provisioning_state"] != "Succeeded":
            raise errors.OperationFailedError(
                "the snapshot ended in state %s" % facts["provisioning_state"],
                system="azure",
                operation=action,
                resource=facts["id"],
                remedy="delete it (state=absent) and run again; check the source disk in Azure",
            )
        am.exit(changed=True, id=facts["id"], name=name, snapshot=facts, diff=dict(before=before, after=facts))
    except errors.UmpError as e:
        am.fail(e, id="", name=name)


if __name__ == "__main__":
    main()
