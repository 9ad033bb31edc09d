"""Which customers to upgrade, in which batches, and what the Customer Upgrade log says."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.ump365.upgrade.plugins.plugin_utils import customer_upgrade as cu

TARGET = "8.0.515"
FROM = "8.0.400.64"


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def find_files(versions):
    return [
        {"path": f"C:\\acs\\tenants\\{name}\\version.txt", "filename": "version.txt", "checksum": sha1(v)}
        for name, v in versions.items()
    ]


def test_versions_from_checksums_one_call():
    files = find_files({"contoso01": TARGET + "\n", "fabrikam01": FROM + "\n", "odd01": TARGET + "\r\n"})
    files.append({"path": "C:\\acs\\tenants\\contoso01\\logs\\version.txt", "checksum": "x"})  # deeper: ignored? no
    found = cu.customers_from_find(files, TARGET)
    assert found["fabrikam01"] == {"version": None, "at_target": False}
    assert found["odd01"]["at_target"] is True
    # a version.txt one level deeper belongs to folder "logs", not to a customer at the target
    assert found["logs"]["at_target"] is False


def test_known_versions_are_recognised():
    found = cu.customers_from_find(find_files({"a": FROM + "\n"}), TARGET, known_versions=[FROM])
    assert found["a"] == {"version": FROM, "at_target": False}


def test_select_default_is_all_not_at_target():
    found = {"a": {"version": TARGET, "at_target": True}, "b": {"version": None, "at_target": False}}
    sel = cu.select_customers(found, TARGET)
    assert sel["selected"] == ["b"]
    assert sel["skipped"] == [{"name": "a", "reason": "already at 8.0.515", "version": TARGET}]


def test_select_list_pattern_exclusions_and_finished():
    found = {n: {"version": None, "at_target": False} for n in ("alpha01", "beta01", "gamma01", "delta02")}
    sel = cu.select_customers(
        found, TARGET, requested=["ALPHA01", "beta01", "gamma01", "nope"], pattern="*01", exclude=["g*"]
    )
    assert sel["selected"] == ["alpha01", "beta01"]
    assert sel["unknown"] == ["nope"]
    assert [s["name"] for s in sel["skipped"]] == ["gamma01"]
    sel = cu.select_customers(found, TARGET, finished=["alpha01"])
    assert "alpha01" not in sel["selected"]
    assert sel["skipped"][0]["name"] == "alpha01"
    assert sel["skipped"][0]["reason"].startswith("finished in an earlier run (checkpoint)")


def test_select_rejects_bad_names():
    with pytest.raises(cu.CustomerSelectionError, match="not valid"):
        cu.select_customers({}, TARGET, requested=["a;rm -rf"])


def test_batches():
    assert cu.batches(["a", "b", "c"], 2) == [["a", "b"], ["c"]]
    assert cu.batches([], 3) == []
    with pytest.raises(cu.CustomerSelectionError):
        cu.batches(["a"], 0)


LOG = (
    "2026-11-23T10:00:00Z | a01 | Upgrading | 8.0.400.64 | \r\n"
    "2026-11-23T10:02:00Z | a01 | UpToDate | 8.0.515 | \r\n"
    "2026-11-23T10:02:00Z | b01 | Upgrading | 8.0.400.64 | \r\n"
    "2026-11-23T10:03:30Z | b01 | Failed | 8.0.400.64 | files in use: C:\\acs\\tenants\\b01\\logs\\sync.log\r\n"
    "2026-11-23T10:03:30Z | c01 | Upgrading | 8.0.400.64 | \r\n"
)


def test_parse_log_last_attempt_per_customer():
    parsed = cu.parse_log(LOG)
    assert parsed["customers"]["a01"]["status"] == "uptodate"
    assert parsed["customers"]["a01"]["from_version"] == FROM
    assert parsed["customers"]["b01"]["reason"].startswith("files in use")
    assert parsed["customers"]["c01"]["status"] == "upgrading"


def test_parse_log_truncated_and_garbled():
    parsed = cu.parse_log("garbage\n" + LOG + "2026-11-23T10:05:00Z | d01 | UpTo")
    assert len(parsed["garbled"]) == 2
    assert "d01" not in parsed["customers"]


def test_parse_log_since():
    parsed = cu.parse_log(LOG, since="2026-11-23T10:02:30Z")
    assert "a01" not in parsed["customers"]
    assert parsed["customers"]["b01"]["status"] == "failed"


def test_table_and_summary():
    parsed = cu.parse_log(LOG)
    skipped = [{"name": "z01", "reason": "already at 8.0.515", "version": TARGET}]
    table = cu.customer_table(TARGET, ["a01", "b01", "c01"], skipped, parsed, stuck=["c01"])
    rows = {r["name"]: r for r in table}
    assert rows["a01"] == {
        "name": "a01",
        "version_before": FROM,
        "version_after": TARGET,
        "status": "upgraded",
        "seconds": 120.0,
        "reason": "",
    }
    assert rows["b01"]["status"] == "failed" and "files in use" in rows["b01"]["reason"]
    assert rows["c01"]["status"] == "stuck"
    assert rows["z01"]["status"] == "skipped" and rows["z01"]["seconds"] == 0
    s = cu.summarize(table, host="ump01")
    assert not s["ok"] and s["failed"] == ["b01", "c01"]
    assert s["msg"].startswith("ump01: customer upgrade: b01 failed")
    # the reason names the customers that failed, not the ones that upgraded (the customer table has them)
    assert "a01" not in s["msg"] and "1 other customer(s) upgraded" in s["msg"] and "Fix:" in s["msg"]


def test_stuck_first_names_the_customer_in_the_fix():
    table = cu.customer_table(TARGET, ["c01"], [], cu.parse_log(LOG), stuck=["c01"])
    s = cu.summarize(table, host="h")
    assert "check customer c01 on the host" in s["msg"]


def test_unverified_when_version_file_disagrees():
    parsed = cu.parse_log(LOG)
    after = {"a01": {"version": None, "at_target": False}}
    rows = cu.customer_table(TARGET, ["a01"], [], parsed, found_after=after)
    assert rows[0]["status"] == "unverified"


def test_customers_of_batches_that_did_not_run():
    rows = cu.customer_table(TARGET, ["a01", "e01"], [], cu.parse_log(LOG), batches_run=[["a01"]])
    assert rows[1]["status"] == "not_run"
    assert cu.summarize(rows)["failed"] == ["e01"]


def test_a_failure_before_any_customer_fails_every_selected_one():
    log = (
        "2026-11-23T10:00:00Z | * | Failed | 8.0.400.64 | SysAdminKit 8.0.400.64 is not at the target version 8.0.515\n"
    )
    rows = cu.customer_table(TARGET, ["a01", "b01"], [], cu.parse_log(log))
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert "not at the target" in rows[0]["reason"]


def test_all_upgraded_summary():
    rows = cu.customer_table(TARGET, ["a01"], [], cu.parse_log(LOG))
    s = cu.summarize(rows, host="h")
    assert s["ok"] and s["changed"] and "1 customer(s) upgraded (a01)" in s["msg"]


def test_stuck_customers_by_controller_clock():
    parsed = cu.parse_log(LOG)
    assert cu.stuck_customers(parsed, {"c01": 100.0}, now=200.0, timeout=60) == ["c01"]
    assert cu.stuck_customers(parsed, {"c01": 100.0}, now=150.0, timeout=60) == []


def test_bad_log_pattern():
    with pytest.raises(cu.CustomerSelectionError, match="lacks the named group"):
        cu.parse_log("x", pattern=r"^(?P<time>\S+)")


# ------------------------------------------------------------------ SysAdminTenant is the authoritative list (#18 item 3)
DB = [
    {"name": "contoso01", "version": "8.0.400.64"},
    {"name": "fabrikam01", "version": "8.0.400.64"},
    {"name": "done01", "version": "8.0.515"},
]


def test_zero_customers_on_the_host_while_the_database_lists_them_fails():
    r = cu.db_cross_check(DB, {}, "8.0.515", host="ump01", where="C:\\acs\\tenants\\<customer>\\version.txt")
    assert not r["ok"] and r["need"] == ["contoso01", "fabrikam01"] and r["missing"] == ["contoso01", "fabrikam01"]
    assert "SysAdminTenant lists 2 customer(s) below 8.0.515" in r["msg"] and "shows evidence of 0 of them" in r["msg"]


def test_fewer_customers_on_the_host_than_the_database_fails_naming_the_missing():
    found = {"contoso01": {"version": None, "at_target": False}}
    r = cu.db_cross_check(DB, found, "8.0.515", host="ump01")
    assert not r["ok"] and r["missing"] == ["fabrikam01"] and "evidence of 1 of them" in r["msg"]


def test_the_host_accounts_for_every_customer_below_the_target():
    found = {"Contoso01": {}, "fabrikam01": {}}
    assert cu.db_cross_check(DB, found, "8.0.515")["ok"]
    # the operator's selection narrows what the database says is needed
    assert cu.db_cross_check(DB, {"contoso01": {}}, "8.0.515", requested=["contoso01"])["ok"]
    assert cu.db_cross_check(DB, {"contoso01": {}}, "8.0.515", exclude=["fab*"])["ok"]
    assert not cu.db_cross_check(None, {}, "8.0.515")["ok"]


def test_after_the_run_a_customer_still_below_the_target_in_the_database_fails():
    after = [{"name": "contoso01", "version": "8.0.515"}, {"name": "fabrikam01", "version": "8.0.400.64"}]
    r = cu.db_after_check(after, ["contoso01", "fabrikam01"], "8.0.515", host="ump01")
    assert not r["ok"] and r["below"] == ["fabrikam01"] and "fabrikam01 (8.0.400.64)" in r["msg"]
    assert cu.db_after_check(after, ["contoso01"], "8.0.515")["ok"]
    # zero upgraded: every needed customer still below
    assert cu.db_after_check(DB, ["contoso01", "fabrikam01"], "8.0.515")["below"] == ["contoso01", "fabrikam01"]
