"""The fault matrix (issue 13): one lab host per case, each with its own faults, the upgrade run over all
(test_fault_matrix.MATRIX_RUNS fleet runs at once).

A case names the faults to inject (``host=`` is added: the case's host, or its backend SQL server for
``sql_host`` faults), the lab host state to set before the run, the end state the upgrade must reach
(``upgraded``, ``rolled_back`` or ``stopped_before_change``) and texts the run report must name for that host.

``sql`` asks for a host whose SysAdminTenant lives on a backend SQL server (``backend``: the lab's
even-numbered hosts, which run the sql_backup phase and restore the database on rollback), on the
host itself (``local``: odd-numbered hosts), or on a backend SQL Server machine that the ``shared`` cases'
hosts share (each in its own named instance; the lab's ``--shared-sql-hosts``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

from umplab.windows.ump import STEPS

UPGRADED = "upgraded"
ROLLED_BACK = "rolled_back"
STOPPED = "stopped_before_change"
# the rollback itself failed: the checkpoint's outcome; the run report's final state is "failed" and its
# reason starts the state left in with "MANUAL ACTION REQUIRED" (roles/upgrade/tasks/outcome.yml)
ROLLBACK_FAILED = "rollback_failed"
# the run report's final state for each expected (checkpoint) outcome
REPORT_STATE = {ROLLBACK_FAILED: "failed"}


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
    sql: str = "any"  # any | local | backend | shared
    host_state: tuple[tuple[tuple[str, ...], object], ...] = ()
    stdout_names: tuple[str, ...] = ()  # texts the playbook's output must show (a task only this host runs)
    # SysAdminTenant statements run on the host's SQL host before the run (``@first_customer``... resolved)
    sql_before: tuple[tuple[str, tuple], ...] = ()
    # checks the report must show as pre-existing (post_verify's baseline comparison), not rolled back
    pre_existing: tuple[str, ...] = ()
    # checks the report must show as a regression (the reason of the rollback)
    regressions: tuple[str, ...] = ()
    # exact number of snapshots of the host at the end (None: the end state's usual rule)
    snapshots: int | None = None
    # SysAdminTenant rows at the end (lab state, not our report): (table, {column: value} to find the row,
    # {column: value} it must have)
    sql_after: tuple[tuple[str, dict, dict], ...] = ()
    # lab state at the end: (path under lab.state(), with @host resolved; a predicate name in STATE_PREDICATES)
    lab_state: tuple[tuple[tuple[str, ...], str], ...] = ()
    # rolled back: which recovery ran (services: services started, no disk swap; full: OS disk swapped);
    # "" = not asserted
    recovery: str = ""
    # a text that names this case's fault and must appear in this host's report (for a host that did not
    # upgrade: in its reason or failure messages) and in no other host's report. ``@host``/``@sql_host``...
    # are resolved; a retry reads as "<operation>: <code>" (e.g. "create snapshot: TooManyRequests").
    # "" = none yet (test_every_case_names_a_marker lists them)
    marker: str = ""
    # rollback_failed: the OS disk the VM runs on at the end, from the lab: "restored" (the swap was done) or
    # "kept" (the VM runs on the disk it had); "" = not asserted
    os_disk: str = ""
    # a disk the run made that is attached to nothing is expected at the end (and its name is in the report,
    # for cleanup); otherwise none may be left
    leftover_disk: bool = False
    # a step before the run that the host state cannot express (tests/reliability/test_fault_matrix.py
    # PREPARE): a checkpoint left in the matrix's checkpoint directory, a host already at the target
    prepare: str = ""
    # False: the lab never stopped one of the host's services during the run (its per-host counter)
    services_stopped: bool | None = None
    # True: the run must leave the host's checkpoint file as it was, writing neither an attempt nor an outcome (a
    # run the host's run lock refused: the checkpoint is the lock holder's); the end state is then read from the
    # run report
    checkpoint_untouched: bool = False
    stdout_absent: tuple[str, ...] = ()  # texts the playbook's output must not show
    # texts the failing host's final_state_reason must NOT contain (e.g. the customers that did upgrade)
    reason_absent: tuple[str, ...] = ()
    # the marker may stand anywhere in this host's report, not only in its reason: a transient fault the run
    # retried past (the report's retries name it) on a host that failed for another reason
    marker_anywhere: bool = False
    # cases whose hosts rightly show the same text (the same mechanism is part of their fault too)
    marker_shared_with: tuple[str, ...] = ()


def _step(step: str) -> Fault:
    return Fault("wyupdate.fail_step", {"step": step})


# wyUpdate's steps (lab/umplab/windows/ump.py STEPS, the guide's order). The matrix fails fourteen of them
# (six below, three more under ARM faults during the restore, five in the rollback-side rows);
# UMP365_MATRIX_ALL_STEPS=1 adds a case for every other step too.
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
        marker=f"{step} failed (lab fault",
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
        marker='create disk from snapshot: TooManyRequests',
        marker_anywhere=True,
    ),
    Case(
        "arm_409_during_restore",
        "wyUpdate step AddAuthPool fails (after RunSqlScripts); ARM answers 409 to the first VM write (the swap)",
        (_step("AddAuthPool"), Fault("arm.409", {"op": "virtualMachines.write", "times": 1})),
        ROLLED_BACK,
        ("AddAuthPool", "OperationNotAllowed"),
        sql="backend",
        recovery="full",
        marker='swap OS disk: OperationNotAllowed',
        marker_anywhere=True,
    ),
    Case(
        "arm_500_during_restore",
        "wyUpdate step RunCheckAzureTenantId_220 fails; ARM answers 500 to the first disk write of the restore",
        (_step("RunCheckAzureTenantId_220"), Fault("arm.500", {"op": "disks.write", "times": 1})),
        ROLLED_BACK,
        ("RunCheckAzureTenantId_220", "InternalServerError"),
        sql="local",
        recovery="full",
        marker='create disk from snapshot: InternalServerError',
        marker_anywhere=True,
    ),
    Case(
        "arm_429_during_snapshot",
        "ARM answers 429 to the first two snapshot writes",
        (Fault("arm.429", {"op": "snapshots.write", "times": 2}),),
        UPGRADED,
        ("TooManyRequests", "create snapshot"),
        marker='create snapshot: TooManyRequests',
    ),
    Case(
        "arm_409_during_snapshot",
        "ARM answers 409 (conflicting writes) to the first snapshot write",
        (Fault("arm.409", {"op": "snapshots.write", "times": 1}),),
        UPGRADED,
        ("OperationNotAllowed", "create snapshot"),
        marker='create snapshot: OperationNotAllowed',
    ),
    Case(
        "arm_500_during_snapshot",
        "ARM answers 500 to the first snapshot write",
        (Fault("arm.500", {"op": "snapshots.write", "times": 1}),),
        UPGRADED,
        ("InternalServerError", "create snapshot"),
        marker='create snapshot: InternalServerError',
    ),
    Case(
        "snapshot_ends_failed",
        "the snapshot is accepted and its operation ends Failed (after the services stopped: services restored)",
        (Fault("arm.snapshot_failed"),),
        ROLLED_BACK,
        ("azure create snapshot failed", "no disk swap"),
        recovery="services",
        marker='azure create snapshot failed',
    ),
    Case(
        "service_will_not_stop",
        "SysAdmin.TenantSvc cannot be stopped: services restored, no disk swap",
        (Fault("winhost.service_wont_stop", {"service": "SysAdmin.TenantSvc"}),),
        ROLLED_BACK,
        ("SysAdmin.TenantSvc", "did not stop within", "no disk swap"),
        recovery="services",
        marker='did not stop within',
    ),
    Case(
        "service_restarts_itself",
        "every UMP service with recovery 'restart' comes back after it is stopped",
        (Fault("winhost.service_restarts"),),
        UPGRADED,
        ("services_came_back_after_stop",),
        marker='services_came_back_after_stop',
    ),
    Case(
        "winrm_dropped_during_wyupdate",
        "WinRM drops the connection twice while the controller polls the wyUpdate job",
        (Fault("winhost.drop", {"module": "async_status", "times": 2}),),
        UPGRADED,
        ("connection_lost", "WinRM connection lost while waiting for wyUpdate"),
        marker='WinRM connection lost while waiting for wyUpdate',
        marker_shared_with=("winrm_unreachable_during_rollback",),
    ),
    Case(
        "winrm_dropped_during_services_stop",
        "WinRM drops the connection while the UMP services are being stopped (the stop still happens)",
        # services_method batch (the default) stops them with one win_shell command, the flow's only win_shell
        (Fault("winhost.drop", {"module": "win_shell", "times": 1}),),
        UPGRADED,
        ("connection_lost", "WinRM connection lost while setting"),
        marker='WinRM connection lost while setting',
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
        marker='stuck',
    ),
    Case(
        "wyupdate_no_result_line",
        "wyUpdate runs every step and exits 0 but writes no result line to its -logfile (no silent pass)",
        (Fault("wyupdate.no_result_line"),),
        ROLLED_BACK,
        ("no result line of this run",),
        marker='no result line of this run',
    ),
    Case(
        "customer_upgrade_zero_customers_on_host",
        "the host's tenants folder shows no customer while SysAdminTenant lists them below the target (no silent pass)",
        (Fault("winhost.tenants_elsewhere"),),
        ROLLED_BACK,
        ("SysAdminTenant lists", "shows evidence of 0 of them"),
        marker='shows evidence of 0 of them',
    ),
    Case(
        "customer_upgrade_gui_never_exits",
        "the Customer Upgrade program is a GUI: it writes nothing and never exits; the progress timeout stops it",
        (Fault("customer_upgrade.gui"),),
        ROLLED_BACK,
        ("made no progress for 12s", "taskkill.exe /F /T /IM Sysadmin.CustomerUpgrade.exe", "GUI"),
        marker='made no progress for 12s',
    ),
    Case(
        "replication_queue_never_empties",
        "the replication queue keeps an executing Sync command",
        (Fault("ump_api.replication_backlog", {"executing": 1, "queued": 3, "reads": 100000}),),
        STOPPED,
        ("replication_queue_empty",),
        marker="replication_queue_empty: observed Open Commands",
    ),
    Case(
        "wrong_collation",
        "SQL Server's collation is Latin1_General_CI_AS",
        (Fault("sql.wrong_collation", on_sql_host=True),),
        STOPPED,
        ("sql_collation", "Latin1_General_CI_AS"),
        marker='Latin1_General_CI_AS',
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
        marker="1 open: C:\\acs\\SysAdminKit\\SysAdmin.TenantSvc.exe",
    ),
    Case(
        "sql_down_before_backup",
        "the backend SQL Server does not answer from the start",
        (Fault("sql.down", on_sql_host=True),),
        STOPPED,
        ("@sql_host",),
        sql="backend",
        marker="sql_collation: observed could not read sql",
    ),
    Case(
        "sql_down_after_backup",
        "the backend SQL Server goes down once the backup is taken (for 3 connection attempts)",
        (Fault("sql.down", {"after_backup": "true", "times": 3}, on_sql_host=True),),
        ROLLED_BACK,
        ("CheckSQLConn", "@sql_host"),
        sql="backend",
        recovery="services",
        marker='a network-related error occurred (error 40)',
    ),
    # malformed replies (issue 22 item 3): read strictly, the system and endpoint named, never "nothing found"
    Case(
        "ump_customers_html_in_post_verify",
        "the UMP API's customer list answers an HTML page with status 200 (it stays so through post_verify)",
        # not times=1: preflight's post_verify baseline reads the list first, and post_verify's settle window
        # re-reads it, so a one-off bad answer is rightly outlived
        (Fault("ump_api.malformed", {"path": "/api/v3/customer", "kind": "html"}),),
        ROLLED_BACK,
        ("ump_api list customers failed for GET /api/v3/customer", "HTML page"),
        marker='HTML page',
    ),
    Case(
        "replication_queue_wrong_shape",
        "the UMP portal's replication queue answers JSON of another shape during preflight",
        (Fault("ump_api.malformed", {"path": "/api/v3/portal/replicationqueue", "kind": "shape"}),),
        STOPPED,
        ("GET /api/v3/portal/replicationqueue", "unexpected answer"),
        marker='GET /api/v3/portal/replicationqueue',
    ),
    Case(
        "ovoc_alarms_wrong_shape",
        "OVOC's active alarms answer JSON of another shape (it stays so through post_verify)",
        # not times=1: see ump_customers_html_in_post_verify
        (Fault("ovoc.malformed", {"path": "/ovoc/v1/alarms/actives", "kind": "shape"}),),
        ROLLED_BACK,
        ("ovoc read active alarms failed for GET /ovoc/v1/alarms/actives", "without a 'alarms' list"),
        marker="without a 'alarms' list",
    ),
    Case(
        "ovoc_disconnected_after_upgrade",
        "OVOC shows the UMP device Disconnected once it runs the new version",
        (Fault("ovoc.disconnected", {"version": "@target"}),),
        ROLLED_BACK,
        ("ovoc_device_active",),
        recovery="full",
        marker="ovoc_device_active: observed",
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
        marker="repair the host by hand",
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
                    "content": _PARTIAL_LOG,
                    "size": len(_PARTIAL_LOG),
                    "mtime": "2026-12-01T10:00:00Z",
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
        marker="found at @target",
        prepare="at_target",
        snapshots=0,
        services_stopped=False,
    ),
]

CASES += [
    Case(
        "preexisting_disabled_customer_and_failed_verification",
        "before the upgrade one customer is disabled and another's last tenant verification failed",
        (),
        UPGRADED,
        ("pre-existing", "customers_enabled", "tenant_admin_auth_verified"),
        sql_before=(
            ("UPDATE Customer SET Enabled = 0 WHERE CustomerShortName = ?", ("@first_customer",)),
            ("UPDATE Customer SET LastVerificationOk = 0 WHERE CustomerShortName = ?", ("@second_customer",)),
        ),
        pre_existing=("customers_enabled", "tenant_admin_auth_verified"),
        # the lab's state after the upgrade: the conditions are still there (reported, not "fixed" or rolled back)
        sql_after=(
            ("Customer", {"CustomerShortName": "@first_customer"}, {"Enabled": 0}),
            ("Customer", {"CustomerShortName": "@second_customer"}, {"LastVerificationOk": 0}),
        ),
        marker='pre-existing',
    ),
    Case(
        "ovoc_reconnects_minutes_after_start",
        "OVOC reconnects to the UMP device 3 (scaled) minutes / 4 reads after the services start, with a "
        "Critical downtime alarm until then",
        (Fault("ovoc.reconnect_delay", {"seconds": 180, "reads": 4}),),
        UPGRADED,
        ("ovoc_ump_management_connected",),
        stdout_names=("waiting for the systems to settle",),
        # OVOC was read again after the start until it reconnected (more than the fault's 4 reads)
        lab_state=((("ovoc", "reads_since_start", "@host", "n"), "more_than_4"),),
    ),
    Case(
        "wrong_service_password",
        "the service account's password is not the inventory's (become runas fails)",
        (),
        STOPPED,
        ("become_service_account", "LogonUser failed"),
        host_state=((("accounts", "ump-svc", "password"), "changed-by-someone-else"),),
        snapshots=0,
        marker='LogonUser failed',
    ),
    Case(
        "regression_customer_not_deployed",
        "a customer that was Deployed before the upgrade is Failed after it",
        (Fault("ump_api.customer_state", {"customer": "@first_customer", "state": "Failed", "version": "@target"}),),
        ROLLED_BACK,
        ("customers_deployed", "regression"),
        regressions=("customers_deployed",),
        # the rollback restored the database: the customer is Deployed again
        sql_after=(("Customer", {"CustomerShortName": "@first_customer"}, {"State": "Deployed"}),),
        marker='@first_customer',
    ),
]

# rollback side (issue 22 item 4, matrixa): the rollback itself failing, each a distinct mechanism, and a
# backend SQL Server shared by two hosts of the matrix
CASES += [
    Case(
        "winrm_unreachable_during_rollback",
        "wyUpdate step InstallChocolatey fails and from then on the host refuses WinRM connections: a bounded "
        "wait, then manual action required",
        (_step("InstallChocolatey"), Fault("winhost.unreachable", {"after_wyupdate_failed": "true"})),
        ROLLBACK_FAILED,
        ("MANUAL ACTION REQUIRED", "playbooks/rollback.yml --limit @host", "@host-8.0.400.64-to-"),
        sql="local",
        recovery="full",
        os_disk="restored",
        marker="Wait until the restored host answers WinRM",
    ),
    Case(
        "restored_disk_creation_fails",
        "wyUpdate step InstallDotNet fails; every disk made from the snapshot ends Failed (ARM "
        "InternalDiskManagementError): the VM keeps running on its disk, manual action required",
        (_step("InstallDotNet"), Fault("arm.disk_failed")),
        ROLLBACK_FAILED,
        ("MANUAL ACTION REQUIRED", "OS disk NOT restored", "@host-8.0.400.64-to-"),
        sql="local",
        recovery="full",
        os_disk="kept",
        marker="create disk from snapshot failed",
    ),
    Case(
        "swap_fails_after_restored_disk_exists",
        "wyUpdate step InstallEmsMainAgent fails; the restored disk is made but every VM update that attaches it "
        "ends Failed (ARM InternalExecutionError): the VM runs again on its disk, the restored disk is named",
        (_step("InstallEmsMainAgent"), Fault("arm.vm_update_failed")),
        ROLLBACK_FAILED,
        ("MANUAL ACTION REQUIRED", "OS disk NOT restored", "attached to nothing"),
        sql="local",
        recovery="full",
        os_disk="kept",
        leftover_disk=True,
        marker="An internal execution error occurred while updating VM",
    ),
    Case(
        "sql_restore_fails",
        "wyUpdate step InstallPowershellGetModule fails after RunSqlScripts; RESTORE DATABASE SysAdminTenant "
        "fails with 3101 (another session holds it): manual action naming the backup file",
        (
            _step("InstallPowershellGetModule"),
            Fault("sql.open_connections", {"database": "SysAdminTenant"}, on_sql_host=True),
        ),
        ROLLBACK_FAILED,
        ("MANUAL ACTION REQUIRED", "backend databases NOT restored", "@host-8.0.400.64-to-"),
        sql="backend",
        recovery="full",
        os_disk="restored",
        marker="Exclusive access could not be obtained",
    ),
    # two hosts whose backend databases share one SQL Server machine (a named instance each: the guide's
    # fixed database names rule out one instance, docs/assumptions.md): one rolls back, the other upgrades
    Case(
        "shared_sql_host_rolls_back",
        "backend SQL shared with shared_sql_neighbour_upgrades: wyUpdate step InstallMicrosoftTeamsModule fails "
        "after RunSqlScripts, the backend databases are restored",
        (_step("InstallMicrosoftTeamsModule"),),
        ROLLED_BACK,
        ("backend databases restored",),
        sql="shared",
        recovery="full",
        marker="step InstallMicrosoftTeamsModule failed",
    ),
    Case(
        "shared_sql_neighbour_upgrades",
        "backend SQL shared with shared_sql_host_rolls_back: upgrades, and its databases keep the upgrade "
        "(the neighbour's restore touches only its own instance)",
        (),
        UPGRADED,
        (),
        sql="shared",
        marker="@sql_host",
    ),
]

# cases whose fault the run report does not record at all (seen on a run: the restart after wyUpdate's exit 4
# and OVOC's late reconnect show only in the playbook output), hence no marker yet; the report should record
# them (a retry / a settle entry), then they get one. test_every_case_names_a_marker keeps this list exact.
# the run report does not record these faults (a restart after wyUpdate's exit 4, OVOC's late reconnect, the
# reconcile decision "fresh attempt" on a host that then upgrades: the playbook's output shows it, the report not)
NO_MARKER_YET = (
    "wyupdate_already_running",
    "ovoc_reconnects_minutes_after_start",
    "stale_checkpoint_snapshot_missing",
    "checkpoint_says_upgraded_host_old",
    # the token refresh after a 401 and a clock skew that changes nothing are not in the report either
    "token_expires_mid_run",
    "servers_clock_2h_behind_controller",
)

STATE_PREDICATES = {"more_than_4": lambda v: isinstance(v, int) and v > 4}

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
            if c.sql == "any" or (c.sql in ("backend", "shared")) == backend:
                out[c.name] = h
                free.remove(h)
                break
    return out


# run side (issue 22 item 4, matrixb): Entra, tokens, customers, disk, clock, run lock
STATE_PREDICATES["more_than_1"] = lambda v: isinstance(v, int) and v > 1

CASES += [
    Case(
        "entra_down_for_host_api",
        "Entra ID's token endpoint answers 503 (AADSTS90033) to every token request for this host's UMP API app "
        "registration from the start (Entra is shared by the lab; the host's own app registration is the per-host "
        "equivalent)",
        (Fault("entra.down"),),
        STOPPED,
        ("/oauth2/v2.0/token", "503"),
        marker='/oauth2/v2.0/token',
        snapshots=0,
    ),
    Case(
        "token_expires_mid_run",
        "the UMP API refuses the host's cached token once (expired) after wyUpdate installed the target: the client "
        "gets a fresh token and the host upgrades",
        (Fault("entra.expired_token", {"version": "@target", "times": 1}),),
        UPGRADED,
        (),
        # the lab issued this host's API app more than one token (the refresh after the 401)
        lab_state=((("entra", "tokens_issued_by_host", "@host"), "more_than_1"),),
    ),
    Case(
        "one_customer_fails_others_upgrade",
        "the Customer Upgrade of the host's last customer ends Failed while the others upgrade: the host is rolled "
        "back fully (every customer at the old version again in SysAdminTenant)",
        (Fault("customer_upgrade.fail", {"customer": "@last_customer"}),),
        ROLLED_BACK,
        ("@last_customer",),
        marker="customer upgrade: @last_customer failed",
        recovery="full",
        reason_absent=("@first_customer", "@second_customer"),
        sql_after=(
            ("Customer", {"CustomerShortName": "@first_customer"}, {"Version": "8.0.400.64"}),
            ("Customer", {"CustomerShortName": "@last_customer"}, {"Version": "8.0.400.64"}),
        ),
    ),
    Case(
        "host_system_drive_full",
        "the host's system drive C: has 2 GB free (preflight wants 10 GB)",
        (),
        STOPPED,
        ("free_disk_space", "2.0 GB free on C:", ">= 10 GB free on C:"),
        marker='2.0 GB free on C:',
        host_state=((("os", "drives", "C", "free_gb"), 2),),
        snapshots=0,
    ),
    Case(
        "backend_backup_drive_full",
        "the backend SQL Server's backup drive is full (xp_fixeddrives: 0 MB free; BACKUP would fail 3202): "
        "preflight stops the host before the services stop and the snapshot",
        (Fault("sql.disk_full", on_sql_host=True),),
        STOPPED,
        ("backend_backup_free_space", "0 MB free on C:", "@sql_host"),
        marker="the backup folder's drive",
        sql="backend",
        snapshots=0,
    ),
]

_LOCK = "c:\\programdata\\ump365.upgrade\\run.lock"
# another run's live lock on the host (roles/upgrade/tasks/run_lock.yml): its folder and owner.json, started now
_OTHER_RUN = {
    "run_id": "upgrade-other-run-4711",
    "controller": "awx-job-pod-7",
    "started": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "target_version": "8.0.515",
}

CASES += [
    Case(
        "second_run_while_another_holds_the_lock",
        "another upgrade run (another controller) holds the host's run lock C:\\ProgramData\\ump365.upgrade\\run.lock: "
        "this run refuses before any change",
        (),
        STOPPED,
        ("run_lock", "upgrade-other-run-4711", "awx-job-pod-7", "upgrade_break_lock=true"),
        marker='upgrade-other-run-4711',
        checkpoint_untouched=True,
        host_state=(
            (("files", "c:\\programdata"), {"type": "directory", "path": "C:\\ProgramData"}),
            (
                ("files", "c:\\programdata\\ump365.upgrade"),
                {"type": "directory", "path": "C:\\ProgramData\\ump365.upgrade"},
            ),
            (
                ("files", _LOCK),
                {
                    "type": "directory",
                    "path": "C:\\ProgramData\\ump365.upgrade\\run.lock",
                    "mtime": _OTHER_RUN["started"],
                },
            ),
            (
                ("files", _LOCK + "\\owner.json"),
                {
                    "type": "file",
                    "path": "C:\\ProgramData\\ump365.upgrade\\run.lock\\owner.json",
                    "content": json.dumps(_OTHER_RUN),
                },
            ),
        ),
        snapshots=0,
    ),
]

CASES += [
    Case(
        "servers_clock_2h_behind_controller",
        "the host's and ARM's clocks run 2 hours behind the controller's (timeCreated of the snapshot, the host's "
        "time): the fresh snapshot is not stale, the run lock is this run's, the host upgrades",
        (Fault("clock.skew", {"seconds": -7200}),),
        UPGRADED,
        (),
    ),
]
