"""Assertions on the UMP lab's own state, for the Molecule scenarios (the lab, not the playbook, says
what is on each host).

    python labcheck.py capture FILE
        write each UMP server's SysAdminTenant Customer rows to FILE (JSON)
    python labcheck.py check [--hosts ump01,ump02] [--version V] [--customers-same FILE] [--snapshots N]
        --version V          SysAdminKit and MultiTenant at V, and every Customer row at V
        --customers-same F   the Customer rows equal those captured in F (no customer data lost)
        --snapshots N        exactly N pre-upgrade snapshots of each host's OS disk
        --disk-from-newest   the VM's OS disk was created from the host's newest snapshot (a rollback
                             restored the current attempt's snapshot, not an older one)
    python labcheck.py cleaned CHECKPOINT_DIR --hosts ump01,ump02 [--target 8.0.515]
        after cleanup.yml (retention 0, confirmed): the restored and previous OS disks the host's checkpoint
        records (earlier attempts and the current rollback) and the earlier attempts' backup files on its
        backend SQL server are gone; the VM's OS disk, the current attempt's snapshot and backup files remain;
        at least one disk and (for a backend-SQL host) one backup file was there to delete

The lab is found in $UMPLAB_STATE_DIR. Exits 1 naming every host and check that failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from umplab.client import LabClient


def ump_hosts(state: dict) -> list[str]:
    return sorted(name for name, h in state["hosts"].items() if h.get("role") == "ump")


def customers(state: dict, host: str) -> list[dict]:
    """The Customer rows of the host's SysAdminTenant (on the host or on its backend SQL server)."""
    sql_host = state["hosts"][host].get("sql_host") or host
    return state["sql_dump"][sql_host]["SysAdminTenant"]["Customer"]


def snapshots_of(state: dict, host: str) -> list[str]:
    return sorted(
        r["name"]
        for r in state["azure"]["resources"].values()
        if r["type"] == "Microsoft.Compute/snapshots"
        and ((r.get("tags") or {}).get("ump_host") or r["name"].split("-")[0]) == host
    )


