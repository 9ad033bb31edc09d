"""The Service Control Manager of an emulated host: states, start modes, dependencies, recovery.

A service is ``host_state["services"][name]`` (seed.py ``_service``). Semantics follow the
Get-/Start-/Stop-Service cmdlets and sc.exe:

- Stop-Service refuses a service with running dependents unless ``-Force`` (it then stops them first);
  Start-Service starts the services it depends on first and refuses a disabled service.
- Recovery: a service whose failure actions are "restart" comes back to running after it was
  stopped when the fault ``winhost.service_restarts [service=<name>]`` is set (or the service has
  ``"restarts_on_stop": true``), i.e. something (a watchdog, a crash loop) keeps restarting it; once
  its actions are cleared (``sc.exe failure <name> reset= 0 actions= ""``) it stays stopped.
  The restart shows on the next look at the service (after the stop call itself returned).
- ``winhost.service_wont_stop service=<name>``: the stop fails as Stop-Service does on a hung service.
"""

from __future__ import annotations

import time

from typing import Any

from ..world import World, iter_services


class ServiceError(Exception):
    pass


def find(state: dict, name: str) -> tuple[str, dict] | tuple[None, None]:
    svcs = state.get("services", {})
    for n, s in svcs.items():
        if n.lower() == name.lower():
            return n, s
    for n, s in svcs.items():
        if s.get("display_name", "").lower() == name.lower():
            return n, s
    return None, None


def refresh(world: World, host: str, state: dict) -> None:
    """Apply what happened since the last look: pending automatic restarts."""
    for n, s in state.get("services", {}).items():
        if s.pop("restart_pending", False) and s.get("state") == "stopped" and restarts_on_failure(s):
            s["state"] = "running"
            world.count("winhost.service_auto_restarts")
            s["restart_count"] = s.get("restart_count", 0) + 1
        _ = n


def restarts_on_failure(svc: dict) -> bool:
    return "restart" in (svc.get("recovery", {}).get("actions") or [])


def stop(world: World, host: str, state: dict, name: str, force: bool = False, check_mode: bool = False) -> list[str]:
    """Stop-Service [-Force]; returns the services stopped. Caller holds the lock."""
    real, svc = find(state, name)
    if svc is None:
        raise ServiceError(f"Cannot find any service with service name '{name}'.")
    stopped: list[str] = []
    running_dependents = [
        d for d in svc.get("depended_by", []) if state["services"].get(d, {}).get("state") in ("running", "paused")
    ]
    if running_dependents and not force:
        raise ServiceError(
            f"Cannot stop service '{svc.get('display_name', real)} ({real})' because it has dependent services. "
            "It can only be stopped if the Force flag is set."
        )
    for d in running_dependents:
        stopped += stop(world, host, state, d, force=True, check_mode=check_mode)
    if svc.get("state") == "stopped":
        return stopped
    if world.peek_fault("winhost.service_wont_stop", host=host, service=real):
        world.take_fault("winhost.service_wont_stop", host=host, service=real)
        raise ServiceError(
            f"Service '{svc.get('display_name', real)} ({real})' cannot be stopped due to the following error: "
            f"Cannot stop {real} service on computer '.'."
        )
    if check_mode:
        return stopped + [real]
    svc["state"] = "stopped"
    svc.pop("process_id", None)
    svc["stopped_at"] = time.time()  # OVOC sees the UMP go down (emulators/ovoc.py)
    world.count("winhost.service_stops")
    world.count(f"winhost.service_stops.{host}")  # per host: a test asks whether a host's services were ever stopped
    if restarts_on_failure(svc) and (
        svc.get("restarts_on_stop") or world.take_fault("winhost.service_restarts", host=host, service=real)
    ):
        svc["restart_pending"] = True
    return stopped + [real]


