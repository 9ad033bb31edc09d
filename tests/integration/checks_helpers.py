"""Helpers for the checks integration tests: run a playbook with its own report and checkpoint dirs, read
the run report's checks per host, and change the lab's SysAdminTenant database directly."""

from __future__ import annotations

import glob
import json
import re
import sqlite3
from pathlib import Path

TARGET = "8.0.515"
NEW_SERVICES = ("SysAdmin.QuickReplicationCycleWorker", "SysAdmin.UMP.Watchdog", "SysAdmin.SyncAcquiredNumber")


def run(lab, playbook: str, tmp: Path, name: str, *args: str, extra_vars: dict | None = None):
    """Run ``playbook``; returns (process, report dict). Each run writes its report to ``tmp/reports``."""
    reports = tmp / "reports"
    ev = {"ump_checkpoint_dir": str(tmp / "checkpoints"), "ump_report_dir": str(reports)}
    ev.update(extra_vars or {})
    proc = lab.playbook(
        playbook,
        *args,
        extra_vars=ev,
        env={"UMP365_REPORT_DIR": str(reports), "UMP365_REPORT_RUN_ID": name},
    )
    with open(reports / f"{name}.json") as f:
        report = json.load(f)
    return proc, report


def recap(proc) -> dict[str, dict[str, int]]:
    """The PLAY RECAP of a run: host -> {ok, changed, unreachable, failed, skipped, rescued, ignored}."""
    out = {}
    lines = proc.stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("PLAY RECAP"))
    for line in lines[start + 1 :]:
        m = re.match(r"^(\S+)\s*:\s*((?:\w+=\d+\s*)+)$", line.strip())
        if not m:
            if out:
                break
            continue
        out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return out


def checks(report: dict, host: str) -> dict[str, dict]:
    return {c["name"]: c for c in report["hosts"][host]["checks"]}


def statuses(report: dict, host: str, status: str) -> set[str]:
    return {n for n, c in checks(report, host).items() if c["status"] == status}


def db(lab, ump_host: str, database: str = "SysAdminTenant") -> sqlite3.Connection:
    """The SQLite file behind ``ump_host``'s SysAdminTenant, or another of its databases such as a customer's
    ``SysAdmin<short>`` (on its SQL host's current OS disk)."""
    sql_host = lab.state()["hosts"][ump_host].get("sql_host", ump_host)
    files = glob.glob(str(lab.state_dir / "disks" / f"*_{sql_host.lower()}_osdisk_*" / f"{database}.sqlite"))
    assert len(files) == 1, files
    return sqlite3.connect(files[0])


def sql(lab, ump_host: str, statement: str, params: tuple = (), database: str = "SysAdminTenant") -> None:
    conn = db(lab, ump_host, database)
    try:
        with conn:
            conn.execute(statement, params)
    finally:
        conn.close()


def rows(lab, ump_host: str, query: str, params: tuple = (), database: str = "SysAdminTenant") -> list[tuple]:
    conn = db(lab, ump_host, database)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def make_upgraded(lab, host: str, ovoc_ip: str | None = None) -> None:
    """What a finished upgrade leaves: versions, the 8.0.450 services running, ApiAllowedIps with OVOC."""
    for setting in ("SysAdminKitVersion", "MultiTenantVersion"):
        sql(lab, host, "UPDATE ApplicationSetting SET Value = ? WHERE Name = ?", (TARGET, setting))
    sql(lab, host, "UPDATE Customer SET Version = ?", (TARGET,))
    if ovoc_ip:
        sql(
            lab,
            host,
            "UPDATE ApplicationSetting SET Value = ? WHERE Name = 'ApiAllowedIps'",
            (f'["169.254.0.1","{ovoc_ip}"]',),
        )
    template = lab.host_state(host)["services"]["SysAdmin.TenantSvc"]
    for name in NEW_SERVICES:
        lab.set_host_state(host, ["services", name], dict(template, display_name=name))
