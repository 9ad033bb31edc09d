r"""The lab playing a person: the operator of the Customer Upgrade Manager (docs/lab.md).

AudioCodes documents the Customer Upgrade only as a GUI (select customers, "Update Selected", read
UpToDate, close the window). In ``customer_upgrade_mode: operator`` the run tells the operator what to do
(on the console, and in a note it leaves on the host) and waits; with the fault
``customer_upgrade.operator [host=H] [seconds=S] [note=PATH]`` the lab does the clicks on H: once wyUpdate's
AlertCustomerUpgrade step asked for the Customer Upgrade and the run's note is on the host (default
``C:\acs\SysAdmin.CustomerUpgrade\ump365_operator_action.txt``), S real seconds later (default 2) every
customer below the target is upgraded (SysAdminTenant, the customer database, the version file, the
Customer Upgrade log). Without the fault nobody acts, as on a host whose operator is away.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..windows import ump

ORDER = 90
POLL = 0.25
NOTE = "C:\\acs\\SysAdmin.CustomerUpgrade\\ump365_operator_action.txt"


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
                    st = world.host_state(name)
                    pending = bool(st.get("ump", {}).get("customer_upgrade_pending"))
                    told = str(fault.get("note", NOTE)).lower() in st.get("files", {})
                if not (pending and told):
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
