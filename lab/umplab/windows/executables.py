"""The programs an emulated host can run, for win_command / win_shell / pywinrm's run_cmd and run_ps.

Only these exist (anything else is "not recognized", as on a host without it):
``hostname``, ``whoami``, ``sc.exe`` (query, qc, qfailure, failure, stop, start), ``ipconfig``,
``cmd /c``, ``echo``, ``C:\\acs\\wyupdate.exe``, ``Sysadmin.CustomerUpgrade.exe``, ``LogReport.exe`` and
``CheckAzureTenantId_220.exe``, ``curl.exe`` (C:\\Windows\\System32, Windows 10 1803 / Server 2019 and later:
HEAD/GET probes answered from the host's egress policy, see :func:`curl_exe`); in PowerShell: ``Get-Service``/``Stop-Service``/``Start-Service``/
``Restart-Service`` (names, wildcards, ``-Force``; Stop-Service ``-NoWait``), the ServiceController calls
``(Get-Service -Name 'X').WaitForStatus('Stopped'|'Running', 'hh:mm:ss')`` and ``(Get-Service -Name 'X').Start()``,
``Get-Content``, ``Test-Path``, ``Write-Output``/``echo``,
``hostname``, ``whoami``, ``$env:COMPUTERNAME``, ``Start-Sleep``, ``exit N``, ``$LASTEXITCODE`` and the
executables above (bare, quoted or with ``&``), statements separated by ``;`` or new lines; Get-Service
pipelines into ``Where-Object {$_.Status|StartType|Name -eq|-ne|-like ...}``, ``Select-Object
[-ExpandProperty X]``, ``ConvertTo-Json``, ``Format-Table``/``Out-String`` (ignored). Anything else is
"not recognized" (rc 1), never a silent success.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from . import fs
from . import services as scm

if TYPE_CHECKING:
    from .host import WindowsHost
    from .process import Process


class NotFound(Exception):
    pass


def quote(arg: str) -> str:
    if arg and not re.search(r'[\s"]', arg):
        return arg
    return '"' + arg.replace('"', '\\"') + '"'


def split_cmdline(cmd: str) -> list[str]:
    """CommandLineToArgvW-ish: double quotes group, backslash-quote escapes a quote."""
    args: list[str] = []
    cur = ""
    inq = False
    had = False
    i = 0
    while i < len(cmd):
        c = cmd[i]
        if c == "\\" and i + 1 < len(cmd) and cmd[i + 1] == '"':
            cur += '"'
            i += 2
            had = True
            continue
        if c == '"':
            inq = not inq
            had = True
        elif c.isspace() and not inq:
            if cur or had:
                args.append(cur)
            cur = ""
            had = False
        else:
            cur += c
            had = True
        i += 1
    if cur or had:
        args.append(cur)
    return args


class Exec:
    """What a program sees: its host, identity, arguments, and a way to wait (lab durations)."""

    def __init__(self, host: "WindowsHost", proc: "Process", user: str, argv: list[str], raw: str, stdin: bytes = b""):
        self.host = host
        self.world = host.world
        self.name = host.name
        self.proc = proc
        self.user = user
        self.argv = argv
        self.raw = raw
        self.stdin = stdin

    def sleep(self, real_seconds: float) -> None:
        self.proc.sleep(real_seconds)

    def state(self) -> dict:
        return self.world.host_state(self.name)


def _exe_name(token: str) -> str:
    base = re.split(r"[\\/]", token.strip().strip('"').strip("'"))[-1].lower()
    return base[:-4] if base.endswith(".exe") else base


# programs that live on the C:\ drive of the UMP server (must exist in host files to run)
ON_DISK = {
    "wyupdate": "C:\\acs\\wyupdate.exe",
    "sysadmin.customerupgrade": "C:\\acs\\SysAdmin.CustomerUpgrade\\Sysadmin.CustomerUpgrade.exe",
    "logreport": "C:\\acs\\tools\\LogReport\\LogReport.exe",
    "checkazuretenantid_220": "C:\\acs\\CheckAzureTenantId_220\\CheckAzureTenantId_220.exe",
}
SYSTEM = {"hostname", "whoami", "sc", "ipconfig", "cmd", "powershell", "pwsh", "ping", "openfiles", "curl", "taskkill"}
# curl.exe is in System32 from Windows 10 1803 (build 17134) / Server 2019 (17763) on; first in build 17063
CURL_FROM_BUILD = 17063


def _resolve(host: "WindowsHost", token: str, user: str) -> str | None:
    name = _exe_name(token)
    if name == "curl":
        with host.world.lock:
            build = int(str(host.world.host_state(host.name)["os"].get("build") or 0) or 0)
        return name if build >= CURL_FROM_BUILD else None
    if name in SYSTEM:
        return name
    if name in ON_DISK:
        path = fs.expand_env(token.strip('"').strip("'"), user)
        with host.world.lock:
            files = host.world.host_state(host.name)["files"]
            if "\\" in path:
                return name if fs.exists(files, path) else None
            return name if fs.exists(files, ON_DISK[name]) else None
    return None


def run_argv(
    host: "WindowsHost", proc: "Process", user: str, argv: list[str], raw: str, stdin: bytes = b""
) -> tuple[int, str, str]:
    name = _resolve(host, argv[0], user)
    if name is None:
        raise NotFound(argv[0])
    ex = Exec(host, proc, user, argv, raw, stdin)
    if name == "hostname":
        with host.world.lock:
            return 0, host.world.host_state(host.name)["os"]["hostname"] + "\r\n", ""
    if name == "whoami":
        return 0, f"{host.name.lower()}\\{user.lower()}\r\n", ""
    if name == "ipconfig":
        with host.world.lock:
            ip = host.world.host_state(host.name)["os"]["ip"]
        return (
            0,
            (
                "\r\nWindows IP Configuration\r\n\r\n\r\nEthernet adapter Ethernet:\r\n\r\n"
                f"   Connection-specific DNS Suffix  . : \r\n   IPv4 Address. . . . . . . . . . . : {ip}\r\n"
                "   Subnet Mask . . . . . . . . . . . : 255.255.255.0\r\n"
                f"   Default Gateway . . . . . . . . . : {ip.rsplit('.', 1)[0]}.1\r\n"
            ),
            "",
        )
    if name == "sc":
        return sc_exe(ex)
    if name == "openfiles":
        return openfiles_exe(ex)
    if name == "curl":
        return curl_exe(ex)
    if name == "cmd" and not re.search(r"\s/[cCkK]\s", raw):
        # an interactive cmd.exe reading its commands from stdin
        out = [
            "Microsoft Windows [Version 10.0.17763.6414]\r\n(c) 2018 Microsoft Corporation. All rights reserved.\r\n"
        ]
        err = []
        rc = 0
        for line in stdin.decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            if line.strip().lower() == "exit":
                break
            out.append(f"\r\nC:\\Users\\{user}>{line}\r\n")
            rc, o, e = run_cmdline(host, proc, user, line)
            out.append(o)
            err.append(e)
        return rc, "".join(out), "".join(err)
    if name == "cmd":
        m = re.match(r"^\s*\S+\s+/[cCkK]\s+(.*)$", raw, re.S)
        if not m:
            return 0, "Microsoft Windows [Version 10.0.17763.6414]\r\n", ""
        return run_cmdline(
            host,
            proc,
            user,
            m.group(1).strip().strip('"')
            if m.group(1).count('"') == 2 and m.group(1).strip().startswith('"') and m.group(1).strip().endswith('"')
            else m.group(1),
        )
    if name in ("powershell", "pwsh"):
        m = re.search(r"-(?:Command|c)\s+(.*)$", raw, re.I | re.S)
        script = m.group(1).strip() if m else ""
        if script.startswith('"') and script.endswith('"'):
            script = script[1:-1]
        return run_powershell(host, proc, user, script)
    if name == "ping":
        return 0, "Pinging ...\r\nReply\r\n", ""
    if name == "taskkill":
        return taskkill_exe(ex)
    return _run_program(host, proc, name, ex)


def _run_program(host: "WindowsHost", proc: "Process", name: str, ex: "Exec") -> tuple[int, str, str]:
    """One of the UMP server's programs, listed as a running process (image name) while it runs;
    ``taskkill /F`` ends it with exit code 1 (TerminateProcess), whatever it was doing."""
    from . import ump
    from .process import Cancelled

    image = ntpath_basename(ON_DISK.get(name, name)).lower()
    entry = {"proc": proc, "killed": False}
    with host.table.jobs_lock:
        host.table.programs.setdefault(image, []).append(entry)
    try:
        return ump.run(name, ex)
    except Cancelled:
        if entry["killed"]:
            return 1, "", ""
        raise
    finally:
        with host.table.jobs_lock:
            running = host.table.programs.get(image, [])
            if entry in running:
                running.remove(entry)


def ntpath_basename(path: str) -> str:
    return path.replace("/", "\\").rsplit("\\", 1)[-1]


def taskkill_exe(ex: "Exec") -> tuple[int, str, str]:
    """``taskkill [/F] [/T] /IM <image>``: ends the processes of that image (the lab's programs only)."""
    args = ex.argv[1:]
    image = None
    for i, a in enumerate(args):
        if a.lower() == "/im" and i + 1 < len(args):
            image = args[i + 1].strip('"').lower()
    if not image:
        return 1, "", "ERROR: Invalid syntax. Neither /FI nor /PID nor /IM were specified.\r\n"
    force = any(a.lower() == "/f" for a in args)
    with ex.host.table.jobs_lock:
        entries = list(ex.host.table.programs.get(image, []))
    if not entries:
        return 128, "", f'ERROR: The process "{image}" not found.\r\n'
    out = []
    for n, e in enumerate(entries):
        pid = 4100 + n
        if force:
            e["killed"] = True
            e["proc"].terminate()
            out.append(f'SUCCESS: The process "{image}" with PID {pid} has been terminated.\r\n')
        else:
            # without /F Windows sends WM_CLOSE: a console program or a hidden GUI ignores it
            return (
                1,
                "",
                f'ERROR: The process "{image}" with PID {pid} could not be terminated.\r\n'
                "Reason: This process can only be terminated forcefully (with /F option).\r\n",
            )
    ex.world.count("winhost.taskkill")
    return 0, "".join(out), ""


def run_cmdline(
    host: "WindowsHost",
    proc: "Process",
    user: str,
    cmdline: str,
    stdin: bytes = b"",
    chdir: str | None = None,
    as_process: bool = False,
    env: dict | None = None,
) -> tuple[int, str, str]:
    """cmd.exe semantics for a command line (or CreateProcess when ``as_process``: win_command).

    cmd.exe expands ``%NAME%`` from the process environment (the WS-Man shell's variables and a module's
    ``environment:`` included); CreateProcess does not."""
    raw = cmdline.strip()
    if not as_process:
        raw = expand_cmd_vars(raw, _environment(host, proc, user, env))
    if not raw:
        return 0, "", ""
    argv = split_cmdline(raw)
    if not as_process and _exe_name(argv[0]) == "echo":
        return 0, raw[4:].strip() + "\r\n", ""
    if not as_process and _exe_name(argv[0]) in ("mkdir", "md") and len(argv) == 2:
        return _cmd_mkdir(host, argv[1])
    try:
        return run_argv(host, proc, user, argv, raw, stdin)
    except NotFound:
        if as_process:
            raise NotFound(
                f"Exception calling \"SearchPath\" with \"1\" argument(s): \"Could not find file '{argv[0]}'.\""
            ) from None
        return (
            1,
            "",
            f"'{argv[0]}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
        )


def _cmd_mkdir(host: "WindowsHost", path: str) -> tuple[int, str, str]:
    """cmd.exe's built-in ``mkdir``/``md`` (command extensions on, the default): creates the missing parents
    too; a path that exists (folder or file) is an error, exit 1, "A subdirectory or file <path> already
    exists." (learn.microsoft.com, windows-commands/mkdir). CreateDirectory is atomic: of two at once, one
    fails, which is what makes a folder a lock."""
    path = fs.display(path.strip().strip('"'))
    with host.world.lock:
        files = host.world.host_state(host.name)["files"]
        if fs.exists(files, path):
            return 1, "", f"A subdirectory or file {path} already exists.\r\n"
        fs.mkdir(files, path)
        skew = host.world.clock_skew(host.name)
        if skew:  # fault clock.skew: the folder's time is the host's clock
            files[fs.win_key(path)]["mtime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + skew))
    return 0, "", ""


# ---------------------------------------------------------------------- sc.exe
def sc_exe(ex: Exec) -> tuple[int, str, str]:
    args = ex.argv[1:]
    if args and args[0].startswith("\\\\"):
        args = args[1:]
    if not args:
        return (
            0,
            "DESCRIPTION:\r\n        SC is a command line program used for communicating with the\r\n        Service Control Manager and services.\r\n",
            "",
        )
    verb = args[0].lower()
    name = args[1] if len(args) > 1 else ""
    world = ex.world
    with world.lock:
        st = ex.state()
        scm.refresh(world, ex.name, st)
        real, svc = scm.find(st, name) if name else (None, None)
        if verb in ("query", "qc", "qfailure", "failure", "stop", "start", "config") and svc is None:
            return (
                1060,
                "[SC] OpenService FAILED 1060:\r\n\r\nThe specified service does not exist as an installed service.\r\n\r\n",
                "",
            )
        if verb == "qfailure":
            return 0, scm.qfailure(real, svc), ""
        if verb == "failure":
            if not _admin(ex):
                return 5, "[SC] OpenService FAILED 5:\r\n\r\nAccess is denied.\r\n\r\n", ""
            opts = _sc_opts(args[2:])
            reset = int(opts["reset"]) if opts.get("reset", "").lstrip("-").isdigit() else None
            if "actions" in opts and reset is None:
                return 87, "[SC] ChangeServiceConfig2 FAILED 87:\r\n\r\nThe parameter is incorrect.\r\n\r\n", ""
            scm.set_failure(svc, reset, opts.get("actions"))
            world.count("winhost.sc_failure")
            return 0, "[SC] ChangeServiceConfig2 SUCCESS\r\n", ""
        if verb in ("query", "qc"):
            state_code = {"running": "4  RUNNING", "stopped": "1  STOPPED", "paused": "7  PAUSED"}[svc["state"]]
            if verb == "query":
                return (
                    0,
                    (
                        f"\r\nSERVICE_NAME: {real} \r\n        TYPE               : 10  WIN32_OWN_PROCESS  \r\n"
                        f"        STATE              : {state_code} \r\n        WIN32_EXIT_CODE    : 0  (0x0)\r\n"
                        "        SERVICE_EXIT_CODE  : 0  (0x0)\r\n        CHECKPOINT         : 0x0\r\n        WAIT_HINT          : 0x0\r\n"
                    ),
                    "",
                )
            mode = {
                "auto": "2   AUTO_START",
                "delayed": "2   AUTO_START  (DELAYED)",
                "manual": "3   DEMAND_START",
                "disabled": "4   DISABLED",
            }[svc.get("start_mode", "manual")]
            return (
                0,
                (
                    f"[SC] QueryServiceConfig SUCCESS\r\n\r\nSERVICE_NAME: {real}\r\n        TYPE               : 10  WIN32_OWN_PROCESS \r\n"
                    f"        START_TYPE         : {mode}\r\n        BINARY_PATH_NAME   : {svc.get('path', '')}\r\n"
                    f"        DISPLAY_NAME       : {svc.get('display_name', real)}\r\n"
                    f"        DEPENDENCIES       : {' '.join(svc.get('dependencies', []))}\r\n"
                    f"        SERVICE_START_NAME : {svc.get('username', 'LocalSystem')}\r\n"
                ),
                "",
            )
        if verb == "config":
            opts = _sc_opts(args[2:])
            mode = {"auto": "auto", "delayed-auto": "delayed", "demand": "manual", "disabled": "disabled"}.get(
                opts.get("start", "")
            )
            if mode:
                svc["start_mode"] = mode
            return 0, "[SC] ChangeServiceConfig SUCCESS\r\n", ""
        if verb in ("stop", "start"):
            try:
                if verb == "stop":
                    scm.stop(world, ex.name, st, real)
                else:
                    scm.start(world, ex.name, st, real)
            except scm.ServiceError as e:
                code = 1051 if "dependent" in str(e) else 1061
                return code, f"[SC] ControlService FAILED {code}:\r\n\r\n{e}\r\n\r\n", ""
            return (
                0,
                f"\r\nSERVICE_NAME: {real} \r\n        STATE              : {'3  STOP_PENDING' if verb == 'stop' else '2  START_PENDING'}\r\n",
                "",
            )
    return 1639, "[SC] invalid option\r\n", ""


def _sc_opts(args: list[str]) -> dict[str, str]:
    """``reset= 0 actions= ""`` -> {"reset": "0", "actions": ""} (sc.exe wants the space after '=')."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.endswith("="):
            out[a[:-1].lower()] = args[i + 1] if i + 1 < len(args) else ""
            i += 2
        elif "=" in a:
            k, v = a.split("=", 1)
            out[k.lower()] = v
            i += 1
        else:
            i += 1
    return out


def _admin(ex: Exec) -> bool:
    from .accounts import is_admin

    with ex.world.lock:
        return is_admin(ex.state(), ex.user)


# ---------------------------------------------------------------------- PowerShell one-liners
NOT_RECOGNIZED = (
    "{0} : The term '{0}' is not recognized as the name of a cmdlet, function, script file, or operable program. "
    "Check the spelling of the name, or if a path was included, verify that the path is correct and try again.\r\n"
    "At line:1 char:1\r\n+ {0}\r\n+ ~~~~\r\n    + CategoryInfo          : ObjectNotFound: ({0}:String) [], CommandNotFoundException\r\n"
    "    + FullyQualifiedErrorId : CommandNotFoundException\r\n"
)


def _environment(host: "WindowsHost", proc: "Process", user: str, extra: dict | None = None) -> dict[str, str]:
    """The process environment: the system's, the WS-Man shell's (``rsp:Environment``), then ``extra``
    (a module's ``environment:``); names are case-insensitive as on Windows."""
    with host.world.lock:
        hostname = host.world.host_state(host.name)["os"]["hostname"]
    env = {
        "COMPUTERNAME": hostname,
        "USERNAME": user,
        "USERPROFILE": fs.user_profile(user),
        "TEMP": f"{fs.user_profile(user)}\\AppData\\Local\\Temp",
        "TMP": f"{fs.user_profile(user)}\\AppData\\Local\\Temp",
        "SYSTEMROOT": "C:\\Windows",
        "WINDIR": "C:\\Windows",
        "SYSTEMDRIVE": "C:",
        "PROGRAMFILES": "C:\\Program Files",
        "PROGRAMDATA": "C:\\ProgramData",
    }
    for src in (getattr(proc, "env", None) or {}, extra or {}):
        for k, v in src.items():
            env[str(k).upper()] = "" if v is None else str(v)
    return env


def expand_cmd_vars(text: str, env: dict[str, str]) -> str:
    """cmd.exe's ``%NAME%`` expansion (an undefined name stays as written)."""
    return re.sub(r"%([^%\s]+)%", lambda m: env.get(m.group(1).upper(), m.group(0)), text)


def expand_ps_env(stmt: str, env: dict[str, str], variables: dict[str, str] | None = None) -> str:
    """``$env:NAME`` (and ``$name`` of a variable the script set) outside single-quoted strings -> its value
    ($null -> empty), as PowerShell expands it."""
    variables = variables or {}
    out = []
    q = None
    i = 0
    while i < len(stmt):
        c = stmt[i]
        if q == "'":
            out.append(c)
            if c == "'":
                q = None
            i += 1
            continue
        if c == "'" and q is None:
            q = "'"
            out.append(c)
            i += 1
            continue
        if c == '"':
            q = None if q == '"' else '"'
            out.append(c)
            i += 1
            continue
        m = re.match(r"\$env:(\w+)", stmt[i:], re.I)
        v = None if m else re.match(r"\$(\w+)\b(?!:)", stmt[i:])
        if v and v.group(1).lower() in variables:
            m = v
        if m:
            value = env.get(m.group(1).upper(), "") if m is not v else variables[m.group(1).lower()]
            # a bare $env:X is one argument even with spaces; inside "..." it is part of the string
            out.append(value if q == '"' else ("'" + value.replace("'", "''") + "'"))
            i += len(m.group(0))
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _split_statements(script: str) -> list[str]:
    out: list[str] = []
    cur = ""
    q: str | None = None
    for c in script:
        if q:
            cur += c
            if c == q:
                q = None
            continue
        if c in "'\"":
            q = c
            cur += c
        elif c in ";\n\r":
            if cur.strip():
                out.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def _ps_args(text: str) -> list[str]:
    """PowerShell argument list: quotes ('' and ""), commas join names."""
    toks: list[str] = []
    for m in re.finditer(r"'((?:[^']|'')*)'|\"([^\"]*)\"|([^\s,]+)|,", text):
        if m.group(0) == ",":
            continue
        if m.group(1) is not None:
            toks.append(m.group(1).replace("''", "'"))
        elif m.group(2) is not None:
            toks.append(m.group(2))
        else:
            toks.append(m.group(3))
    return toks


def _service_table(rows: list[tuple[str, dict]]) -> str:
    lines = ["", "Status   Name               DisplayName", "------   ----               -----------"]
    for n, s in rows:
        short = n if len(n) <= 18 else n[:15] + "..."
        lines.append(f"{scm.win32_state(s):<8} {short:<18} {s.get('display_name', n)}")
    return "\r\n".join(lines) + "\r\n\r\n\r\n"


# (Get-Service -Name 'X').WaitForStatus('Stopped', '00:02:00') / .Start(): System.ServiceProcess.ServiceController
SERVICE_CALL = re.compile(
    r"^\(\s*get-service\s+(?:-name\s+)?'((?:[^']|'')*)'\s*\)\.(waitforstatus|start)\s*\((.*)\)$", re.I
)
# ServiceController.WaitForStatus throws System.ServiceProcess.TimeoutException (dotnet/runtime
# System.ServiceProcess.ServiceController, resource "Timeout"); PowerShell wraps a .NET exception of a
# method call as MethodInvocationException "Exception calling ... with "N" argument(s): ...".
METHOD_ERROR = (
    'Exception calling "{method}" with "{n}" argument(s): "{msg}"\r\nAt line:{line} char:1\r\n+ {stmt}\r\n'
    "+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\r\n"
    "    + CategoryInfo          : NotSpecified: (:) [], MethodInvocationException\r\n"
    "    + FullyQualifiedErrorId : {fqid}\r\n"
)


def _timespan_seconds(text: str) -> float:
    """[d.]hh:mm:ss as PowerShell converts a string to a TimeSpan."""
    m = re.match(r"^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$", text.strip())
    if not m:
        raise ValueError(text)
    days, h, mi, sec = m.groups()
    return int(days or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + float(sec)


def _service_call(
    host: "WindowsHost", proc: "Process", m: re.Match, stmt: str, line: int, waited: list
) -> tuple[int, str, str]:
    """A ServiceController method on one service: WaitForStatus waits on the host until the service is in the
    state or the time is out; Start() asks the SCM to start it and returns at once. The services of one
    script change in parallel: the first wait that finds its service there takes the lab's 5 s, the others
    none (``waited``)."""
    name, method = m.group(1).replace("''", "'"), m.group(2).lower()
    args = _ps_args(m.group(3))
    with host.world.lock:
        st = host.world.host_state(host.name)
        real, svc = scm.find(st, name)
        if svc is None:
            return (
                1,
                "",
                (
                    f"Get-Service : Cannot find any service with service name '{name}'.\r\n"
                    "    + FullyQualifiedErrorId : NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand\r\n"
                ),
            )
        if method == "start":
            try:
                scm.start(host.world, host.name, st, real)
            except scm.ServiceError:
                msg = f"Cannot start service {real} on computer '.'."
                return (
                    1,
                    "",
                    METHOD_ERROR.format(
                        method="Start", n=0, msg=msg, line=line, stmt=stmt, fqid="InvalidOperationException"
                    ),
                )
            return 0, "", ""
        want = {"stopped": "stopped", "running": "running"}.get((args[0] if args else "").lower())
        timeout = _timespan_seconds(args[1]) if len(args) > 1 else None
        reached = want is not None and svc.get("state") == want
    if reached:
        if not waited:
            waited.append(True)
            proc.sleep(min(5.0, timeout) if timeout is not None else 5.0)  # the stop/start the SCM was asked for
        return 0, "", ""
    if timeout is None:
        raise RuntimeError("lab: WaitForStatus without a timeout would wait forever")
    proc.sleep(timeout)
    msg = "Time out has expired and the operation has not been completed."
    return (
        1,
        "",
        METHOD_ERROR.format(method="WaitForStatus", n=2, msg=msg, line=line, stmt=stmt, fqid="TimeoutException"),
    )


def run_powershell(
    host: "WindowsHost", proc: "Process", user: str, script: str, chdir: str | None = None, env: dict | None = None
) -> tuple[int, str, str]:
    """The PowerShell subset; ``$env:NAME`` reads the process environment (the WS-Man shell's variables and a
    module's ``environment:``). Every line written (Write-Output, Write-Host, a program's) ends with CRLF
    on stdout, as powershell.exe's redirected output does."""
    out: list[str] = []
    err: list[str] = []
    last_exit = 0
    failed = False
    environment = _environment(host, proc, user, env)
    variables: dict[str, str] = {}
    waited: list = []
    for line_no, stmt in enumerate(_split_statements(script), start=1):
        assign = re.fullmatch(r"\$(\w+)\s*=\s*(.+)", stmt, re.S)
        stmt = expand_ps_env(stmt if not assign else assign.group(2), environment, variables)
        if assign and assign.group(1).lower() not in ("env", "lastexitcode"):
            # $name = <literal or expanded string>: kept for later statements
            lit = re.fullmatch(r"'((?:[^']|'')*)'|\"([^\"]*)\"|(\S+)", stmt.strip())
            if lit:
                variables[assign.group(1).lower()] = (
                    (lit.group(2) if lit.group(2) is not None else (lit.group(1) or "").replace("''", "'"))
                    if lit.group(3) is None
                    else lit.group(3)
                )
                continue
        stmt_l = stmt.lower()
        call = SERVICE_CALL.match(stmt)
        if call:
            rc, o, e = _service_call(host, proc, call, stmt, line_no, waited)
            out.append(o)
            err.append(e)
            if rc:
                failed = True
                last_exit = rc
            continue
        m = re.match(r"^exit\s*(-?\d+)?$", stmt_l)
        if m:
            return (int(m.group(1)) if m.group(1) else last_exit), "".join(out), "".join(err)
        if (
            stmt_l.startswith("set-strictmode")
            or stmt_l.startswith("$erroractionpreference")
            or stmt_l.startswith("$progresspreference")
        ):
            continue
        if stmt_l.startswith("if (-not $?)"):
            if failed:
                return (last_exit or 1), "".join(out), "".join(err)
            continue
        lit = re.fullmatch(r"'((?:[^']|'')*)'|\"([^\"]*)\"", stmt)
        if lit:  # an expression statement: its value is written out
            out.append((lit.group(2) if lit.group(2) is not None else lit.group(1).replace("''", "'")) + "\r\n")
            continue
        pipe = [p.strip() for p in stmt.split("|")]
        head = pipe[0]
        verb, _, rest = head.partition(" ")
        v = verb.lower()
        rc, o, e = 0, "", ""
        if v in ("get-service", "gsv"):
            rc, o, e = _get_service(host, rest, pipe[1:])
        elif v in ("stop-service", "spsv", "start-service", "sasv", "restart-service"):
            rc, o, e = _set_service(host, proc, v, rest)
        elif v in ("write-output", "echo", "write-host"):
            o = " ".join(_ps_args(rest)) + "\r\n"
        elif v == "$env:computername":
            with host.world.lock:
                o = host.world.host_state(host.name)["os"]["hostname"] + "\r\n"
        elif v in ("$lastexitcode",):
            o = f"{last_exit}\r\n"
        elif v in ("get-content", "gc", "type", "cat"):
            rc, o, e = _get_content(host, user, rest)
        elif v in ("start-sleep", "sleep"):
            # a real wait on the host (not a lab duration), cut short by a terminate signal
            secs = [a for a in _ps_args(rest) if not a.startswith("-")]
            if proc.cancel.wait(float(secs[0]) if secs else 1.0):
                from .process import Cancelled

                raise Cancelled()
        elif v == "test-path":
            args = [a for a in _ps_args(rest) if not a.startswith("-")]
            with host.world.lock:
                files = host.world.host_state(host.name)["files"]
                o = ("True" if args and fs.exists(files, fs.expand_env(args[0], user)) else "False") + "\r\n"
        else:
            target = head
            if target.startswith("&"):
                target = target[1:].strip()
            argv = _ps_args(target)
            # an executable (bare, quoted or with the call operator)
            try:
                if not argv:
                    raise NotFound(head)
                rc, o, e = run_argv(host, proc, user, argv, target)
                last_exit = rc
            except NotFound:
                name = argv[0] if argv else head
                err.append(NOT_RECOGNIZED.format(name))
                failed = True
                last_exit = 1
                continue
        out.append(o)
        err.append(e)
        if rc:
            failed = True
            last_exit = rc
    return (1 if failed and last_exit == 0 else last_exit) if failed else 0, "".join(out), "".join(err)


def _get_service(host: "WindowsHost", rest: str, pipes: list[str]) -> tuple[int, str, str]:
    args = _ps_args(rest)
    names = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.lower() in ("-name",):
            i += 1
            continue
        if a.lower() == "-erroraction":
            i += 2
            continue
        names.append(a)
        i += 1
    names = names or ["*"]
    rows: list[tuple[str, dict]] = []
    errors = []
    with host.world.lock:
        st = host.world.host_state(host.name)
        scm.refresh(host.world, host.name, st)
        for n in names:
            found = scm.matching(st, n)
            if not found and "*" not in n:
                errors.append(
                    f"Get-Service : Cannot find any service with service name '{n}'.\r\n"
                    "    + CategoryInfo          : ObjectNotFound: ({n}:String) [Get-Service], ServiceCommandException\r\n"
                )
            for r in found:
                if r not in rows:
                    rows.append((r[0], dict(r[1])))
    rows.sort(key=lambda r: r[0].lower())
    as_json = False
    expand = None
    for stage in pipes:
        cmd, _, arg = stage.strip().partition(" ")
        c = cmd.lower()
        if c in ("where-object", "where", "?"):
            m = re.search(r"\$_\.(Status|StartType|Name)\s+-(eq|ne|like)\s+['\"]?([\w.*]+)['\"]?", arg, re.I)
            if not m:
                return (
                    1,
                    "",
                    f"Where-Object: the lab host supports only $_.Status/StartType/Name -eq/-ne/-like filters: {arg}\r\n",
                )
            prop, op, val = m.group(1).lower(), m.group(2).lower(), m.group(3).lower()

            def value(r: tuple[str, dict], prop: str = prop) -> str:
                if prop == "status":
                    return scm.win32_state(r[1]).lower()
                if prop == "starttype":
                    return {
                        "auto": "automatic",
                        "delayed": "automatic",
                        "manual": "manual",
                        "disabled": "disabled",
                    }.get(r[1].get("start_mode", "manual"), "manual")
                return r[0].lower()

            if op == "eq":
                rows = [r for r in rows if value(r) == val]
            elif op == "ne":
                rows = [r for r in rows if value(r) != val]
            else:
                rows = [r for r in rows if fs.wildcard_match(value(r), val)]
        elif c in ("select-object", "select"):
            m = re.search(r"-ExpandProperty\s+(\w+)", arg, re.I)
            if m:
                expand = m.group(1).lower()
        elif c in ("convertto-json",):
            as_json = True
        elif c in ("format-table", "ft", "out-string", "format-list", "fl", "sort-object", "sort"):
            continue
        else:
            return (
                1,
                "",
                NOT_RECOGNIZED.format(cmd)
                if c not in ("foreach-object", "%")
                else ("the lab host does not run ForEach-Object script blocks\r\n"),
            )
    if expand:
        vals = {
            "name": [n for n, _ in rows],
            "status": [scm.win32_state(s) for _, s in rows],
            "displayname": [s.get("display_name", n) for n, s in rows],
        }.get(expand, [])
        return (1 if errors else 0), "".join(v + "\r\n" for v in vals), "".join(errors)
    if as_json:
        import json

        data = [
            {
                "Name": n,
                "DisplayName": s.get("display_name", n),
                "Status": {"running": 4, "stopped": 1, "paused": 7}[s["state"]],
                "StartType": {"auto": 2, "delayed": 2, "manual": 3, "disabled": 4}.get(
                    s.get("start_mode", "manual"), 3
                ),
            }
            for n, s in rows
        ]
        return (1 if errors else 0), json.dumps(data[0] if len(data) == 1 else data, indent=4) + "\r\n", "".join(errors)
    return (1 if errors else 0), _service_table(rows) if rows else "", "".join(errors)


def _set_service(host: "WindowsHost", proc: "Process", verb: str, rest: str) -> tuple[int, str, str]:
    args = _ps_args(rest)
    force = any(a.lower() == "-force" for a in args)
    no_wait = any(a.lower() == "-nowait" for a in args) and verb in ("stop-service", "spsv")
    names = [a for a in args if not a.startswith("-")]
    errors = []
    changed = 0
    with host.world.lock:
        st = host.world.host_state(host.name)
        scm.refresh(host.world, host.name, st)
        for n in names:
            found = scm.matching(st, n)
            if not found and "*" not in n:
                errors.append(f"{verb} : Cannot find any service with service name '{n}'.\r\n")
            for real, _svc in sorted(found):
                try:
                    if verb in ("stop-service", "spsv"):
                        changed += len(scm.stop(host.world, host.name, st, real, force=force))
                    elif verb in ("start-service", "sasv"):
                        changed += len(scm.start(host.world, host.name, st, real))
                    else:
                        scm.stop(host.world, host.name, st, real, force=force)
                        st["services"][real].pop("restart_pending", None)
                        scm.start(host.world, host.name, st, real)
                        changed += 1
                except scm.ServiceError as e:
                    errors.append(f"{verb.title()} : {e}\r\n")
    if changed and not no_wait:  # -NoWait: the time passes in the WaitForStatus that follows
        proc.sleep(5)
    return (1 if errors else 0), "", "".join(errors)


def _get_content(host: "WindowsHost", user: str, rest: str) -> tuple[int, str, str]:
    args = _ps_args(rest)
    tail = None
    paths = []
    i = 0
    while i < len(args):
        a = args[i].lower()
        if a in ("-tail", "-last"):
            tail = int(args[i + 1])
            i += 2
            continue
        if a in ("-path", "-literalpath", "-raw"):
            i += 1
            continue
        paths.append(args[i])
        i += 1
    with host.world.lock:
        files = host.world.host_state(host.name)["files"]
        try:
            text = fs.read_text(files, fs.expand_env(paths[0], user)) if paths else ""
        except FileNotFoundError:
            return 1, "", f"Get-Content : Cannot find path '{paths[0]}' because it does not exist.\r\n"
    lines = text.splitlines()
    if tail is not None:
        lines = lines[-tail:] if tail else []
    return 0, "".join(line + "\r\n" for line in lines), ""


# What openfiles.exe prints when the "maintain objects list" global flag is off (Windows' default; set with
# "openfiles /local on" and a restart): it cannot list local handles, says so, and lists only the files opened
# through shares.
OPENFILES_FLAG_OFF = (
    "INFO: The system global flag 'maintain objects list' needs\r\n"
    "      to be enabled to see local opened files.\r\n"
    "      See Openfiles /? for more information.\r\n"
    "\r\n\r\n"
    "Files opened remotely via local share points:\r\n"
    "---------------------------------------------\r\n\r\n"
)


def openfiles_exe(ex: "Exec") -> tuple[int, str, str]:
    """``openfiles /query [/fo csv] [/v]``: the open handles in host_state["open_files"]; ``openfiles /local``:
    the state of the "maintain objects list" global flag.

    Columns as openfiles.exe /query /fo csv /v prints them (Windows Server 2019); with nothing open it
    prints the INFO line. Real openfiles lists local handles only when the "maintain objects list"
    global flag is set: host_state["os"]["openfiles_global_flag"] (default on in the lab; the fault
    ``winhost.openfiles_flag_off`` turns it off for one host), else it prints OPENFILES_FLAG_OFF and only
    the (here: no) files opened through shares, exit 0."""
    args = [a.lower() for a in ex.argv[1:]]
    with ex.host.world.lock:
        hs = ex.host.world.host_state(ex.host.name)
        files = list(hs.get("open_files", []))
        hostname = hs["os"]["hostname"]
        flag = bool(hs["os"].get("openfiles_global_flag", True))
    if ex.host.world.peek_fault("winhost.openfiles_flag_off", host=ex.host.name):
        flag = False
    if args == ["/local"]:
        # "openfiles /local" with no on/off only reports the flag (changing it needs /local on and a restart)
        state = "enabled" if flag else "disabled"
        return 0, f"INFO: The system global flag 'maintain objects list' is currently {state}.\r\n", ""
    if "/query" not in args:
        return 1, "", "ERROR: Invalid syntax. Type \"OPENFILES /?\" for usage.\r\n"
    if not flag:
        return 0, OPENFILES_FLAG_OFF + "INFO: No shared open files found.\r\n", ""
    if not files:
        return 0, "INFO: No shared open files found.\r\n", ""
    lines = ['"Hostname","ID","Accessed By","Type","#Locks","Open Mode","Open File (Path\\executable)"']
    for n, f in enumerate(files, start=1):
        path = f["path"] if isinstance(f, dict) else str(f)
        who = f.get("user", "ump-svc") if isinstance(f, dict) else "ump-svc"
        lines.append(f'"{hostname}","{4000 + n}","{who}","Windows","0","Read","{path}"')
    return 0, "\r\n".join(lines) + "\r\n", ""


# ---------------------------------------------------------------------- curl.exe
CURL_VERSION = "curl 7.55.1 (Windows) libcurl/7.55.1 WinSSL"
# --write-out variables of curl 7.55.1 that a probe can fill in (the others of that version print empty)
_CURL_VARS_755 = {
    "http_code",
    "response_code",
    "time_total",
    "time_connect",
    "time_namelookup",
    "time_starttransfer",
    "url_effective",
    "size_download",
    "size_header",
    "num_redirects",
    "content_type",
    "http_version",
    "remote_ip",
    "remote_port",
    "scheme",
    "ssl_verify_result",
    "redirect_url",
}
_CURL_FLAGS = {
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-I",
    "--head",
    "-L",
    "--location",
    "-k",
    "--insecure",
    "-f",
    "--fail",
}
_CURL_WITH_ARG = {"-m", "--max-time", "--connect-timeout", "-w", "--write-out", "-o", "--output", "-X", "--request"}


def _curl_writeout(fmt: str, values: dict) -> tuple[str, str]:
    """curl's --write-out: %{var}, %% and the \\n \\r \\t escapes; an unknown variable is named on stderr."""
    out, err, i = [], [], 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and fmt.startswith("%%", i):
            out.append("%")
            i += 2
        elif c == "%" and fmt.startswith("%{", i) and "}" in fmt[i:]:
            end = fmt.index("}", i)
            var = fmt[i + 2 : end]
            if var in values:
                out.append(str(values[var]))
            elif var not in _CURL_VARS_755:
                err.append(f"curl: unknown --write-out variable: '{var}'\n")
            i = end + 1
        elif c == "\\" and i + 1 < len(fmt) and fmt[i + 1] in "nrt":
            out.append({"n": "\n", "r": "\r", "t": "\t"}[fmt[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out), "".join(err)


def curl_exe(ex: Exec) -> tuple[int, str, str]:
    """curl.exe as Windows ships it (7.55.1 on Server 2019), for egress probes; nothing leaves the machine.

    Each URL is one transfer, in order, with the options given anywhere on the line (``-o``/``--output``
    pairs with the URLs in order, as curl does). Reachability follows ``host_state["egress"]`` like
    win_uri: an allowed URL answers ``200 OK`` (HEAD with ``-I``), a denied one never connects: error 28
    "Connection timed out after <max-time> milliseconds" with ``http_code`` 000 (no time passes in the
    lab). ``--write-out`` is printed after every transfer, failed or not; ``-S`` with ``-s`` prints
    ``curl: (N) message`` on stderr per failed transfer; the exit code is the last transfer's.
    """
    from .modules.network import egress_allowed

    args = ex.argv[1:]
    if args in (["--version"], ["-V"]):
        return (
            0,
            CURL_VERSION
            + "\r\nProtocols: dict file ftp ftps http https imap imaps pop3 pop3s smtp smtps telnet tftp\r\n",
            "",
        )
    opts: dict = {"silent": False, "show_error": False, "head": False, "max_time": None, "write_out": ""}
    urls: list[str] = []
    outputs: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in _CURL_WITH_ARG:
            if i + 1 >= len(args):
                return (
                    2,
                    "",
                    f"curl: option {a}: requires parameter\r\ncurl: try 'curl --help' for more information\r\n",
                )
            v = args[i + 1]
            if a in ("-m", "--max-time", "--connect-timeout"):
                try:
                    t = float(v)
                except ValueError:
                    return 2, "", f"curl: option {a}: expected a proper numerical parameter\r\n"
                if a != "--connect-timeout" or opts["max_time"] is None:
                    opts["max_time"] = t
            elif a in ("-w", "--write-out"):
                opts["write_out"] = v
            elif a in ("-o", "--output"):
                outputs.append(v)
            i += 2
            continue
        if (
            a.startswith("-")
            and len(a) > 2
            and not a.startswith("--")
            and all(("-" + ch) in _CURL_FLAGS for ch in a[1:])
        ):
            flags = ["-" + ch for ch in a[1:]]  # combined short flags: -sSI
        elif a.startswith("-"):
            flags = [a]
        else:
            urls.append(a)
            i += 1
            continue
        for f in flags:
            if f not in _CURL_FLAGS:
                return 2, "", f"curl: option {f}: is unknown\r\ncurl: try 'curl --help' for more information\r\n"
            if f in ("-s", "--silent"):
                opts["silent"] = True
            elif f in ("-S", "--show-error"):
                opts["show_error"] = True
            elif f in ("-I", "--head"):
                opts["head"] = True
        i += 1
    if not urls:
        return 2, "", "curl: no URL specified!\r\ncurl: try 'curl --help' or 'curl --manual' for more information\r\n"
    out, err, rc = [], [], 0
    for n, url in enumerate(urls):
        with ex.host.world.lock:
            ok = egress_allowed(ex.state(), url)
        ex.world.count("winhost.egress_checks")
        scheme = url.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            code, rc, msg = "000", 1, f'Protocol "{scheme}" not supported or disabled in libcurl'
        elif ok:
            code, rc, msg = "200", 0, ""
        else:
            ms = int((opts["max_time"] or 300) * 1000) + 1
            code, rc, msg = "000", 28, f"Connection timed out after {ms} milliseconds"
        elapsed = 0.031 if ok else float(opts["max_time"] or 300)
        target = outputs[n] if n < len(outputs) else None
        if ok and target is None:
            out.append("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" if opts["head"] else "")
        if rc and (opts["show_error"] or not opts["silent"]):
            err.append(f"curl: ({rc}) {msg}\n")
        if opts["write_out"]:
            o, e = _curl_writeout(
                opts["write_out"],
                {
                    "http_code": code,
                    "response_code": code,
                    "time_total": f"{elapsed:.6f}",
                    "url_effective": url,
                    "num_redirects": 0,
                    "size_download": 0,
                    "scheme": scheme.upper(),
                },
            )
            out.append(o)
            err.append(e)
    return rc, "".join(out), "".join(err)
