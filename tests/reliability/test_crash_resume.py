"""The controller killed (SIGKILL to the ansible-playbook process group) at five points, then one rerun.

Five upgrade runs go in parallel on one lab, one per host (``-l``), each killed when the checkpoint files and
the lab's state show its host at its point: during the snapshot, after the services are stopped, during
wyUpdate, during the customer upgrade, and during the rollback of a host whose wyUpdate failed once. One
rerun over the five hosts must converge to what an uninterrupted run gives: exactly one snapshot per host,
four hosts upgraded, the failed one rolled back (its backend database restored, its files as before). From the
lab's own state after the rerun: every UMP service runs on every host; every host's customer databases
(SysAdminTenant) are upgraded (customers at the target, nothing else changed) or unchanged (rolled back); and
ARM holds no disk left behind: every managed disk is attached to a VM or is a previous OS disk the report names
(kept for cleanup.yml) - a rollback interrupted after it made the disk from the snapshot reuses that disk.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import BIN, REPO, Lab
from tests.integration.checks_helpers import sql
from tests.reliability.conftest import FAST_WAITS, OLD, TARGET, acs_files

CU_LOGS = "c:\\acs\\sysadmin.customerupgrade\\logs\\customerupgrade_"  # one log per batch run

# host -> kill point; ump04 has a backend SQL server and a wyUpdate step that fails once (after RunSqlScripts
# changed its database), so an uninterrupted run rolls it back
POINTS = {
    "ump01": "during snapshot",
    "ump02": "after services stop",
    "ump03": "during wyUpdate",
    "ump04": "during rollback",
    "ump05": "during customer upgrade",
}
EXPECTED = {"ump01": "upgraded", "ump02": "upgraded", "ump03": "upgraded", "ump04": "rolled_back", "ump05": "upgraded"}


def _phases(ckpt_dir: Path, host: str) -> dict:
    try:
        return json.loads((ckpt_dir / f"{host}__{TARGET}.json").read_text())["phases"]
    except (OSError, ValueError, KeyError):
        return {}  # not written yet, or being rewritten


def _status(phases: dict, phase: str) -> str:
    return phases.get(phase, {}).get("status", "")


def _snapshots(state: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in state["azure"]["resources"].values():
        if r["type"] == "Microsoft.Compute/snapshots":
            host = r["name"].split("-")[0]
            out[host] = out.get(host, 0) + 1
    return out


def _stopped_ump_services(host_state: dict) -> list[str]:
    return sorted(
        n
        for n, s in host_state["services"].items()
        if (n.lower().startswith("sysadmin") or n.lower() == "w3svc") and s.get("state") != "running"
    )


def _customer_dbs(dump: dict, upgraded: bool) -> dict:
    """The customer databases as the test compares them: the replication queue is work in flight; what the
    upgrade itself changes (versions, schema, OVOC's IP in ApiAllowedIps) is blanked for an upgraded host."""
    out = copy.deepcopy(dump)
    for tables in out.values():
        tables.pop("ReplicationCommand", None)
        if upgraded:
            for row in tables.get("Customer", []):
                row["Version"] = "<version>"
            for row in tables.get("SyncState", []):
                row["Value"] = "<version>"
            tables.pop("SchemaVersion", None)
            tables.pop("ApplicationSetting", None)
    return out


def _loose_disks(state: dict) -> list[str]:
    """The ARM ids of the managed disks attached to no VM (lab's ARM state)."""
    return sorted(
        r["id"].lower()
        for r in state["azure"]["resources"].values()
        if r["type"] == "Microsoft.Compute/disks" and not r.get("managedBy")
    )


def _vm_running(state: dict, host: str) -> bool:
    vm = state["hosts"][host]["vm_id"].lower()
    return state["azure"].get("power", {}).get(vm, "running") == "running"


def _at_point(point: str) -> Callable[[Lab, Path, str, dict], bool]:
    def check(lab: Lab, ckpt_dir: Path, host: str, state: dict) -> bool:
        phases = _phases(ckpt_dir, host)
        files = state["disk_contents_files"].get(host, {})
        if point == "during snapshot":
            return _status(phases, "snapshot") == "started" and _snapshots(state).get(host, 0) > 0
        if point == "after services stop":
            return _status(phases, "services_stop") == "done"
        if point == "during wyUpdate":
            return _status(phases, "wyupdate") == "started" and any(f"upgrade_{TARGET}.log" in k for k in files)
        if point == "during customer upgrade":
            return _status(phases, "customer_upgrade") == "started" and any(
                k.startswith(CU_LOGS) and "upgrading" in (f.get("content") or "").lower() for k, f in files.items()
            )
        if point == "during rollback":
            return _status(phases, "rollback") == "started" and not _vm_running(state, host)
        raise AssertionError(point)

    return check


def _lab_view(lab: Lab) -> dict:
    state = lab.state()
    files = {}
    for host in POINTS:
        try:
            files[host] = lab.host_state(host).get("files", {})
        except Exception:  # the VM has no OS disk for a moment during a swap
            files[host] = {}
    state["disk_contents_files"] = files
    return state


def test_killed_at_five_points_then_one_rerun_converges(own_lab):
    # a scale where the snapshot, wyUpdate, the customer upgrade and the swap take a few seconds each: the
    # watcher sees each host at its point while the work is still going on
    lab = own_lab(len(POINTS), scale=0.01)
    ckpt_dir = lab.state_dir / "checkpoints"
    lab.fault("wyupdate.fail_step", host="ump04", step="AddAuthPool", times=1)
    # ump01 has a disabled customer from the start: the rerun resumes after preflight, so post_verify must take
    # preflight's baseline from the checkpoint to report it as pre-existing instead of rolling the host back
    disabled = lab.host_state("ump01")["ump"]["customers"][0]
    sql(lab, "ump01", "UPDATE Customer SET Enabled = 0 WHERE CustomerShortName = ?", (disabled,))
    before = lab.state()
    sql_before = before["sql_dump"]["ump04-sql"]
    sql_hosts = {h: before["hosts"][h].get("sql_host", h) for h in POINTS}
    customers_before = {h: copy.deepcopy(before["sql_dump"][s]) for h, s in sql_hosts.items()}
    assert all(before["sql_dump"][s].get("SysAdminTenant", {}).get("Customer") for s in sql_hosts.values())
    assert not _loose_disks(before), "the lab starts with every disk attached"
    files_before = acs_files(lab.host_state("ump04"))

    extra = {"ump_upgrade_batches": ["100%"], "ump_max_fail_percentage": 100, **FAST_WAITS}
    procs: dict[str, subprocess.Popen] = {}
    for host in POINTS:
        cmd = [
            str(BIN / "ansible-playbook"),
            "-i",
            str(REPO / "inventories" / "lab"),
            str(REPO / "playbooks" / "upgrade.yml"),
        ]
        cmd += ["-l", host, "-e", json.dumps(extra)]
        procs[host] = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=lab.env(UMP365_REPORT_RUN_ID=f"crashed-{host}"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    killed: dict[str, dict] = {}
    checks = {h: _at_point(p) for h, p in POINTS.items()}
    try:
        deadline = time.monotonic() + 600
        while len(killed) < len(POINTS):
            state = _lab_view(lab)
            for host, proc in procs.items():
                if host in killed:
                    continue
                if checks[host](lab, ckpt_dir, host, state):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)
                    killed[host] = _phases(ckpt_dir, host)
                    continue
                assert proc.poll() is None, f"{host}: the run ended before it was killed {POINTS[host]}"
            assert time.monotonic() < deadline, f"not every kill point was reached: killed {sorted(killed)}"
            time.sleep(0.2)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)

    # each run died with its host mid-way (no outcome recorded)
    for host, phases in killed.items():
        assert "outcome" not in phases, f"{host} ({POINTS[host]}): {phases}"

    lab.set_scale(0)
    rerun = lab.playbook("playbooks/upgrade.yml", extra_vars=extra, env={"UMP365_REPORT_RUN_ID": "rerun"}, timeout=900)
    assert "ump04: the upgrade to 8.0.515 failed in phase wyupdate" in rerun.stdout, rerun.stdout[-6000:]

    state = lab.state()
    assert _snapshots(state) == dict.fromkeys(POINTS, 1), "exactly one snapshot per host"
    for host, expected in EXPECTED.items():
        phases = _phases(ckpt_dir, host)
        assert phases["outcome"]["outputs"]["result"] == expected, f"{host} ({POINTS[host]}): {phases}"
        version = lab.host_state(host)["ump"]["components"]["SysAdminKit"]
        assert version == (TARGET if expected == "upgraded" else OLD), host
    assert _status(_phases(ckpt_dir, "ump04"), "rollback") == "done"
    assert state["sql_dump"]["ump04-sql"] == sql_before, "ump04's backend database restored"
    assert acs_files(lab.host_state("ump04")) == files_before
    report = json.loads((lab.state_dir / "reports" / "rerun.json").read_text())
    assert {h: report["hosts"][h]["final_state"] for h in POINTS} == EXPECTED
    # from the lab: services, customer databases, disks
    for host, expected in EXPECTED.items():
        assert not _stopped_ump_services(lab.host_state(host)), f"{host} ({POINTS[host]}): services not running"
        after = state["sql_dump"][sql_hosts[host]]
        upgraded = expected == "upgraded"
        assert _customer_dbs(after, upgraded) == _customer_dbs(customers_before[host], upgraded), (
            f"{host} ({POINTS[host]}): customer databases changed beyond the upgrade"
        )
        versions = {c["Version"] for c in after["SysAdminTenant"]["Customer"]}
        assert versions == {TARGET if upgraded else OLD}, f"{host} ({POINTS[host]}): customers at {versions}"
    kept = {str((report["hosts"][h].get("rollback") or {}).get("previous_disk") or "").lower() for h in POINTS} - {""}
    left = [d for d in _loose_disks(state) if d not in kept]
    assert not left, f"disks left behind (attached to no VM, not named by the report for cleanup): {left}"
    post = {c["name"]: c for c in report["hosts"]["ump01"]["checks"] if c.get("phase") == "post_verify"}
    assert post["customers_enabled"].get("baseline") == "pre-existing", post.get("customers_enabled")
    assert post["customers_enabled"]["items"] == [disabled]
