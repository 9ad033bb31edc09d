"""The Azure modules, roles and rollback.yml through ansible-playbook against the lab's ARM emulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import BIN, REPO

NO_WINRM = {"swap_os_disk_verify_reachable": False}
# folders every Windows host has (the lab's seed lacks them) and the run lock's parent: a run that takes the
# host's run lock makes them (cmd.exe's mkdir, ansible's remote temp folder), and a snapshot taken holding the
# lock keeps them. Empty folders only: a file in them still counts.
RUN_FOLDERS = {
    "c:\\programdata",
    "c:\\programdata\\ump365.upgrade",
    "c:\\users\\labadmin",
    "c:\\users\\labadmin\\appdata",
    "c:\\users\\labadmin\\appdata\\local",
    "c:\\users\\labadmin\\appdata\\local\\temp",
}


def host_files(host_state: dict) -> dict:
    """The host's files and folders, but for the empty folders a run makes (RUN_FOLDERS)."""
    return {k: v for k, v in host_state["files"].items() if not (k in RUN_FOLDERS and v.get("type") == "directory")}


@pytest.fixture
def ckdir(tmp_path):
    """Checkpoints of this test only (the session lab's state dir outlives a test)."""
    return tmp_path / "checkpoints"


def ckpt_vars(ckdir) -> dict:
    return {"ump_checkpoint_dir": str(ckdir)}


def awx_env(lab) -> dict:
    """The environment AWX's "Microsoft Azure Resource Manager" credential injects (plus the lab's CA)."""
    ep = lab.endpoints
    return lab.env(
        AZURE_SUBSCRIPTION_ID=ep["azure"]["subscription_id"],
        AZURE_CLIENT_ID=ep["entra"]["automation_client_id"],
        AZURE_SECRET=ep["secrets"]["azure_client_secret"],
        AZURE_TENANT=ep["entra"]["tenant_id"],
        AZURE_AUTHORITY_HOST=ep["entra"]["authority"],
        REQUESTS_CA_BUNDLE=lab.ca_file,
    )


def run_module(lab, module: str, args: dict, *extra: str) -> tuple[dict, subprocess.CompletedProcess]:
    """One module on the controller, authenticated the way AWX's Azure credential does it (environment)."""
    ep = lab.endpoints
    env = awx_env(lab)
    args = dict(args, base_url=ep["arm"]["base_url"])
    cmd = [
        str(BIN / "ansible"),
        "localhost",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-m",
        f"ump365.upgrade.{module}",
        "-a",
        json.dumps(args),
        *extra,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    m = re.search(r"^localhost \| (\w+)!? => ", proc.stdout, re.M)
    assert m, proc.stdout + proc.stderr
    result = json.loads(proc.stdout[m.end() - 1 :].split("\n}\n", 1)[0] + "\n}")
    result["failed"] = m.group(1) == "FAILED"
    return result, proc


def vm_disk(lab, host: str) -> str:
    st = lab.state()
    vm = st["azure"]["resources"][st["hosts"][host]["vm_id"].lower()]
    return vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]


def snapshots(lab) -> list[dict]:
    return [r for r in lab.state()["azure"]["resources"].values() if r["type"] == "Microsoft.Compute/snapshots"]


