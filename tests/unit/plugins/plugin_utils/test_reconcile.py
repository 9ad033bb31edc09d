"""plugin_utils/reconcile.py: the checkpoint reconciled with what Azure and the host say (issue 22, item 1)."""

from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.filter.reconcile import upgrade_reconcile
from ansible_collections.ump365.upgrade.plugins.plugin_utils.reconcile import (
    partial_run_evidence,
    reconcile,
    restore_problems,
)

HOST, OLD, TARGET = "ump01", "8.0.400.64", "8.0.515"
CHANGING = ["services_stop", "wyupdate", "customer_upgrade", "services_start", "post_verify"]
SNAP_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/ump01-snap-a1"


def versions(kit=OLD, mt=OLD, customers=None):
    return {"sysadminkit": kit, "multitenant": mt, "customers": customers or {"c1": kit, "c2": kit}}


def host_files(kit=OLD, copies=(), logs=()):
    return {"kit_version": kit, "kit_copies": list(copies), "wyupdate_logs": list(logs)}


def snap(attempt="a1", state="Succeeded", host=HOST, target=TARGET, name="ump01-snap-a1"):
    return {
        "id": SNAP_ID.replace("ump01-snap-a1", name),
        "name": name,
        "provisioning_state": state,
        "time_created": "2026-12-07T07:00:00Z",
        "tags": {"ump_host": host, "ump_upgrade_to": target, "ump_attempt": attempt, "ump_upgrade_from": OLD},
    }


def ckpt(*done, outcome="", attempt="a1", snapshot_id=SNAP_ID, started=()):
    phases = {"attempt": {"status": "done", "outputs": {"id": attempt}}} if attempt else {}
    for p in done:
        phases[p] = {"status": "done", "outputs": {}}
    for p in started:
        phases[p] = {"status": "started"}
    if "snapshot" in done:
        phases["snapshot"]["outputs"] = {"snapshot_id": snapshot_id, "snapshot_name": snapshot_id.rsplit("/", 1)[-1]}
    if outcome:
        phases["outcome"] = {"status": "done", "outputs": {"result": outcome}}
    return {"phases": phases}


def run(checkpoint, snapshots=(), v=None, files=None):
    return reconcile(
        checkpoint,
        HOST,
        TARGET,
        list(snapshots) if snapshots is not None else None,
        versions() if v is None else v,
        host_files() if files is None else files,
        CHANGING,
    )


def test_a_clean_host_without_checkpoint_proceeds():
    assert run({})["action"] == "proceed"


def test_lost_checkpoint_on_a_part_upgraded_host_is_refused_naming_the_evidence_and_the_snapshot():
    d = run(
        {},
        [snap(attempt="a0", name="ump01-old")],
        files=host_files(copies=["SysAdminKit_" + OLD], logs=["upgrade_8.0.515.log"]),
    )
    assert d["action"] == "refuse"
    assert "SysAdminKit_" + OLD in d["msg"] and "upgrade_8.0.515.log" in d["msg"]
    assert "rollback.yml" in d["msg"] and "ump01-old" in d["msg"] and "nothing was changed" in d["msg"]


def test_lost_checkpoint_with_mixed_versions_and_no_snapshot_says_repair_by_hand():
    d = run({}, [], v=versions(customers={"c1": TARGET, "c2": OLD}))
    assert d["action"] == "refuse" and "repair the host by hand" in d["msg"] and "c1" in d["msg"]


def test_an_older_kit_copy_is_no_partial_run():
    # SysAdminKit_<an earlier version> left by a previous, finished upgrade
    assert partial_run_evidence(versions(), host_files(copies=["SysAdminKit_7.8.100"]), TARGET) == []


def test_stale_checkpoint_claiming_a_snapshot_azure_does_not_have_starts_fresh():
    d = run(ckpt("preflight", "services_stop", "snapshot"), [])
    assert d["action"] == "fresh" and "Azure does not have" in d["why"]