def start(world: World, host: str, state: dict, name: str, check_mode: bool = False) -> list[str]:
    real, svc = find(state, name)
    if svc is None:
        raise ServiceError(f"Cannot find any service with service name '{name}'.")
    started: list[str] = []
    if svc.get("start_mode") == "disabled":
        raise ServiceError(
            f"Service '{svc.get('display_name', real)} ({real})' cannot be started due to the following error: "
            f"Cannot start service {real} on computer '.'."
        )
    for dep in svc.get("dependencies", []):
        if dep in state["services"] and state["services"][dep].get("state") != "running":
            started += start(world, host, state, dep, check_mode=check_mode)
    if svc.get("state") == "running":
        return started
    if world.take_fault("winhost.service_wont_start", host=host, service=real):
        raise ServiceError(
            f"Service '{svc.get('display_name', real)} ({real})' cannot be started due to the following error: "
            f"Cannot start service {real} on computer '.'."
        )
    if check_mode:
        return started + [real]
    svc["state"] = "running"
    svc.pop("restart_pending", None)
    svc["started_at"] = time.time()  # OVOC reconnects some time after (emulators/ovoc.py)
    world.count("winhost.service_starts")
    return started + [real]


def matching(state: dict, pattern: str) -> list[tuple[str, dict]]:
    out = list(iter_services(state, pattern))
    if not out:
        for n, s in state.get("services", {}).items():
            if s.get("display_name", "").lower() == pattern.lower():
                out.append((n, s))
    return out


def failure_actions(svc: dict) -> list[dict]:
    rec = svc.get("recovery", {})
    delay = int(rec.get("restart_delay_ms", 60000))
    return [{"type": a, "delay_ms": delay if a != "none" else 0} for a in rec.get("actions") or []]


def win32_state(svc: dict) -> str:
    return {"running": "Running", "stopped": "Stopped", "paused": "Paused"}.get(svc.get("state", ""), "Stopped")


def pid_of(name: str, svc: dict) -> int:
    if svc.get("state") != "running":
        return 0
    return 1000 + sum(ord(c) for c in name) % 8000


def qfailure(name: str, svc: dict) -> str:
    rec = svc.get("recovery", {})
    actions = rec.get("actions") or []
    lines = [
        "[SC] QueryServiceConfig2 SUCCESS",
        "",
        f"SERVICE_NAME: {name}",
        f"        RESET_PERIOD (in seconds)    : {rec.get('reset_period_sec', 0)}",
        "        REBOOT_MESSAGE               : ",
        "        COMMAND_LINE                 : ",
    ]
    names = {"restart": "RESTART", "reboot": "REBOOT", "run_command": "RUN PROCESS"}
    for i, a in enumerate(actions):
        label = "        FAILURE_ACTIONS              : " if i == 0 else "                                       "
        lines.append(f"{label}{names.get(a, a.upper())} -- Delay = {rec.get('restart_delay_ms', 60000)} milliseconds.")
    return "\r\n".join(lines) + "\r\n\r\n"


def set_failure(svc: dict, reset: int | None, actions: str | None) -> None:
    """sc.exe failure <name> reset= N actions= a/delay/a/delay..."""
    rec = svc.setdefault("recovery", {})
    if reset is not None:
        rec["reset_period_sec"] = reset
    if actions is not None:
        parts = [p for p in actions.strip().strip('"').split("/") if p != ""]
        acts: list[str] = []
        delay = None
        for i in range(0, len(parts), 2):
            kind = parts[i].lower()
            acts.append({"restart": "restart", "reboot": "reboot", "run": "run_command"}.get(kind, "none"))
            if i + 1 < len(parts):
                try:
                    delay = int(parts[i + 1])
                except ValueError:
                    pass
        rec["actions"] = [a for a in acts if a != "none"]
        if delay is not None:
            rec["restart_delay_ms"] = delay


def new_service(display: str, path: str, start_mode: str = "auto", user: str = ".\\ump-svc") -> dict[str, Any]:
    return {
        "display_name": display,
        "state": "stopped",
        "start_mode": start_mode,
        "recovery": {
            "actions": ["restart", "restart", "restart"],
            "reset_period_sec": 86400,
            "restart_delay_ms": 60000,
        },
        "path": path,
        "username": user,
        "dependencies": [],
        "depended_by": [],
        "desktop_interact": False,
    }