def test_snapshot_change_rollback_restores_the_host_and_a_new_attempt_snapshots_again(fresh_lab, ckdir):
    lab = fresh_lab
    before = lab.host_state("ump01")
    proc = lab.playbook("playbooks/snapshot.yml", extra_vars=ckpt_vars(ckdir))
    assert "failed=0" in proc.stdout
    ck = json.loads((ckdir / "ump01__8.0.515.json").read_text())
    snap = ck["phases"]["snapshot"]
    attempt = ck["phases"]["attempt"]["outputs"]["id"]
    assert snap["status"] == "done" and snap["outputs"]["snapshot_id"].endswith(snap["outputs"]["snapshot_name"])
    assert snap["outputs"]["snapshot_name"] == f"ump01-8.0.400.64-to-8.0.515-{attempt}"
    assert len(snapshots(lab)) == 2
    tags = {s["name"]: s.get("tags") or {} for s in snapshots(lab)}
    assert tags[snap["outputs"]["snapshot_name"]]["ump_attempt"] == attempt

    # the same attempt again: no second snapshot
    proc = lab.playbook("playbooks/snapshot.yml", extra_vars=ckpt_vars(ckdir))
    assert "changed=0" in proc.stdout.split("PLAY RECAP")[1].splitlines()[1]
    assert len(snapshots(lab)) == 2

    # the upgrade changes the host ...
    lab.set_host_state("ump01", ["files", "c:\\acs\\upgraded.txt"], {"type": "file", "content": "8.0.515"})
    lab.set_host_state("ump01", ["ump", "components", "SysAdminKit"], "8.0.515")
    old_disk = vm_disk(lab, "ump01")

    # ... rollback.yml without --limit is refused and changes nothing ...
    proc = lab.playbook("playbooks/rollback.yml", extra_vars=ckpt_vars(ckdir))
    assert proc.returncode != 0 and "name the hosts with --limit" in proc.stdout, proc.stdout[-3000:]
    assert vm_disk(lab, "ump01") == old_disk
    lab.reset_counters()

    # ... and with it, brings the host from before back, running, answering WinRM, at the old version
    rb_vars = {**ckpt_vars(ckdir), "post_verify_expect_version": "8.0.400.64"}
    proc = lab.playbook("playbooks/rollback.yml", "--limit", "ump01", "-vvvv", extra_vars=rb_vars)
    assert "failed=0" in proc.stdout, proc.stdout[-4000:]
    ping = proc.stdout.split("Check the restored host with win_ping]", 1)[1].split("PLAY RECAP", 1)[0]
    assert "ok: [ump01]" in ping and '"ping": "pong"' in ping
    assert lab.endpoints["secrets"]["azure_client_secret"] not in proc.stdout + proc.stderr
    assert host_files(lab.host_state("ump01")) == host_files(before)
    assert lab.host_state("ump01")["ump"]["components"] == before["ump"]["components"]
    new_disk = vm_disk(lab, "ump01")
    assert new_disk != old_disk and new_disk.endswith(snap["outputs"]["snapshot_name"] + "-osdisk")
    st = lab.state()
    assert st["azure"]["power"][st["hosts"]["ump01"]["vm_id"].lower()] == "running"
    assert st["azure"]["resources"][old_disk.lower()]["properties"]["diskState"] == "Unattached"  # kept
    # at most 8 requests besides the LRO polls, per host
    c = lab.counters()
    polls = c.get("arm.requests.diskOperations.read", 0) + c.get("arm.requests.operations.read", 0)
    assert c["arm.requests"] - polls <= 2 * 10
    ck = json.loads((ckdir / "ump01__8.0.515.json").read_text())
    assert ck["phases"]["outcome"]["outputs"]["result"] == "rolled_back"
    assert ck["phases"]["rollback.swap_os_disk"]["outputs"]["previous_disk_id"].lower() == old_disk.lower()

    # after a completed rollback, a fresh attempt: a new snapshot, and a rollback restores that one
    proc = lab.playbook("playbooks/snapshot.yml", extra_vars=ckpt_vars(ckdir))
    assert "failed=0" in proc.stdout
    ck2 = json.loads((ckdir / "ump01__8.0.515.json").read_text())
    assert ck2["phases"]["attempt"]["outputs"]["number"] == 2
    assert ck2["phases"]["attempt"]["outputs"]["previous"][0]["id"] == attempt
    snap2 = ck2["phases"]["snapshot"]["outputs"]["snapshot_name"]
    assert snap2 != snap["outputs"]["snapshot_name"] and len(snapshots(lab)) == 3
    lab.set_host_state("ump01", ["ump", "components", "SysAdminKit"], "8.0.515")
    proc = lab.playbook("playbooks/rollback.yml", "--limit", "ump01", extra_vars={**rb_vars, **NO_WINRM})
    assert "failed=0" in proc.stdout, proc.stdout[-4000:]
    assert vm_disk(lab, "ump01").endswith(snap2 + "-osdisk")
    assert lab.host_state("ump01")["ump"]["components"] == before["ump"]["components"]


