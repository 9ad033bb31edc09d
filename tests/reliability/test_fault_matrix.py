"""The fault matrix (issue 13): a lab with one host per fault case, the upgrade run over them all (as four fleet
runs at once, MATRIX_RUNS), then per case its end state, versions, customer databases, files under C:\\acs and the report's naming of the fault.

Regenerate docs/reliability.md from a run: ``UMP365_WRITE_RELIABILITY_DOC=1 python -m pytest
tests/reliability/test_fault_matrix.py``; ``test_reliability_doc_is_current`` fails when it is stale.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from umplab.windows import services as scm
from umplab.windows.ump import NEW_SERVICES

from tests.conftest import REPO, Lab
from tests.integration.checks_helpers import sql as sql_exec
from tests.reliability import scenario_cases
from tests.reliability.cases import (
    CASES,
    NO_MARKER_YET,
    REPORT_STATE,
    ROLLBACK_FAILED,
    ROLLED_BACK,
    STATE_PREDICATES,
    STOPPED,
    UPGRADED,
    WYUPDATE_STEPS,
    Case,
    assign_hosts,
)
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
# the hosts whose backend databases share one SQL Server machine (lab option --shared-sql-hosts)
SHARED_SQL_HOSTS = tuple(sorted(HOSTS[c.name] for c in CASES if c.sql == "shared"))
DOC = REPO / "docs" / "reliability.md"
# the matrix's hosts run as this many fleet runs at once (UMP365_MATRIX_RUNS overrides; 1: one run of all)
MATRIX_RUNS = int(os.environ.get("UMP365_MATRIX_RUNS", "4"))


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
    # from the lab's ARM state at the end: the VM's power state, its OS disk resource, and the disks the run
    # made that are attached to nothing
    power_after: dict[str, str]
    os_disk_resource_after: dict[str, dict]
    unattached_new_disks: dict[str, list[str]]
    service_stops: dict[str, int]
    # the checkpoint file's text before and after the run (None: no file), of the hosts whose case says the run
    # must leave it untouched
    checkpoints_before: dict[str, str | None]
    checkpoints_after: dict[str, str | None]


def _resolve(value, lab: Lab, host: str):
    if isinstance(value, str) and "@host" in value and value != "@host":
        return value.replace("@host", host)
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
    if isinstance(value, str):
        if "_customer" in value:
            customers = lab.host_state(host)["ump"]["customers"]
            value = value.replace("@last_customer", customers[-1]).replace("@first_customer", customers[0])
        return value.replace("@target", TARGET).replace("@old", OLD).replace("@host", host)
    if isinstance(value, dict):
        return {k: _resolve(v, lab, host) for k, v in value.items()}
    return value


def _checkpoint(ckpt_dir: Path, host: str, phases: dict) -> None:
    """A checkpoint as an earlier run (another lab, same host name and target) left it."""
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    data = {"host": host, "run_id": TARGET, "created": "2026-11-01T08:00:00Z", "updated": "2026-11-01T09:00:00Z"}
    data["phases"] = {k: {"status": "done", "started": "2026-11-01T08:00:00Z", **v} for k, v in phases.items()}
    (ckpt_dir / f"{host}__{TARGET}.json").write_text(json.dumps(data, indent=1))


def _earlier_run(lab: Lab, host: str, *, upgraded: bool) -> dict:
    """The phases of an earlier lab's run on a host of the same name; its snapshot is not in this lab's ARM."""
    vm_id = lab.state()["hosts"][host].get("vm_id", "")
    rg_id = vm_id.split("/providers/")[0]
    name = f"{host}-{OLD}-to-{TARGET}-a20261101T080000Z"
    phases = {
        "attempt": {"outputs": {"id": "a20261101T080000Z", "number": 1, "started": "2026-11-01T08:00:00Z"}},
        "preflight": {"outputs": {"versions_before": {"sysadminkit": OLD, "multitenant": OLD}}},
        "services_stop": {},
        "snapshot": {
            "outputs": {
                "snapshot_id": f"{rg_id}/providers/Microsoft.Compute/snapshots/{name}",
                "snapshot_name": name,
                "attempt": "a20261101T080000Z",
            }
        },
    }
    if upgraded:
        phases.update({p: {} for p in ("wyupdate", "customer_upgrade", "services_start", "post_verify")})
        phases["outcome"] = {"outputs": {"result": UPGRADED, "reason": "", "attempt": "a20261101T080000Z"}}
    return phases


def _at_target(lab: Lab, host: str) -> None:
    """The host and its customers already at the target (as a finished upgrade leaves them): SysAdminKit and
    MultiTenant, version.txt files, and the SysAdminTenant rows the portal reads."""
    st = lab.host_state(host)
    for comp in ("SysAdminKit", "MultiTenant"):
        lab.set_host_state(host, ["ump", "components", comp], TARGET)
    # the services wyUpdate's SetServices creates, running (lab/umplab/windows/ump.py)
    for name in ["SysAdmin.PeeringSvc", *NEW_SERVICES]:
        svc = scm.new_service(name, f"C:\\acs\\SysAdminKit\\{name}.exe")
        lab.set_host_state(host, ["services", name], {**svc, "state": "running"})
    for key, entry in st["files"].items():
        if key == "c:\\acs\\sysadminkit\\version.txt" or (
            key.startswith("c:\\acs\\tenants\\") and key.endswith("\\version.txt")
        ):
            text = TARGET + "\n"
            lab.set_host_state(host, ["files", key], {**entry, "content": text, "size": len(text)})
    sql_exec(
        lab,
        host,
        "UPDATE ApplicationSetting SET Value = ? WHERE Name IN ('SysAdminKitVersion', 'MultiTenantVersion')",
        (TARGET,),
    )
    sql_exec(lab, host, "UPDATE Customer SET Version = ?", (TARGET,))


PREPARE = {
    "checkpoint_snapshot_done": lambda lab, host, d: _checkpoint(d, host, _earlier_run(lab, host, upgraded=False)),
    "checkpoint_upgraded": lambda lab, host, d: _checkpoint(d, host, _earlier_run(lab, host, upgraded=True)),
    "at_target": lambda lab, host, d: _at_target(lab, host),
}


def _sql_host(lab: Lab, host: str) -> str:
    return lab.state()["hosts"][host].get("sql_host", host)


def _os_disk(state: dict, host: str) -> str:
    """The ARM id of the OS disk the host's VM runs on, from the lab's ARM state."""
    vm_name = state["hosts"][host].get("name", host)
    for r in state["azure"]["resources"].values():
        if r["type"] == "Microsoft.Compute/virtualMachines" and r["name"] == vm_name:
            return r["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
    return ""


def _vm(state: dict, host: str) -> dict:
    vm_name = state["hosts"][host].get("name", host)
    for r in state["azure"]["resources"].values():
        if r["type"] == "Microsoft.Compute/virtualMachines" and r["name"] == vm_name:
            return r
    return {}


def _power(state: dict, host: str) -> str:
    """The VM's power state in the lab's ARM state (a VM the lab never stopped runs)."""
    vm_id = _vm(state, host).get("id", "")
    power = state["azure"].get("power", {})
    return next((v for k, v in power.items() if k.lower() == vm_id.lower()), "running")


def _disk(state: dict, disk_id: str) -> dict:
    return next(
        (r for r in state["azure"]["resources"].values() if r.get("id", "").lower() == disk_id.lower()),
        {},
    )


def _disks(state: dict, host: str) -> dict[str, dict]:
    """The managed disks in the host's resource group, by lower-case id."""
    rg = state["hosts"][host].get("resource_group", "").lower()
    return {
        r["id"].lower(): r
        for r in state["azure"]["resources"].values()
        if r["type"] == "Microsoft.Compute/disks" and f"/resourcegroups/{rg}/" in r["id"].lower()
    }


