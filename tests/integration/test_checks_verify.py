"""verify.yml against the lab: green on an upgraded lab (fixing ApiAllowedIps with post_verify_fix), red
naming the item on each broken one, and the rollback mode against preflight's record."""

from __future__ import annotations

import json

from .checks_helpers import TARGET, checks, make_upgraded, recap, rows, run, sql, statuses


def test_verify_green_on_an_upgraded_lab_with_fix(fresh_lab, tmp_path):
    lab = fresh_lab
    ovoc_ip = lab.endpoints.get("ovoc", {}).get("ip") or "10.201.80.4"
    for host in ("ump01", "ump02"):
        make_upgraded(lab, host)  # ApiAllowedIps still without the OVOC IP: post_verify_fix adds it
    proc, report = run(lab, "playbooks/verify.yml", tmp_path, "pv-green", extra_vars={"post_verify_fix": True})
    assert proc.returncode == 0, proc.stdout[-5000:]
    for host in ("ump01", "ump02"):
        assert statuses(report, host, "fail") == set(), checks(report, host)
        assert statuses(report, host, "warn") == set()
        c = checks(report, host)
        assert c["api_allowed_ips_ovoc"]["observed"].startswith("added ")
        assert c["sysadminkit_version"]["observed"] == TARGET
        assert report["hosts"][host]["versions"]["after"]["sysadminkit"] == TARGET
        value = rows(lab, host, "SELECT Value FROM ApplicationSetting WHERE Name='ApiAllowedIps'")[0][0]
        assert ovoc_ip in json.loads(value)