def test_conflict_and_throttling_are_retried_and_reported(fresh_lab):
    lab = fresh_lab
    lab.fault("arm.429", op="snapshots.write", times=1, retry_after=1)
    lab.fault("arm.409", op="snapshots.write", times=1)
    result, proc = run_module(
        lab,
        "azure_snapshot",
        {"resource_group": "rg-ump01", "vm_name": "ump01", "name": "retry-me", "retry_base_delay": 0.01},
    )
    assert result["changed"] is True and result["snapshot"]["provisioning_state"] == "Succeeded"
    assert [(r["status"], r["code"]) for r in result["retries"]] == [
        (429, "TooManyRequests"),
        (409, "OperationNotAllowed"),
    ]
    assert result["retries"][0]["delay"] == 1.0  # Retry-After honoured
    assert lab.endpoints["secrets"]["azure_client_secret"] not in proc.stdout + proc.stderr

    # same name, same source: unchanged; same name from another disk: a clear failure
    again, _ = run_module(lab, "azure_snapshot", {"resource_group": "rg-ump01", "vm_name": "ump01", "name": "retry-me"})
    assert again["changed"] is False and again["id"] == result["id"]
    other = vm_disk(lab, "ump02-sql")
    clash, _ = run_module(
        lab, "azure_snapshot", {"resource_group": "rg-ump01", "source_disk": other, "name": "retry-me"}
    )
    assert clash["failed"] and "already exists from another disk" in clash["msg"] and "Fix:" in clash["msg"]


def test_retry_budget_runs_out_with_a_clear_failure(fresh_lab):
    fresh_lab.fault("arm.409", op="snapshots.write")
    result, _ = run_module(
        fresh_lab,
        "azure_snapshot",
        {
            "resource_group": "rg-ump01",
            "vm_name": "ump01",
            "name": "never",
            "retry_attempts": 3,
            "retry_base_delay": 0.01,
        },
    )
    assert result["failed"] and "(after 3 attempts)" in result["msg"] and "snapshots/never" in result["msg"]
    assert len(result["retries"]) == 2


def test_failed_snapshot_fails_the_task_and_the_checkpoint_says_so(fresh_lab, ckdir):
    lab = fresh_lab
    lab.fault("arm.snapshot_failed", host="ump01")
    proc = lab.playbook("playbooks/snapshot.yml", "--limit", "ump01", extra_vars=ckpt_vars(ckdir))
    assert proc.returncode != 0
    assert "InternalDiskManagementError" in proc.stdout or "ended Failed" in proc.stdout
    ck = json.loads((ckdir / "ump01__8.0.515.json").read_text())
    assert ck["phases"]["snapshot"]["status"] == "failed"
    # the rerun (fault gone, same attempt) reuses the name and provisions the failed snapshot again
    lab.clear_faults()
    proc = lab.playbook("playbooks/snapshot.yml", "--limit", "ump01", extra_vars=ckpt_vars(ckdir))
    assert "failed=0" in proc.stdout
    ck2 = json.loads((ckdir / "ump01__8.0.515.json").read_text())
    attempt = ck["phases"]["attempt"]["outputs"]["id"]
    assert ck2["phases"]["attempt"]["outputs"]["id"] == attempt
    assert ck2["phases"]["snapshot"]["outputs"]["snapshot_name"] == f"ump01-8.0.400.64-to-8.0.515-{attempt}"
    assert [s["properties"]["provisioningState"] for s in snapshots(lab)] == ["Succeeded"]


