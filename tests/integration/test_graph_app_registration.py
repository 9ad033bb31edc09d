"""ump365.upgrade.app_registration_info against the lab's Microsoft Graph, one lab fault at a time."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.ump365.upgrade.plugins.modules import app_registration_info

from tests.conftest import BIN
from tests.module_harness import Exit, _exit, _fail


@pytest.fixture
def graph_lab(lab, monkeypatch):
    lab.clear_faults()
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)
    yield lab
    lab.clear_faults()


def sync_app_id(lab, host):
    state = lab.state()
    rows = state["sql_dump"][state["hosts"][host]["sql_host"]]["SysAdminTenant"]["ApplicationSetting"]
    return next(r["Value"] for r in rows if r["Name"] == "AuthStatus.ClientId")


def module_args(lab, host, **over):
    ep = lab.endpoints
    args = {
        "graph_url": ep["graph"]["url"],
        "tenant": ep["entra"]["tenant_id"],
        "client_id": ep["entra"]["automation_client_id"],
        "secret": ep["secrets"]["azure_client_secret"],
        "authority": ep["entra"]["authority"],
        "ca_bundle": lab.ca_file,
        "app_id": sync_app_id(lab, host),
        "fqdn": f"{host}.ump.lab.test",
    }
    args.update(over)
    return args


def run(lab, host="ump01", **over):
    """The module's main() in this process, over the real client and the real wire to the lab."""
    with patch_module_args(dict(module_args(lab, host, **over), _ansible_check_mode=False)):
        try:
            app_registration_info.main()
        except Exit as e:
            json.dumps(e.result)
            for secret in lab.secrets():
                assert secret not in json.dumps(e.result), "a lab secret in the module result"
            return e.result
    raise AssertionError("no exit_json/fail_json")


def statuses(result):
    return {c["name"]: c["status"] for c in result["ump_checks"]}


def test_a_registration_made_as_the_guide_says_passes_every_check(graph_lab):
    for host in ("ump01", "ump02"):
        result = run(graph_lab, host)
        assert not result.get("failed"), result["msg"]
        assert set(statuses(result).values()) == {"pass"}
        assert len(result["ump_checks"]) == 5 and result["retries"] == []
        assert result["app_registration"]["appId"] == sync_app_id(graph_lab, host)


@pytest.mark.parametrize(
    ("fault", "params", "check", "status", "in_observed"),
    [
        ("graph.secret_expiring", {"days": 30}, "app_registration_client_secret_expiry", "warn", "in 29 days"),
        ("graph.secret_expiring", {"days": -3}, "app_registration_client_secret_expiry", "fail", "expired"),
        ("graph.no_secret", {}, "app_registration_client_secret_expiry", "fail", "no client secret"),
        ("graph.wrong_redirect", {}, "app_registration_redirect_uri", "fail", "livecloud.finebak.com"),
        ("graph.single_tenant", {}, "app_registration_multitenant", "fail", "AzureADMyOrg"),
        (
            "graph.no_implicit_grant",
            {},
            "app_registration_implicit_grant",
            "fail",
            "access tokens: off, ID tokens: off",
        ),
        ("graph.no_implicit_grant", {"which": "id"}, "app_registration_implicit_grant", "fail", "ID tokens: off"),
    ],
)
def test_each_fault_fails_its_own_check_on_its_own_host(graph_lab, fault, params, check, status, in_observed):
    graph_lab.fault(fault, host="ump02", **params)
    bad = run(graph_lab, "ump02")
    assert not bad.get("failed"), bad["msg"]
    got = statuses(bad)
    assert got[check] == status
    assert [n for n, s in got.items() if s != "pass"] == [check]
    c = next(c for c in bad["ump_checks"] if c["name"] == check)
    assert in_observed in json.dumps(c["observed"])
    assert "guide" in c["fix"]
    assert set(statuses(run(graph_lab, "ump01")).values()) == {"pass"}


def test_warn_days_moves_the_warning(graph_lab):
    graph_lab.fault("graph.secret_expiring", days=100)
    assert statuses(run(graph_lab))["app_registration_client_secret_expiry"] == "pass"
    assert statuses(run(graph_lab, warn_days=120))["app_registration_client_secret_expiry"] == "warn"


def test_wrong_redirect_fix_names_the_uri_to_add(graph_lab):
    graph_lab.fault("graph.wrong_redirect", uri="https://ump01.ump.lab.test/authenticate/oauth2callback")
    c = next(c for c in run(graph_lab)["ump_checks"] if c["name"] == "app_registration_redirect_uri")
    assert c["status"] == "fail"  # the path is case-sensitive
    assert "Add URI https://ump01.ump.lab.test/authenticate/OAuth2Callback" in c["fix"]