def test_verify_red_naming_each_broken_item(fresh_lab, tmp_path):
    lab = fresh_lab
    for host in ("ump01", "ump02"):
        make_upgraded(lab, host, ovoc_ip="10.201.80.4")
    # ump01: OVOC lost the device connection, one customer not Deployed, the invitation URL, the licence,
    # a notation in a Hosted Essentials dial plan, one customer still on the old version
    lab.fault("ovoc.disconnected", host="ump01")
    lab.fault("ovoc.alarm", host="ump01", severity="Critical", description="UMP service down")
    lab.fault("ovoc.alarm", host="ump02", severity="Major", description="replication slow")
    first = rows(lab, "ump01", "SELECT UmpCustomerGuid, CustomerShortName FROM Customer ORDER BY CustomerShortName")
    sql(lab, "ump01", "UPDATE Customer SET State='Ready' WHERE UmpCustomerGuid=?", (first[0][0],))
    sql(lab, "ump01", "UPDATE Customer SET Version='8.0.400.64' WHERE UmpCustomerGuid=?", (first[1][0],))
    sql(
        lab,
        "ump01",
        "UPDATE ApplicationSetting SET Value='https://old.example/authenticate' WHERE Name='InvitationPortalUrl'",
    )
    sql(lab, "ump01", "UPDATE Licence SET Status='Expired'")
    ess = rows(lab, "ump01", "SELECT UmpCustomerGuid FROM Customer WHERE LicenseType='Hosted Essentials'")[0][0]
    sql(lab, "ump01", "UPDATE DialPlanRule SET Prefix='+4455896x' WHERE UmpCustomerGuid=?", (ess,))
    # ump02: ApiAllowedIps without OVOC (not fixed: reported), a stopped service, the client secret gone,
    # a site location not Deployed, a customer disabled, one without an Azure tenant id, a failed
    # tenant-admin verification, a changed script template (a warning)
    sql(lab, "ump02", "UPDATE ApplicationSetting SET Value='[\"169.254.0.1\"]' WHERE Name='ApiAllowedIps'")
    lab.set_host_state("ump02", ["services", "SysAdmin.UMP.Watchdog", "state"], "stopped")
    sql(lab, "ump02", "UPDATE ApplicationSetting SET Value='' WHERE Name='AuthStatus.ClientSecret'")
    c2 = [r[0] for r in rows(lab, "ump02", "SELECT UmpCustomerGuid FROM Customer ORDER BY CustomerShortName")]
    sql(lab, "ump02", "UPDATE SiteLocation SET SbcDeploymentState=2 WHERE UmpCustomerGuid=?", (c2[0],))
    sql(lab, "ump02", "UPDATE Customer SET Enabled=0 WHERE UmpCustomerGuid=?", (c2[1],))
    sql(lab, "ump02", "UPDATE Customer SET MsTenantId='' WHERE UmpCustomerGuid=?", (c2[2],))
    # ump02: UMP shows a user DID that its SBC does not hold (outside every dial-plan range on the SBC)
    last = rows(lab, "ump02", "SELECT CustomerShortName FROM Customer ORDER BY CustomerShortName")[-1][0]
    upn = rows(lab, "ump02", "SELECT Upn FROM UserAccount ORDER BY Upn", database=f"SysAdmin{last}")[0][0]
    sql(lab, "ump02", "UPDATE UserAccount SET Did='+4477000999' WHERE Upn=?", (upn,), database=f"SysAdmin{last}")
    sbc_prefixes = [r["Prefix"] for r in lab.state()["sbcs"]["sbc-ump02"]["dial_plan_rules"]]
    assert sbc_prefixes and not any(p.startswith("+4477") for p in sbc_prefixes)
    sql(lab, "ump02", "UPDATE Customer SET LastVerificationOk=0 WHERE UmpCustomerGuid=?", (c2[3],))
    # preflight recorded the templates before the upgrade: one changed since
    ckpt_dir = tmp_path / "checkpoints"
    ckpt_dir.mkdir()
    templates = [{"name": n, "body": b} for n, b in rows(lab, "ump02", "SELECT Name, Body FROM ScriptTemplate")]
    (ckpt_dir / "ump02__8.0.515.json").write_text(
        json.dumps(
            {
                "host": "ump02",
                "run_id": TARGET,
                "phases": {
                    "preflight": {
                        "status": "done",
                        "outputs": {
                            "script_templates": [dict(templates[0], body="configure voip\n old\n")] + templates[1:]
                        },
                    }
                },
            }
        )
    )
    proc, report = run(lab, "playbooks/verify.yml", tmp_path, "pv-red")
    assert proc.returncode != 0
    assert statuses(report, "ump01", "fail") == {
        "ovoc_device_active",
        "ovoc_ump_management_connected",
        "customers_deployed",
        "customer_versions",
        "invitation_portal_url",
        "licence_present",
        "dial_plan_prefixes",
        "ovoc_alarms",
        # UMP now shows +4455896x, which the SBC's dial plan does not hold
        "sbc_dial_plan_present",
    }
    assert statuses(report, "ump02", "fail") == {
        "api_allowed_ips_ovoc",
        "services_running",
        "auth_status_app_credentials",
        "site_locations_deployed",
        "customers_enabled",
        "customers_azure_tenant_id",
        "tenant_admin_auth_verified",
        "sbc_user_dids_present",
    }
    assert statuses(report, "ump02", "warn") == {"script_templates", "ovoc_alarms"}
    c1 = checks(report, "ump01")
    assert "+4455896x" in c1["dial_plan_prefixes"]["observed"]
    assert "Disconnected" in c1["ovoc_ump_management_connected"]["observed"]
    out = proc.stdout
    assert "UMP service down" in c1["ovoc_alarms"]["observed"]
    assert "ump01: 9 check(s) failed" in out
    assert "+4455896x" in c1["sbc_dial_plan_present"]["observed"] and "ump02: 8 check(s) failed" in out
    r2 = checks(report, "ump02")
    # the missing DID is named with its customer and site; the other users' DIDs are on the SBC
    assert r2["sbc_user_dids_present"]["observed"] == f"{last}/{last}-main: +4477000999 ({upn})"
    assert r2["sbc_user_dids_present"]["items"] == [f"{last}/{last}-main: +4477000999"]
    assert "ApiAllowedIps in SysAdminTenant, or run verify.yml with post_verify_fix=true" in out
    assert "SysAdmin.UMP.Watchdog stopped" in out
    # reported, not fixed: verify.yml changes nothing (recap changed=0 on every host)
    assert {h: r["changed"] for h, r in recap(proc).items()} == {"ump01": 0, "ump02": 0}, recap(proc)
    assert (
        rows(lab, "ump02", "SELECT Value FROM ApplicationSetting WHERE Name='ApiAllowedIps'")[0][0] == '["169.254.0.1"]'
    )


def test_verify_rollback_mode_against_preflights_record(fresh_lab, tmp_path):
    lab = fresh_lab
    proc, _ = run(
        lab, "playbooks/preflight.yml", tmp_path, "rb-preflight", extra_vars={"preflight_record_checkpoint": True}
    )
    # the lab's preflight warns only (open files and disk space cannot be listed there) and records the state
    assert proc.returncode == 0, proc.stdout[-4000:]
    # after "the rollback": ump01 is as before; ump02 has a customer that was not there
    sql(
        lab,
        "ump02",
        "INSERT INTO Customer (UmpCustomerGuid, CustomerShortName, State, Enabled, Version) "
        "VALUES ('11111111-2222-3333-4444-555555555555', 'newco02', 'Deployed', 1, '8.0.400.64')",
    )
    proc, report = run(lab, "playbooks/verify.yml", tmp_path, "rb-verify", extra_vars={"post_verify_rollback": True})
    assert proc.returncode != 0
    assert statuses(report, "ump01", "fail") == set(), checks(report, "ump01")
    c1 = checks(report, "ump01")
    assert c1["sysadminkit_version"]["expected"].startswith("8.0.400.64")
    assert c1["customers_as_before"]["status"] == "pass"
    assert "api_allowed_ips_ovoc" not in c1
    assert statuses(report, "ump02", "fail") == {"customers_as_before"}
    assert "newco02" in checks(report, "ump02")["customers_as_before"]["observed"]
