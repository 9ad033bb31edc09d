"""The SBC and OVOC emulators on the wire: Basic auth, documented alarm paging, the INI table, filters."""

from __future__ import annotations

import requests


def sbc(lab, name: str = "sbc-ump01"):
    return lab.endpoints["sbcs"][name]["url"], ("Admin", lab.endpoints["secrets"]["sbc_password"])


def test_sbc_needs_basic_auth(lab):
    url, _auth = sbc(lab)
    r = requests.get(f"{url}/api/v1/status", auth=("Admin", "wrong"), verify=lab.ca_file, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_no_active_alarms_is_204(lab):
    url, auth = sbc(lab)
    r = requests.get(f"{url}/api/v1/alarms/active", auth=auth, verify=lab.ca_file, timeout=10)
    assert r.status_code == 204 and r.content == b""


def test_alarm_paging_follows_the_documented_cursor(fresh_lab):
    url, auth = sbc(fresh_lab)
    fresh_lab.fault("sbc.raise_alarms", sbc="sbc-ump01", count=5, times=1)
    s = requests.Session()
    s.auth = auth
    s.verify = fresh_lab.ca_file
    s.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override s.verify
    first = s.get(f"{url}/api/v1/alarms/active", params={"limit": 2}, timeout=10).json()
    assert [a["id"] for a in first["alarms"]] == ["1", "2"]
    assert first["cursor"] == {"after": "2", "before": "-1"}
    last = s.get(f"{url}/api/v1/alarms/active", params={"limit": 2, "after": "4"}, timeout=10).json()
    assert [a["id"] for a in last["alarms"]] == ["5"]
    assert last["cursor"]["after"] == "-1"
    assert s.get(f"{url}/api/v1/alarms/active", params={"after": "5"}, timeout=10).status_code == 204
    one = s.get(f"{url}/api/v1/alarms/active/3", timeout=10).json()
    assert {"severity", "description", "source", "date"} <= set(one)


def test_ini_has_the_dial_plan_rule_table_of_the_world(lab):
    url, auth = sbc(lab)
    text = requests.get(f"{url}/api/v1/files/ini", auth=auth, verify=lab.ca_file, timeout=10).text
    assert "[ DialPlanRule ]" in text and "[ \\DialPlanRule ]" in text
    assert "FORMAT DialPlanRule_Index = DialPlanRule_DialPlanName, DialPlanRule_Name, DialPlanRule_Prefix" in text
    for rule in lab.state()["sbcs"]["sbc-ump01"]["dial_plan_rules"]:
        assert f'"{rule["Prefix"]}"' in text


def test_ha_sync_fault_is_409(fresh_lab):
    url, auth = sbc(fresh_lab)
    fresh_lab.fault("sbc.ha_sync", sbc="sbc-ump01", times=1)
    r = requests.get(f"{url}/api/v1/status", auth=auth, verify=fresh_lab.ca_file, timeout=10)
    assert r.status_code == 409 and "HA" in r.json()["description"]


def ovoc_get(lab, params, auth=None):
    ep = lab.endpoints
    auth = auth or (ep["ovoc"]["username"], ep["secrets"]["ovoc_password"])
    return requests.get(
        f"{ep['ovoc']['url']}/ovoc/v1/topology/devices", params=params, auth=auth, verify=lab.ca_file, timeout=10
    )


def test_ovoc_filters_devices_by_ip(lab):
    ip = lab.endpoints["hosts"]["ump01"]["ip"]
    r = ovoc_get(lab, {"detail": "1", "filter": f"(ipAddress='{ip}')"})
    devices = r.json()["devices"]
    assert [d["ipAddress"] for d in devices] == [ip]
    assert devices[0]["applicationsStatus"]["management"]["managementStatus"] == "Connected"
    assert ovoc_get(lab, {"detail": "1", "filter": "(ipAddress='192.0.2.1')"}).json()["devices"] == []
    assert ovoc_get(lab, {}, auth=("ovoc-api", "nope")).status_code == 401


def test_ovoc_faults_missing_and_disconnected(fresh_lab):
    ip = fresh_lab.endpoints["hosts"]["ump01"]["ip"]
    q = {"detail": "1", "filter": f"(ipAddress='{ip}')"}
    fresh_lab.fault("ovoc.device_missing", host="ump01", times=1)
    assert ovoc_get(fresh_lab, q).json()["devices"] == []
    fresh_lab.fault("ovoc.disconnected", host="ump01", times=1)
    dev = ovoc_get(fresh_lab, q).json()["devices"][0]
    assert dev["status"] == "Error"
    assert dev["applicationsStatus"]["management"]["managementStatus"] == "Disconnected"
    assert ovoc_get(fresh_lab, q).json()["devices"][0]["status"] == "Active"


def test_lab_inventory_feeds_the_rest_modules(lab):
    inv = lab.inventory()
    allv = inv["all"]["vars"]
    assert allv["ump_ovoc_url"] == lab.endpoints["ovoc"]["url"]
    for host in ("ump01", "ump02"):
        hv = inv["_meta"]["hostvars"][host]
        assert hv["ump_api_url"] == lab.endpoints["hosts"][host]["ump_api_url"]
        assert hv["ump_api_url"].endswith("/tenantui")
        assert hv["ump_api_scope"] == f"api://{lab.endpoints['hosts'][host]['ump_api_app_id']}/.default"
        assert hv["ump_sbc_url"] == lab.endpoints["sbcs"][f"sbc-{host}"]["url"]
