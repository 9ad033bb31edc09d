"""sql_info, ump_app_setting and sql_backup through Ansible against the lab's SQL Server (TDS, TLS verified)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.ump365.upgrade.plugins.module_utils.sql import SqlClient
from tests.integration.sql_helpers import BACKEND, UMP_LOCAL, conn_args, rows, run, setting

OVOC_IP = "10.201.80.4"


def test_sql_info_reports_collation_databases_and_free_space(lab):
    res, _ = run(lab, "sql_info", conn_args(lab, BACKEND))
    assert not res["failed"], res
    assert res["changed"] is False
    assert res["server"]["collation"] == "SQL_Latin1_General_CP1_CI_AS" and res["collation_ok"] is True
    assert res["server"]["product_version"].startswith("15.0.")
    assert res["ump_databases"][0] == "SysAdminTenant"
    assert len(res["customer_databases"]) == 4 and all(n.startswith("SysAdmin") for n in res["customer_databases"])
    assert res["free_space"]["C"] > 0
    tenant = next(d for d in res["databases"] if d["name"] == "SysAdminTenant")
    assert tenant["size_mb"] >= 8 and tenant["collation_name"] == "SQL_Latin1_General_CP1_CI_AS"


def test_sql_info_flags_a_wrong_collation_windows_login(fresh_lab):
    fresh_lab.fault("sql.wrong_collation", host=UMP_LOCAL)
    res, _ = run(fresh_lab, "sql_info", conn_args(fresh_lab, login_type="windows"))
    assert res["collation_ok"] is False and res["server"]["collation"] == "Latin1_General_CI_AS"
    assert fresh_lab.counters().get("sql.windows_logins") == 1


def test_api_allowed_ips_add_twice_is_one_change_then_remove(fresh_lab):
    args = conn_args(fresh_lab, name="ApiAllowedIps", members=[OVOC_IP], state="present")
    res, out = run(fresh_lab, "ump_app_setting", args, "--diff")
    assert not res["failed"] and res["changed"], res
    assert res["members"] == ["169.254.0.1", OVOC_IP] and res["added"] == [OVOC_IP]
    assert f"+{OVOC_IP}" in out  # the diff shows the list, one member per line
    assert setting(fresh_lab, UMP_LOCAL, "ApiAllowedIps") == f'["169.254.0.1","{OVOC_IP}"]'
    res, _ = run(fresh_lab, "ump_app_setting", args)
    assert not res["failed"] and res["changed"] is False and res["added"] == []
    res, _ = run(fresh_lab, "ump_app_setting", dict(args, state="absent"))
    assert res["changed"] and res["removed"] == [OVOC_IP]
    assert setting(fresh_lab, UMP_LOCAL, "ApiAllowedIps") == '["169.254.0.1"]'


def test_check_mode_reports_the_change_and_writes_nothing(fresh_lab):
    args = conn_args(fresh_lab, BACKEND, name="ApiAllowedIps", members=[OVOC_IP])
    res, _ = run(fresh_lab, "ump_app_setting", args, "--check")
    assert res["changed"] and res["members"][-1] == OVOC_IP
    assert setting(fresh_lab, BACKEND, "ApiAllowedIps") == '["169.254.0.1"]'


def test_bad_input_fails_clearly_and_changes_nothing(fresh_lab):
    res, _ = run(
        fresh_lab, "ump_app_setting", conn_args(fresh_lab, name="ApiAllowedIps", members=["10.0.0.1", "10.0.0.300"])
    )
    assert res["failed"] and "'10.0.0.300' is not a valid IPv4 or IPv6 address" in res["msg"]
    # a list edit on a setting that does not hold a JSON list
    res, _ = run(
        fresh_lab, "ump_app_setting", conn_args(fresh_lab, name="QuickReplicationCycleDelay", members=["1.2.3.4"])
    )
    assert res["failed"] and "QuickReplicationCycleDelay does not hold a JSON list" in res["msg"]
    assert setting(fresh_lab, UMP_LOCAL, "QuickReplicationCycleDelay") == "5"
    assert setting(fresh_lab, UMP_LOCAL, "ApiAllowedIps") == '["169.254.0.1"]'
    # an unknown database
    res, _ = run(fresh_lab, "ump_app_setting", conn_args(fresh_lab, name="ApiAllowedIps", database="NoSuchDb"))
    assert res["failed"] and "NoSuchDb" in res["msg"]


def test_sql_injection_in_names_and_values_does_nothing_harmful(fresh_lab):
    before = rows(fresh_lab, UMP_LOCAL, "SysAdminTenant", "SELECT COUNT(*) FROM dbo.ApplicationSetting")[0][0]
    res, _ = run(
        fresh_lab,
        "ump_app_setting",
        conn_args(fresh_lab, name="ApiAllowedIps'; DROP TABLE ApplicationSetting; --", value="x"),
    )
    assert res["failed"] and "setting name" in res["msg"] and "is not valid" in res["msg"]
    evil = "'); DELETE FROM dbo.ApplicationSetting; --"
    res, _ = run(fresh_lab, "ump_app_setting", conn_args(fresh_lab, name="LabNote", value=evil))
    assert res["changed"] and not res["failed"]
    assert setting(fresh_lab, UMP_LOCAL, "LabNote") == evil  # stored as data
    after = rows(fresh_lab, UMP_LOCAL, "SysAdminTenant", "SELECT COUNT(*) FROM dbo.ApplicationSetting")[0][0]
    assert after == before + 1
    res, _ = run(fresh_lab, "sql_backup", conn_args(fresh_lab, databases=["SysAdminTenant]; DROP DATABASE x; --"]))
    assert res["failed"] and "is not valid" in res["msg"]


def test_secret_settings_are_masked_and_the_password_never_shows(fresh_lab):
    res, out = run(fresh_lab, "ump_app_setting", conn_args(fresh_lab, name="AuthStatus.ClientSecret"), "-vvv")
    assert res["value"] == "********"
    assert "Running ump365.upgrade.ump_app_setting in the worker process" in out  # plugin_utils/inprocess.py
    for secret in fresh_lab.secrets():
        assert secret not in out


def test_login_failure_and_unreachable_server_are_named(fresh_lab):
    res, _out = run(fresh_lab, "sql_info", conn_args(fresh_lab, password="wrong-password"))
    assert res["failed"] and res["error"]["type"] == "AuthenticationError"
    assert "login failed for user 'ump-svc' on localhost:" in res["msg"] and "18456" in res["msg"]
    fresh_lab.fault("sql.down", host=UMP_LOCAL)
    res, _ = run(fresh_lab, "sql_info", conn_args(fresh_lab, retries=1))
    assert res["failed"] and res["error"]["type"] == "UnreachableError"
    assert len(res["retries"]) == 1  # retried once, then gave up
    fresh_lab.clear_faults()
    res, _ = run(fresh_lab, "sql_info", conn_args(fresh_lab, ca_bundle=fresh_lab.endpoints["wrong_ca_file"]))
    assert res["failed"] and "certificate verify failed" in res["msg"]


def test_backup_change_restore_gives_back_the_backed_up_rows(fresh_lab):
    dbs = ["SysAdminTenant"]
    q = "SELECT Name, Value FROM dbo.ApplicationSetting ORDER BY Name"
    original = rows(fresh_lab, BACKEND, "SysAdminTenant", q)
    res, _ = run(fresh_lab, "sql_backup", conn_args(fresh_lab, BACKEND, databases=dbs, backup_name="t1"))
    assert not res["failed"] and res["changed"], res
    (b,) = res["backups"]
    assert b["file"] == "C:\\acs\\dbbackup\\SysAdminTenant_t1.bak"
    assert b["copy_only"] and b["has_checksum"] and b["verified"] and b["size"] > 0
    # the file is on the backend server's disk
    assert b["file"].lower() in fresh_lab.host_state(BACKEND)["files"]
    run(fresh_lab, "ump_app_setting", conn_args(fresh_lab, BACKEND, name="ApiAllowedIps", members=[OVOC_IP]))
    run(fresh_lab, "ump_app_setting", conn_args(fresh_lab, BACKEND, name="QuickReplicationCycleDelay", value="9"))
    assert rows(fresh_lab, BACKEND, "SysAdminTenant", q) != original
    res, _ = run(
        fresh_lab, "sql_backup", conn_args(fresh_lab, BACKEND, databases=dbs, backup_name="t1", operation="restore")
    )
    assert not res["failed"] and res["backups"][0]["action"] == "restored", res
    assert rows(fresh_lab, BACKEND, "SysAdminTenant", q) == original


def test_restore_refuses_a_backup_of_another_database(fresh_lab):
    customer = run(fresh_lab, "sql_info", conn_args(fresh_lab, BACKEND))[0]["customer_databases"][0]
    res, _ = run(fresh_lab, "sql_backup", conn_args(fresh_lab, BACKEND, databases=[customer]))
    path = res["backups"][0]["file"]
    res, _ = run(
        fresh_lab,
        "sql_backup",
        conn_args(
            fresh_lab, BACKEND, databases=["SysAdminTenant"], files={"SysAdminTenant": path}, operation="restore"
        ),
    )
    assert res["failed"] and f"holds a backup of database {customer}, not SysAdminTenant" in res["msg"]
    assert fresh_lab.counters().get("sql.restores", 0) == 0


def test_backup_faults_fail_with_the_fix(fresh_lab):
    base = conn_args(fresh_lab, BACKEND, databases=["SysAdminTenant"])
    fresh_lab.fault("sql.backup_folder_missing", host=BACKEND, times=1)
    res, _ = run(fresh_lab, "sql_backup", base)
    assert res["failed"] and "Cannot open backup device" in res["msg"] and "create the backup folder" in res["msg"]
    fresh_lab.fault("sql.disk_full", host=BACKEND)
    res, _ = run(fresh_lab, "sql_backup", base)
    assert res["failed"] and "free disk space" in res["msg"]
    fresh_lab.clear_faults()
    res, _ = run(fresh_lab, "sql_backup", base)
    assert not res["failed"]
    fresh_lab.fault("sql.open_connections", host=BACKEND, database="SysAdminTenant")
    res, _ = run(fresh_lab, "sql_backup", dict(base, operation="restore"))
    assert res["failed"] and "3101" in res["msg"] and "stop what holds the database open" in res["msg"]
    assert json.dumps(res).count("Exclusive access") >= 1


def test_parallel_list_edits_both_land(fresh_lab):
    # each edit reads the list with an update lock and writes it back in one transaction
    ips = ["10.1.0.1", "10.1.0.2", "10.1.0.3"]
    with ThreadPoolExecutor(3) as pool:
        results = list(
            pool.map(
                lambda ip: run(fresh_lab, "ump_app_setting", conn_args(fresh_lab, name="ApiAllowedIps", members=[ip]))[
                    0
                ],
                ips,
            )
        )
    assert all(r["changed"] and not r["failed"] for r in results), results
    assert sorted(json.loads(setting(fresh_lab, UMP_LOCAL, "ApiAllowedIps"))) == sorted(["169.254.0.1", *ips])


def test_a_failed_transaction_leaves_nothing_half_written(fresh_lab):
    a = conn_args(fresh_lab)
    c = SqlClient(
        a["server"], a["username"], a["password"], port=a["port"], ca_bundle=a["ca_bundle"], database="SysAdminTenant"
    )
    with c, pytest.raises(RuntimeError), c.transaction():
        c.execute("UPDATE dbo.ApplicationSetting SET Value = %s WHERE Name = %s", ('["1.1.1.1"]', "ApiAllowedIps"))
        c.execute("DELETE FROM dbo.ApplicationSetting WHERE Name = %s", ("QuickReplicationCycleDelay",))
        raise RuntimeError("step two failed")
    assert setting(fresh_lab, UMP_LOCAL, "ApiAllowedIps") == '["169.254.0.1"]'
    assert setting(fresh_lab, UMP_LOCAL, "QuickReplicationCycleDelay") == "5"