def os_disk_source(state: dict, host: str) -> str:
    """The snapshot (ARM id, lower case) the host's VM's current OS disk was created from, or ''."""
    res = state["azure"]["resources"]
    vm_name = state["hosts"][host].get("name", host)
    for r in res.values():
        if r["type"] == "Microsoft.Compute/virtualMachines" and r["name"] == vm_name:
            disk_id = r["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
            for d in res.values():
                if d.get("id", "").lower() == disk_id:
                    return ((d.get("properties") or {}).get("creationData") or {}).get("sourceResourceId", "").lower()
    return ""


def newest_snapshot_id(state: dict, host: str) -> str:
    snaps = [
        r
        for r in state["azure"]["resources"].values()
        if r["type"] == "Microsoft.Compute/snapshots" and (r.get("tags") or {}).get("ump_host") == host
    ]
    snaps.sort(key=lambda r: (r.get("properties") or {}).get("timeCreated") or "")
    return snaps[-1]["id"].lower() if snaps else ""


def check(
    lab: LabClient,
    hosts: list[str],
    version: str | None,
    same: str | None,
    snapshots: int | None,
    disk_from_newest: bool = False,
) -> list[str]:
    state = lab.state()
    before = json.loads(open(same).read()) if same else {}
    errors = []
    for host in hosts or ump_hosts(state):
        if version:
            comps = lab.host_state(host)["ump"]["components"]
            for comp in ("SysAdminKit", "MultiTenant"):
                if comps.get(comp) != version:
                    errors.append(f"{host}: {comp} is {comps.get(comp)}, expected {version}")
            off = sorted(
                f"{c['CustomerShortName']}={c['Version']}" for c in customers(state, host) if c["Version"] != version
            )
            if off:
                errors.append(f"{host}: customers not at {version}: {', '.join(off)}")
        if same and customers(state, host) != before[host]:
            errors.append(f"{host}: the SysAdminTenant Customer rows differ from those captured before the upgrade")
        if snapshots is not None:
            snaps = snapshots_of(state, host)
            if len(snaps) != snapshots:
                errors.append(f"{host}: {len(snaps)} snapshot(s) {snaps}, expected {snapshots}")
        if disk_from_newest:
            src, newest = os_disk_source(state, host), newest_snapshot_id(state, host)
            if not newest or src != newest:
                errors.append(f"{host}: the OS disk was created from {src or 'no snapshot'}, not the newest {newest}")
    return errors


def cleaned(lab: LabClient, ckpt_dir: str, hosts: list[str], target: str) -> list[str]:
    from umplab.world import win_key

    errors = []
    state = lab.state()
    res = state["azure"]["resources"]
    for host in hosts:
        with open(os.path.join(ckpt_dir, f"{host}__{target}.json")) as f:
            phases = json.load(f)["phases"]
        vm = res[state["hosts"][host]["vm_id"].lower()]
        live_disk = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
        previous = phases.get("attempt", {}).get("outputs", {}).get("previous") or []
        swap = phases.get("rollback.swap_os_disk", {}).get("outputs") or {}
        recorded = {swap.get("disk_id"), swap.get("previous_disk_id")}
        for p in previous:
            recorded |= {p.get("restored_disk_id"), p.get("previous_disk_id")}
        gone = {d.lower() for d in recorded if d} - {live_disk}
        if not gone:
            errors.append(f"{host}: the checkpoint records no old OS disk (nothing to check)")
        for d in sorted(gone):
            if d in res:
                errors.append(f"{host}: old OS disk {d.rsplit('/', 1)[-1]} is still there")
        if live_disk not in res:
            errors.append(f"{host}: the disk the VM runs on ({live_disk}) was deleted")
        snap = (phases.get("snapshot", {}).get("outputs") or {}).get("snapshot_id", "").lower()
        if not snap or snap not in res:
            errors.append(f"{host}: the current attempt's snapshot {snap or '(none recorded)'} is missing")
        sql_host = state["hosts"][host].get("sql_host")
        if sql_host and sql_host != host:
            files = lab.host_state(sql_host).get("files", {})
            current = {
                win_key(v) for v in (phases.get("sql_backup", {}).get("outputs", {}).get("files") or {}).values()
            }
            old = {win_key(v) for p in previous for v in (p.get("sql_backup_files") or {}).values()} - current
            if not old or not current:
                errors.append(f"{host}: the checkpoint records no earlier or no current backup file (nothing to check)")
            errors += [f"{host}: old backup file {k} is still on {sql_host}" for k in sorted(old) if k in files]
            errors += [
                f"{host}: current backup file {k} was deleted from {sql_host}"
                for k in sorted(current)
                if k not in files
            ]
    return errors


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    cap = sub.add_parser("capture")
    cap.add_argument("file")
    chk = sub.add_parser("check")
    chk.add_argument("--hosts", default="")
    chk.add_argument("--version")
    chk.add_argument("--customers-same")
    chk.add_argument("--snapshots", type=int)
    chk.add_argument("--disk-from-newest", action="store_true")
    cln = sub.add_parser("cleaned")
    cln.add_argument("checkpoint_dir")
    cln.add_argument("--hosts", required=True)
    cln.add_argument("--target", default="8.0.515")
    args = parser.parse_args(argv)
    lab = LabClient(os.environ["UMPLAB_STATE_DIR"])
    if args.cmd == "cleaned":
        errors = cleaned(lab, args.checkpoint_dir, [h for h in args.hosts.split(",") if h], args.target)
        print("\n".join(errors) or f"lab cleanup check ok: {args.hosts}")
        return 1 if errors else 0
    if args.cmd == "capture":
        state = lab.state()
        with open(args.file, "w") as f:
            json.dump({h: customers(state, h) for h in ump_hosts(state)}, f, indent=1, sort_keys=True)
        return 0
    hosts = [h for h in args.hosts.split(",") if h]
    errors = check(lab, hosts, args.version, args.customers_same, args.snapshots, args.disk_from_newest)
    for e in errors:
        print(e)
    if not errors:
        print(f"lab check ok: {args.hosts or 'all UMP servers'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
