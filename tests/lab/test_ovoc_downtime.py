"""OVOC and the upgrade's downtime (issue 19): disconnected with a Critical alarm while the services are
stopped, and with ovoc.reconnect_delay still for a while after they start."""

from __future__ import annotations

import time

import requests

from tests.lab.test_rest_emulators_sbc_ovoc import ovoc_get


def _device(lab):
    ip = lab.endpoints["hosts"]["ump01"]["ip"]
    return ovoc_get(lab, {"detail": "1", "filter": f"(ipAddress='{ip}')"}).json()["devices"][0]


def _alarms(lab, node):
    ep = lab.endpoints
    r = requests.get(
        f"{ep['ovoc']['url']}/ovoc/v1/alarms/actives",
        params={"filter": f"(nodeId={node})"},
        auth=(ep["ovoc"]["username"], ep["secrets"]["ovoc_password"]),
        verify=lab.ca_file,
        timeout=10,
    )
    return [a["name"] for a in r.json()["alarms"]]


def test_downtime_disconnects_and_raises_an_alarm_until_reconnected(fresh_lab):
    lab = fresh_lab
    dev = _device(lab)
    assert dev["applicationsStatus"]["management"]["managementStatus"] == "Connected"
    assert _alarms(lab, dev["id"]) == []
    lab.set_host_state("ump01", ["services", "SysAdmin.TenantSvc", "state"], "stopped")
    assert _device(lab)["applicationsStatus"]["management"]["managementStatus"] == "Disconnected"
    assert _alarms(lab, dev["id"]) == ["UMP Management Disconnected"]
    # started again, OVOC reconnects only after 2 more device reads
    lab.fault("ovoc.reconnect_delay", host="ump01", reads=2)
    lab.set_host_state("ump01", ["services", "SysAdmin.TenantSvc", "state"], "running")
    lab.set_host_state("ump01", ["services", "SysAdmin.TenantSvc", "started_at"], time.time())
    states = [_device(lab)["applicationsStatus"]["management"]["managementStatus"] for _ in range(3)]
    assert states == ["Disconnected", "Disconnected", "Connected"]
    assert _alarms(lab, dev["id"]) == []
