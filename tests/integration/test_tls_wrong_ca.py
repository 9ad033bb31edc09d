"""Every TLS client refuses the lab's certificate unless it is told to trust the lab CA, or told not to verify.

The real modules against the lab, one per client: ARM + Entra ID (azure SDK, azure_snapshot_info), the
UMP API (ump_customer_info), the SBC (sbc_info), OVOC (ovoc_device_info), Microsoft Graph
(app_registration_info), SQL Server over TDS (sql_info) and WinRM (pywinrm through Ansible's winrm
connection, win_ping). Three ways each: a wrong CA file, the system CAs only (no CA given, and no
REQUESTS_CA_BUNDLE / SSL_CERT_FILE in the environment), and verification turned off where the client has
such an option. The azure SDK modules have none (docs/assumptions.md): ``ca_bundle`` only adds a CA.
"""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import certifi
import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.ump365.upgrade.plugins.modules import (
    app_registration_info,
    azure_snapshot_info,
    ovoc_device_info,
    sbc_info,
    sql_info,
    ump_customer_info,
)

from tests.conftest import BIN, REPO
from tests.module_harness import Exit, _exit, _fail

TLS_REFUSED = re.compile(r"certificate|TLS|SSL", re.I)
# validate_certs=false is the case under test here; urllib3 warns about it on every request
pytestmark = pytest.mark.filterwarnings("ignore:Unverified HTTPS request")
CA_ENV = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE")


def _graph_app_id(lab) -> str:
    state = lab.state()
    rows = state["sql_dump"][state["hosts"]["ump01"]["sql_host"]]["SysAdminTenant"]["ApplicationSetting"]
    return next(r["Value"] for r in rows if r["Name"] == "AuthStatus.ClientId")


def _args(lab, client: str) -> tuple[object, dict]:
    ep, sec = lab.endpoints, lab.endpoints["secrets"]
    host = ep["hosts"]["ump01"]
    if client == "arm+entra":
        return azure_snapshot_info, {
            "subscription_id": ep["azure"]["subscription_id"],
            "tenant": ep["entra"]["tenant_id"],
            "client_id": ep["entra"]["automation_client_id"],
            "secret": sec["azure_client_secret"],
            "authority": ep["entra"]["authority"],
            "base_url": ep["arm"]["base_url"],
            "resource_group": host["resource_group"],
            "retry_attempts": 1,
        }
    if client == "ump_api":
        return ump_customer_info, {
            "api_url": host["ump_api_url"],
            "tenant_id": ep["entra"]["tenant_id"],
            "client_id": ep["entra"]["ump_api_client_id"],
            "client_secret": sec["ump_api_client_secret"],
            "scope": "api://%s/.default" % host["ump_api_app_id"],
            "authority": ep["entra"]["authority"],
            "token_cache": False,
            "retries": 0,
        }
    if client == "sbc":
        sbc = ep["sbcs"][host["sbc"]]
        return sbc_info, {
            "sbc_url": sbc["url"],
            "sbc_username": sbc["username"],
            "sbc_password": sec["sbc_password"],
            "gather": ["status"],
            "retries": 0,
        }
    if client == "ovoc":
        return ovoc_device_info, {
            "ovoc_url": ep["ovoc"]["url"],
            "ovoc_username": ep["ovoc"]["username"],
            "ovoc_password": sec["ovoc_password"],
            "device_ip": host["ip"],
            "retries": 0,
        }
    if client == "graph":
        return app_registration_info, {
            "graph_url": ep["graph"]["url"],
            "tenant": ep["entra"]["tenant_id"],
            "client_id": ep["entra"]["automation_client_id"],
            "secret": sec["azure_client_secret"],
            "authority": ep["entra"]["authority"],
            "app_id": _graph_app_id(lab),
        }
    assert client == "sql"
    return sql_info, {
        "server": "localhost",
        "port": host["sql_port"],
        "username": "ump-svc",
        "password": sec["service_account_password"],
        "retries": 0,
        "timeout": 10,
    }


