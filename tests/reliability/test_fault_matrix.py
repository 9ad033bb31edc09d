"""The fault matrix (issue 13): one upgrade run over a lab with one host per fault case, then per case its
end state, versions, customer databases, files under C:\\acs and the report's naming of the fault.

Regenerate docs/reliability.md from a run: ``UMP365_WRITE_RELIABILITY_DOC=1 python -m pytest
tests/reliability/test_fault_matrix.py``; ``test_reliability_doc_is_current`` fails when it is stale.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, Lab
from tests.integration.checks_helpers import sql as sql_exec
from tests.reliability.cases import CASES, ROLLED_BACK, STATE_PREDICATES, STOPPED, UPGRADED, Case, assign_hosts
from tests.reliability.conftest import FAST_WAITS, OLD, TARGET, acs_files

# UMP365_MATRIX_ONLY=case,case runs those cases only (a lab of their size; the doc test is skipped): for
# working on a case. `make test` runs them all.
ONLY = [n for n in os.environ.get("UMP365_MATRIX_ONLY", "").split(",") if n]
if ONLY:
    _unknown = set(ONLY) - {c.name for c in CASES}
    if _unknown:
        raise ValueError(f"UMP365_MATRIX_ONLY names no case: {sorted(_unknown)}")
    CASES = [c for c in CASES if c.name in ONLY]
HOSTS = assign_hosts(CASES)
DOC = REPO / "docs" / "reliability.md"


@dataclass
class MatrixRun:
    lab: Lab
    rc: int
    stdout: str
    report: dict
    outcomes: dict[str, str]
    sql_before: dict
    sql_after: dict
    files_before: dict[str, dict]
    files_after: dict[str, dict]
    versions_after: dict[str, str]
    snapshots: dict[str, int]
    os_disk_before: dict[str, str]
    os_disk_after: dict[str, str]
    stopped_after: dict[str, list[str]]


def _resolve(value, lab: Lab, host: str):
    if value == "@first_customer":
        return lab.host_state(host)["ump"]["customers"][0]
    if value == "@second_customer":
        return lab.host_state(host)["ump"]["customers"][1]
    if value == "@last_customer":
        return lab.host_state(host)["ump"]["customers"][-1]
    if value == "@host":
        return host
    if value == "@sql_host":
        return _sql_host(lab, host)
    if value == "@target":
        return TARGET
    return value


def _sql_host(lab: Lab, host: str) -> str:
    return lab.state()["hosts"][host].get("sql_host", host)


def _os_disk(state: dict, host: str) -> str:
    """The ARM id of the OS disk the host's VM runs on, from the lab's ARM state."""
    vm_name = state["hosts"][host].get("name", host)
    for r in state["azure"]["resources"].values():
        if r["type"] == "Microsoft.Compute/virtualMachines" and r["name"] == vm_name:
            return r["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
    return ""


def _stopped_ump_services(host_state: dict) -> list[str]:
    return sorted(
        n
        for n, s in host_state["services"].items()
        if (n.lower().startswith("sysadmin") or n.lower() == "w3svc") and s.get("state") != "running"
    )


def _outcome(ckpt_dir: Path, host: str) -> str:
    path = ckpt_dir / f"{host}__{TARGET}.json"
    if not path.exists():
        return "no checkpoint"
    return json.loads(path.read_text())["phases"].get("outcome", {}).get("outputs", {}).get("result", "no outcome")


@pytest.fixture(scope="module")
def matrix(own_lab) -> MatrixRun:
    lab = own_lab(max(int(h[3:]) for h in HOSTS.values()))
    state = lab.state()
    for case in CASES:
        host = HOSTS[case.name]
        for path, value in case.host_state:
            lab.set_host_state(host, list(path), copy.deepcopy(value))
        for statement, params in case.sql_before:
            sql_exec(lab, host, statement, tuple(_resolve(v, lab, host) for v in params))
        for fault in case.faults:
            target = _sql_host(lab, host) if fault.on_sql_host else host
            params = {k: _resolve(v, lab, host) for k, v in fault.params.items()}
            lab.fault(fault.name, host=target, **params)
    state = lab.state()
    sql_hosts = {h: state["hosts"][h].get("sql_host", h) for h in HOSTS.values()}
    sql_before = {h: copy.deepcopy(state["sql_dump"][s]) for h, s in sql_hosts.items()}
    files_before = {h: acs_files(lab.host_state(h)) for h in HOSTS.values()}
    os_disk_before = {h: _os_disk(state, h) for h in HOSTS.values()}

    ckpt_dir = lab.state_dir / "checkpoints"
    report_dir = lab.state_dir / "reports"
    proc = lab.playbook(
        "playbooks/upgrade.yml",
        "-l",
        ",".join(sorted(HOSTS.values())),
        extra_vars={"ump_upgrade_batches": ["100%"], "ump_max_fail_percentage": 100, **FAST_WAITS},
        timeout=1500,
    )
    state = lab.state()
    snaps: dict[str, int] = {}
    for r in state["azure"]["resources"].values():
        if r["type"] == "Microsoft.Compute/snapshots":
            snaps[r["name"].split("-")[0]] = snaps.get(r["name"].split("-")[0], 0) + 1
    # the run report is <run id>.json, run id upgrade-<UTC start> (docs/report.md); other JSON files share
    # the folder (preflight's <host>_password_customers.json)
    reports = sorted(report_dir.glob("upgrade-*.json"))
    return MatrixRun(
        lab=lab,
        rc=proc.returncode,
        stdout=proc.stdout,
        report=json.loads(reports[-1].read_text()) if reports else {},
        outcomes={h: _outcome(ckpt_dir, h) for h in HOSTS.values()},
        sql_before=sql_before,
        sql_after={h: state["sql_dump"][s] for h, s in sql_hosts.items()},
        files_before=files_before,
        files_after={h: acs_files(lab.host_state(h)) for h in HOSTS.values()},
        versions_after={h: lab.host_state(h)["ump"]["components"]["SysAdminKit"] for h in HOSTS.values()},
        snapshots=snaps,
        os_disk_before=os_disk_before,
        os_disk_after={h: _os_disk(state, h) for h in HOSTS.values()},
        stopped_after={h: _stopped_ump_services(lab.host_state(h)) for h in HOSTS.values()},
    )


def _customer_rows(dump: dict) -> dict:
    """The databases without ReplicationCommand: the replication queue is work in flight (the lab's
    ump_api.replication_backlog fault adds to it), not customer data."""
    out = copy.deepcopy(dump)
    for tables in out.values():
        tables.pop("ReplicationCommand", None)
    return out


def _upgraded_sql(dump: dict) -> dict:
    """What the upgrade itself changes in the customer databases, blanked so the rest compares equal."""
    out = _customer_rows(dump)
    for tables in out.values():
        for row in tables.get("Customer", []):
            row["Version"] = "<version>"
        for row in tables.get("SyncState", []):
            row["Value"] = "<version>"
        tables.pop("SchemaVersion", None)
        tables.pop("ApplicationSetting", None)  # post_verify adds OVOC's IP to ApiAllowedIps (the guide's step)
    return out


def _without_wy_logs(files: dict) -> dict:
    return {k: v for k, v in files.items() if not k.startswith("c:\\acs\\wyupdate_logs")}


def _observed(run: MatrixRun, case: Case) -> str:
    return run.outcomes[HOSTS[case.name]]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_case_ends_in_its_expected_state(matrix: MatrixRun, case: Case):
    host = HOSTS[case.name]
    where = f"{case.name} on {host}"
    assert matrix.report, f"no run report:\n{matrix.stdout[-4000:]}"
    host_report = matrix.report["hosts"][host]
    assert _observed(matrix, case) == case.expected, (
        f"{where}: checkpoint outcome {_observed(matrix, case)}, expected {case.expected}; "
        f"report: {host_report.get('final_state')} {host_report.get('final_state_reason')}"
    )
    assert host_report["final_state"] == case.expected, where

    if case.expected == UPGRADED:
        assert matrix.versions_after[host] == TARGET, where
        assert _upgraded_sql(matrix.sql_after[host]) == _upgraded_sql(matrix.sql_before[host]), where
        customers = matrix.sql_after[host]["SysAdminTenant"]["Customer"]
        assert customers and {c["Version"] for c in customers} == {TARGET}, f"{where}: customers not upgraded"
    else:
        # rolled back: the rollback's last step verified the old version before recording rolled_back
        assert matrix.versions_after[host] == OLD, where
        assert _customer_rows(matrix.sql_after[host]) == _customer_rows(matrix.sql_before[host]), (
            f"{where}: customer databases changed"
        )
        if case.recovery == "services":
            # no disk swap: wyUpdate's own logs of the failed run stay (the evidence), nothing else changed
            assert _without_wy_logs(matrix.files_after[host]) == _without_wy_logs(matrix.files_before[host]), (
                f"{where}: files under C:\\acs changed"
            )
        else:
            assert matrix.files_after[host] == matrix.files_before[host], f"{where}: files under C:\\acs changed"
    if case.snapshots is not None:
        assert matrix.snapshots.get(host, 0) == case.snapshots, f"{where}: {matrix.snapshots.get(host, 0)} snapshots"
    elif case.expected == STOPPED or case.recovery == "services":
        # the services stop before the snapshot: a host that failed there has none, one that failed in the
        # snapshot has the failed one
        assert matrix.snapshots.get(host, 0) <= 1, where
    else:
        assert matrix.snapshots.get(host, 0) == 1, f"{where}: {matrix.snapshots.get(host, 0)} snapshots"
    if case.expected == ROLLED_BACK:
        assert host_report["rollback"], where
        # every UMP service runs again (the lab's own service states), whatever the recovery
        assert not matrix.stopped_after[host], f"{where}: services not running: {matrix.stopped_after[host]}"
    if case.recovery == "services":
        # nothing but the services changed: no disk swap (the VM runs on the same OS disk, ARM state)
        assert matrix.os_disk_after[host] == matrix.os_disk_before[host], f"{where}: the OS disk was swapped"
        assert host_report["rollback"].get("recovery") == "services", f"{where}: {host_report['rollback']}"
    elif case.recovery == "full":
        assert matrix.os_disk_after[host] != matrix.os_disk_before[host], f"{where}: the OS disk was not swapped"
        assert host_report["rollback"].get("restored_disk"), f"{where}: {host_report['rollback']}"

    post = {c["name"]: c for c in host_report["checks"] if c.get("phase") == "post_verify"}
    for name in case.pre_existing:
        assert post.get(name, {}).get("baseline") == "pre-existing", (
            f"{where}: {name} not pre-existing: {post.get(name)}"
        )
        assert post[name]["status"] == "warn" and not post[name]["blocking"], where
    for name in case.regressions:
        assert post.get(name, {}).get("baseline") == "regression", f"{where}: {name} not a regression: {post.get(name)}"
    for table, match, want in case.sql_after:
        match = {k: _resolve(v, matrix.lab, host) for k, v in match.items()}
        found = [r for r in matrix.sql_after[host]["SysAdminTenant"][table] if all(r[k] == v for k, v in match.items())]
        assert len(found) == 1 and all(found[0][k] == v for k, v in want.items()), f"{where}: {table} {match}: {found}"
    state = matrix.lab.state()
    for path, predicate in case.lab_state:
        value = state
        for key in path:
            value = (value or {}).get(_resolve(key, matrix.lab, host))
        assert STATE_PREDICATES[predicate](value), f"{where}: lab state {path} = {value!r} is not {predicate}"

    text = json.dumps(host_report)
    for name in case.report_names:
        name = _resolve(name, matrix.lab, host)
        assert name in text, f"{where}: the report does not name {name!r}"
    for name in case.reason_absent:
        name = _resolve(name, matrix.lab, host)
        assert name not in (host_report.get("final_state_reason") or ""), f"{where}: the reason names {name!r}"
    for name in case.stdout_names:
        assert name in matrix.stdout, f"{where}: the output does not show {name!r}"


def render_doc(run: MatrixRun) -> str:
    lines = [
        "# Reliability: the fault matrix",
        "",
        "Generated by `UMP365_WRITE_RELIABILITY_DOC=1 python -m pytest tests/reliability/test_fault_matrix.py`",
        "from one `playbooks/upgrade.yml` run on a UMP lab with one host per case (tests/reliability/cases.py);",
        "`make test` fails when this table is stale. Each case also asserts the versions (upgraded: the",
        f"target {TARGET}; otherwise {OLD}, verified by the rollback), the customer databases' rows, the files",
        "under C:\\acs (unchanged unless upgraded), one snapshot per host past the snapshot, and that the run report",
        "names the fault. Nine of wyUpdate's 26 steps fail here; `UMP365_MATRIX_ALL_STEPS=1` adds a host for",
        "each other step (not in `make test`; do not regenerate this file with it). Crash and resume:",
        "tests/reliability/test_crash_resume.py.",
        "",
        "| case | fault | expected end state | recovery | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for case in CASES:
        observed = _observed(run, case)
        mark = "pass" if observed == case.expected else "FAIL"
        fault = case.description.replace("|", "\\|")
        rec = case.recovery or "-"
        lines.append(f"| `{case.name}` | {fault} | {case.expected} | {rec} | {observed} ({mark}) |")
    lines += [
        "",
        "End states: `upgraded` (at the target and verified), `rolled_back` (recovered and verified at the old",
        "version), `stopped_before_change` (a gate failed before anything on the host changed). Recovery of a",
        "rolled-back host: `services` (wyUpdate changed nothing: services started again, the OS disk unchanged",
        "in the lab's ARM state), `full` (OS disk swapped to the attempt's snapshot, backend database restored).",
        "Further lab cases (extensions/molecule/rollback): a rerun after a rollback takes a new snapshot and a",
        "second failure restores that one; rollback.yml without --limit is refused; rollback.yml on a backend-SQL",
        "host restores its databases and verifies the old version; cleanup.yml keeps the snapshot a live",
        "checkpoint needs.",
        "",
    ]
    return "\n".join(lines)


def test_reliability_doc_is_current(matrix: MatrixRun):
    if ONLY:
        pytest.skip("UMP365_MATRIX_ONLY runs a subset of the matrix; the doc is written from all of it")
    text = render_doc(matrix)
    if os.environ.get("UMP365_WRITE_RELIABILITY_DOC") == "1":
        DOC.write_text(text)
    assert DOC.exists() and DOC.read_text() == text, (
        "docs/reliability.md is stale: regenerate it with "
        "UMP365_WRITE_RELIABILITY_DOC=1 python -m pytest tests/reliability/test_fault_matrix.py"
    )