def test_stale_snapshot_claim_on_a_changed_host_is_refused():
    d = run(
        ckpt("preflight", "services_stop", "snapshot", started=["wyupdate"]),
        [],
        files=host_files(copies=["SysAdminKit_" + OLD]),
    )
    assert d["action"] == "refuse"


@pytest.mark.parametrize(
    "snapshot, problem",
    [
        (snap(state="Failed"), "Failed"),
        (snap(attempt="a0"), "ump_attempt"),
        (snap(host="ump02"), "ump_host"),
    ],
)
def test_a_snapshot_that_is_not_this_attempts_succeeded_one_is_not_relied_on(snapshot, problem):
    d = run(ckpt("preflight", "services_stop", "snapshot"), [snapshot])
    assert d["action"] == "fresh" and any(problem in e for e in d["evidence"])


def test_the_recorded_snapshot_existing_and_succeeded_resumes():
    d = run(
        ckpt("preflight", "services_stop", "snapshot", started=["wyupdate"]),
        [snap()],
        files=host_files(copies=["SysAdminKit_" + OLD]),
    )
    assert d["action"] == "proceed"


def test_no_checkpoint_host_at_target_changes_nothing():
    d = run({}, [], v=versions(TARGET, TARGET), files=host_files(TARGET, copies=["SysAdminKit_" + OLD]))
    assert d["action"] == "at_target"


def test_checkpoint_upgraded_but_host_old_is_not_nothing_to_do():
    d = run(ckpt("preflight", "services_stop", "snapshot", "wyupdate", outcome="upgraded"), [snap()])
    assert d["action"] == "fresh" and "systems" in d["why"]


def test_checkpoint_upgraded_and_host_at_target_agree():
    d = run(ckpt("snapshot", outcome="upgraded"), [snap()], v=versions(TARGET, TARGET), files=host_files(TARGET))
    assert d["action"] == "proceed"


def test_unreadable_versions_never_count_as_upgraded():
    d = run(ckpt("snapshot", outcome="upgraded"), [snap()], v=None)
    d2 = reconcile({}, HOST, TARGET, [], None, host_files(), CHANGING)
    assert d["action"] == "fresh" and d2["action"] == "proceed"


def test_unreadable_host_disk_never_gets_a_snapshot():
    d = reconcile({}, HOST, TARGET, [], versions(), None, CHANGING)
    assert d["action"] == "refuse" and "could not be read" in d["msg"]


def test_unreadable_azure_does_not_vouch_for_the_recorded_snapshot():
    d = reconcile(
        ckpt("snapshot", started=["wyupdate"]),
        HOST,
        TARGET,
        None,
        versions(),
        host_files(copies=["SysAdminKit_" + OLD]),
        CHANGING,
    )
    assert d["action"] == "refuse"


def test_a_pending_rollback_is_finished_first():
    c = ckpt("snapshot")
    c["phases"]["rollback"] = {"status": "started"}
    assert run(c, [])["action"] == "proceed"


def test_restore_refuses_another_attempts_snapshot_unless_named():
    assert restore_problems(snap(), HOST, TARGET, "a1", OLD) == []
    assert any("ump_attempt" in p for p in restore_problems(snap(attempt="a0"), HOST, TARGET, "a1", OLD))
    assert any("ump_upgrade_from" in p for p in restore_problems(snap(), HOST, TARGET, "a1", "7.0"))
    assert restore_problems(None, HOST, TARGET, "a1", OLD) == ["it does not exist in Azure"]
    assert restore_problems(snap(attempt="a0", host="x"), HOST, TARGET, "a1", OLD, named_by_operator=True) == []
    assert restore_problems(snap(state="Creating"), HOST, TARGET, "a1", OLD, named_by_operator=True)


def test_filter_validates_its_input():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="snapshots must be a list"):
        upgrade_reconcile({}, HOST, TARGET, snapshots="x")
