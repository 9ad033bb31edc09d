"""ansible.windows.win_command and win_shell (win_command.ps1 / win_shell.ps1 in ansible.windows 3.3)."""

from __future__ import annotations

from datetime import datetime, timezone

from .. import fs
from . import ModuleContext, module


def _times(start: datetime, end: datetime) -> dict:
    """UtcNow formatted as win_command.ps1 does ("yyyy-MM-dd HH:mm:ss.ffffff", delta "h:mm:ss.ffffff")."""
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    d = end - start
    secs = int(d.total_seconds())
    delta = f"{secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}.{d.microseconds:06d}"
    return {"start": start.strftime(fmt), "end": end.strftime(fmt), "delta": delta}


def _creates_removes(ctx: ModuleContext, cmd: str) -> dict | None:
    p = ctx.params
    with ctx.lock:
        files = ctx.files()
        if p.get("creates") and fs.exists(files, fs.expand_env(p["creates"], ctx.user)):
            return {"msg": "skipped, since $creates exists", "cmd": cmd, "changed": False, "skipped": True, "rc": 0}
        if p.get("removes") and not fs.exists(files, fs.expand_env(p["removes"], ctx.user)):
            return {
                "msg": "skipped, since $removes does not exist",
                "cmd": cmd,
                "changed": False,
                "skipped": True,
                "rc": 0,
            }
    return None


def _finish(ctx: ModuleContext, cmd: str, rc: int, out: str, err: str, start: datetime) -> dict:
    res = {"cmd": cmd, "rc": rc, "stdout": out, "stderr": err, "changed": True}
    res.update(_times(start, datetime.now(timezone.utc)))
    if rc != 0:
        res["failed"] = True
        res["msg"] = "non-zero return code"
    return res


@module("ansible.windows.win_command")
def win_command(ctx: ModuleContext) -> dict:
    from .. import executables

    p = ctx.params
    if p.get("argv"):
        cmd = " ".join(executables.quote(a) for a in p["argv"])
    else:
        cmd = p.get("cmd") or p.get("_raw_params") or ""
    if not cmd.strip():
        ctx.fail("no command given")
    skip = _creates_removes(ctx, cmd)
    if skip:
        return skip
    if ctx.check_mode:  # win_command.ps1: supports_check_mode = $false (Ansible.Basic skips the module)
        return {"changed": False, "skipped": True, "msg": "remote module (win_command) does not support check mode"}
    start = datetime.now(timezone.utc)
    try:
        rc, out, err = executables.run_cmdline(
            ctx.host,
            ctx.proc,
            ctx.user,
            cmd,
            stdin=(p.get("stdin") or "").encode(),
            chdir=p.get("chdir"),
            as_process=True,
        )
    except executables.NotFound as e:
        ctx.fail(f"Failed to run: '{cmd}': {e}", cmd=cmd, rc=2)
    return _finish(ctx, cmd, rc, out, err, start)


win_command.extra_options = {"_raw_params": {"type": "str"}}  # type: ignore[attr-defined]


@module("ansible.windows.win_shell")
def win_shell(ctx: ModuleContext) -> dict:
    from .. import executables

    p = ctx.params
    cmd = p.get("cmd") or p.get("_raw_params") or ""
    skip = _creates_removes(ctx, cmd)
    if skip:
        return skip
    if ctx.check_mode:  # win_shell.ps1: Parse-Args -supports_check_mode $false
        return {"changed": False, "skipped": True, "msg": "remote module does not support check mode"}
    start = datetime.now(timezone.utc)
    exe = (p.get("executable") or "powershell").lower()
    if exe.endswith("cmd") or exe.endswith("cmd.exe"):
        rc, out, err = executables.run_cmdline(ctx.host, ctx.proc, ctx.user, cmd, chdir=p.get("chdir"), env=ctx.env)
    else:
        rc, out, err = executables.run_powershell(ctx.host, ctx.proc, ctx.user, cmd, chdir=p.get("chdir"), env=ctx.env)
    return _finish(ctx, cmd, rc, out, err, start)


win_shell.extra_options = {"_raw_params": {"type": "str"}}  # type: ignore[attr-defined]


@module("ansible.windows.win_powershell")
def win_powershell(ctx: ModuleContext) -> dict:
    """The script runs through the same PowerShell subset as win_shell; its output objects are the lines."""
    from .. import executables

    p = ctx.params
    script = p.get("script") or ""
    if p.get("path"):
        ctx.fail("the lab host runs win_powershell scripts given inline (script), not from a path")
    skip = _creates_removes(ctx, script)
    res = {
        "result": {},
        "host_out": "",
        "host_err": "",
        "output": [],
        "error": [],
        "warning": [],
        "verbose": [],
        "debug": [],
        "information": [],
        "changed": True,
    }
    if skip:
        res.update(changed=False, skipped=True, msg=skip["msg"])
        return res
    if ctx.check_mode:
        res["changed"] = False
        return res
    _rc, out, err = executables.run_powershell(ctx.host, ctx.proc, ctx.user, script, chdir=p.get("chdir"), env=ctx.env)
    res["output"] = [line for line in out.splitlines() if line.strip()]
    if err:
        res["error"] = [
            {
                "output": line,
                "error_details": None,
                "exception": {"message": line, "type": "System.Management.Automation.RuntimeException"},
                "target_object": None,
                "category_info": {"category": "NotSpecified", "category_id": 0, "reason": "RuntimeException"},
                "fully_qualified_error_id": "RuntimeException",
                "script_stack_trace": "at <ScriptBlock>, <No file>: line 1",
                "pipeline_iteration_info": [],
            }
            for line in err.splitlines()
            if line.strip() and not line.startswith((" ", "+", "At line"))
        ]
    # errors do not fail the module unless error_action=stop turns them into a terminating error
    if res["error"] and (p.get("error_action") or "continue") == "stop":
        res["failed"] = True
    return res