def _stopped_ump_services(host_state: dict) -> list[str]:
    return sorted(
        n
        for n, s in host_state["services"].items()
        if (n.lower().startswith("sysadmin") or n.lower() == "w3svc") and s.get("state") != "running"
    )


def _checkpoint_text(ckpt_dir: Path, host: str) -> str | None:
    path = ckpt_dir / f"{host}__{TARGET}.json"
    return path.read_text() if path.exists() else None


def _outcome(ckpt_dir: Path, host: str) -> str:
    text = _checkpoint_text(ckpt_dir, host)
    if text is None:
        return "no checkpoint"
    return json.loads(text)["phases"].get("outcome", {}).get("outputs", {}).get("result", "no outcome")


def _host_groups(hosts: dict[str, str], shared_sql: tuple[str, ...], runs: int) -> list[list[str]]:
    """The matrix's hosts dealt in case order into ``runs`` groups, one fleet run each; the hosts that share a
    SQL Server machine stay in one group (one run serialises what must not run at once on that server)."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(runs, len(hosts))))]
    if shared_sql:
        groups[0] += sorted(shared_sql)
    for host in (h for h in hosts.values() if h not in shared_sql):
        min(groups, key=len).append(host)
    return [sorted(g) for g in groups if g]


def _fleet_runs(lab: Lab, groups: list[list[str]]) -> list[tuple[int, str, dict]]:
    """``playbooks/upgrade.yml`` over each group at once, as separate ansible-playbook runs (each with its own
    report folder). One run over all 52 hosts used 1.3 CPUs of two (each task waits for its slowest host) and took
    711 s; four runs of 13 took 491 s and less CPU (smaller controller processes to fork). Returns (rc, output,
    run report) per run."""
    procs = []
    for i, hosts in enumerate(groups):
        report_dir = lab.state_dir / f"reports-run{i}"
        cmd = lab.playbook_command(
            "playbooks/upgrade.yml",
            "-l",
            ",".join(hosts),
            extra_vars={"ump_upgrade_batches": ["100%"], "ump_max_fail_percentage": 100, **FAST_WAITS},
        )
        out = (lab.state_dir / f"matrix-run{i}.log").open("w+")
        env = lab.env(UMP365_REPORT_DIR=str(report_dir))
        procs.append((subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env), out))
    runs = []
    for i, (proc, out) in enumerate(procs):
        try:
            rc = proc.wait(timeout=2400)
        except subprocess.TimeoutExpired:
            for p, _ in procs:
                p.kill()
            raise
        out.seek(0)
        # the run report is <run id>.json, run id upgrade-<UTC start> (docs/report.md); other JSON files share
        # the folder (preflight's <host>_password_customers.json)
        reports = sorted((lab.state_dir / f"reports-run{i}").glob("upgrade-*.json"))
        runs.append((rc, out.read(), json.loads(reports[-1].read_text()) if reports else {}))
        out.close()
    return runs


@pytest.fixture(scope="module")
def matrix(own_lab) -> MatrixRun:
    lab = own_lab(max(int(h[3:]) for h in HOSTS.values()), shared_sql_hosts=SHARED_SQL_HOSTS)
    state = lab.state()
    ckpt_dir = lab.state_dir / "checkpoints"
    for case in CASES:
        host = HOSTS[case.name]
        for path, value in case.host_state:
            lab.set_host_state(host, [_resolve(p, lab, host) for p in path], _resolve(copy.deepcopy(value), lab, host))
        for statement, params in case.sql_before:
            sql_exec(lab, host, statement, tuple(_resolve(v, lab, host) for v in params))
        if case.prepare:
            PREPARE[case.prepare](lab, host, ckpt_dir)
        for fault in case.faults:
            target = _sql_host(lab, host) if fault.on_sql_host else host
            params = {k: _resolve(v, lab, host) for k, v in fault.params.items()}
            lab.fault(fault.name, host=target, **params)
    state = lab.state()
    sql_hosts = {h: state["hosts"][h].get("sql_host", h) for h in HOSTS.values()}
    sql_before = {h: copy.deepcopy(state["sql_dump"][s]) for h, s in sql_hosts.items()}
    files_before = {h: acs_files(lab.host_state(h)) for h in HOSTS.values()}
    os_disk_before = {h: _os_disk(state, h) for h in HOSTS.values()}
    disks_before = {h: set(_disks(state, h)) for h in HOSTS.values()}
    untouched = [HOSTS[c.name] for c in CASES if c.checkpoint_untouched]
    checkpoints_before = {h: _checkpoint_text(ckpt_dir, h) for h in untouched}

    runs = _fleet_runs(lab, _host_groups(HOSTS, SHARED_SQL_HOSTS, MATRIX_RUNS))
    state = lab.state()
    snaps: dict[str, int] = {}
    for r in state["azure"]["resources"].values():
        if r["type"] == "Microsoft.Compute/snapshots":
            snaps[r["name"].split("-")[0]] = snaps.get(r["name"].split("-")[0], 0) + 1
    counters = lab.counters()
    return MatrixRun(
        lab=lab,
        rc=max(rc for rc, _, _ in runs),
        stdout="\n".join(out for _, out, _ in runs),
        # each host's report is its run's (the runs' reports hold disjoint hosts)
        report={"hosts": {h: r for _, _, rep in runs for h, r in rep.get("hosts", {}).items()}}
        if all(rep for _, _, rep in runs)
        else {},
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
        power_after={h: _power(state, h) for h in HOSTS.values()},
        os_disk_resource_after={h: _disk(state, _os_disk(state, h)) for h in HOSTS.values()},
        unattached_new_disks={
            h: sorted(
                d["name"]
                for i, d in _disks(state, h).items()
                if i not in disks_before[h] and not d.get("managedBy") and i != _os_disk(state, h)
            )
            for h in HOSTS.values()
        },
        service_stops={h: int(counters.get(f"winhost.service_stops.{h}", 0)) for h in HOSTS.values()},
        checkpoints_before=checkpoints_before,
        checkpoints_after={h: _checkpoint_text(ckpt_dir, h) for h in untouched},
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
    host = HOSTS[case.name]
    outcome = run.outcomes[host]
    if not case.checkpoint_untouched:
        return outcome
    # the run wrote nothing into the checkpoint (neither an attempt nor an outcome); the end state is the report's
    if run.checkpoints_before[host] != run.checkpoints_after[host]:
        return f"checkpoint written ({outcome})"
    return (run.report or {}).get("hosts", {}).get(HOSTS[case.name], {}).get("final_state", "no report")


def _retry_lines(node) -> list[str]:
    """Every retry the report records, as "<operation>: <code>" (a case's marker can name one)."""
    out: list[str] = []
    if isinstance(node, dict):
        if "operation" in node and "code" in node:
            out.append(f"{node['operation']}: {node['code']}")
        for v in node.values():
            out += _retry_lines(v)
    elif isinstance(node, list):
        for v in node:
            out += _retry_lines(v)
    return out


def _report_text(host_report: dict) -> str:
    """All of a host's report as searchable text: its JSON, unescaped strings, and its retries."""
    strings: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                strings.append(str(k))
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        else:
            strings.append(str(node))

    walk(host_report)
    return "\n".join(strings + _retry_lines(host_report.get("retries", [])))


def _reason_text(host_report: dict) -> str:
    """What a host that did not upgrade says about why: its reason and its failure messages."""
    return "\n".join(
        [host_report.get("final_state_reason") or ""]
        + [str(f.get("msg", "")) for f in host_report.get("failures", [])]
        + [str((host_report.get("rollback") or {}).get("reason", ""))]
    )


def test_every_case_names_a_marker():
    """Each case names a text of its own fault (Case.marker): the matrix checks it on its host only."""
    missing = {c.name for c in CASES if not c.marker}
    known = set(NO_MARKER_YET) & {c.name for c in CASES}
    assert missing == known, f"cases without a marker (Case.marker): {sorted(missing - known)}; " + (
        f"with one now, remove from NO_MARKER_YET: {sorted(known - missing)}" if known - missing else ""
    )


@pytest.mark.parametrize("case", [c for c in CASES if c.marker], ids=[c.name for c in CASES if c.marker])
def test_fault_named_on_its_host_only(matrix: MatrixRun, case: Case):
    host = HOSTS[case.name]
    marker = _resolve(case.marker, matrix.lab, host)
    assert matrix.report, f"no run report:\n{matrix.stdout[-4000:]}"
    own = matrix.report["hosts"][host]
    where = f"{case.name} on {host}"
    in_reason = case.expected != UPGRADED and not case.marker_anywhere
    text = _reason_text(own) if in_reason else _report_text(own)
    assert marker in text, f"{where}: {marker!r} is not in {'its reason' if in_reason else 'its report'}"
    shared = {HOSTS[n] for n in case.marker_shared_with if n in HOSTS}
    others = [
        h for h, r in matrix.report["hosts"].items() if h != host and h not in shared and marker in _report_text(r)
    ]
    assert not others, f"{where}: {marker!r} is also in the report of {others}"


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
    assert host_report["final_state"] == REPORT_STATE.get(case.expected, case.expected), where

    # from the lab's ARM state, whatever the end: the VM runs, on an OS disk that exists, is attached to it and
    # Succeeded; the run left no disk it made attached to nothing (unless the case expects one, named in the
    # report for cleanup)
    state = matrix.lab.state()
    vm_id = _vm(state, host).get("id", "")
    assert matrix.power_after[host] == "running", f"{where}: the VM is {matrix.power_after[host]}"
    disk = matrix.os_disk_resource_after[host]
    assert disk, f"{where}: the VM's OS disk {matrix.os_disk_after[host]} does not exist"
    assert (disk.get("managedBy") or "").lower() == vm_id.lower(), (
        f"{where}: OS disk managed by {disk.get('managedBy')}"
    )
    assert disk["properties"].get("provisioningState") == "Succeeded", f"{where}: OS disk {disk['properties']}"
    leftover = matrix.unattached_new_disks[host]
    if case.leftover_disk:
        assert leftover, f"{where}: no disk made by the run is left unattached"
        for name in leftover:
            assert name in _reason_text(host_report), f"{where}: the report does not name the left disk {name}"
    else:
        assert not leftover, f"{where}: disks made by the run are attached to nothing: {leftover}"

    if case.expected == ROLLBACK_FAILED:
        reason = host_report.get("final_state_reason") or ""
        assert "MANUAL ACTION REQUIRED" in reason, f"{where}: {reason}"
        assert f"playbooks/rollback.yml --limit {host}" in reason, f"{where}: {reason}"
        # the state it names is the lab's: services started or not
        assert ("UMP services NOT started" in reason) == bool(matrix.stopped_after[host]), (
            f"{where}: lab services stopped: {matrix.stopped_after[host]}; reason: {reason}"
        )
        if case.os_disk == "restored":
            assert matrix.os_disk_after[host] != matrix.os_disk_before[host], f"{where}: the OS disk was not swapped"
            assert matrix.versions_after[host] == OLD, where
            assert matrix.files_after[host] == matrix.files_before[host], f"{where}: files under C:\\acs changed"
        elif case.os_disk == "kept":
            assert matrix.os_disk_after[host] == matrix.os_disk_before[host], f"{where}: the OS disk was swapped"
        if case.sql != "local" and "backend databases NOT restored" in reason:
            # the manual action names every backup file the lab's SQL Server holds for this attempt
            bak = [
                v["path"]
                for k, v in matrix.lab.host_state(_sql_host(matrix.lab, host))["files"].items()
                if k.endswith(".bak")
            ]
            assert bak and all(b in reason or b.split("\\")[-1] in reason for b in bak), f"{where}: {bak}; {reason}"
    elif case.expected == UPGRADED:
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
        assert matrix.snapshots.get(host, 0) == case.snapshots, (
            f"{where}: {matrix.snapshots.get(host, 0)} snapshots in the lab's ARM, expected {case.snapshots}"
        )
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
    if case.expected == ROLLBACK_FAILED:
        pass  # the OS disk: case.os_disk, above
    elif case.recovery == "services":
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
    if case.sql == "shared":
        # the lab's layout: the shared cases' hosts' databases are on one SQL Server machine
        machines = {
            state["hosts"][_sql_host(matrix.lab, HOSTS[c.name])].get("machine") for c in CASES if c.sql == "shared"
        }
        assert len(machines) == 1 and None not in machines, f"{where}: SQL machines {machines}"
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
        name = _resolve(name, matrix.lab, host)
        assert name in matrix.stdout, f"{where}: the output does not show {name!r}"
    for name in case.stdout_absent:
        name = _resolve(name, matrix.lab, host)
        assert name not in matrix.stdout, f"{where}: the output shows {name!r}"
    if case.services_stopped is False:
        assert matrix.service_stops[host] == 0, f"{where}: the lab stopped {matrix.service_stops[host]} services"


def _failed_steps() -> set[str]:
    return {f.params["step"] for c in CASES for f in c.faults if f.name == "wyupdate.fail_step"}


def render_doc(run: MatrixRun) -> str:
    lines = [
        "# Reliability: the fault matrix",
        "",
        "Generated by `UMP365_WRITE_RELIABILITY_DOC=1 python -m pytest tests/reliability/test_fault_matrix.py`",
        "from one `playbooks/upgrade.yml` run on a UMP lab with one host per case (tests/reliability/cases.py);",
        "`make test` fails when this table is stale. Each case also asserts the versions (upgraded: the",
        f"target {TARGET}; otherwise {OLD}, verified by the rollback), the customer databases' rows, the files",
        "under C:\\acs (unchanged unless upgraded), one snapshot per host past the snapshot, and that the run report",
        "names the fault; from the lab's ARM state, that the VM runs on an OS disk that exists, is attached to it and",
        "is Succeeded, and that no disk the run made is left attached to nothing (unless the case expects one and the",
        "report names it); and that the case's marker is in its host's reason and in no other host's report.",
        f"{len(_failed_steps())} of wyUpdate's {len(WYUPDATE_STEPS)} steps fail here; `UMP365_MATRIX_ALL_STEPS=1` adds a host for",
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
        "version), `stopped_before_change` (a gate failed before anything on the host changed), `rollback_failed`",
        "(the rollback itself failed: the report's final state is `failed` and its reason says MANUAL ACTION",
        "REQUIRED, the state left in and what to run; docs/operator-guide.md). Recovery of a",
        "rolled-back host: `services` (wyUpdate changed nothing: services started again, the OS disk unchanged",
        "in the lab's ARM state), `full` (OS disk swapped to the attempt's snapshot, backend database restored).",
        "",
    ]
    lines += scenario_cases.doc_lines()
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
