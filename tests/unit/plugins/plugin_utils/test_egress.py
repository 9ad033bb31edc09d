"""Which download endpoints to probe from the host, and what the probes say."""

from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.plugin_utils import egress

EP = {
    "update_repository": "https://ump-updates.audiocodes.example/wyupdate/",
    "EmsMainAgent": "https://ump-updates.audiocodes.example/components/EmsMainAgent.msi",
    "Chocolatey": "https://community.chocolatey.org/install.ps1",
    "legacy": "http://build.openvpn.net:8080/x",
}


def test_origin_scope_probes_each_host_once():
    t = egress.probe_targets(EP, "origin")
    assert [x["url"] for x in t] == [
        "https://ump-updates.audiocodes.example:443/",
        "https://community.chocolatey.org:443/",
        "http://build.openvpn.net:8080/",
    ]
    assert t[0]["endpoints"] == ["update_repository", "EmsMainAgent"]


def test_url_scope_probes_every_endpoint():
    assert len(egress.probe_targets(EP, "url")) == 4


def test_bad_input():
    with pytest.raises(egress.EgressConfigError):
        egress.probe_targets({"x": "ftp://a/"})
    with pytest.raises(egress.EgressConfigError):
        egress.probe_targets(EP, "everything")


def test_report_rows():
    targets = egress.probe_targets(EP, "origin")
    results = [
        {"item": targets[0], "status_code": 200, "elapsed": 0.1},
        {"item": targets[1], "failed": True, "msg": "Unable to connect to the remote server"},
        {"item": targets[2], "status_code": 503, "status_description": "Service Unavailable"},
    ]
    r = egress.probe_report(EP, targets, results, host="ump01")
    rows = {x["name"]: x for x in r["rows"]}
    assert rows["EmsMainAgent"]["reachable"] and rows["EmsMainAgent"]["ok"]
    assert not rows["Chocolatey"]["reachable"] and "Unable to connect" in rows["Chocolatey"]["error"]
    assert (
        rows["legacy"]["reachable"]
        and not rows["legacy"]["ok"]
        and rows["legacy"]["error"] == "HTTP 503 Service Unavailable"
    )
    assert not r["ok"] and r["unreachable"] == ["Chocolatey"]
    assert (
        r["msg"].startswith("ump01: 1 of 4 download endpoints are not reachable") and "Configure Firewall" in r["msg"]
    )


def test_report_all_reachable():
    targets = egress.probe_targets(EP, "url")
    results = [{"item": t, "status_code": 200} for t in targets]
    assert egress.probe_report(EP, targets, results)["ok"]
