"""The fault matrix (issue 13): one lab host per case, each with its own faults, one upgrade run over all.

A case names the faults to inject (``host=`` is added: the case's host, or its backend SQL server for
``sql_host`` faults), the lab host state to set before the run, the end state the upgrade must reach
(``upgraded``, ``rolled_back`` or ``stopped_before_change``) and texts the run report must name for that host.

``sql`` asks for a host whose SysAdminTenant lives on a backend SQL server (``backend``: the lab's
even-numbered hosts, which run the sql_backup phase and restore the database on rollback) or on the
host itself (``local``: odd-numbered hosts).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from umplab.windows.ump import STEPS

UPGRADED = "upgraded"
ROLLED_BACK = "rolled_back"
STOPPED = "stopped_before_change"


@dataclass(frozen=True)
class Fault:
    name: str
    params: dict = field(default_factory=dict)
    on_sql_host: bool = False  # narrow to the case host's SQL server instead of the host itself


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    faults: tuple[Fault, ...]
    expected: str
    report_names: tuple[str, ...]
    sql: str = "any"  # any | local | backend
    host_state: tuple[tuple[tuple[str, ...], object], ...] = ()
    stdout_names: tuple[str, ...] = ()  # texts the playbook's output must show (a task only this host runs)
    # rolled back: which recovery ran (services: services started, no disk swap; full: OS disk swapped);
    # "" = not asserted
    recovery: str = ""
    # a step before the run that the host state cannot express (tests/reliability/test_fault_matrix.py
    # PREPARE): a checkpoint left in the matrix's checkpoint directory, a host already at the target
    prepare: str = ""
    # the number of this host's snapshots in the lab's ARM after the run (None: one past the snapshot phase)
    snapshots: int | None = None
    # False: the lab never stopped one of the host's services during the run (its per-host counter)
    services_stopped: bool | None = None
    stdout_absent: tuple[str, ...] = ()  # texts the playbook's output must not show


def _step(step: str) -> Fault:
    return Fault("wyupdate.fail_step", {"step": step})


# wyUpdate's steps (lab/umplab/windows/ump.py STEPS, the guide's order). The matrix fails nine of them (six
# below, three more under ARM faults during the restore); UMP365_MATRIX_ALL_STEPS=1 adds a case for every
# other step too (17 more hosts, about twice the run time).
WYUPDATE_STEPS = list(STEPS)

_STEP_CASES = {
    # step: sql placement (backend where the step runs after RunSqlScripts changed the backend database)
    "ClearWyupdateLog": "local",
    "CheckSQLConn": "backend",
    "renameSysAdminKitFolder": "backend",
    "RunSqlScripts": "backend",
    "InstallRabbitmq": "backend",
    "Refresh_EMSCClientAgent_ignoreList": "local",
}

# wyUpdate's steps before its first change (roles/upgrade/vars/main.yml upgrade_wyupdate_steps_without_change)
_NO_CHANGE_STEPS = {
    "ClearWyupdateLog",
    "CheckDuplicates",
    "CheckSQLConn",
    "UmpAdmins",
    "ClearUpgradefolderSQLscripts",
    "CheckServices",
}

CASES: list[Case] = [
    Case(
        f"wyupdate_{step}_fails",
        f"wyUpdate step {step} fails"
        + (" (a check: nothing changed, services restored, no disk swap)" if step in _NO_CHANGE_STEPS else ""),
        (_step(step),),
        ROLLED_BACK,
        (step,),
        sql=sql,
        recovery="services" if step in _NO_CHANGE_STEPS else "full",
    )
    for step, sql in _STEP_CASES.items()
]

CASES += [
    Case(
        "arm_429_during_restore",
        "wyUpdate step SetServices fails; ARM answers 429 to the first two disk writes of the restore",
        (_step("SetServices"), Fault("arm.429", {"op": "disks.write", "times": 2})),
        ROLLED_BACK,
        ("SetServices", "TooManyRequests"),
        sql="local",
        recovery="full",
    ),
    Case(
        "arm_409_during_restore",
        "wyUpdate step AddAuthPool fails (after RunSqlScripts); ARM answers 409 to the first VM write (the swap)",
        (_step("AddAuthPool"), Fault("arm.409", {"op": "virtualMachines.write", "times": 1})),
        ROLLED_BACK,
        ("AddAuthPool", "OperationNotAllowed"),
        sql="backend",
        recovery="full",
    ),
    Case(
        "arm_500_during_restore",
        "wyUpdate step RunCheckAzureTenantId_220 fails; ARM answers 500 to the first disk write of the restore",
        (_step("RunCheckAzureTenantId_220"), Fault("arm.500", {"op": "disks.write", "times": 1})),
        ROLLED_BACK,
        ("RunCheckAzureTenantId_220", "InternalServerError"),
        sql="local",
        recovery="full",
    ),
    Case(
        "arm_429_during_snapshot",
        "ARM answers 429 to the first two snapshot writes",
        (Fault("arm.429", {"op": "snapshots.write", "times": 2}),),
        UPGRADED,
        ("TooManyRequests", "create snapshot"),
    ),
    Case(
        "arm_409_during_snapshot",
        "ARM answers 409 (conflicting writes) to the first snapshot write",
        (Fault("arm.409", {"op": "snapshots.write", "times": 1}),),
        UPGRADED,
        ("OperationNotAllowed", "create snapshot"),
    ),
    Case(
        "arm_500_during_snapshot",
        "ARM answers 500 to the first snapshot write",
        (Fault("arm.500", {"op": "snapshots.write", "times": 1}),),
        UPGRADED,
        ("InternalServerError", "create snapshot"),
    ),
    Case(
        "snapshot_ends_failed",
        "the snapshot is accepted and its operation ends Failed (after the services stopped: services restored)",
        (Fault("arm.snapshot_failed"),),
        ROLLED_BACK,
        ("azure create snapshot failed", "no disk swap"),
        recovery="services",
    ),
    Case(
        "service_will_not_stop",
        "SysAdmin.TenantSvc cannot be stopped: services restored, no disk swap",
        (Fault("winhost.service_wont_stop", {"service": "SysAdmin.TenantSvc"}),),
        ROLLED_BACK,
        ("SysAdmin.TenantSvc", "cannot be stopped", "no disk swap"),
        recovery="services",
    ),
    Case(
        "service_restarts_itself",
        "every UMP service with recovery 'restart' comes back after it is stopped",
        (Fault("winhost.service_restarts"),),
        UPGRADED,
        ("services_came_back_after_stop",),
    ),
    Case(
        "winrm_dropped_during_wyupdate",
        "WinRM drops the connection twice while the controller polls the wyUpdate job",
        (Fault("winhost.drop", {"module": "async_status", "times": 2}),),
        UPGRADED,
        ("connection_lost", "WinRM connection lost while waiting for wyUpdate"),
    ),
    Case(
        "winrm_dropped_during_services_stop",
        "WinRM drops the connection while the UMP services are being stopped (the stop still happens)",
        # services_method batch (the default) stops them with one win_shell command, the flow's only win_shell
        (Fault("winhost.drop", {"module": "win_shell", "times": 1}),),
        UPGRADED,
        ("connection_lost", "WinRM connection lost while setting"),
    ),
    Case(
        "wyupdate_already_running",
        "another wyUpdate instance is running (a crashed run's): the first start exits 4",
        (Fault("wyupdate.already_running", {"times": 1}),),
        UPGRADED,
        (),
        stdout_names=("TASK [ump365.upgrade.wyupdate_steps : Start wyUpdate again]",),
    ),
    Case(
        "customer_upgrade_stuck",
        "one customer prints Upgrading and never finishes",
        (Fault("customer_upgrade.stuck", {"customer": "@first_customer"}),),
        ROLLED_BACK,
        ("@first_customer", "stuck"),
        recovery="full",
    ),
    Case(
        "replication_queue_never_empties",
        "the replication queue keeps an executing Sync command",
        (Fault("ump_api.replication_backlog", {"executing": 1, "queued": 3, "reads": 100000}),),
        STOPPED,
        ("replication_queue_empty",),
    ),
    Case(
        "wrong_collation",
        "SQL Server's collation is Latin1_General_CI_AS",
        (Fault("sql.wrong_collation", on_sql_host=True),),
        STOPPED,
        ("sql_collation", "Latin1_General_CI_AS"),
    ),
    Case(
        "open_files_under_acs",
        "a file under C:\\acs is held open by another process (the preflight gate finds it)",
        (),
        STOPPED,
        ("no_open_files", "SysAdmin.TenantSvc.exe"),
        host_state=(
            (("open_files",), [{"path": "C:\\acs\\SysAdminKit\\SysAdmin.TenantSvc.exe", "process": "notepad.exe"}]),
        ),
    ),
    Case(
        "sql_down_before_backup",
        "the backend SQL Server does not answer from the start",
        (Fault("sql.down", on_sql_host=True),),
        STOPPED,
        ("@sql_host",),
        sql="backend",
    ),
    Case(
        "sql_down_after_backup",
        "the backend SQL Server goes down once the backup is taken (for 3 connection attempts)",
        (Fault("sql.down", {"after_backup": "true", "times": 3}, on_sql_host=True),),
        ROLLED_BACK,
        ("CheckSQLConn", "@sql_host"),
        sql="backend",
        recovery="services",
    ),
    Case(
        "ovoc_disconnected_after_upgrade",
        "OVOC shows the UMP device Disconnected once it runs the new version",
        (Fault("ovoc.disconnected", {"version": "@target"}),),
        ROLLED_BACK,
        ("ovoc_device_active",),
        recovery="full",
    ),
]

_PARTIAL_LOG = "2026-12-01T10:00:00Z | renameSysAdminKitFolder | OK | SysAdminKit copied\n"

# State from the systems (issue 22, item 1): the checkpoint reconciled with the lab's ARM and host
CASES += [
    Case(
        "lost_checkpoint_part_upgraded",
        "no checkpoint on a host an earlier run left part-upgraded (wyUpdate's SysAdminKit_<old> copy and its "
        "log): stopped before any change, no snapshot of the broken state",
        (),
        STOPPED,
        ("SysAdminKit_@old", "upgrade_@target.log", "repair the host by hand"),
        host_state=(
            (
                ("files", "c:\\acs\\sysadminkit_@old"),
                {"type": "directory", "path": "C:\\acs\\SysAdminKit_@old", "mtime": "2026-12-01T10:00:00Z"},
            ),
            (
                ("files", "c:\\acs\\wyupdate_logs\\upgrade_@target.log"),
                {
                    "type": "file",
                    "path": "C:\\acs\\wyupdate_logs\\upgrade_@target.log",
                    "content": "2026-12-01T10:00:00Z | renameSysAdminKitFolder | OK | SysAdminKit copied\n",
                },
            ),
        ),
        snapshots=0,
        services_stopped=False,
    ),
    Case(
        "stale_checkpoint_snapshot_missing",
        "a checkpoint from an earlier lab claims the snapshot done; ARM has no such snapshot: a fresh attempt "
        "takes one, then upgrades",
        (),
        UPGRADED,
        (),
        prepare="checkpoint_snapshot_done",
        snapshots=1,
        stdout_names=("@host: fresh attempt (the systems contradict the checkpoint",),
    ),
    Case(
        "checkpoint_says_upgraded_host_old",
        "a checkpoint records the host upgraded; the host is at the old version: upgraded for real",
        (),
        UPGRADED,
        (),
        prepare="checkpoint_upgraded",
        snapshots=1,
        stdout_absent=("@host is already upgraded",),
    ),
    Case(
        "no_checkpoint_host_at_target",
        "no checkpoint; the host and every customer are already at the target: recorded upgraded, no snapshot, "
        "no service stopped",
        (),
        UPGRADED,
        ("found at @target",),
        prepare="at_target",
        snapshots=0,
        services_stopped=False,
    ),
]

if os.environ.get("UMP365_MATRIX_ALL_STEPS") == "1":
    _covered = {f.params.get("step") for c in CASES for f in c.faults if f.name == "wyupdate.fail_step"}
    CASES += [
        Case(f"wyupdate_{s}_fails", f"wyUpdate step {s} fails", (_step(s),), ROLLED_BACK, (s,))
        for s in WYUPDATE_STEPS
        if s not in _covered
    ]


def assign_hosts(cases: list[Case]) -> dict[str, str]:
    """Case name -> lab host (``ump01``...): odd hosts have local SQL, even ones a backend SQL server."""
    n = len(cases) + sum(1 for c in cases if c.sql != "any")  # room for the parity constraints
    free = [f"ump{i:02d}" for i in range(1, n + 1)]
    out: dict[str, str] = {}
    for c in sorted(cases, key=lambda c: c.sql == "any"):
        for h in free:
            backend = int(h[3:]) % 2 == 0
            if c.sql == "any" or (c.sql == "backend") == backend:
                out[c.name] = h
                free.remove(h)
                break
    return out
