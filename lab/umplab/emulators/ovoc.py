"""OVOC (One Voice Operations Center) REST API: the topology's devices, HTTP Basic auth.

``GET /ovoc/v1/topology/devices?detail=1&filter=(ipAddress='<ip>')`` (facts/ump_sbc_ovoc.md). The
answer's field names are not public; the lab answers ``{"devices": [...]}`` with each device's
``status`` and ``applicationsStatus.management.managementStatus`` (the AudioCodes Live API's field),
the defaults of the ovoc_device_info module (docs/assumptions.md).

Driven by the world: a UMP server whose VM is not running shows management status
``Disconnected`` and device status ``Error`` (the guide's Device Status table: management status is
Error when the connection status is disconnected). So does one whose services OVOC talks to
(``OVOC_NEEDS``) are stopped: the downtime of an upgrade. While the device is down that way OVOC
shows a Critical "UMP Management Disconnected" active alarm, cleared when it reconnects.

Real OVOC reconnects some time after the services start, not at once (issue 19): the fault
``ovoc.reconnect_delay [host=] [seconds=S] [reads=N]`` keeps the device disconnected (and the alarm
active) until S real seconds (scaled by the lab) have passed since the last service start, and/or
until N device reads since that start (deterministic, for scale-0 labs).
"""

from __future__ import annotations

import base64
import copy
import hmac
import re
import time

from ..httpbase import HTTPError, LabHandler, Request

ORDER = 30
_FILTER = re.compile(r"^\(\s*ipAddress\s*=\s*'([^']*)'\s*\)$")
# The services of a UMP server OVOC's "UMP Management" connection needs (the tenant service and IIS).
OVOC_NEEDS = ("SysAdmin.TenantSvc", "w3svc")
DOWNTIME_ALARM = "UMP Management Disconnected"