def test_graph_down_once_is_retried_and_reported(graph_lab):
    graph_lab.fault("graph.down", times=1, retry_after=0)
    result = run(graph_lab)
    assert not result.get("failed")
    assert len(result["retries"]) == 1 and "503" in result["retries"][0]["error"]


def test_graph_down_for_good_fails_naming_the_app_and_the_retries(graph_lab):
    graph_lab.fault("graph.down", retry_after=0)
    result = run(graph_lab)
    assert result["failed"]
    assert "graph read app registration failed for application with appId" in result["msg"]
    assert "HTTP 503 serviceNotAvailable" in result["msg"] and "(after 4 attempts)" in result["msg"]
    assert len(result["retries"]) == 3


def test_missing_graph_permission_names_application_read_all(graph_lab):
    graph_lab.fault("graph.forbidden")
    result = run(graph_lab)
    assert result["failed"] and "Application.Read.All" in result["msg"]


def test_expired_token_is_renewed_once(graph_lab):
    graph_lab.fault("entra.expired_token", audience="https://graph.microsoft.com", times=1)
    result = run(graph_lab)
    assert not result.get("failed"), result["msg"]


def test_wrong_secret_unknown_app_wrong_ca_and_bad_input_fail_with_a_fix(graph_lab):
    r = run(graph_lab, secret="Lab!not-the-secret")
    assert r["failed"] and "invalid_client" in r["msg"] and "Fix: check client_id and secret" in r["msg"]
    assert "Lab!not-the-secret" not in json.dumps(r)
    r = run(graph_lab, app_id="00000000-0000-0000-0000-000000000000")
    assert r["failed"] and "no app registration with application (client) id 0000" in r["msg"]
    assert "AuthStatus.ClientId" in r["msg"]
    r = run(graph_lab, ca_bundle=graph_lab.endpoints["wrong_ca_file"])
    assert r["failed"] and "TLS verification" in r["msg"] and "ca_bundle" in r["msg"]
    r = run(graph_lab, app_id="x' or 1 eq 1")
    assert r["failed"] and "app_id must be a GUID" in r["msg"] and "x' or 1 eq 1" in r["msg"]
    r = run(graph_lab, graph_url="http://127.0.0.1:1")
    assert r["failed"] and "graph_url must be an https:// URL" in r["msg"]


def test_through_ansible_with_the_lab_inventory_and_no_secret_at_vvvv(graph_lab, tmp_path):
    graph_lab.fault("graph.secret_expiring", host="ump02", days=10)
    app01, app02 = sync_app_id(graph_lab, "ump01"), sync_app_id(graph_lab, "ump02")
    playbook = tmp_path / "graph.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "name": "App registration checks",
                    "hosts": "ump_servers",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Check the sync app registration",
                            "ump365.upgrade.app_registration_info": {
                                "graph_url": "{{ ump_graph_url }}",
                                "tenant": "{{ ump_azure_tenant_id }}",
                                "client_id": "{{ ump_azure_client_id }}",
                                "secret": "{{ ump_azure_secret }}",
                                "authority": "{{ ump_azure_authority }}",
                                "ca_bundle": "{{ ump_ca_bundle }}",
                                "app_id": "{{ {'ump01': '%s', 'ump02': '%s'}[inventory_hostname] }}" % (app01, app02),
                                "fqdn": "{{ ump_fqdn }}",
                            },
                            "delegate_to": "localhost",
                            "vars": {"ansible_connection": "local", "ansible_python_interpreter": str(BIN / "python")},
                        }
                    ],
                }
            ]
        )
    )
    proc = graph_lab.playbook(
        str(playbook),
        "-vvvv",
        env={
            "ANSIBLE_CALLBACKS_ENABLED": "ump365.upgrade.report",
            "UMP365_REPORT_DIR": str(tmp_path / "reports"),
            "UMP365_REPORT_RUN_ID": "graph",
        },
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    for secret in graph_lab.secrets():
        assert secret not in proc.stdout and secret not in proc.stderr
    report = json.loads((tmp_path / "reports" / "graph.json").read_text())
    for secret in graph_lab.secrets():
        assert secret not in json.dumps(report)
    expiry = {
        h: next(c for c in d["checks"] if c["name"] == "app_registration_client_secret_expiry")["status"]
        for h, d in report["hosts"].items()
    }
    assert expiry == {"ump01": "pass", "ump02": "warn"}
