"""The lab playing a person: the operator of the Customer Upgrade Manager (docs/lab.md).

AudioCodes documents the Customer Upgrade only as a GUI (select customers, "Update Selected", read
UpToDate, close the window). In ``customer_upgrade_mode: operator`` the run tells the operator what to do
and waits; with the fault ``customer_upgrade.operator [host=H] [seconds=S]`` the lab does the clicks on
H: S real seconds (default 2) after wyUpdate's AlertCustomerUpgrade step asked for the Customer Upgrade,
every customer below the target is upgraded (SysAdminTenant, the customer database, the version file,
the Customer Upgrade log). Without the fault nobody acts, as on a host whose operator is away.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..windows import ump

ORDER = 90
POLL = 0.25


def _run(lab: Any, stop: threading.Event) -> None:
    world = lab.world
    due: dict[str, float] = {}
    while not stop.wait(POLL):
        try:
            for name, h in list(world.hosts.items()):
                if h.get("role") != "ump":
                    continue
                fault = world.peek_fault("customer_upgrade.operator", host=name)
                if fault is None or not world.host_reachable(name):
                    due.pop(name, None)
                    continue
                with world.lock:
                    pending = bool(world.host_state(name).get("ump", {}).get("customer_upgrade_pending"))
                if not pending:
                    due.pop(name, None)
                    continue
                when = due.setdefault(name, time.monotonic() + float(fault.get("seconds", 2)))
                if time.monotonic() < when:
                    continue
                if ump.operator_clicks(world, name):
                    world.take_fault("customer_upgrade.operator", host=name)
                    world.count("customer_upgrade.operator_clicks")
                due.pop(name, None)
        except Exception:  # noqa: S112 - the agent must outlive a world being reset under it
            continue


def start(lab: Any) -> dict:
    stop = threading.Event()
    t = threading.Thread(target=_run, args=(lab, stop), name="lab-operator", daemon=True)
    t.start()
    lab.on_stop(stop.set)
    return {}
