# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight's Azure checks ("Backing up UMP-365 - Disk Snapshot"): the VM, its disks, and what the
snapshot and the restore need in Azure (azure_vm_restore_info's observations)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ump365.upgrade.plugins.plugin_utils.check_model import (
    FAIL,
    PASS,
    S_SNAPSHOT,
    WARN,
    _lower,
    _short,
    check,
    not_gathered,
)


def check_azure(obs):
    """The VM, its disks, and what the snapshot and the restore need in Azure (azure_vm_restore_info)."""
    out = []
    az = obs.get("azure")
    names = (
        ("azure_vm", "the UMP VM exists and is running"),
        ("azure_os_disk", "the VM's managed OS disk is readable"),
        ("azure_snapshot_rights", "the automation's identity may snapshot and restore in the VM's resource group"),
        ("azure_disk_encryption", "no Azure Disk Encryption (its OS disk cannot be swapped)"),
        ("azure_data_disks", "no data disks (only the OS disk is snapshotted and restored)"),
        ("azure_resource_locks", "no lock that forbids the snapshot or the restore"),
    )
    if az is None:
        return [not_gathered(n, e, "Azure checks not run", True, S_SNAPSHOT) for n, e in names]
    vm = az.get("vm") or {}
    if not vm.get("exists", bool(vm)):
        why = "VM not read: %s%s" % (
            az.get("vm_name"),
            (" (%s)" % str(vm.get("error"))[:300]) if vm.get("error") else "",
        )
        out.append(
            check(
                names[0][0],
                FAIL,
                why,
                names[0][1],
                "set ump_azure_subscription_id, ump_azure_resource_group and ump_azure_vm_name to the UMP VM; "
                "grant the identity read on it",
                True,
                S_SNAPSHOT,
            )
        )
        return out + [not_gathered(n, e, "the VM was not read", True, S_SNAPSHOT) for n, e in names[1:]]
    power = vm.get("power_state")
    out.append(
        check(
            names[0][0],
            PASS if power in ("running", "VM running") else FAIL,
            "%s (%s)" % (az.get("vm_name"), power or "power state unknown"),
            names[0][1],
            "start the VM (and wait until the UMP services run) before the upgrade",
            True,
            S_SNAPSHOT,
        )
    )
    disk = az.get("os_disk") or {}
    if disk.get("id"):
        out.append(check(names[1][0], PASS, disk.get("name") or disk.get("id"), names[1][1], None, True, S_SNAPSHOT))
    else:
        out.append(
            check(
                names[1][0],
                FAIL,
                "no managed OS disk found",
                names[1][1],
                "the VM must use a managed OS disk (the snapshot and the swap need it)",
                True,
                S_SNAPSHOT,
            )
        )
    missing = az.get("missing_actions")
    if missing is None:
        out.append(not_gathered(names[2][0], names[2][1], "permissions not read", True, S_SNAPSHOT))
    elif missing:
        out.append(
            check(
                names[2][0],
                FAIL,
                "missing: %s" % _short(missing),
                names[2][1],
                "grant the automation's identity these actions on the resource group (docs/azure.md has the "
                "least-privilege role); nothing was changed",
                True,
                S_SNAPSHOT,
                details=missing,
            )
        )
    else:
        out.append(check(names[2][0], PASS, "every required action granted", names[2][1], None, True, S_SNAPSHOT))
    if az.get("ade") is None:
        out.append(not_gathered(names[3][0], names[3][1], "encryption not read", True, S_SNAPSHOT))
    elif az.get("ade"):
        out.append(
            check(
                names[3][0],
                FAIL,
                "Azure Disk Encryption is enabled on the VM",
                names[3][1],
                "Azure does not support swapping the OS disk of a VM encrypted with Azure Disk Encryption, so a "
                "failed upgrade could not be rolled back: upgrade it by hand with an Azure Backup restore point, or "
                "move it to encryption at host / a disk encryption set first (docs/azure.md)",
                True,
                S_SNAPSHOT,
            )
        )
    else:
        des = disk.get("disk_encryption_set_id")
        out.append(
            check(
                names[3][0],
                PASS,
                (
                    "%s with disk encryption set %s (the restored disk keeps it)"
                    % (disk.get("encryption_type"), des.rstrip("/").split("/")[-1])
                )
                if des
                else (disk.get("encryption_type") or "platform-managed key"),
                names[3][1],
                None,
                True,
                S_SNAPSHOT,
            )
        )
    data = az.get("data_disks")
    if data is None:
        out.append(not_gathered(names[4][0], names[4][1], "data disks not read", True, S_SNAPSHOT))
    elif not data:
        out.append(check(names[4][0], PASS, "none", names[4][1], None, True, S_SNAPSHOT))
    else:
        listed = _short("LUN %s %s" % (d.get("lun"), d.get("name")) for d in data)
        allowed = az.get("data_disks_policy") == "allow"
        out.append(
            check(
                names[4][0],
                WARN if allowed else FAIL,
                ("%s (allowed: they are NOT snapshotted or restored)" if allowed else "%s") % listed,
                names[4][1],
                "a rollback restores only the OS disk: SQL Server data or UMP files on a data disk would stay at the "
                "upgraded state beside an old OS disk. Move them to the OS disk, or upgrade this host by hand with "
                "snapshots of every disk; preflight_data_disks=allow accepts the risk (docs/azure.md)",
                not allowed,
                S_SNAPSHOT,
                details=data,
            )
        )
    locks = az.get("locks")
    if locks is None:
        out.append(not_gathered(names[5][0], names[5][1], "locks not read", True, S_SNAPSHOT))
    else:
        ro = [lk for lk in locks if _lower(lk.get("level")) == "readonly"]
        nd = [lk for lk in locks if _lower(lk.get("level")) == "cannotdelete"]
        desc = _short("%s %s on %s" % (lk.get("level"), lk.get("name"), lk.get("scope")) for lk in (ro or nd))
        if ro:
            out.append(
                check(
                    names[5][0],
                    FAIL,
                    desc,
                    names[5][1],
                    "a ReadOnly lock forbids creating the snapshot and the disk, and deallocating and updating the VM: "
                    "remove it for the upgrade window (Azure portal, Locks) and put it back afterwards",
                    True,
                    S_SNAPSHOT,
                    details=ro,
                )
            )
        elif nd:
            out.append(
                check(
                    names[5][0],
                    WARN,
                    desc,
                    names[5][1],
                    "CanNotDelete does not stop the snapshot or the restore, but playbooks/cleanup.yml cannot delete "
                    "old snapshots and disks while it is there",
                    False,
                    S_SNAPSHOT,
                    details=nd,
                )
            )
        else:
            out.append(check(names[5][0], PASS, "no locks", names[5][1], None, True, S_SNAPSHOT))
    return out
