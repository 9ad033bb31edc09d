"""The guide's checks as pure functions: each one passes on a good observation and fails on its own bad one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ump365.upgrade.plugins.filter.checks import FilterModule
from ansible_collections.ump365.upgrade.plugins.plugin_utils import checks as c

NOW = "2026-11-23T12:00:00Z"
FQDN = "ump01.example.com"
TARGET = "8.0.515"


def good_preflight() -> dict:
    return {
        "wyupdate": {"rc": 2, "info": "8.0.515\r\nUMP-365 8.0.515 release\r\n"},
        "egress": [{"name": "update_repository", "url": "https://u/", "ok": True, "status": 200}],
        "azure": {
            "vm_name": "ump01",
            "vm": {"exists": True, "power_state": "running"},
            "os_disk": {
                "id": "/subscriptions/x/disks/d",
                "name": "d",
                "encryption_type": "EncryptionAtRestWithPlatformKey",
            },
            "missing_actions": [],
            "ade": False,
            "data_disks": [],
            "locks": [],
        },
        "become": {"account": "UMP01\\ump-svc", "groups": ["BUILTIN\\Administrators", "UMP01\\UmpAdmins"]},
        "auth_status": {
            "client_id": "app",
            "client_secret_configured": True,
            "redirect_uri": f"https://{FQDN}/authenticate/OAuth2Callback",
            "customers": [
                {"customer": "contoso", "method": "Token", "last_status": "Successful"},
            ],
        },
        "replication_queue": {"open_commands": 0, "executing": 0, "queued": 0, "commands": []},
        "sql": {"collation": "SQL_Latin1_General_CP1_CI_AS"},
        "backend": {
            "enabled": True,
            "host": "ump01-sql",
            "dbbackup": {"path": "C:\\acs\\dbbackup", "exists": True, "isdir": True},
            "service_account_login": {"ok": True, "user": "ump-svc"},
            "backup_space": {"drive": "C", "free_mb": 61000, "needed_mb": 40},
        },
        "certificates": [
            {
                "subject": f"CN={FQDN}",
                "dns_names": [FQDN],
                "not_after": "2027-05-01T00:00:00Z",
                "has_private_key": True,
            }
        ],
        "open_files": {"files": []},
        "services": ["SysAdmin.TenantSvc", "w3svc"],
        "current_version": "8.0.400.64",
        "disk_free_gb": 61.0,
    }


def run_preflight(obs: dict, **params) -> dict:
    p = {"target_version": TARGET, "fqdn": FQDN, "now": NOW, "min_free_gb": 10, "service_account": "ump-svc"}
    p.update(params)
    return {x["name"]: x for x in c.preflight_checks(obs, p)}


def test_preflight_all_pass_on_a_ready_host():
    res = run_preflight(good_preflight())
    assert {n: r["status"] for n, r in res.items() if r["status"] != "pass"} == {}
    assert all(r["fix"] is None for r in res.values())
    # the checks of "Before Upgrading" are all there
    for name in (
        "wyupdate_update_available",
        "host_egress",
        "azure_snapshot_rights",
        "password_authenticated_customers",
        "replication_queue_empty",
        "sql_collation",
        "backend_dbbackup_folder",
        "backend_service_account",
        "backend_backup_free_space",
        "ssl_certificate",
        "no_open_files",
        "auth_status_app_credentials",
        "whitelist_services_8_0_450",
        "free_disk_space",
    ):
        assert name in res


@pytest.mark.parametrize(
    "change, name, status",
    [
        (
            {"wyupdate": {"rc": 0, "info": ""}},
            "wyupdate_update_available",
            "fail",
        ),
        (
            {"wyupdate": {"rc": 2, "info": "8.0.520\nchanges"}},
            "wyupdate_update_available",
            "fail",
        ),
        (
            {"wyupdate": {"rc": 1, "info": "Unable to check for updates\nno server"}},
            "wyupdate_update_available",
            "fail",
        ),
        # the former key=value answer is not wyUpdate's: line 1 is not a version
        (
            {"wyupdate": {"rc": 2, "info": "update_available=true\nversion=8.0.515"}},
            "wyupdate_update_available",
            "fail",
        ),
        (
            {"egress": [{"name": "Chocolatey", "url": "https://c/", "ok": False, "error": "Unable to connect"}]},
            "host_egress",
            "fail",
        ),
        (
            {"azure": dict(good_preflight()["azure"], missing_actions=["Microsoft.Compute/snapshots/write"])},
            "azure_snapshot_rights",
            "fail",
        ),
        (
            {"replication_queue": {"open_commands": 2, "executing": 1, "queued": 1, "commands": [{"id": 5}]}},
            "replication_queue_empty",
            "fail",
        ),
        ({"sql": {"collation": "Latin1_General_CI_AS"}}, "sql_collation", "fail"),
        ({"certificates": []}, "ssl_certificate", "fail"),
        (
            {"certificates": [{"subject": f"CN={FQDN}", "dns_names": [FQDN], "not_after": "2026-11-30T00:00:00Z"}]},
            "ssl_certificate",
            "fail",
        ),
        (
            {"certificates": [{"subject": f"CN={FQDN}", "dns_names": [FQDN], "not_after": "2026-12-10T00:00:00Z"}]},
            "ssl_certificate",
            "warn",
        ),
        ({"open_files": {"files": ["C:\\acs\\tenants\\contoso\\logs\\sync.log"]}}, "no_open_files", "fail"),
        ({"open_files": {"files": None, "error": "not recognized"}}, "no_open_files", "warn"),
        # nothing probed is unknown, not a pass
        ({"egress": []}, "host_egress", "warn"),
        # the "maintain objects list" global flag off: an empty list is unknown, never a pass (#18 item 3)
        ({"open_files": {"files": [], "local_listed": False}}, "no_open_files", "warn"),
        (
            {"open_files": {"files": ["C:\\acs\\a.log"], "local_listed": False}},
            "no_open_files",
            "fail",
        ),
        ({"disk_free_gb": 3.5}, "free_disk_space", "fail"),
        ({"services": ["w3svc"], "current_version": "8.0.450.10"}, "whitelist_services_8_0_450", "warn"),
    ],
)
def test_preflight_each_check_fails_on_its_own_fault(change, name, status):
    obs = good_preflight()
    obs.update(change)
    res = run_preflight(obs)
    assert res[name]["status"] == status, res[name]
    assert res[name]["fix"]
    others = {n: r["status"] for n, r in res.items() if n != name and r["status"] != "pass"}
    assert others == {}


def test_backend_checks():
    obs = good_preflight()
    obs["backend"]["dbbackup"]["exists"] = False
    obs["backend"]["service_account_login"] = {"ok": False, "user": "ump-svc", "error": "Login failed (18456)"}
    res = run_preflight(obs)
    assert res["backend_dbbackup_folder"]["status"] == "fail"
    assert "ump01-sql" in res["backend_dbbackup_folder"]["fix"]
    assert res["backend_service_account"]["status"] == "fail"
    obs["backend"] = {"enabled": False}
    res = run_preflight(obs)
    assert res["backend_dbbackup_folder"]["status"] == "skip"


def test_backend_backup_space_names_the_drive_and_the_space_needed():
    obs = good_preflight()
    obs["backend"]["backup_space"] = {"drive": "C", "free_mb": 0, "needed_mb": 40}
    r = run_preflight(obs)["backend_backup_free_space"]
    assert r["status"] == "fail" and r["blocking"]
    assert "0 MB free on C: of ump01-sql" in r["observed"] and "41 MB on drive C:" in r["fix"]
    # the same size free is not enough (the backup's header and verify need a little more)
    obs["backend"]["backup_space"] = {"drive": "C", "free_mb": 40, "needed_mb": 40}
    assert run_preflight(obs)["backend_backup_free_space"]["status"] == "fail"
    # not reported (xp_fixeddrives not permitted): unknown, never pass
    obs["backend"]["backup_space"] = {"drive": "C", "free_mb": None, "needed_mb": 40}
    assert run_preflight(obs)["backend_backup_free_space"]["status"] == "skip"


def test_auth_status_credentials_name_each_problem():
    obs = good_preflight()
    obs["auth_status"].update(client_secret_configured=False, redirect_uri="https://other/authenticate/OAuth2Callback")
    r = run_preflight(obs)["auth_status_app_credentials"]
    assert r["status"] == "fail" and r["blocking"]
    assert "client secret missing" in r["fix"] and "redirect is https://other" in r["fix"]


def test_password_customers_warn_and_list():
    obs = good_preflight()
    obs["auth_status"]["customers"] += [
        {"customer": "Demo", "m365_email": "admin@demo", "method": "Password", "last_status": "Failed"},
        {"customer": "abc", "m365_email": "admin@abc", "method": "password", "last_status": "Successful"},
    ]
    r = run_preflight(obs)["password_authenticated_customers"]
    assert r["status"] == "warn" and not r["blocking"]
    assert [d["customer"] for d in r["details"]] == ["abc", "Demo"]
    csv_text = c.customers_csv(c.password_customers(obs["auth_status"]))
    assert csv_text.splitlines()[0] == "customer,m365_email,method,last_verified,last_status"
    assert csv_text.splitlines()[2] == "Demo,admin@demo,Password,,Failed"


def test_missing_source_is_skip_and_a_failed_source_is_fail():
    obs = good_preflight()
    del obs["sql"]
    obs["replication_queue"] = {"error": "ump_api GET failed: 503"}
    res = run_preflight(obs)
    assert res["sql_collation"]["status"] == "skip"
    assert res["replication_queue_empty"]["status"] == "fail"
    assert "503" in res["replication_queue_empty"]["observed"]


def test_non_blocking_demotes_and_gate_lists_failures():
    obs = good_preflight()
    obs["disk_free_gb"] = 1
    obs["sql"] = {"collation": "X"}
    checks = c.preflight_checks(
        obs,
        {
            "target_version": TARGET,
            "fqdn": FQDN,
            "now": NOW,
            "non_blocking": ["sql_collation"],
            "service_account": "ump-svc",
        },
    )
    failed = c.blocking_failures(checks)
    assert [f["name"] for f in failed] == ["free_disk_space"]
    msg = c.summary_message("ump01", failed)
    assert msg.startswith("ump01: 1 check(s) failed") and "free space on C:" in msg


def good_post(version=TARGET) -> dict:
    return {
        "ovoc": {"exists": True, "status": "Active", "management_status": "Connected", "device_ip": "10.0.0.11"},
        "ovoc_alarms": [{"severity": "Minor", "description": "x"}],
        "versions": {
            "sysadminkit_version": version,
            "multitenant_version": version,
            "customers": [{"name": "contoso", "state": "Deployed", "version": version}],
        },
        "licence": {"licences": [{"Status": "Valid"}], "missing": False},
        "invitation_settings": {"portal_url": f"https://{FQDN}/authenticate"},
        "auth_status": {
            "client_id": "app",
            "client_secret_configured": True,
            "redirect_uri": f"https://{FQDN}/authenticate/OAuth2Callback",
            "customers": [{"customer": "contoso", "method": "Token", "last_status": "Successful"}],
        },
        "sbcs": [{"Name": "sbc-ump01", "IpAddress": "10.201.90.11", "Status": "Connected"}],
        "sbc": {
            "url": "https://sbc-ump01.example",
            "status": {"operationalState": "UNLOCKED", "ipAddress": "10.201.90.11", "versionID": "7.40A.500.775"},
            "dial_plan_rules": [{"DialPlanName": "dp", "Name": "rule1", "Prefix": "+44"}],
        },
        "sbc_numbers": {
            "table": "DialPlanRule",
            "column": "Prefix",
            "entries": [{"table": "DialPlanRule", "index": 1, "value": "+44587996[01-20]", "dial_plan": "dp"}],
        },
        "user_dids": [{"customer": "contoso", "user": "u1@contoso.example", "did": "+4458799601"}],
        "customers": [
            {
                "CustomerShortName": "contoso",
                "LicenseType": "Hosted Essentials",
                "MsTenantId": "t",
                "ActiveUserCount": 5,
                "DidCount": 9,
                "Enabled": True,
                "site_locations": [
                    {
                        "name": "main",
                        "sbcName": "sbc-ump01",
                        "sbcDeploymentStateName": "Deployed",
                        "dial_plans": [{"name": "dp", "rules": [{"prefix": "+44"}], "prefix_findings": []}],
                    }
                ],
            }
        ],
        "service_states": [
            {"name": "SysAdmin.TenantSvc", "state": "running"},
            {"name": "w3svc", "state": "running"},
        ]
        + [{"name": s, "state": "running"} for s in c.WHITELIST_SERVICES],
        "api_allowed_ips": {"members": ["169.254.0.1", "10.201.80.4"]},
        "script_templates": [{"name": "Teams", "body": "configure voip\n"}],
        "script_templates_before": [{"name": "Teams", "body": "configure voip\n"}],
    }


def run_post(obs, **params):
    p = {"fqdn": FQDN, "expect_version": TARGET, "ovoc_ip": "10.201.80.4"}
    p.update(params)
    return {x["name"]: x for x in c.post_verify_checks(obs, p)}


def test_post_verify_green_on_an_upgraded_host():
    res = run_post(good_post())
    assert {n: (r["status"], r["observed"]) for n, r in res.items() if r["status"] != "pass"} == {}
    assert len(res) == 23


@pytest.mark.parametrize(
    "path, value, name",
    [
        (("ovoc", "status"), "Error", "ovoc_device_active"),
        (("ovoc", "management_status"), "Disconnected", "ovoc_ump_management_connected"),
        (("versions", "sysadminkit_version"), "8.0.400.64", "sysadminkit_version"),
        (("licence", "missing"), True, "licence_present"),
        (("invitation_settings", "portal_url"), "https://x/authenticate", "invitation_portal_url"),
        (("auth_status", "client_id"), None, "auth_status_app_credentials"),
        (("sbcs",), [], "customer_sbc_exists"),
        (("api_allowed_ips", "members"), ["169.254.0.1"], "api_allowed_ips_ovoc"),
        (("ovoc_alarms",), [{"severity": "Critical", "description": "UMP down"}], "ovoc_alarms"),
    ],
)
def test_post_verify_each_check_fails_on_its_own_fault(path, value, name):
    obs = good_post()
    target = obs
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    res = run_post(obs)
    assert res[name]["status"] == "fail", res[name]
    assert res[name]["fix"]


def test_post_verify_customer_level_faults():
    obs = good_post()
    cust = obs["customers"][0]
    cust.update(Enabled=False, MsTenantId="", ActiveUserCount=None)
    site = cust["site_locations"][0]
    site["sbcDeploymentStateName"] = "Failed"
    site["dial_plans"][0]["prefix_findings"] = [{"entry": "+44x", "why": "notation 'x'"}]
    obs["versions"]["customers"][0].update(state="Ready", version="8.0.400.64")
    obs["auth_status"]["customers"][0]["last_status"] = "Failed"
    obs["service_states"][0]["state"] = "stopped"
    obs["script_templates"][0]["body"] = "configure {{ }}"
    res = run_post(obs)
    for name in (
        "customers_enabled",
        "customers_azure_tenant_id",
        "customers_counts",
        "site_locations_deployed",
        "dial_plan_prefixes",
        "customers_deployed",
        "customer_versions",
        "tenant_admin_auth_verified",
        "services_running",
        "script_templates",
    ):
        assert res[name]["status"] == "fail", name
    assert "contoso" in res["dial_plan_prefixes"]["observed"]


def test_dial_plans_only_for_hosted_essentials():
    obs = good_post()
    obs["customers"][0]["LicenseType"] = "Hosted Pro"
    obs["customers"][0]["site_locations"][0]["dial_plans"][0]["prefix_findings"] = [{"entry": "x"}]
    assert run_post(obs)["dial_plan_prefixes"]["status"] == "pass"


def test_script_templates_changed_is_a_warning():
    obs = good_post()
    obs["script_templates"] = [{"name": "Teams", "body": "configure voip\n exit\n"}, {"name": "OC", "body": "x"}]
    r = run_post(obs)["script_templates"]
    assert r["status"] == "warn" and r["details"] == ["Teams", "OC (new)"]


def test_api_allowed_ips_added_by_fix_passes():
    obs = good_post()
    obs["api_allowed_ips"] = {"members": ["169.254.0.1", "10.201.80.4"], "added": ["10.201.80.4"]}
    assert run_post(obs)["api_allowed_ips_ovoc"]["observed"].startswith("added 10.201.80.4")


def test_rollback_mode_checks_old_version_and_customers():
    obs = good_post(version="8.0.400.64")
    obs["customers_before"] = ["contoso"]
    obs["service_states"] = [{"name": "SysAdmin.TenantSvc", "state": "running"}]  # no 8.0.450 services before
    res = run_post(obs, rollback=True, expect_version="8.0.400.64")
    assert {n: r["status"] for n, r in res.items() if r["status"] != "pass"} == {}
    assert "customers_as_before" in res and "api_allowed_ips_ovoc" not in res
    obs["versions"]["customers"].append({"name": "newco", "state": "Deployed", "version": "8.0.400.64"})
    obs["versions"]["sysadminkit_version"] = TARGET
    res = run_post(obs, rollback=True, expect_version="8.0.400.64")
    assert res["customers_as_before"]["status"] == "fail" and "newco" in res["customers_as_before"]["observed"]
    assert res["sysadminkit_version"]["status"] == "fail"


def test_version_helpers():
    assert c.version_matches("8.0.515.12", "8.0.515")
    assert not c.version_matches("8.0.51", "8.0.515")
    assert not c.version_matches(None, "8.0.515")
    assert c.version_at_least("8.0.450", "8.0.450") and not c.version_at_least("8.0.400.64", "8.0.450")
    assert c.parse_time("2026-01-01T00:00:00+02:00") == datetime(2025, 12, 31, 22, tzinfo=timezone.utc)
    # one time parser (module_utils/timeparse.py): what is not a time is None, the caller decides
    assert c.parse_time("yesterday") is None


def test_windows_primitive_parsers():
    disks = [{"partitions": [{"drive_letter": "C", "volumes": [{"size_remaining": 64 * 1024**3}]}]}]
    assert c.disk_free_gb(disks, "C:") == 64.0
    assert c.disk_free_gb(disks, "D") is None
    text = '"Hostname","ID","Accessed By","Type","Open File (Path\\executable)"\n"UMP01","8","ump-svc","Windows","C:\\acs\\x.log"\n'
    assert c.parse_openfiles(text) == ["C:\\acs\\x.log"]
    res = c.egress_from_uri_results(
        [
            {"item": {"key": "a", "value": "https://a/"}, "status_code": 200},
            {"item": {"key": "b", "value": "https://b/"}, "failed": True, "msg": "Unable to connect"},
        ]
    )
    assert [r["ok"] for r in res] == [True, False]
    assert c.parse_keyvalue("\ufeffupdate_available=true\r\nversion=8.0.515\r\n") == {
        "update_available": "true",
        "version": "8.0.515",
    }


def test_token_migration_status_and_checks():
    auth = {
        "customers": [
            {"customer": "a", "method": "Password"},
            {"customer": "b", "method": "Password"},
            {"customer": "c", "method": "Token"},
            {"customer": "d", "method": "Password"},
        ]
    }
    invitations = [
        {"Id": 1, "Customer": "a", "State": "Sent", "InvitationEmail": "x@a"},
        {"Id": 2, "Customer": "b", "State": "Accepted", "DeviceAuthenticated": True},
    ]
    st = {s["customer"]: s["state"] for s in c.token_migration_status(auth, invitations)}
    assert st == {"a": "invited", "b": "accepted", "d": "no_invitation"}
    st = c.token_migration_status(auth, invitations, targets=["c"])
    assert st[0]["state"] == "token"
    checks = {x["name"]: x["status"] for x in c.token_migration_checks(c.token_migration_status(auth, invitations))}
    assert checks == {"token_auth_a": "warn", "token_auth_b": "warn", "token_auth_d": "fail"}


def test_filters_validate_their_input():
    f = FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match="dictionary of observations"):
        f["preflight_checks"]([1, 2])
    with pytest.raises(AnsibleFilterError, match="list of checks"):
        f["failed_checks"]("x")
    assert f["failed_checks"]([{"status": "fail", "blocking": False}], blocking_only=True) == []
    with pytest.raises(ValueError, match="status must be one of"):
        c.check("x", "maybe", 1, 2)


def test_services_running_accepts_win_service_info_started_state():
    obs = {
        "service_states": [
            {"name": "SysAdmin.TenantSvc", "state": "started"},
            {"name": "w3svc", "state": "started"},
            {"name": "SysAdmin.PeeringSvc", "state": "stopped"},
        ],
        "expect_new_services": False,
    }
    res = c.check_services_running(obs, ["sysadmin*", "w3svc"])
    assert res["status"] == "fail" and "SysAdmin.PeeringSvc stopped" in str(res["observed"])
    obs["service_states"][2]["state"] = "started"
    assert c.check_services_running(obs, ["sysadmin*", "w3svc"])["status"] == "pass"


def test_one_curl_call_probes_every_endpoint_and_its_output_maps_back():
    eps = {"repo": "https://u.example/wyupdate/", "choco": "https://c.example/install.ps1", "vpn": "http://v.example/"}
    cmd = c.curl_probe_command(eps, 15)
    assert cmd.startswith('"C:\\Windows\\System32\\curl.exe" -sS -I --max-time 15 -w ')
    assert cmd.count("-o NUL ") == 3 and cmd.endswith("-o NUL http://v.example/")
    with pytest.raises(ValueError):
        c.curl_probe_command({"x": 'https://a/" & calc'}, 15)
    res = {
        "rc": 0,
        "stdout": "200 0.031000 https://u.example/wyupdate/\r\n000 15.000000 https://c.example/install.ps1\r\n"
        "403 0.020000 http://v.example/\r\n",
        "stderr": "curl: (28) Connection timed out after 15001 milliseconds\n",
    }
    rows = {r["name"]: r for r in c.egress_from_curl(res, eps)}
    assert rows["repo"] == {"name": "repo", "url": eps["repo"], "ok": True, "status": 200, "error": None}
    assert not rows["choco"]["ok"] and rows["choco"]["status"] is None
    assert rows["choco"]["error"] == "curl error 28: Connection timed out after 15001 milliseconds"
    assert not rows["vpn"]["ok"] and rows["vpn"]["error"] == "HTTP 403"
    # curl.exe missing (or WinRM failed): every endpoint fails with the reason
    missing = {"failed": True, "rc": 2, "msg": "Could not find file 'C:\\Windows\\System32\\curl.exe'."}
    assert {r["error"] for r in c.egress_from_curl(missing, eps)} == {missing["msg"]}
    assert c.check_egress({"egress": c.egress_from_curl(res, eps)})["status"] == "fail"


def test_open_files_with_the_global_flag_off_is_unknown_from_the_labs_output():
    ex = pytest.importorskip("umplab.windows.executables")
    text = ex.OPENFILES_FLAG_OFF + "INFO: No shared open files found.\r\n"
    import re

    obs = good_preflight()
    obs["open_files"] = {
        "files": c.parse_openfiles(text),
        "local_listed": not re.search("global flag 'maintain objects list'", text, re.I),
    }
    chk = {x["name"]: x for x in c.preflight_checks(obs, {"target_version": TARGET, "fqdn": FQDN, "now": NOW})}
    assert chk["no_open_files"]["status"] == "warn"
    assert chk["no_open_files"]["observed"].startswith("unknown: ")


# --------------------------------------------------------------------------- site layout (issue 18)
def test_site_layout_missing_folder_fails_before_any_change_pointing_to_discover():
    out = c.check_site_layout({"site_layout": {"tenants_dir": "C:\\acs\\tenants", "exists": False, "isdir": False}})
    assert out["status"] == c.FAIL and out["blocking"]
    assert "playbooks/discover.yml" in out["fix"]


def test_site_layout_present_passes_and_unread_is_never_a_pass():
    ok = c.check_site_layout({"site_layout": {"tenants_dir": "C:\\x", "exists": True, "isdir": True, "profiled": "t"}})
    assert ok["status"] == c.PASS
    unread = c.check_site_layout({"site_layout": {"tenants_dir": "C:\\x", "exists": None, "error": "winrm broke"}})
    assert unread["status"] != c.PASS and unread["blocking"]


def test_preflight_checks_include_site_layout_only_when_observed():
    names = [x["name"] for x in c.preflight_checks({"target_version": "8.0.515"})]
    assert "site_layout" not in names
    obs = {"target_version": "8.0.515", "site_layout": {"tenants_dir": "C:\\t", "exists": False, "isdir": False}}
    got = {x["name"]: x for x in c.preflight_checks(obs)}
    assert got["site_layout"]["status"] == c.FAIL