CLIENTS = ["arm+entra", "ump_api", "sbc", "ovoc", "graph", "sql"]
NO_VERIFY_OFF = {"arm+entra"}  # the azure SDK modules have no option to turn verification off


@pytest.fixture
def tls_lab(lab, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)
    for name in CA_ENV:
        monkeypatch.delenv(name, raising=False)
    return lab


def _run(module, args: dict) -> dict:
    a = dict(args, _ansible_check_mode=False, _ansible_diff=False)
    with patch_module_args(a):
        try:
            module.main()
        except Exit as e:
            json.dumps(e.result)
            return e.result
    raise AssertionError("module returned without exit_json/fail_json")


@pytest.mark.parametrize("client", CLIENTS)
def test_client_refuses_a_wrong_ca_and_system_cas_and_accepts_the_lab_ca(tls_lab, client):
    lab = tls_lab
    module, args = _args(lab, client)

    ok = _run(module, dict(args, ca_bundle=lab.ca_file))
    assert not ok.get("failed"), ok.get("msg")

    for label, extra in (("wrong CA", {"ca_bundle": lab.endpoints["wrong_ca_file"]}), ("system CAs", {})):
        res = _run(module, dict(args, **extra))
        assert res.get("failed"), f"{client} with the {label} connected: {res}"
        assert TLS_REFUSED.search(res["msg"]), f"{client} with the {label}: {res['msg']}"
        assert lab.endpoints["secrets"]["azure_client_secret"] not in json.dumps(res)

    if client in NO_VERIFY_OFF:
        return
    if client == "sql":
        # python-tds always verifies the chain; validate_certs=false skips only the host-name check
        off = _run(module, dict(args, validate_certs=False, ca_bundle=lab.endpoints["wrong_ca_file"]))
        assert off.get("failed") and TLS_REFUSED.search(off["msg"]), off
        by_ip = dict(args, server="127.0.0.1", ca_bundle=lab.ca_file)
        refused = _run(module, by_ip)
        assert refused.get("failed") and "IP address" in refused["msg"], refused
        off = _run(module, dict(by_ip, validate_certs=False))
    else:
        off = _run(module, dict(args, validate_certs=False, ca_bundle=lab.endpoints["wrong_ca_file"]))
    assert not off.get("failed"), f"{client} with validate_certs=false: {off.get('msg')}"


def _win_ping(lab, **winrm_vars: str) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "ansible"), "-i", str(REPO / "inventories" / "lab"), "ump01", "-m", "ansible.windows.win_ping"]
    for k, v in winrm_vars.items():
        cmd += ["-e", f"{k}={v}"]
    env = lab.env()
    for name in CA_ENV:
        env.pop(name, None)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO, env=env)


def test_winrm_refuses_a_wrong_ca_and_system_cas_and_accepts_ignore(tls_lab):
    lab = tls_lab
    cases = {
        "lab CA": {},
        "wrong CA": {"ansible_winrm_ca_trust_path": lab.endpoints["wrong_ca_file"]},
        # requests' own bundle (certifi), what pywinrm uses without a ca_trust_path; the lab inventory
        # sets one, and an empty ca_trust_path would turn verification off (docs/assumptions.md)
        "system CAs": {"ansible_winrm_ca_trust_path": certifi.where()},
        "ignore": {
            "ansible_winrm_server_cert_validation": "ignore",
            "ansible_winrm_ca_trust_path": lab.endpoints["wrong_ca_file"],
        },
    }
    with ThreadPoolExecutor(len(cases)) as pool:
        procs = dict(zip(cases, pool.map(lambda v: _win_ping(lab, **v), cases.values()), strict=True))
    for label in ("lab CA", "ignore"):
        assert procs[label].returncode == 0 and "pong" in procs[label].stdout, (label, procs[label].stdout[-2000:])
    for label in ("wrong CA", "system CAs"):
        p = procs[label]
        assert p.returncode != 0 and "UNREACHABLE" in p.stdout, (label, p.stdout[-2000:])
        assert TLS_REFUSED.search(p.stdout), (label, p.stdout[-2000:])