class OvocHandler(LabHandler):
    system = "ovoc"
    routes = [
        ("GET", r"/ovoc/v1/topology/devices", "get_devices"),
        # [checks] active alarms of a device; path, filter and fields are not public (docs/assumptions.md)
        ("GET", r"/ovoc/v1/alarms/actives", "get_active_alarms"),
    ]

    def error_body(self, status: int, code: str, message: str):
        return {"status": status, "description": message}

    def before(self, req: Request) -> None:
        w = self.world
        slow = w.take_fault("ovoc.slow")
        if slow is not None:
            time.sleep(float(slow.get("seconds", 5)))
        auth = req.headers.get("Authorization") or ""
        user, password = "", ""
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                pass
        with w.lock:
            ovoc = w.data["ovoc"]
            ok = hmac.compare_digest(user, ovoc["username"]) and hmac.compare_digest(password, ovoc["password"])
        if not ok:
            raise HTTPError(
                401, {"status": 401, "description": "Unauthorized"}, headers={"WWW-Authenticate": 'Basic realm="OVOC"'}
            )
        fault = w.take_fault("ovoc.5xx")
        if fault is not None:
            headers = {"Retry-After": fault["retry_after"]} if "retry_after" in fault else None
            raise HTTPError(
                int(fault.get("status", 500)), {"status": 500, "description": "lab fault ovoc.5xx"}, headers=headers
            )
        w.count("ovoc.calls")

    def fault_scope(self, req: Request) -> dict:
        """The UMP host a request is about: the device of ``(ipAddress='..')`` or ``(nodeId=..)``."""
        flt = (req.query.get("filter") or "").strip()
        m = _FILTER.match(flt)
        n = re.match(r"^\(\s*nodeId\s*=\s*'?(\d+)'?\s*\)$", flt)
        with self.world.lock:
            devices = dict(self.world.data["ovoc"]["devices"])
        for host, dev in devices.items():
            if (m and dev.get("ipAddress") == m.group(1)) or (n and dev.get("id") == int(n.group(1))):
                return {"host": host}
        return {"host": ""}

    def get_devices(self, req: Request):
        w = self.world
        flt = req.query.get("filter")
        ip = None
        if flt is not None:
            m = _FILTER.match(flt.strip())
            if not m:
                raise HTTPError(400, {"status": 400, "description": f"unsupported filter {flt!r}"})
            ip = m.group(1)
        detail = req.query.get("detail") == "1"
        out = []
        with w.lock:
            devices = copy.deepcopy(w.data["ovoc"]["devices"])
        for host, dev in sorted(devices.items()):
            if ip is not None and dev.get("ipAddress") != ip:
                continue
            match = {"host": host, "ip": dev.get("ipAddress")}
            if w.take_fault("ovoc.device_missing", **match) is not None:
                continue
            reachable = True
            if host in w.hosts:
                with w.lock:
                    reachable = w.host_reachable(host)
                    if reachable:
                        # the installed version narrows ovoc.disconnected (version=: only after an upgrade)
                        comps = w.host_state(host).get("ump", {}).get("components", {})
                        match["version"] = comps.get("SysAdminKit", "")
            if reachable and host in w.hosts and self._down_for_downtime(host, count_read=True):
                reachable = False
            if not reachable or w.take_fault("ovoc.disconnected", **match) is not None:
                dev["status"] = "Error"
                dev.setdefault("applicationsStatus", {}).setdefault("management", {})["managementStatus"] = (
                    "Disconnected"
                )
            if not detail:
                dev = {k: dev[k] for k in ("id", "name", "ipAddress", "productType") if k in dev}
            dev.pop("alarms", None)
            out.append(dev)
        return {"devices": out}

    def _down_for_downtime(self, host: str, count_read: bool = False) -> bool:
        """The services OVOC needs are stopped, or they started too recently (fault ovoc.reconnect_delay)."""
        w = self.world
        with w.lock:
            services = w.host_state(host).get("services", {})
            needed = [services[n] for n in OVOC_NEEDS if n in services]
            if any(s.get("state") != "running" for s in needed):
                return True
            started = max([float(s.get("started_at") or 0) for s in needed] + [0.0])
            if not started:
                return False  # running since the lab was seeded
            reads = w.data["ovoc"].setdefault("reads_since_start", {})
            seen = reads.get(host)
            if not seen or seen["start"] != started:
                seen = reads[host] = {"start": started, "n": 0}
            if count_read:
                seen["n"] += 1
            delay = w.peek_fault("ovoc.reconnect_delay", host=host)
            if delay is None:
                return False
            if "reads" in delay and seen["n"] <= int(delay["reads"]):
                return True
            return "seconds" in delay and time.time() - started < w.duration(float(delay["seconds"]))

    def get_active_alarms(self, req: Request):
        """``?filter=(nodeId=<device id>)``: the device's ``alarms`` plus those of the ``ovoc.alarm`` fault."""
        w = self.world
        m = re.match(r"^\(\s*nodeId\s*=\s*'?(\d+)'?\s*\)$", (req.query.get("filter") or "").strip())
        if not m:
            raise HTTPError(400, {"status": 400, "description": f"unsupported filter {req.query.get('filter')!r}"})
        node = int(m.group(1))
        with w.lock:
            devices = copy.deepcopy(w.data["ovoc"]["devices"])
        out = []
        for host, dev in devices.items():
            if dev.get("id") != node:
                continue
            out = list(dev.get("alarms") or [])
            if host in w.hosts and w.host_reachable(host) and self._down_for_downtime(host):
                with w.lock:
                    stopped = max(
                        [float(s.get("stopped_at") or 0) for s in w.host_state(host).get("services", {}).values()]
                        + [0.0]
                    )
                out.append(
                    {
                        "id": 8000 + node,
                        "severity": "Critical",
                        "name": DOWNTIME_ALARM,
                        "description": f"{dev.get('name')}: the UMP Management connection is lost",
                        "source": dev.get("name"),
                        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stopped or time.time())),
                    }
                )
            fault = w.take_fault("ovoc.alarm", host=host)
            if fault is not None:
                out.append(
                    {
                        "id": 9000 + node,
                        "severity": fault.get("severity", "Critical"),
                        "name": fault.get("name", "UMP Management Disconnected"),
                        "description": fault.get("description", "lab fault ovoc.alarm"),
                        "source": dev.get("name"),
                        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    }
                )
        return {"alarms": out}


def start(lab) -> dict:
    srv = lab.serve(OvocHandler)
    url = lab.url(srv)
    return {"ovoc": {"url": url}, "tls": {"ovoc": url}}
