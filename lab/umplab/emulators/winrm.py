"""WinRM (WS-Management over HTTPS) for every Windows host of the lab: UMP servers and SQL backends.

One HTTPS endpoint per host (``hosts.<name>.winrm_port``, TLS name ``winrm-<name>``), NTLM and Basic
auth against the host's local accounts, answering only while the host is reachable (VM running with
an OS disk). What runs there: lab/umplab/windows (Ansible payloads, modules, UMP programs).
"""

from __future__ import annotations

from typing import Any

from ..windows.host import WindowsHost
from ..windows.modules.system import seed_host
from ..windows.wsman import WinRMHandler, WinRMServer, cert_der

ORDER = 30


def start(lab: Any) -> dict:
    world = lab.world
    out: dict[str, Any] = {"hosts": {}, "tls": {}}
    der = cert_der(lab.tls)
    with world.lock:
        for name in world.hosts:
            seed_host(world.host_state(name))  # registry and features (part of the seed snapshot)
    for name in sorted(world.hosts):
        srv = WinRMServer(
            world,
            WinRMHandler,
            lab.tls.server_context(),
            port=lab.port(),
            lab=lab,
            host_name=name,
            host_fqdn=world.hosts[name]["fqdn"],
            server_cert_der=der,
        )
        WindowsHost(world, name, srv.processes)
        srv.start()
        lab.on_stop(srv.stop)
        url = f"https://127.0.0.1:{srv.port}"
        with world.lock:
            world.hosts[name]["winrm_port"] = srv.port
        out["hosts"][name] = {"winrm_port": srv.port, "winrm_url": url + "/wsman"}
        out["tls"][f"winrm-{name}"] = url
    return out
