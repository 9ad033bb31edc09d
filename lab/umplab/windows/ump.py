"""The UMP server's programs: wyupdate.exe, Sysadmin.CustomerUpgrade.exe, LogReport.exe, CheckAzureTenantId_220.exe.

The lab's contracts (docs/assumptions.md, "Windows host, wyUpdate and Customer Upgrade"; the real log
formats and unattended switches are not public, facts/windows_wyupdate.md):

wyupdate.exe (its public contract, github wyday/wyupdate frmMain/frmMain.Updating.cs, Util/Logger.cs)
  ``/quickcheck /justcheck /noerr /outputinfo="<file>"`` -> with an update available: exit 2 and <file>
  (over)written with the new version on line 1, then the change text (vendor.changes); with no update:
  exit 0 and nothing written (a previous file stays as it was); on an error: exit 1 and the error title on
  line 1, the details after it. ``/outputinfo`` with no file name writes the same to stdout (an error as
  ``<title>\r\n\r\n<details>``). A missing folder gives no file and no error.
  ``/fromservice -logfile="<file>"`` -> runs the UMP steps (STEPS, the guide's order), each appending to
  ``C:\\acs\\wyupdate_logs\\upgrade_<target>.log`` (NOT public: the lab's format)::

      <ISO-8601 UTC> | <StepName> | START | <message>
      <ISO-8601 UTC> | <StepName> | OK|FAILED|SKIPPED | <message>

  a failed step also writes ``ERROR | <StepName> | <message>`` to ``C:\\acs\\wyupdate_logs\\LogReport.txt``;
  one line is appended to -logfile per run: the host's local time in the .NET format
  ``M/d/yyyy HH:mm:ss:fff tt`` (ump.wyupdate.log_time_format) with the host culture's separators and AM/PM
  designator (os.culture), ``: ``, then ``Updated successfully.`` or ``<error> - <details>`` (an
  already-up-to-date run writes `` - ``: empty error and details, as the source does).
  Exit codes: 0 success / already up to date, 1 error, 3 cancelled, 4 another instance running.

Sysadmin.CustomerUpgrade.exe
  ``/unattended (/all | /customers:<short1,short2>) [/log:<file>]`` -> per customer, on stdout and in the
  log (default ``C:\\acs\\SysAdmin.CustomerUpgrade\\logs\\CustomerUpgrade.log``)::

      <ISO time> | <short> | Upgrading | <from version> |
      <ISO time> | <short> | UpToDate | <target version> |
      <ISO time> | <short> | Failed | <version> | <reason>

  exit 0 when every selected customer is UpToDate, else 1. A problem before any customer (not a
  UmpAdmins member, SysAdminKit not at the target, no selection) is one line with customer ``*``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from . import fs
from . import services as scm
from .accounts import in_group
from .modules.network import egress_allowed
from .process import Cancelled

if TYPE_CHECKING:
    from .executables import Exec

ACS = "C:\\acs"
WY_LOG_DIR = f"{ACS}\\wyupdate_logs"
LOGREPORT = f"{WY_LOG_DIR}\\LogReport.txt"
CU_LOG = f"{ACS}\\SysAdmin.CustomerUpgrade\\logs\\CustomerUpgrade.log"

# the UMP package's steps, in the guide's order (facts/windows_wyupdate.md)
STEPS = [
    "ClearWyupdateLog",
    "CheckDuplicates",
    "CheckSQLConn",
    "UmpAdmins",
    "ClearUpgradefolderSQLscripts",
    "CheckServices",
    "SetServices",
    "StartPeeringSvc",
    "CheckSQLDbBackupBackendFolder",
    "renameSysAdminKitFolder",
    "RunSqlScripts",
    "AddAuthPool",
    "InstallPowershellGetModule",
    "InstallMicrosoftTeamsModule",
    "InstallChocolatey",
    "InstallDotNet",
    "InstallRabbitmq",
    "InstallEmsMainAgent",
    "InstallEmsClientAgent",
    "InstallPublicOvocConnector",
    "Installtap-windows-9.23.3-I601-Win10",
    "RunCheckAzureTenantId_220",
    "RunCheckAzureTenantId_220_Password",
    "AlertCustomerUpgrade",
    "runLogReport",
    "Refresh_EMSCClientAgent_ignoreList",
]

# Install steps: (egress endpoint key in vendor.egress_endpoints, component it installs or None)
INSTALLS = {
    "InstallPowershellGetModule": ("PowershellGetModule", "PowerShellGet"),
    "InstallMicrosoftTeamsModule": ("MicrosoftTeamsModule", "MicrosoftTeams"),
    "InstallChocolatey": ("Chocolatey", "Chocolatey"),
    "InstallDotNet": ("DotNet", "DotNet"),
    "InstallRabbitmq": ("Rabbitmq", "RabbitMQ"),
    "InstallEmsMainAgent": ("EmsMainAgent", "EmsMainAgent"),
    "InstallEmsClientAgent": ("EmsClientAgent", "EmsClientAgent"),
    "InstallPublicOvocConnector": ("InstallPublicOvocConnector", "PublicOvocConnector"),
    "Installtap-windows-9.23.3-I601-Win10": ("Installtap-windows-9.23.3-I601-Win10", "tap-windows"),
}

# the services 8.0.450 creates (guide, "Additional SysAdmin Verifications")
NEW_SERVICES = ["SysAdmin.QuickReplicationCycleWorker", "SysAdmin.UMP.Watchdog", "SysAdmin.SyncAcquiredNumber"]


def iso_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# the vendor details of the host's lab flavour (seed.py SITE_DEFAULT / SITE_B), under ump.site
SITE_DEFAULTS = {
    "step_log": f"{WY_LOG_DIR}\\upgrade_{{version}}.log",
    "step_line": "{time} | {step} | {status} | {message}",
    "step_time": "%Y-%m-%dT%H:%M:%SZ",
    "tenants_dir": f"{ACS}\\tenants",
    "version_file": "version.txt",
    "customer_upgrade": "console",
}


def site(ex: "Exec") -> dict:
    with ex.world.lock:
        own = dict(ex.state().get("ump", {}).get("site") or {})
    return {**SITE_DEFAULTS, **own}


class StepFailed(Exception):
    pass


class StepSkipped(Exception):
    pass


def _switch(argv: list[str], *names: str) -> str | None:
    """Value of ``/name=value``, ``-name=value``, ``/name:value``; "" for a bare switch; None if absent."""
    for a in argv[1:]:
        m = re.match(r"^[/-]([\w]+)(?:[=:](.*))?$", a, re.S)
        if m and m.group(1).lower() in names:
            v = m.group(2)
            return "" if v is None else v.strip().strip('"').strip("'")
    return None


def run(name: str, ex: "Exec") -> tuple[int, str, str]:
    if name == "wyupdate":
        return wyupdate(ex)
    if name == "sysadmin.customerupgrade":
        return customer_upgrade(ex)
    if name == "logreport":
        return logreport(ex)
    if name == "checkazuretenantid_220":
        return check_azure_tenant(ex, password_only=any(a.lower() in ("/password", "-password") for a in ex.argv))
    return 1, "", f"{name}: cannot run on this host\r\n"


# ---------------------------------------------------------------------- wyupdate.exe
def _installed(state: dict) -> str:
    return state.get("ump", {}).get("components", {}).get("SysAdminKit", "")


# wyUpdate's error titles (ClientLanguage.cs defaults)
WY_SERVER_ERROR = "Unable to check for updates, the server file failed to load."
WY_UPDATE_ERROR = "The update failed to install."


def dotnet_format(dt: datetime, fmt: str, culture: dict) -> str:
    """``DateTime.ToString(fmt)`` for the custom format specifiers wyUpdate uses, with a culture's data.

    ``/`` and ``:`` are the culture's date and time separators, ``tt`` its AM/PM designator (of the hour,
    whatever the hour field shows), quoted text and ``\\x`` are literals."""
    out = []
    i = 0
    specs = {
        "yyyy": lambda: f"{dt.year:04d}",
        "MM": lambda: f"{dt.month:02d}",
        "M": lambda: str(dt.month),
        "dd": lambda: f"{dt.day:02d}",
        "d": lambda: str(dt.day),
        "HH": lambda: f"{dt.hour:02d}",
        "H": lambda: str(dt.hour),
        "hh": lambda: f"{(dt.hour % 12) or 12:02d}",
        "h": lambda: str((dt.hour % 12) or 12),
        "mm": lambda: f"{dt.minute:02d}",
        "ss": lambda: f"{dt.second:02d}",
        "fff": lambda: f"{dt.microsecond // 1000:03d}",
        "tt": lambda: culture.get("am_designator" if dt.hour < 12 else "pm_designator", ""),
    }
    while i < len(fmt):
        ch = fmt[i]
        if ch in "'\"":
            j = fmt.find(ch, i + 1)
            j = len(fmt) if j < 0 else j
            out.append(fmt[i + 1 : j])
            i = j + 1
            continue
        if ch == "\\" and i + 1 < len(fmt):
            out.append(fmt[i + 1])
            i += 2
            continue
        if ch == "/":
            out.append(culture.get("date_separator", "/"))
            i += 1
            continue
        if ch == ":":
            out.append(culture.get("time_separator", ":"))
            i += 1
            continue
        for spec in ("yyyy", "fff", "MM", "dd", "HH", "hh", "mm", "ss", "tt", "M", "d", "H", "h"):
            if fmt.startswith(spec, i):
                out.append(specs[spec]())
                i += len(spec)
                break
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def wy_log_line(state: dict, message: str, now: datetime | None = None) -> str:
    """One -logfile line as Util/Logger.cs writes it (local time, ``: ``, the message, CRLF)."""
    os_ = state.get("os", {})
    local = (now or datetime.now(timezone.utc)) + timedelta(minutes=int(os_.get("utc_offset_minutes", 0) or 0))
    fmt = state.get("ump", {}).get("wyupdate", {}).get("log_time_format") or "M/d/yyyy HH:mm:ss:fff tt"
    return dotnet_format(local, fmt, os_.get("culture") or {}) + ": " + message + "\r\n"


def wyupdate(ex: "Exec") -> tuple[int, str, str]:
    world = ex.world
    world.count("wyupdate.runs")
    latest = world.data["vendor"]["latest_version"]
    changes = world.data["vendor"].get("changes", "")
    update_url = world.data["vendor"]["egress_endpoints"]["update_repository"]
    if _switch(ex.argv, "quickcheck") is not None:
        just = _switch(ex.argv, "justcheck") is not None
        noerr = _switch(ex.argv, "noerr") is not None
        # OutputInfo is read only with /justcheck or /noerr (frmMain.cs); "" = stdout, None = nowhere
        out_file = _switch(ex.argv, "outputinfo") if (just or noerr) else None
        with world.lock:
            st = ex.state()
            installed = _installed(st)
            reachable = egress_allowed(st, update_url)
        text = None
        if not reachable:
            rc = 1
            details = f"The remote server returned an error: (404) Not Found. ({update_url})"
            if out_file == "":
                text = WY_SERVER_ERROR + "\r\n\r\n" + details + "\r\n"
            else:
                text = WY_SERVER_ERROR + "\r\n" + details + "\r\n"
        elif latest != installed:
            rc = 2
            if not just:
                # /quickcheck without /justcheck shows the update window; no desktop under WinRM
                return 3, "", ""
            text = f"{latest}\r\n{changes}\r\n"
        else:
            rc = 0
        stdout = ""
        if text is not None and out_file == "":
            stdout = text
        elif text is not None and out_file:
            path = fs.expand_env(out_file, ex.user)
            with world.lock:
                files = ex.state()["files"]
                parent = path.rsplit("\\", 1)[0]
                if fs.exists(files, parent):  # StreamWriter errors are swallowed
                    fs.write_text(files, path, text)
        return rc, stdout, ""
    if _switch(ex.argv, "fromservice") is None:
        # the GUI would open; there is no desktop in a WinRM session
        return 3, "", "wyUpdate: no interactive session (use /fromservice for an unattended update)\r\n"
    return _fromservice(ex, latest, update_url)


def _fromservice(ex: "Exec", target: str, update_url: str) -> tuple[int, str, str]:
    world = ex.world
    logfile = _switch(ex.argv, "logfile")
    result_file = fs.expand_env(logfile, ex.user) if logfile else None
    step_log = site(ex)["step_log"].replace("{version}", target)

    def result(line: str) -> None:
        if world.take_fault("wyupdate.no_result_line", host=ex.name):
            return  # the lab fault: the result line is lost (a wrong -logfile path, a write error swallowed)
        if result_file:
            with world.lock:
                st = ex.state()
                parent = result_file.rsplit("\\", 1)[0]
                if fs.exists(st["files"], parent):  # Logger.Write eats any exception
                    fs.append_text(st["files"], result_file, wy_log_line(st, line))

    with world.lock:
        st = ex.state()
        elevated = in_group(st, ex.user, "UmpAdmins")
        installed = _installed(st)
    if not elevated:
        result(f"{WY_UPDATE_ERROR} - wyUpdate needs elevation: run it as a member of UmpAdmins")
        return 1, "", "wyUpdate needs elevation\r\n"
    table = ex.host.table
    with table.jobs_lock:
        running = table.running.get("wyupdate", 0)
        if running or world.take_fault("wyupdate.already_running", host=ex.name):
            result(f"{WY_UPDATE_ERROR} - another instance of wyUpdate is running")
            return 4, "", ""
        table.running["wyupdate"] = running + 1
    try:
        return _run_steps(ex, target, update_url, installed, step_log, result)
    finally:
        with table.jobs_lock:
            table.running["wyupdate"] = max(0, table.running.get("wyupdate", 1) - 1)


def _run_steps(ex: "Exec", target: str, update_url: str, installed: str, step_log: str, result) -> tuple[int, str, str]:
    world = ex.world
    if installed == target:
        result(" - ")  # Frame.AlreadyUpToDate: error and errorDetails are empty
        return 0, "", ""
    with world.lock:
        st = ex.state()
        reachable = egress_allowed(st, update_url)
        locked = [f["path"] if isinstance(f, dict) else str(f) for f in st.get("open_files", [])]
        locked = [p for p in locked if fs.win_key(p).startswith("c:\\acs")]
        fault = world.take_fault("winhost.locked_files", host=ex.name)
        if fault:
            locked.append(fault.get("path", f"{ACS}\\SysAdminKit\\SysAdmin.TenantSvc.exe"))
    if not reachable:
        result(f"{WY_UPDATE_ERROR} - unable to download the update from {update_url}")
        return 1, "", ""
    if locked:
        # wyUpdate waits for the files to be released, then rolls back what it replaced
        ex.sleep(20)
        result(f"{WY_UPDATE_ERROR} - files in use: {', '.join(locked)}")
        return 1, "", ""

    layout = site(ex)

    def log(step: str, status: str, msg: str) -> None:
        when = datetime.now(timezone.utc).strftime(layout["step_time"])
        line = layout["step_line"].format(time=when, step=step, status=status, message=msg)
        with world.lock:
            fs.append_text(ex.state()["files"], step_log, line + "\r\n")

    for step in STEPS:
        log(step, "START", f"running {step}")
        try:
            if world.peek_fault("wyupdate.hang", host=ex.name, step=step):
                world.take_fault("wyupdate.hang", host=ex.name, step=step)
                while True:  # until the command is terminated or the async watchdog kills the job
                    _wait_cancel(ex)
            ex.sleep(world.data["config"].get("durations", {}).get("wyupdate_step", 40))
            fault = world.take_fault("wyupdate.fail_step", host=ex.name, step=step)
            if fault:
                raise StepFailed(fault.get("message") or f"{step} failed (lab fault wyupdate.fail_step)")
            msg = STEP_IMPL.get(step, _noop)(ex, target)
            log(step, "OK", msg)
            world.count("wyupdate.steps_ok")
        except StepSkipped as e:
            log(step, "SKIPPED", str(e))
        except StepFailed as e:
            log(step, "FAILED", str(e))
            with world.lock:
                fs.append_text(ex.state()["files"], LOGREPORT, f"ERROR | {step} | {e}\r\n")
            world.count("wyupdate.steps_failed")
            result(f"{WY_UPDATE_ERROR} - {step} failed: {e}")
            return 1, "", ""
        except Cancelled:
            log(step, "FAILED", "cancelled")
            result(f"{WY_UPDATE_ERROR} - the update was cancelled")
            return 3, "", ""
    # every step succeeded: the new SysAdminKit is in place
    with world.lock:
        st = ex.state()
        comps = st["ump"]["components"]
        after = world.data["vendor"]["components_after"]
        for k in ("SysAdminKit", "MultiTenant"):
            comps[k] = after.get(k, target)
        st["ump"].setdefault("wyupdate", {})["installed_version"] = target
        fs.write_text(st["files"], f"{ACS}\\SysAdminKit\\version.txt", target + "\n")
        try:
            wyc = fs.read_text(st["files"], f"{ACS}\\client.wyc")
            fs.write_text(st["files"], f"{ACS}\\client.wyc", re.sub(r"version=.*", f"version={target}", wyc))
        except FileNotFoundError:
            pass
    result("Updated successfully.")
    world.count("wyupdate.success")
    return 0, "", ""


def _wait_cancel(ex: "Exec") -> None:
    """Hang (a stuck program) until terminated or its machine goes away."""
    ex.proc.hang()


def _noop(ex: "Exec", target: str) -> str:
    return "done"


def _sql_host(ex: "Exec") -> str:
    return ex.world.sql_host_for(ex.name)


def _sql_reachable(ex: "Exec") -> tuple[bool, str]:
    sql_host = _sql_host(ex)
    if not ex.world.host_reachable(sql_host):
        return False, f"cannot connect to SQL Server {sql_host}: the server was not found or was not accessible"
    if ex.world.peek_fault("sql.down", host=sql_host, after_backup=ex.world.sql_backup_taken(sql_host)):
        return False, f"cannot connect to SQL Server {sql_host}: a network-related error occurred (error 40)"
    return True, sql_host


def _step_clear_log(ex: "Exec", target: str) -> str:
    with ex.world.lock:
        files = ex.state()["files"]
        removed = 0
        for k in list(fs.children(files, WY_LOG_DIR)):
            name = files[k].get("path", k).rsplit("\\", 1)[-1]
            if name.lower() == "logreport.txt" or (name.lower().startswith("upgrade_") and target not in name):
                fs.remove(files, k)
                removed += 1
    return f"{removed} old log file(s) removed"


def _step_duplicates(ex: "Exec", target: str) -> str:
    # duplicate service registrations (the same SysAdmin service under two names differing in case)
    with ex.world.lock:
        names = [n.lower() for n in ex.state()["services"]]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise StepFailed(f"duplicate services: {', '.join(dups)}")
    return f"{len(names)} services, no duplicates"


def _step_sqlconn(ex: "Exec", target: str) -> str:
    ok, why = _sql_reachable(ex)
    if not ok:
        raise StepFailed(why)
    return f"connected to {why} (SysAdminTenant)"


def _step_umpadmins(ex: "Exec", target: str) -> str:
    with ex.world.lock:
        st = ex.state()
        members = st.get("groups", {}).get("UmpAdmins")
    if members is None:
        raise StepFailed("local group UmpAdmins does not exist")
    return f"UmpAdmins members: {', '.join(members)}"


def _step_clear_sql_scripts(ex: "Exec", target: str) -> str:
    with ex.world.lock:
        files = ex.state()["files"]
        fs.remove(files, f"{ACS}\\temp\\sqlscripts")
    return "upgrade folder SQL scripts cleared"


def _step_check_services(ex: "Exec", target: str) -> str:
    # In the GUI this step pauses until the services are stopped; under /fromservice there is nobody to
    # answer, so the lab fails it (docs/assumptions.md).
    with ex.world.lock:
        st = ex.state()
        scm.refresh(ex.world, ex.name, st)
        running = sorted(
            n for n, s in st["services"].items() if n.lower().startswith("sysadmin") and s["state"] == "running"
        )
    if running:
        raise StepFailed(f"SysAdmin services still running: {', '.join(running)}")
    return "all SysAdmin services are stopped"


def _step_set_services(ex: "Exec", target: str) -> str:
    created = []
    with ex.world.lock:
        svcs = ex.state()["services"]
        if "SysAdmin.PeeringSvc" not in svcs:
            svcs["SysAdmin.PeeringSvc"] = scm.new_service(
                "SysAdmin.PeeringSvc", f"{ACS}\\SysAdminKit\\SysAdmin.PeeringSvc.exe"
            )
            created.append("SysAdmin.PeeringSvc")
        for n in NEW_SERVICES:
            if n not in svcs:
                svcs[n] = scm.new_service(n, f"{ACS}\\SysAdminKit\\{n}.exe")
                created.append(n)
    return f"created: {', '.join(created)}" if created else "services already set"


def _step_start_peering(ex: "Exec", target: str) -> str:
    with ex.world.lock:
        st = ex.state()
        try:
            scm.start(ex.world, ex.name, st, "SysAdmin.PeeringSvc")
        except scm.ServiceError as e:
            raise StepFailed(str(e)) from None
    return "SysAdmin.PeeringSvc started"


def _step_backup_folder(ex: "Exec", target: str) -> str:
    sql_host = _sql_host(ex)
    with ex.world.lock:
        sst = ex.world.host_state(sql_host)
        folder = ex.world.sql_state(sql_host).get("backup_dir", f"{ACS}\\dbbackup")
        exists = fs.is_dir(sst["files"], folder)
    if not exists:
        raise StepFailed(f"SQL backup folder {folder} does not exist on {sql_host}")
    return f"SQL backup folder {folder} on {sql_host}"


def _step_rename_kit(ex: "Exec", target: str) -> str:
    with ex.world.lock:
        st = ex.state()
        files = st["files"]
        old = _installed(st)
        backup = f"{ACS}\\SysAdminKit_{old}"
        if not fs.is_dir(files, f"{ACS}\\SysAdminKit"):
            raise StepFailed(f"{ACS}\\SysAdminKit does not exist")
        fs.mkdir(files, backup)
        for k in list(fs.walk(files, f"{ACS}\\SysAdminKit")):
            e = files[k]
            rel = e.get("path", k)[len(f"{ACS}\\SysAdminKit") + 1 :]
            if e["type"] == "directory":
                fs.mkdir(files, f"{backup}\\{rel}")
            else:
                fs.write_bytes(files, f"{backup}\\{rel}", fs.read_bytes(files, k))
    return f"SysAdminKit copied to {backup}"


def _step_sql_scripts(ex: "Exec", target: str) -> str:
    ok, why = _sql_reachable(ex)
    if not ok:
        raise StepFailed(why)
    sql_host = _sql_host(ex)
    w = ex.world
    w.sql_exec(sql_host, "SysAdminTenant", "INSERT INTO SchemaVersion VALUES (?, ?)", (target, iso_now()))
    for name in ("SysAdminKitVersion", "MultiTenantVersion"):
        w.sql_exec(
            sql_host,
            "SysAdminTenant",
            "INSERT INTO ApplicationSetting (Name, Value) VALUES (?, ?) "
            "ON CONFLICT(Name) DO UPDATE SET Value = excluded.Value",
            (name, target),
        )
    w.count("wyupdate.sql_scripts")
    return f"006.runsqlscript.exe: SysAdminTenant on {sql_host} at schema {target}"


def _step_auth_pool(ex: "Exec", target: str) -> str:
    with ex.world.lock:
        iis = ex.state().setdefault("iis", {"app_pools": {}})
        iis.setdefault("app_pools", {})["AuthPool"] = {
            "state": "Started",
            "runtime": "v4.0",
            "identity": "ApplicationPoolIdentity",
        }
    return "IIS application pool AuthPool present"


def _install(step: str):
    def impl(ex: "Exec", target: str) -> str:
        key, comp = INSTALLS[step]
        url = ex.world.data["vendor"]["egress_endpoints"].get(key, "")
        with ex.world.lock:
            st = ex.state()
            if url and not egress_allowed(st, url):
                raise StepFailed(f"download failed: unable to connect to {url}")
            after = ex.world.data["vendor"]["components_after"]
            if comp in after:
                st["ump"]["components"][comp] = after[comp]
                return f"{comp} {after[comp]} installed"
            st["ump"].setdefault("installed_modules", {})[comp] = True
        return f"{comp} installed"

    return impl


def _customers(ex: "Exec") -> list[dict]:
    return ex.world.sql_rows(_sql_host(ex), "SysAdminTenant", "SELECT * FROM Customer ORDER BY CustomerShortName")


def _step_check_tenant(password: bool):
    def impl(ex: "Exec", target: str) -> str:
        ok, why = _sql_reachable(ex)
        if not ok:
            raise StepFailed(why)
        rows = [c for c in _customers(ex) if not password or c["AuthMethod"] == "Password"]
        bad = [c["CustomerShortName"] for c in rows if not c["MsTenantId"]]
        if bad:
            raise StepFailed(f"customers without an Azure tenant id: {', '.join(bad)}")
        return f"CheckAzureTenantId_220.exe{' /password' if password else ''}: {len(rows)} customer(s) checked"

    return impl


def _step_alert(ex: "Exec", target: str) -> str:
    with ex.world.lock:
        ex.state()["ump"]["customer_upgrade_pending"] = True
    return "170.AlertCustomerUpgrade.bat: customers must now be upgraded with SysAdmin.CustomerUpgrade"


def _step_logreport(ex: "Exec", target: str) -> str:
    with ex.world.lock:
        files = ex.state()["files"]
        try:
            text = fs.read_text(files, LOGREPORT)
        except FileNotFoundError:
            text = ""
        n = sum(1 for line in text.splitlines() if line.startswith("ERROR"))
        if not text:
            fs.write_text(files, LOGREPORT, "")
    return f"LogReport.exe: {n} error(s)"


STEP_IMPL = {
    "ClearWyupdateLog": _step_clear_log,
    "CheckDuplicates": _step_duplicates,
    "CheckSQLConn": _step_sqlconn,
    "UmpAdmins": _step_umpadmins,
    "ClearUpgradefolderSQLscripts": _step_clear_sql_scripts,
    "CheckServices": _step_check_services,
    "SetServices": _step_set_services,
    "StartPeeringSvc": _step_start_peering,
    "CheckSQLDbBackupBackendFolder": _step_backup_folder,
    "renameSysAdminKitFolder": _step_rename_kit,
    "RunSqlScripts": _step_sql_scripts,
    "AddAuthPool": _step_auth_pool,
    **{s: _install(s) for s in INSTALLS},
    "RunCheckAzureTenantId_220": _step_check_tenant(False),
    "RunCheckAzureTenantId_220_Password": _step_check_tenant(True),
    "AlertCustomerUpgrade": _step_alert,
    "runLogReport": _step_logreport,
}


# ---------------------------------------------------------------------- Sysadmin.CustomerUpgrade.exe
def customer_upgrade(ex: "Exec") -> tuple[int, str, str]:
    world = ex.world
    world.count("customer_upgrade.runs")
    if world.take_fault("customer_upgrade.gui", host=ex.name):
        # the site's program is a GUI (the Customer Upgrade Manager): under a non-interactive session its
        # window is nowhere to be seen, it writes nothing and never exits (until killed)
        world.count("customer_upgrade.gui_waiting")
        _wait_cancel(ex)
    log_path = fs.expand_env(_switch(ex.argv, "log") or CU_LOG, ex.user)
    out: list[str] = []

    def emit(short: str, status: str, version: str, reason: str = "") -> None:
        line = f"{iso_now()} | {short} | {status} | {version} | {reason}"
        out.append(line + "\r\n")
        with world.lock:
            fs.append_text(ex.state()["files"], log_path, line + "\r\n")

    with world.lock:
        st = ex.state()
        elevated = in_group(st, ex.user, "UmpAdmins")
        kit = _installed(st)
    target = world.data["vendor"]["latest_version"]
    layout = site(ex)
    if layout["customer_upgrade"] == "gui":
        # the Customer Upgrade Manager (a Windows GUI program, PE subsystem 2): whatever its arguments, it
        # opens its window and waits for a person; under WinRM there is no desktop, so nothing is printed or
        # logged and it never exits (until the command is stopped or the machine goes away)
        world.count("customer_upgrade.gui_waiting")
        try:
            _wait_cancel(ex)
        except Cancelled:
            return 1, "", ""
    if _switch(ex.argv, "unattended") is None:
        return 1, "", "Sysadmin.CustomerUpgrade: no interactive session; use /unattended with /all or /customers:\r\n"
    if not elevated:
        emit("*", "Failed", kit, "run Sysadmin.CustomerUpgrade as a member of UmpAdmins")
        return 1, "".join(out), ""
    if kit != target:
        emit("*", "Failed", kit, f"SysAdminKit {kit} is not at the target version {target}: run wyUpdate first")
        return 1, "".join(out), ""
    ok, why = _sql_reachable(ex)
    if not ok:
        emit("*", "Failed", kit, why)
        return 1, "".join(out), ""
    rows = {c["CustomerShortName"].lower(): c for c in _customers(ex)}
    sel = _switch(ex.argv, "customers")
    if _switch(ex.argv, "all") is not None:
        selected = [c["CustomerShortName"] for c in rows.values()]
    elif sel:
        selected = [s.strip() for s in sel.split(",") if s.strip()]
    else:
        emit("*", "Failed", kit, "no customers selected: use /all or /customers:<short1,short2>")
        return 1, "".join(out), ""
    all_ok = True
    for short in selected:
        row = rows.get(short.lower())
        if row is None:
            emit(short, "Failed", "-", "unknown customer")
            all_ok = False
            continue
        short = row["CustomerShortName"]
        current = row["Version"]
        if current == target:
            emit(short, "UpToDate", target)
            continue
        emit(short, "Upgrading", current)
        try:
            if world.peek_fault("customer_upgrade.stuck", host=ex.name, customer=short):
                world.take_fault("customer_upgrade.stuck", host=ex.name, customer=short)
                _wait_cancel(ex)
            ex.sleep(world.data["config"].get("durations", {}).get("customer_upgrade", 120))
        except Cancelled:
            return 3, "".join(out), ""
        with world.lock:
            handles = fs.locked(ex.state(), f"{layout['tenants_dir']}\\{short}")
        fault = world.take_fault("customer_upgrade.fail", host=ex.name, customer=short)
        if fault or handles:
            reason = (
                fault.get("message", "upgrade script failed (lab fault customer_upgrade.fail)")
                if fault
                else (f"files in use: {', '.join(handles)}")
            )
            emit(short, "Failed", current, reason)
            all_ok = False
            continue
        upgrade_customer(world, ex.name, row, target, ex.state)
        emit(short, "UpToDate", target)
    return (0 if all_ok else 1), "".join(out), ""


def upgrade_customer(world, host: str, row: dict, target: str, state) -> None:
    """What upgrading one customer changes: SysAdminTenant's Customer.Version, the customer database's
    SyncState Version and the version file in the customer's folder (``state()`` = the host's state)."""
    sql_host = world.sql_host_for(host)
    short = row["CustomerShortName"]
    world.sql_exec(
        sql_host,
        "SysAdminTenant",
        "UPDATE Customer SET Version = ? WHERE UmpCustomerGuid = ?",
        (target, row["UmpCustomerGuid"]),
    )
    db = f"SysAdmin{short}"
    if db in world.sql_databases(sql_host):
        world.sql_exec(sql_host, db, "UPDATE SyncState SET Value = ? WHERE Name = 'Version'", (target,))
    with world.lock:
        st = state()
        layout = {**SITE_DEFAULTS, **(st.get("ump", {}).get("site") or {})}
        fs.write_text(st["files"], f"{layout['tenants_dir']}\\{short}\\{layout['version_file']}", target + "\n")
    world.count("customer_upgrade.customers")


def operator_clicks(world, host: str) -> list[str]:
    """The lab playing the operator of the Customer Upgrade Manager (fault ``customer_upgrade.operator``):
    select every customer below the target, "Update Selected", read UpToDate in its log, close the window.
    Done only once wyUpdate has put SysAdminKit at the target (the program refuses otherwise)."""
    target = world.data["vendor"]["latest_version"]

    def state():
        return world.host_state(host)

    with world.lock:
        st = state()
        if _installed(st) != target or not st.get("ump", {}).get("customer_upgrade_pending"):
            return []
    rows = world.sql_rows(
        world.sql_host_for(host), "SysAdminTenant", "SELECT * FROM Customer ORDER BY CustomerShortName"
    )
    done = []
    for row in rows:
        if row["Version"] == target:
            continue
        upgrade_customer(world, host, row, target, state)
        with world.lock:
            fs.append_text(
                state()["files"], CU_LOG, f"{iso_now()} | {row['CustomerShortName']} | UpToDate | {target} | \r\n"
            )
        done.append(row["CustomerShortName"])
    with world.lock:
        state()["ump"]["customer_upgrade_pending"] = False
    return done


# ---------------------------------------------------------------------- tools
def logreport(ex: "Exec") -> tuple[int, str, str]:
    with ex.world.lock:
        try:
            text = fs.read_text(ex.state()["files"], LOGREPORT)
        except FileNotFoundError:
            text = ""
    errors = [line for line in text.splitlines() if line.startswith("ERROR")]
    body = "".join(line + "\r\n" for line in errors) or "No errors found.\r\n"
    return 0, body, ""


def check_azure_tenant(ex: "Exec", password_only: bool) -> tuple[int, str, str]:
    try:
        msg = _step_check_tenant(password_only)(ex, "")
    except StepFailed as e:
        return 1, "", f"{e}\r\n"
    return 0, msg + "\r\n", ""
