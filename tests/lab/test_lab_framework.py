"""The lab framework itself: endpoints over TLS with the lab CA, faults, reset, and clean start/stop."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO, umplab


def _handshake(url: str, cafile: str) -> None:
    u = urlsplit(url)
    ctx = ssl.create_default_context(cafile=cafile)
    with (
        socket.create_connection((u.hostname, u.port), timeout=10) as s,
        ctx.wrap_socket(s, server_hostname=u.hostname) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_every_tls_endpoint_answers_with_the_lab_ca_only(lab):
    tls = lab.endpoints["tls"]
    assert {"admin", "entra"} <= set(tls)
    for url in tls.values():
        _handshake(url, lab.ca_file)
        with pytest.raises(ssl.SSLError):
            _handshake(url, lab.endpoints["wrong_ca_file"])


def test_state_has_the_seeded_estate(lab):
    st = lab.state()
    ump = [h for h in st["hosts"].values() if h["role"] == "ump"]
    assert len(ump) == 2
    assert st["config"]["from_version"] == "8.0.400.64"
    # the host state lives on the OS disk of its VM
    for h in ump:
        vm = st["azure"]["resources"][h["vm_id"].lower()]
        disk_id = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].lower()
        services = st["disk_contents"][disk_id]["services"]
        assert "SysAdmin.TenantSvc" in services
        assert sum(1 for s in services if s.startswith("SysAdmin.CacheSrv.")) >= 2
    # every second host has a backend SQL server holding its SysAdminTenant
    backend = [h for h in st["hosts"].values() if h["role"] == "sql_backend"]
    assert len(backend) == 1
    assert "SysAdminTenant" in st["sql_dump"][backend[0]["name"]]
    customers = st["sql_dump"]["ump01"]["SysAdminTenant"]["Customer"]
    assert {c["AuthMethod"] for c in customers} == {"Password", "Token"}


def test_faults_can_be_added_listed_and_cleared(fresh_lab):
    fresh_lab.fault("arm.429", times=2, host="ump01")
    faults = json.loads(umplab("fault", "list", state_dir=fresh_lab.state_dir).stdout)["faults"]
    assert faults[0]["name"] == "arm.429" and faults[0]["params"] == {"times": 2, "host": "ump01"}
    out = umplab("fault", "add", "wyupdate.fail_step", "step=RunSqlScripts", state_dir=fresh_lab.state_dir)
    assert json.loads(out.stdout)["params"] == {"step": "RunSqlScripts"}
    fresh_lab.clear_faults()
    assert fresh_lab.state()["faults"] == []


def test_reset_restores_the_seed(fresh_lab):
    before = fresh_lab.state()
    fresh_lab.set_scale(0.5)
    assert fresh_lab.state()["config"]["scale"] == 0.5
    fresh_lab.reset()
    assert fresh_lab.state()["config"] == before["config"]


def test_lab_inventory_maps_hosts_and_groups(lab):
    inv = lab.inventory()
    assert sorted(inv["ump_servers"]["hosts"]) == ["ump01", "ump02"]
    assert inv["sql_backends"]["hosts"] == ["ump02-sql"]
    hv = inv["_meta"]["hostvars"]["ump02"]
    assert hv["ump_sql_backend"] == "ump02-sql"
    assert hv["ump_azure_vm_name"] == "ump02"
    assert inv["all"]["vars"]["ansible_winrm_server_cert_validation"] == "validate"


def test_up_errors_are_one_line_and_leave_nothing(tmp_path):
    missing = tmp_path / "nope" / "deeper"
    r = umplab("up", state_dir=missing, check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "does not exist" in r.stderr
    r = umplab("state", state_dir=tmp_path / "absent", check=False)
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = umplab("state", state_dir=tmp_path, check=False)
    assert r.returncode == 2 and "no lab is running" in r.stderr

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = umplab("up", "--base-port", str(port), state_dir=tmp_path, check=False)
    assert r.returncode == 2 and f"port {port}" in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "lab.pid").exists()


def test_second_up_refused_and_down_leaves_no_process(tmp_path):
    umplab("up", "--hosts", "1", state_dir=tmp_path)
    ep = json.loads((tmp_path / "endpoints.json").read_text())
    pid = ep["pid"]
    try:
        r = umplab("up", "--hosts", "1", state_dir=tmp_path, check=False)
        assert r.returncode == 2 and "already running" in r.stderr
    finally:
        umplab("down", state_dir=tmp_path)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}"), "lab process still alive after down"
    # The lab is its own process group: none of its processes may survive `down`. Whether its ports are
    # closed follows from that (the kernel closes a dead process's sockets); probing the ports instead
    # races with other labs on the machine, which may bind a freed ephemeral port at once.
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not (tmp_path / "endpoints.json").exists()


def test_cli_help_runs():
    r = subprocess.run(
        [sys.executable, "-m", "umplab", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "lab")},
    )
    assert r.returncode == 0 and "fault" in r.stdout


def test_host_state_can_be_read_and_changed_by_hand(fresh_lab):
    key = "c:\\acs\\handmade.txt"
    fresh_lab.set_host_state("ump01", ["files", key], {"type": "file", "path": "C:\\acs\\handmade.txt", "content": "x"})
    assert fresh_lab.host_state("ump01")["files"][key]["content"] == "x"
    assert key not in fresh_lab.host_state("ump02")["files"]
    fresh_lab.set_host_state("ump01", ["files", key], None)
    assert key not in fresh_lab.host_state("ump01")["files"]
