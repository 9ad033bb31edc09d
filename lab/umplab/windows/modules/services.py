"""ansible.windows.win_service and win_service_info (ansible.windows 3.3 win_service.ps1 / win_service_info.ps1)."""

from __future__ import annotations

from .. import services as scm
from . import ModuleContext, module

START_MODES = {"auto", "manual", "disabled", "delayed"}


def _result(host: str, name: str, svc: dict, diff_state: str | None = None) -> dict:
    state = diff_state or {"running": "running", "stopped": "stopped", "paused": "paused"}.get(svc["state"], "stopped")
    user = svc.get("username") or "LocalSystem"
    if user.upper() in ("SYSTEM", "NT AUTHORITY\\SYSTEM", "LOCALSYSTEM"):
        user = "LocalSystem"
    elif user.startswith(".\\"):
        user = f"{host.upper()}\\{user[2:]}"  # the account as Windows resolves ".\\name"
    return {
        "exists": True,
        "name": name,
        "display_name": svc.get("display_name", name),
        "state": state,
        "start_mode": svc.get("start_mode", "manual"),
        "path": svc.get("path", ""),
        "can_pause_and_continue": False,
        "description": svc.get("description", ""),
        "username": user,
        "desktop_interact": bool(svc.get("desktop_interact")),
        "dependencies": list(svc.get("dependencies", [])),
        "depended_by": list(svc.get("depended_by", [])),
    }


INFO_STATES = {"running": "started"}


@module("ansible.windows.win_service")
def win_service(ctx: ModuleContext) -> dict:
    p = ctx.params
    name = p["name"]
    state = p.get("state")
    with ctx.lock:
        st = ctx.state()
        scm.refresh(ctx.world, ctx.name, st)
        real, svc = scm.find(st, name)
        if state == "absent":
            if svc is None:
                return {"exists": False, "changed": False}
            if not ctx.check_mode:
                try:
                    scm.stop(ctx.world, ctx.name, st, real, force=p.get("force_dependent_services"))
                except scm.ServiceError as e:
                    ctx.fail(f"Unhandled exception while executing module: {e}")
                st["services"].pop(real)
            return {"exists": False, "changed": True}
        change_opts = (
            "state",
            "start_mode",
            "display_name",
            "description",
            "path",
            "username",
            "password",
            "dependencies",
        )
        if svc is None and all(p.get(o) is None for o in change_opts):
            return {"exists": False, "changed": False}
        if svc is None:
            if p.get("path"):
                if not ctx.check_mode:
                    st["services"][name] = scm.new_service(p.get("display_name") or name, p["path"])
                    real, svc = name, st["services"][name]
                ctx.changed = True
            else:
                ctx.fail(f"Service '{name}' is not installed, need to set 'path' to create a new service")
            if svc is None:
                return {"exists": False, "changed": True}
        before = dict(svc)
        want_mode = p.get("start_mode")
        if want_mode and want_mode != svc.get("start_mode"):
            if not ctx.check_mode:
                svc["start_mode"] = want_mode
            ctx.changed = True
        for opt, key in (("display_name", "display_name"), ("description", "description"), ("path", "path")):
            if p.get(opt) is not None and p[opt] != svc.get(key, ""):
                if not ctx.check_mode:
                    svc[key] = p[opt]
                ctx.changed = True
        if p.get("username") is not None and p["username"].lower() != str(svc.get("username", "")).lower():
            if not ctx.check_mode:
                svc["username"] = p["username"]
            ctx.changed = True
        diff_state = None
        try:
            if state == "started" and svc["state"] != "running":
                scm.start(ctx.world, ctx.name, st, real, check_mode=ctx.check_mode)
                ctx.changed = True
                diff_state = "running"
            elif state == "stopped" and svc["state"] != "stopped":
                scm.stop(
                    ctx.world, ctx.name, st, real, force=p.get("force_dependent_services"), check_mode=ctx.check_mode
                )
                ctx.changed = True
                diff_state = "stopped"
            elif state == "restarted":
                scm.stop(
                    ctx.world, ctx.name, st, real, force=p.get("force_dependent_services"), check_mode=ctx.check_mode
                )
                svc.pop("restart_pending", None)
                scm.start(ctx.world, ctx.name, st, real, check_mode=ctx.check_mode)
                ctx.changed = True
                diff_state = "running"
            elif state == "paused" and svc["state"] != "paused":
                ctx.fail(f"failed to pause service {real}: The service does not support pausing")
        except scm.ServiceError as e:
            ctx.fail(f"Unhandled exception while executing module: {e}")
        res = _result(ctx.name, real, svc, diff_state if ctx.check_mode or diff_state else None)
        if ctx.diff and ctx.changed:
            # win_service.ps1 ConvertTo-ServiceStateDiff: Running -> "started"
            def dstate(x: str | None) -> str | None:
                return "started" if x == "running" else x

            res["diff"] = {
                "before": {"name": real, "state": dstate(before.get("state")), "start_mode": before.get("start_mode")},
                "after": {"name": real, "state": dstate(res["state"]), "start_mode": res["start_mode"]},
            }
    # Stop-Service / Start-Service wait for the service to reach the state
    if diff_state:
        ctx.sleep(5)
    return res


def _info(name: str, svc: dict) -> dict:
    rec = svc.get("recovery", {})
    user = svc.get("username") or "LocalSystem"
    running = svc.get("state") == "running"
    return {
        "checkpoint": 0,
        "controls_accepted": ["stop", "shutdown"] if running else [],
        "dependencies": list(svc.get("dependencies", [])),
        "dependency_of": list(svc.get("depended_by", [])),
        "description": svc.get("description", ""),
        "desktop_interact": bool(svc.get("desktop_interact")),
        "display_name": svc.get("display_name", name),
        "error_control": "normal",
        "failure_actions": scm.failure_actions(svc),
        "failure_action_on_non_crash_failure": False,
        "failure_command": None,
        "failure_reboot_msg": None,
        "failure_reset_period_sec": int(rec.get("reset_period_sec", 0)),
        "launch_protection": "none",
        "load_order_group": "",
        "name": name,
        "path": svc.get("path", ""),
        "pre_shutdown_timeout_ms": 180000,
        "preferred_node": None,
        "process_id": scm.pid_of(name, svc),
        "required_privileges": [],
        "service_exit_code": 0,
        "service_flags": [],
        "service_type": "win32_own_process",
        "sid_info": "none",
        "start_mode": svc.get("start_mode", "manual"),
        # win_service_info.ps1 maps ServiceControllerStatus Running to "started" (the other values keep
        # their snake_case names), unlike win_service, whose result says "running"
        "state": INFO_STATES.get(svc.get("state", "stopped"), svc.get("state", "stopped")),
        "triggers": [],
        "username": user,
        "wait_hint_ms": 0,
        "win32_exitcode": 0 if running else 1077,  # ERROR_SERVICE_NEVER_STARTED
    }


@module("ansible.windows.win_service_info")
def win_service_info(ctx: ModuleContext) -> dict:
    name = ctx.params.get("name")
    with ctx.lock:
        st = ctx.state()
        scm.refresh(ctx.world, ctx.name, st)
        found = scm.matching(st, name) if name else sorted(st.get("services", {}).items())
        services = [_info(n, s) for n, s in found]
    return {"changed": False, "exists": bool(services), "services": services}