def test_check_mode_changes_nothing(fresh_lab, ckdir):
    lab = fresh_lab
    before = lab.state()
    proc = lab.playbook("playbooks/snapshot.yml", "--check", extra_vars=ckpt_vars(ckdir))
    assert "failed=0" in proc.stdout
    assert snapshots(lab) == []
    assert not (ckdir / "ump01__8.0.515.json").exists()
    made, _ = run_module(lab, "azure_snapshot", {"resource_group": "rg-ump01", "vm_name": "ump01", "name": "real"})
    assert made["changed"] is True
    lab.reset_counters()
    plan, _ = run_module(
        lab,
        "azure_vm_os_disk",
        {"resource_group": "rg-ump01", "vm_name": "ump01", "snapshot": "real"},
        "--check",
        "--diff",
    )
    assert plan["changed"] is True and plan["disk_id"].endswith("/real-osdisk")
    assert (
        vm_disk(lab, "ump01")
        == before["azure"]["resources"][before["hosts"]["ump01"]["vm_id"].lower()]["properties"]["storageProfile"][
            "osDisk"
        ]["managedDisk"]["id"]
    )
    assert not any(k.endswith((".write", ".deallocate", ".start")) for k in lab.counters())
    # rollback.yml restores a snapshot the operator names (no checkpoint needed); in check mode nothing moves
    proc = lab.playbook(
        "playbooks/rollback.yml",
        "--check",
        "--limit",
        "ump01",
        extra_vars={
            **ckpt_vars(ckdir),
            **NO_WINRM,
            "ump_rollback_snapshot": "real",
            "post_verify_expect_version": "8.0.400.64",
        },
    )
    assert "failed=0" in proc.stdout and "changed=0" not in proc.stdout.split("PLAY RECAP")[1], proc.stdout[-3000:]
    assert not any(k.endswith((".write", ".deallocate", ".start")) for k in lab.counters())


def run_playbook(lab, name: str, extra: dict) -> subprocess.CompletedProcess:
    """A test playbook on the controller, authenticated from the environment as under AWX."""
    extra = dict(extra, arm_base_url=lab.endpoints["arm"]["base_url"], arm_ca_bundle=lab.ca_file)
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            json.dumps(extra),
            str(REPO / "tests" / "integration" / "playbooks" / name),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=awx_env(lab),
    )


