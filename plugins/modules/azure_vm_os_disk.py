#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: azure_vm_os_disk
short_description: Restore an Azure VM's OS disk from a snapshot (disk from snapshot, swap, start)
version_added: "0.1.0"
description:
  - Creates a managed disk from O(snapshot) in the VM's region and zone, with the VM's Hyper-V
    generation, OS type, security type and the storage type of its current OS disk; deallocates the
    VM; swaps its OS disk to the new disk keeping the C(createOption); starts it; and confirms
    C(PowerState/running) and the new disk id.
  - The previous OS disk is kept, unattached, so the restore can be undone; O(delete_previous_disk)
    removes it only after the VM runs on the new disk.
  - Idempotent. A VM that already runs on a disk created from O(snapshot) is left alone (and started
    when it is not running), unless O(new_disk=true).
  - The new disk keeps the disk encryption set (customer-managed key) of the OS disk it replaces.
  - Refuses VMs encrypted with Azure Disk Encryption, and a snapshot taken from a disk that was never
    this VM's OS disk unless O(force=true).
  - When anything fails after the VM was deallocated, the module starts it again on the disk it has
    and says in the message in which state it left the VM.
  - This replaces the guide's "Restoring UMP Snapshot" portal steps.
options:
  resource_group:
    description: Resource group of the VM (and of the new disk, and of O(snapshot) given by name).
    type: str
    required: true
  vm_name:
    description: The VM to restore.
    type: str
    required: true
  snapshot:
    description: The snapshot to restore, by name (in O(resource_group)) or ARM id.
    type: str
    required: true
  disk_name:
    description:
      - Name of the disk created from the snapshot. Defaults to C(<snapshot name>-osdisk), cut to 80 characters.
      - With O(new_disk=true), when a disk of that name exists already, C(-2), C(-3)... is appended.
    type: str
  new_disk:
    description:
      - Always create a fresh disk from O(snapshot) and swap to it, even when the VM already runs on a
        disk created from O(snapshot). That disk may have changed since it was created (the VM ran an
        upgrade again after a first rollback), so a second rollback of the same host needs this.
      - Not idempotent, every run creates a disk and swaps the VM to it (but see O(reuse_restore_id)).
    type: bool
    default: false
  restore_id:
    description:
      - An id of this restore, written to the new disk's tag C(ump_restore) (letters, digits, C(-), C(_), C(.)).
      - A later run that resumes this restore after it stopped part-way passes it as O(reuse_restore_id).
    type: str
  reuse_restore_id:
    description:
      - The O(restore_id) of an earlier run of this restore that stopped part-way (controller killed after it
        created the disk, or after the swap). A disk created from O(snapshot) and tagged C(ump_restore) with
        this id is that run's disk. When the VM already runs on it the VM is only started; when it is
        unattached the VM is swapped to it instead of a second disk being created (which would be left
        behind). When no such disk exists the restore runs as without this option.
      - The disk the VM had before the interrupted restore is then reported as RV(previous_disk_id) when the VM
        already runs on the reused disk (the snapshot's source disk, the disk the upgrade ran on).
    type: str
  sku:
    description: Storage type of the new disk. Defaults to that of the VM's current OS disk.
    type: str
    choices: [Standard_LRS, Premium_LRS, StandardSSD_LRS, Premium_ZRS, StandardSSD_ZRS]
  tags:
    description: Tags of the new disk. Defaults to the tags of the current OS disk.
    type: dict
  deallocate:
    description:
      - Deallocate the VM before the swap (the safe sequence of the guide). Azure also swaps the OS
        disk of a running VM, which then restarts.
    type: bool
    default: true
  start:
    description: Start the VM after the swap and confirm it runs.
    type: bool
    default: true
  delete_previous_disk:
    description: Delete the previous OS disk once the VM runs on the new one.
    type: bool
    default: false
  force:
    description:
      - Restore a snapshot whose source disk is not (and was not) an OS disk of this VM.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for each long-running step (disk creation, deallocation, swap, start).
    type: int
    default: 1800
extends_documentation_fragment:
  - ump365.upgrade.azure
  - ump365.upgrade.attributes
  - ump365.upgrade.attributes.group_azure
attributes:
  check_mode:
    support: full
    description: In check mode nothing is created, stopped or swapped; the diff shows the disk swap that would be done.
  diff_mode:
    support: full
    description: Shows the VM's OS disk before and after.
seealso:
  - module: ump365.upgrade.azure_snapshot
  - module: ump365.upgrade.azure_snapshot_info
author:
  - ump365.upgrade developers (@ump365)
"""

EXAMPLES = r"""
- name: Roll ump01 back to its pre-upgrade snapshot
  ump365.upgrade.azure_vm_os_disk:
    resource_group: rg-ump01
    vm_name: ump01
    snapshot: ump01-8.0.400.64-to-8.0.515-20260101T120000Z
  delegate_to: localhost
  register: restored

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ restored.previous_disk_id }} -> {{ restored.disk_id }}"
"""

RETURN = r"""
disk_id:
  description: ARM id of the VM's OS disk after the module ran.
  returned: always
  type: str
  sample: /subscriptions/0000/resourceGroups/rg-ump01/providers/Microsoft.Compute/disks/ump01-pre-upgrade-osdisk
