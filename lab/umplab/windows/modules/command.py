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
    if ctx.check_mode:
        return {"changed": True, "cmd": cmd, "rc": 0, "stdout": "", "stderr": "", "msg": "Check mode: skipped"}
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
    if ctx.check_mode:
        return {"changed": True, "cmd": cmd, "rc": 0, "stdout": "", "stderr": "", "msg": "Check mode: skipped"}
    start = datetime.now(timezone.utc)
    exe = (p.get("executable") or "powershell").lower()
    if exe.endswith("cmd") or exe.endswith("cmd.exe"):
        rc, out, err = executables.run_cmdline(ctx.host, ctx.proc, ctx.user, cmd, chdir=p.get("chdir"))
    else:
        rc, out, err = executables.run_powershell(ctx.host, ctx.proc, ctx.user, cmd, chdir=p.get("chdir"))
    return _finish(ctx, cmd, rc, out, err, start)


win_shell.extra_options = {"_raw_params": {"type": "str"}}  # type: ignore[attr-defined]