def test_restore_refusals_leave_the_vm_running_and_faults_are_retried(fresh_lab, tmp_path):
    lab = fresh_lab
    out = tmp_path / "results.json"
    proc = run_playbook(
        lab,
        "azure_refusals.yml",
        {
            "lab_admin_url": lab.endpoints["admin"]["url"],
            "lab_admin_token": lab.endpoints["admin"]["token"],
            "results_file": str(out),
        },
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    r = json.loads(out.read_text())
    # a snapshot of another VM's disk
    assert r["theirs"]["failed"] and "never an OS disk of this VM" in r["theirs"]["msg"]
    assert "force=true" in r["theirs"]["msg"]
    # an ADE-encrypted VM
    assert r["ade"]["failed"] and "Azure Disk Encryption" in r["ade"]["msg"]
    # 403 on the swap after the VM was deallocated: it is started again, and the message says so
    assert r["denied"]["failed"] and "Microsoft.Compute/virtualMachines/write" in r["denied"]["msg"]
    assert "the VM is left running on its previous disk" in r["denied"]["msg"]
    vm_id = lab.state()["hosts"]["ump01"]["vm_id"].lower()
    assert r["power_after_denied"][vm_id] == "running"
    # throttled while polling and a conflicting write on the swap: retried, reported, and done
    done = r["done"]
    assert done["changed"] is True and done["power_state"] == "running", done
    assert sorted(x["status"] for x in done["retries"]) == [409, 429]
    assert any(op["resumed_polling"] for op in done["operations"])  # the poll resumed, the write was not resent
    assert vm_disk(lab, "ump01") == done["disk_id"] and done["previous_disk_id"] != done["disk_id"]
    # a missing VM and a missing resource group
    assert r["missing"]["failed"] and "rg-ump01/nope" in r["missing"]["msg"]
    assert r["norg"]["failed"] and r["norg"]["error"]["details"]["code"] == "ResourceGroupNotFound"
    assert lab.endpoints["secrets"]["azure_client_secret"] not in proc.stdout + proc.stderr


def test_slow_snapshot_times_out_with_the_resource_named(fresh_lab):
    fresh_lab.fault("arm.slow", op="snapshots.write", seconds=120)
    result, _ = run_module(
        fresh_lab,
        "azure_snapshot",
        {"resource_group": "rg-ump01", "vm_name": "ump01", "name": "slow", "wait_timeout": 1},
    )
    assert result["failed"] and "still InProgress after 1 s" in result["msg"] and "snapshots/slow" in result["msg"]
    info, _ = run_module(fresh_lab, "azure_snapshot_info", {"resource_group": "rg-ump01", "vm_name": "ump01"})
    assert [s["provisioning_state"] for s in info["snapshots"]] == ["Updating"]
    # a snapshot still being created (Updating) is not restored, and nothing is touched
    early, _ = run_module(
        fresh_lab, "azure_vm_os_disk", {"resource_group": "rg-ump01", "vm_name": "ump01", "snapshot": "slow"}
    )
    assert (
        early["failed"]
        and "is Updating, not Succeeded" in early["msg"]
        and "wait until it is Succeeded" in early["msg"]
    )
    assert not any(k.endswith((".deallocate", "disks.write")) for k in fresh_lab.counters())


def test_snapshot_lifecycle_info_tags_restore_with_disk_removal_and_delete(fresh_lab):
    lab = fresh_lab
    old_disk = vm_disk(lab, "ump01")
    proc = run_playbook(lab, "azure_lifecycle.yml", {})
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    st = lab.state()
    assert old_disk.lower() not in st["azure"]["resources"]  # deleted once the VM ran on the restored disk
    names = sorted(r["name"] for r in st["azure"]["resources"].values() if r["type"] == "Microsoft.Compute/snapshots")
    assert names == ["life-b"]
    assert lab.endpoints["secrets"]["azure_client_secret"] not in proc.stdout + proc.stderr


def test_rollback_without_the_checkpoint_touches_nothing_unless_the_operator_names_the_snapshot(fresh_lab, tmp_path):
    lab = fresh_lab
    before = lab.host_state("ump01")
    proc = lab.playbook("playbooks/snapshot.yml", "--limit", "ump01", extra_vars=ckpt_vars(tmp_path / "node-a"))
    assert "failed=0" in proc.stdout
    snap = json.loads((tmp_path / "node-a" / "ump01__8.0.515.json").read_text())["phases"]["snapshot"]["outputs"]
    lab.set_host_state("ump01", ["files", "c:\\acs\\upgraded.txt"], {"type": "file", "content": "8.0.515"})
    disk = vm_disk(lab, "ump01")
    # where the checkpoint is not (another AWX execution node without the run-state store): no attempt, so
    # the host counts as never touched and nothing is restored (never a snapshot of unknown age by its tags)
    proc = lab.playbook(
        "playbooks/rollback.yml", "--limit", "ump01", extra_vars={**ckpt_vars(tmp_path / "node-b"), **NO_WINRM}
    )
    assert "failed=0" in proc.stdout and "nothing to roll back: never touched" in proc.stdout, proc.stdout[-3000:]
    assert vm_disk(lab, "ump01") == disk
    # the operator names the snapshot: restored
    proc = lab.playbook(
        "playbooks/rollback.yml",
        "--limit",
        "ump01",
        extra_vars={
            **ckpt_vars(tmp_path / "node-b"),
            **NO_WINRM,
            "ump_rollback_snapshot": snap["snapshot_name"],
            "post_verify_expect_version": "8.0.400.64",
        },
    )
    assert "failed=0" in proc.stdout, proc.stdout[-3000:]
    # the host as it was before snapshot.yml: snapshot.yml snapshotted holding the run lock, and the rollback took
    # the lock anew on the restored disk and released it
    assert host_files(lab.host_state("ump01")) == host_files(before)


def disk(lab, disk_id: str) -> dict | None:
    return lab.state()["azure"]["resources"].get(disk_id.lower())


def test_azure_disk_deletes_an_unattached_disk_past_the_cutoff_and_never_the_vms_disk(fresh_lab):
    lab = fresh_lab
    original = vm_disk(lab, "ump01")
    made, _ = run_module(lab, "azure_snapshot", {"resource_group": "rg-ump01", "vm_name": "ump01", "name": "keep-a"})
    assert made["changed"] is True
    swap, _ = run_module(
        lab, "azure_vm_os_disk", {"resource_group": "rg-ump01", "vm_name": "ump01", "snapshot": "keep-a"}
    )
    assert swap["changed"] is True and not swap["failed"]
    live = vm_disk(lab, "ump01")
    assert live != original and disk(lab, original) is not None
    old_name = original.rsplit("/", 1)[-1]
    live_name = live.rsplit("/", 1)[-1]

    # the disk the VM runs on: refused before anything is sent that changes it (also in check mode)
    lab.reset_counters()
    for extra in ((), ("--check",)):
        refused, _ = run_module(lab, "azure_disk", {"resource_group": "rg-ump01", "name": live_name}, *extra)
        assert refused["failed"] and "in use" in refused["msg"] and "Fix:" in refused["msg"], refused
    assert not any(k.endswith(".delete") for k in lab.counters())
    assert disk(lab, live) is not None

    # younger than the cutoff: kept; check mode: nothing deleted
    young, _ = run_module(
        lab, "azure_disk", {"resource_group": "rg-ump01", "name": old_name, "created_before": "2000-01-01T00:00:00Z"}
    )
    assert young["changed"] is False and "not before 2000-01-01" in young["kept"] and disk(lab, original) is not None
    plan, _ = run_module(lab, "azure_disk", {"resource_group": "rg-ump01", "name": old_name}, "--check", "--diff")
    assert plan["changed"] is True and plan["disk"]["disk_state"] == "Unattached" and disk(lab, original) is not None

    # the previous disk, older than the cutoff: deleted (the LRO waited for), then a rerun changes nothing
    gone, _ = run_module(
        lab, "azure_disk", {"resource_group": "rg-ump01", "name": old_name, "created_before": "2999-01-01T00:00:00Z"}
    )
    assert gone["changed"] is True and not gone["failed"], gone
    assert [o["operation"] for o in gone["operations"]] == ["delete disk"]
    assert disk(lab, original) is None and disk(lab, live) is not None
    again, _ = run_module(lab, "azure_disk", {"resource_group": "rg-ump01", "name": old_name})
    assert again["changed"] is False and not again["failed"]


def _disks(lab) -> dict[str, dict]:
    return {k: r for k, r in lab.state()["azure"]["resources"].items() if r["type"] == "Microsoft.Compute/disks"}


def test_a_restore_resumed_after_it_stopped_part_way_reuses_its_disk(fresh_lab):
    """A restore that made its disk and then stopped (here the swap refused until the retries ran out; in a
    run, the controller killed) leaves that disk unattached: the run that resumes it (reuse_restore_id) swaps
    to that disk instead of making a second one that nobody would clean up."""
    lab = fresh_lab
    original = vm_disk(lab, "ump01")
    made, _ = run_module(lab, "azure_snapshot", {"resource_group": "rg-ump01", "vm_name": "ump01", "name": "pre-r"})
    assert made["changed"] is True
    args = {"resource_group": "rg-ump01", "vm_name": "ump01", "snapshot": "pre-r", "new_disk": True}
    lab.fault("arm.500", op="virtualMachines.write", times=50)
    first, _ = run_module(lab, "azure_vm_os_disk", {**args, "restore_id": "a1-r1", "retry_base_delay": 0.01})
    lab.clear_faults("arm.500")
    assert first["failed"], first
    assert vm_disk(lab, "ump01") == original
    loose = [r for r in _disks(lab).values() if not r.get("managedBy")]
    assert len(loose) == 1 and loose[0]["tags"]["ump_restore"] == "a1-r1", loose
    count = len(_disks(lab))

    resumed, _ = run_module(lab, "azure_vm_os_disk", {**args, "restore_id": "a1-r2", "reuse_restore_id": "a1-r1"})
    assert not resumed["failed"] and resumed["reused_disk"] is True, resumed
    assert vm_disk(lab, "ump01").lower() == loose[0]["id"].lower()
    assert resumed["previous_disk_id"].lower() == original.lower()
    assert len(_disks(lab)) == count, "no second disk made from the snapshot"

    # the run that resumes after the swap itself (the VM already on that disk): only started, same disk
    again, _ = run_module(lab, "azure_vm_os_disk", {**args, "restore_id": "a1-r3", "reuse_restore_id": "a1-r1"})
    assert not again["failed"] and again["reused_disk"] is True and again["changed"] is False, again
    assert again["previous_disk_id"].lower() == original.lower()
    assert len(_disks(lab)) == count
    # without the id of an interrupted run, new_disk makes a fresh disk (a second rollback of the same host)
    fresh, _ = run_module(lab, "azure_vm_os_disk", {**args, "restore_id": "a1-r4"})
    assert fresh["changed"] is True and fresh["reused_disk"] is False and len(_disks(lab)) == count + 1


def test_rollback_refuses_a_snapshot_that_is_not_this_attempts_pre_upgrade_state(fresh_lab, ckdir):
    lab = fresh_lab
    proc = lab.playbook("playbooks/snapshot.yml", "--limit", "ump01", extra_vars=ckpt_vars(ckdir))
    assert "failed=0" in proc.stdout, proc.stdout[-3000:]
    path = ckdir / "ump01__8.0.515.json"
    ck = json.loads(path.read_text())
    snap = ck["phases"]["snapshot"]["outputs"]["snapshot_name"]
    # a checkpoint whose attempt is not the one the snapshot was taken for (a copy from another controller,
    # an older backup of the run-state store)
    ck["phases"]["attempt"]["outputs"]["id"] = "a20261101T080000Z"
    path.write_text(json.dumps(ck))
    lab.set_host_state("ump01", ["ump", "components", "SysAdminKit"], "8.0.515")
    disk_before, disks_before = vm_disk(lab, "ump01"), set(_disks(lab))
    proc = lab.playbook("playbooks/rollback.yml", "--limit", "ump01", extra_vars={**ckpt_vars(ckdir), **NO_WINRM})
    assert proc.returncode != 0, proc.stdout[-3000:]
    out = " ".join(proc.stdout.split())
    assert f"ump01: refusing to restore snapshot {snap}" in out or "ump01: refusing to restore snapshot /" in out, out[
        -3000:
    ]
    assert "its tag ump_attempt is 'a" in out and "not 'a20261101T080000Z'" in out, out[-3000:]
    assert "Nothing was restored" in out and "-e ump_rollback_snapshot=<name>" in out
    # the lab's ARM: the VM on its disk, running, no disk made
    assert vm_disk(lab, "ump01") == disk_before and set(_disks(lab)) == disks_before
    st = lab.state()
    assert st["azure"]["power"].get(st["hosts"]["ump01"]["vm_id"].lower(), "running") == "running"