previous_disk_id:
  description: ARM id of the OS disk the VM had before (kept unless O(delete_previous_disk=true)).
  returned: always
  type: str
  sample: /subscriptions/0000/resourceGroups/rg-ump01/providers/Microsoft.Compute/disks/ump01_OsDisk_1_abc
snapshot_id:
  description: ARM id of the snapshot restored.
  returned: always
  type: str
power_state:
  description: The VM's power state at the end, from its instance view (for example C(running), C(deallocated)).
  returned: always
  type: str
  sample: running
previous_disk_deleted:
  description: Whether the previous OS disk was deleted.
  returned: always
  type: bool
unattached_disk_id:
  description:
    - On a failure after the disk made from the snapshot exists but before the VM runs on it (the swap
      failed), that disk's ARM id; it is attached to nothing and is left for the operator to delete or
      attach. A disk whose creation ended Failed is deleted instead (the message says so).
  returned: failure
  type: str
reused_disk:
  description: Whether the disk of an interrupted earlier run of this restore (O(reuse_restore_id)) was reused.
  returned: always
  type: bool
retries:
  description: Requests that were retried (409 conflicts, 429 throttling, 5xx), one entry per retry.
  returned: always
  type: list
  elements: dict
operations:
  description: The long-running operations, in order, with their final status and duration.
  returned: always
  type: list
  elements: dict
  sample: [{"operation": "create disk from snapshot", "status": "Succeeded", "seconds": 181.0}]
arm_requests:
  description: Number of HTTP requests sent to Azure Resource Manager.
  returned: always
  type: int
  sample: 14
"""

import re

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.azure import (
    WAIT_SPEC,
    AzureModule,
    ade_enabled,
    arm_id_parts,
    power_of,
    resource_id,
    same_id,
    to_dict,
)

try:
    from azure.mgmt.core.polling.arm_polling import ARMPolling
except ImportError:  # reported by AzureModule
    ARMPolling = None

LINEAGE_HOPS = 4


class Restore:
    def __init__(self, am):
        self.am = am
        self.p = am.params
        self.az = am.azure
        self.c = self.az.client
        self.rg = self.p["resource_group"]
        self.vm_name = self.p["vm_name"]
        self.vm_ref = "VM %s/%s" % (self.rg, self.vm_name)
        self.deallocated_by_us = False
        self.swapped = False
        # the disk this run made from the snapshot (named on a failure: attached to nothing, for cleanup)
        self.created_disk_id = ""

    def get_vm(self):
        return self.az.call("read VM", self.vm_ref, lambda: self.c.virtual_machines.get(self.rg, self.vm_name))

    def power(self):
        return power_of(
            self.az.call(
                "read VM instance view",
                self.vm_ref,
                lambda: self.c.virtual_machines.instance_view(self.rg, self.vm_name),
            )
        )

    def _post_polling(self):
        # The Location GET after a POST action returns no body; polling the Azure-AsyncOperation is enough.
        return ARMPolling(lro_options={"final-state-via": "azure-async-operation"})

    def deallocate(self):
        self.az.lro(
            "deallocate VM",
            self.vm_ref,
            lambda **kw: self.c.virtual_machines.begin_deallocate(
                self.rg, self.vm_name, polling=kw.pop("polling", self._post_polling()), **kw
            ),
            self.p["wait_timeout"],
        )

    def start(self):
        self.az.lro(
            "start VM",
            self.vm_ref,
            lambda **kw: self.c.virtual_machines.begin_start(
                self.rg, self.vm_name, polling=kw.pop("polling", self._post_polling()), **kw
            ),
            self.p["wait_timeout"],
        )

    def lineage_ok(self, snap_source, vm_dict, current_disk):
        """Was ``snap_source`` ever this VM's OS disk? Follow the current disk's copy chain back."""
        if same_id(snap_source, vm_dict["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]):
            return True
        node = current_disk
        hops = 0
        while hops < LINEAGE_HOPS:
            hops += 1
            src = ((node or {}).get("properties", {}).get("creationData") or {}).get("sourceResourceId")
            if not src:
                return False
            if same_id(src, snap_source):
                return True
            parts = arm_id_parts(src)
            kind = parts["type"].split("/")[-1].lower()
            getter = self.c.snapshots.get if kind == "snapshots" else self.c.disks.get
            node = to_dict(
                self.az.get_or_none(
                    "read " + kind[:-1], src, lambda g=getter, pp=parts: g(pp["resource_group"], pp["name"])
                )
            )
        return False

    def run(self):
        p = self.p
        sub = p["subscription_id"]
        vm_model = self.get_vm()
        vm = to_dict(vm_model)
        os_disk = vm["properties"]["storageProfile"]["osDisk"]
        current_id = os_disk["managedDisk"]["id"]
        cparts = arm_id_parts(current_id)
        current = to_dict(
            self.az.call(
                "read OS disk",
                current_id,
                lambda: self.c.disks.get(cparts["resource_group"], cparts["name"]),
            )
        )
        if ade_enabled(vm, current):
            raise errors.ConfigurationError(
                "the VM is encrypted with Azure Disk Encryption; Azure does not support swapping its OS disk",
                system="azure",
                operation="restore OS disk",
                resource=self.vm_ref,
                remedy="restore it from Azure Backup instead, or decrypt the VM first (docs/azure.md)",
            )
        snap_id = resource_id(sub, self.rg, "snapshots", p["snapshot"])
        sparts = arm_id_parts(snap_id)
        snap = to_dict(
            self.az.call(
                "read snapshot",
                snap_id,
                lambda: self.c.snapshots.get(sparts["resource_group"], sparts["name"]),
            )
        )
        sprops = snap["properties"]
        state = sprops.get("provisioningState")
        if state != "Succeeded":
            raise errors.ConfigurationError(
                "snapshot %s is %s, not Succeeded" % (snap["name"], state),
                system="azure",
                operation="restore OS disk",
                resource=snap["id"],
                remedy="wait until it is Succeeded (ump365.upgrade.azure_snapshot waits) or pick another snapshot"
                if state in ("Creating", "Updating")
                else "it cannot be restored; pick another snapshot (ump365.upgrade.azure_snapshot_info lists them)",
            )
        result = dict(
            changed=False,
            snapshot_id=snap["id"],
            previous_disk_id=current_id,
            disk_id=current_id,
            previous_disk_deleted=False,
        )
        result["reused_disk"] = False
        already = not p["new_disk"] and same_id(
            (current.get("properties", {}).get("creationData") or {}).get("sourceResourceId"), snap["id"]
        )
        reuse = self.interrupted_restore_disk(snap["id"], p["reuse_restore_id"]) if p["reuse_restore_id"] else None
        if reuse is not None and same_id(reuse["id"], current_id):
            # the interrupted run swapped the VM already: only start it; the disk it swapped away from is the
            # snapshot's source (the disk the upgrade ran on)
            already = True
            result["reused_disk"] = True
            source_disk = (sprops.get("creationData") or {}).get("sourceResourceId") or ""
            if source_disk and not same_id(source_disk, current_id):
                result["previous_disk_id"] = source_disk
        if already:
            power = self.power()
            result["power_state"] = power
            if p["start"] and power != "running":
                result["changed"] = True
                if not self.am.check_mode:
                    self.start()
                    result["power_state"] = self.confirm_running()
            result["diff"] = dict(
                before=dict(os_disk=current_id, power_state=power),
                after=dict(os_disk=current_id, power_state=result["power_state"] if not p["start"] else "running"),
            )
            return result
        source = sprops.get("creationData", {}).get("sourceResourceId")
        if not p["force"] and not self.lineage_ok(source, vm, current):
            raise errors.ConfigurationError(
                "snapshot %s was taken from disk %s, which was never an OS disk of this VM" % (snap["name"], source),
                system="azure",
                operation="restore OS disk",
                resource=self.vm_ref,
                remedy="check that this is the VM's snapshot; set force=true to restore it anyway",
            )
        if (sprops.get("osType") or current["properties"].get("osType")) != current["properties"].get("osType"):
            raise errors.ConfigurationError(
                "snapshot %s has osType %s but the VM runs %s"
                % (snap["name"], sprops.get("osType"), current["properties"].get("osType")),
                system="azure",
                operation="restore OS disk",
                resource=self.vm_ref,
            )
        disk_name = p["disk_name"] or (snap["name"][:73].rstrip(".-") + "-osdisk")
        if reuse is not None:
            disk_name = reuse["name"]  # the interrupted run's disk, unattached: swap to it
        elif p["new_disk"]:
            disk_name = self.free_disk_name(disk_name)
        disk_id = resource_id(sub, self.rg, "disks", disk_name)
        sku = p["sku"] or current.get("sku", {}).get("name") or os_disk["managedDisk"].get("storageAccountType")
        cprops = current["properties"]
        disk_body = {
            "location": vm["location"],
            "sku": {"name": sku},
            "tags": dict(p["tags"] if p["tags"] is not None else current.get("tags") or {}),
            "properties": {
                "osType": cprops.get("osType"),
                "hyperVGeneration": cprops.get("hyperVGeneration") or sprops.get("hyperVGeneration"),
                "creationData": {"createOption": "Copy", "sourceResourceId": snap["id"]},
            },
        }
        disk_body["tags"].pop("ump_restore", None)  # the current disk's (an earlier restore's) is not this one's
        if p["restore_id"]:
            disk_body["tags"]["ump_restore"] = p["restore_id"]
        if vm.get("zones") and not sku.endswith("_ZRS"):
            disk_body["zones"] = list(vm["zones"])
        security_type = (cprops.get("securityProfile") or {}).get("securityType") or (
            (vm["properties"].get("securityProfile") or {}).get("securityType")
        )
        if security_type:
            disk_body["properties"]["securityProfile"] = {"securityType": security_type}
        encryption = cprops.get("encryption") or {}
        if encryption.get("diskEncryptionSetId"):
            # a disk made from a snapshot is encrypted with platform keys unless told otherwise: keep the
            # customer-managed key of the disk it replaces (disk encryption set)
            disk_body["properties"]["encryption"] = {
                "type": encryption.get("type") or "EncryptionAtRestWithCustomerKey",
                "diskEncryptionSetId": encryption["diskEncryptionSetId"],
            }
        result.update(
            changed=True,
            disk_id=disk_id,
            diff=dict(before=dict(os_disk=current_id), after=dict(os_disk=disk_id, created_from=snap["id"])),
        )
        if self.am.check_mode:
            result["power_state"] = "running" if p["start"] else "unknown"
            return result

        if reuse is not None:
            result["reused_disk"] = True
            new_disk = reuse
        else:
            try:
                new_disk = to_dict(
                    self.az.lro(
                        "create disk from snapshot",
                        disk_id,
                        lambda **kw: self.c.disks.begin_create_or_update(self.rg, disk_name, disk_body, **kw),
                        p["wait_timeout"],
                    )
                )
            except errors.UmpError as e:
                self.drop_failed_disk(e, disk_id, disk_name)
                raise
        self.created_disk_id = new_disk["id"]
        try:
            if p["deallocate"]:
                # set first: a deallocation that fails or times out half-way still gets the VM started again
                self.deallocated_by_us = True
                self.deallocate()
            vm_model["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"] = new_disk["id"]
            vm_model["properties"]["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"] = sku
            vm_model["properties"]["storageProfile"]["osDisk"]["name"] = new_disk["name"]
            vm_model["properties"]["storageProfile"]["osDisk"]["diskSizeGB"] = new_disk["properties"]["diskSizeGB"]
            updated = to_dict(
                self.az.lro(
                    "swap OS disk",
                    self.vm_ref,
                    lambda **kw: self.c.virtual_machines.begin_create_or_update(self.rg, self.vm_name, vm_model, **kw),
                    p["wait_timeout"],
                )
            )
            self.swapped = True
            now_id = updated["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
            if not same_id(now_id, new_disk["id"]):
                raise errors.OperationFailedError(
                    "after the swap the VM's OS disk is %s, not %s" % (now_id, new_disk["id"]),
                    system="azure",
                    operation="swap OS disk",
                    resource=self.vm_ref,
                )
            result["disk_id"] = now_id
            if p["start"]:
                self.start()
                result["power_state"] = self.confirm_running()
            else:
                result["power_state"] = self.power()
        except errors.UmpError as e:
            self.recover(e)
            raise
        if p["delete_previous_disk"] and result["power_state"] == "running":
            self.az.lro(
                "delete previous OS disk",
                current_id,
                lambda **kw: self.c.disks.begin_delete(cparts["resource_group"], cparts["name"], **kw),
                p["wait_timeout"],
            )
            result["previous_disk_deleted"] = True
        return result

    def drop_failed_disk(self, error, disk_id, disk_name):
        """The disk made from the snapshot ended Failed (or never finished): the VM was not touched. Delete
        the unusable disk so nothing is left attached to nothing, and say what happened to it."""
        state = "the VM was not touched (it runs on its current OS disk)"
        try:
            disk = to_dict(self.az.get_or_none("read disk", disk_id, lambda: self.c.disks.get(self.rg, disk_name)))
        except errors.UmpError:
            disk = None
            left = "disk %s may exist: delete it if it is not attached" % disk_name
        else:
            left = ""
        if disk and (disk.get("properties") or {}).get("provisioningState") == "Failed" and not disk.get("managedBy"):
            try:
                self.az.lro(
                    "delete failed disk",
                    disk_id,
                    lambda **kw: self.c.disks.begin_delete(self.rg, disk_name, **kw),
                    self.p["wait_timeout"],
                )
                left = "the Failed disk %s was deleted" % disk_name
            except errors.UmpError as e2:
                left = "the Failed disk %s is left (deleting it failed: %s): delete it" % (disk_name, e2.message)
        elif disk:
            left = "disk %s is left (%s): delete it if it is not attached" % (
                disk_name,
                (disk.get("properties") or {}).get("provisioningState"),
            )
            self.created_disk_id = disk["id"]
        error.message = "%s; %s%s" % (error.message, state, "; " + left if left else "")
        error.details["vm_left"] = state

    def interrupted_restore_disk(self, snap_id, restore_id):
        """The disk an interrupted earlier run of this restore created from ``snap_id`` (tag ump_restore ==
        ``restore_id``), attached to this VM or to none; the newest when several; None when there is none."""
        disks = [
            to_dict(d)
            for d in self.az.call("list disks", self.rg, lambda: list(self.c.disks.list_by_resource_group(self.rg)))
        ]
        vm_id = resource_id(self.p["subscription_id"], self.rg, "virtualMachines", self.vm_name)
        mine = [
            d
            for d in disks
            if (d.get("tags") or {}).get("ump_restore") == restore_id
            and same_id(((d.get("properties") or {}).get("creationData") or {}).get("sourceResourceId"), snap_id)
            and (not d.get("managedBy") or same_id(d.get("managedBy"), vm_id))
            and (d.get("properties") or {}).get("provisioningState") == "Succeeded"
        ]
        mine.sort(key=lambda d: str((d.get("properties") or {}).get("timeCreated") or ""), reverse=True)
        return mine[0] if mine else None

    def free_disk_name(self, base):
        """``base``, or ``base-2``, ``base-3``... : the first name no disk in the resource group has."""
        name = base
        for n in range(2, 100):
            if self.az.get_or_none("read disk", name, lambda nm=name: self.c.disks.get(self.rg, nm)) is None:
                return name
            suffix = "-%d" % n
            name = base[: 80 - len(suffix)].rstrip(".-") + suffix
        raise errors.ConfigurationError(
            "99 disks named %s-N exist in %s" % (base, self.rg),
            system="azure",
            operation="restore OS disk",
            resource=self.vm_ref,
            remedy="delete the unattached disks of earlier restores, or name the new one with disk_name",
        )

    def confirm_running(self):
        power = self.power()
        if power != "running":
            raise errors.OperationFailedError(
                "the VM was started but its instance view says PowerState/%s" % power,
                system="azure",
                operation="confirm VM running",
                resource=self.vm_ref,
                remedy="look at the VM's boot diagnostics in Azure; start it again once the cause is fixed",
            )
        return power

    def recover(self, error):
        """Never leave the VM deallocated silently: start it on whatever disk it has, and say so."""
        disk = "the restored disk" if self.swapped else "its previous disk (the swap was not done)"
        if self.deallocated_by_us and self.p["start"]:
            try:
                self.start()
                state = "running on %s" % disk
            except errors.UmpError as e2:
                state = "DEALLOCATED on %s (starting it again failed: %s)" % (disk, e2.message)
        else:
            try:
                state = "%s on %s" % (self.power(), disk)
            except errors.UmpError:
                state = "in an unknown power state on %s" % disk
        if self.created_disk_id and not self.swapped:
            state += (
                "; the restored disk %s is attached to nothing (delete it, or attach it by hand)"
                % (self.created_disk_id.rstrip("/").split("/")[-1])
            )
        error.message = "%s; the VM is left %s" % (error.message, state)
        error.details["vm_left"] = state


def main():
    am = AzureModule(
        argument_spec=dict(
            resource_group=dict(type="str", required=True),
            vm_name=dict(type="str", required=True),
            snapshot=dict(type="str", required=True),
            disk_name=dict(type="str"),
            sku=dict(
                type="str",
                choices=["Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS"],
            ),
            tags=dict(type="dict"),
            deallocate=dict(type="bool", default=True),
            start=dict(type="bool", default=True),
            delete_previous_disk=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            new_disk=dict(type="bool", default=False),
            restore_id=dict(type="str"),
            reuse_restore_id=dict(type="str"),
            wait_timeout=WAIT_SPEC["wait_timeout"],
        ),
        supports_check_mode=True,
    )
    restore = None
    try:
        for opt in ("restore_id", "reuse_restore_id"):
            value = am.params[opt]
            if value is not None and not re.match(r"^[A-Za-z0-9._-]{1,128}$", value):
                raise errors.ValidationError(
                    "%s must be 1-128 letters, digits, '-', '_' or '.', got %r" % (opt, value),
                    system="azure",
                    operation="validate",
                )
        restore = Restore(am)
        result = restore.run()
        am.exit(**result)
    except errors.UmpError as e:
        created = restore.created_disk_id if restore is not None else ""
        am.fail(
            e,
            snapshot_id="",
            disk_id=created if created and restore.swapped else "",
            # a disk this run made from the snapshot that the VM does not run on: for cleanup
            unattached_disk_id="" if not created or restore.swapped else created,
            previous_disk_id="",
            power_state="unknown",
            previous_disk_deleted=False,
            reused_disk=False,
        )


if __name__ == "__main__":
    main()
