"""Two UMP servers whose backend databases share one SQL Server machine (issue 22 item 2).

The guide's database names are fixed (SysAdminTenant, SysAdmin<customer>), so two UMP servers cannot share
one SQL Server instance; they can share a machine, each in its own named instance, with one backup folder
C:\\acs\\dbbackup (docs/assumptions.md). The lab's ``--shared-sql`` estate is that layout: ump02 and ump04
in the instances SQL01\\UMP02 and SQL01\\UMP04 of the machine sql01. Everything is asserted from the lab's
own SQL state and files.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import Lab, umplab
from tests.integration.sql_helpers import conn_args, rows, run

PLAYBOOK = "tests/integration/playbooks/sql_backup_role.yml"
A, B = "ump02", "ump04"
SQL_A, SQL_B = "sql01-ump02", "sql01-ump04"


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("shared-sql-lab")
    umplab("up", "--hosts", "4", "--shared-sql", state_dir=state_dir)
    try:
        yield Lab(state_dir)
    finally:
        umplab("down", state_dir=state_dir, check=False)


@pytest.fixture
def lab(shared_lab: Lab) -> Lab:
    shared_lab.clear_faults()
    shared_lab.reset()
    shared_lab.reset_counters()
    return shared_lab


def _backups(lab: Lab) -> list[str]:
    files = lab.host_state("sql01")["files"]
    return sorted(v["path"] for k, v in files.items() if k.startswith("c:\\acs\\dbbackup\\") and k.endswith(".bak"))


def test_the_estate_is_two_named_instances_on_one_machine(lab):
    hosts = lab.state()["hosts"]
    assert hosts[A]["sql_host"] == SQL_A and hosts[B]["sql_host"] == SQL_B
    assert hosts[SQL_A]["machine"] == hosts[SQL_B]["machine"] == "sql01"
    assert hosts[SQL_A]["vm_id"] == hosts[SQL_B]["vm_id"] == hosts["sql01"]["vm_id"]
    assert rows(lab, SQL_A, "master", "SELECT @@SERVERNAME") == [("SQL01\\UMP02",)]
    assert rows(lab, SQL_B, "master", "SELECT @@SERVERNAME") == [("SQL01\\UMP04",)]
    dump = lab.state()["sql_dump"]
    assert set(dump[SQL_A]) & set(dump[SQL_B]) == {"SysAdminTenant"}  # the one name both instances hold


def test_a_rollback_of_one_host_leaves_the_other_hosts_databases_untouched(lab, tmp_path):
    ev = {"ump_checkpoint_dir": str(tmp_path / "ck"), "sql_backup_attempt": "a7"}
    before = lab.state()["sql_dump"]
    # ump02 backs up first, then ump04, into the machine's one backup folder
    lab.playbook(PLAYBOOK, extra_vars=dict(ev, sql_test_hosts=A), check=True)
    lab.playbook(PLAYBOOK, extra_vars=dict(ev, sql_test_hosts=B), check=True)
    files = _backups(lab)
    assert len(files) == 10, files
    for host in (A, B):
        mine = [f for f in files if f"_{host}_" in f]
        assert len(mine) == 5 and all(f.endswith("_pre-8.0.515-a7.bak") for f in mine), files
    ck = json.loads((tmp_path / "ck" / f"{A}__8.0.515.json").read_text())["phases"]["sql_backup"]["outputs"]
    assert ck["server_name"] == "SQL01\\UMP02" and ck["attempt"] == "a7"

    # both upgrades change their SysAdminTenant; then ump02 rolls back
    for sql_host in (SQL_A, SQL_B):
        rows(
            lab,
            sql_host,
            "SysAdminTenant",
            "UPDATE dbo.ApplicationSetting SET Value = %s WHERE Name = %s",
            ("8.0.515", "SysAdminKitVersion"),
        )
    changed = lab.state()["sql_dump"]
    assert changed[SQL_A] != before[SQL_A] and changed[SQL_B] != before[SQL_B]
    lab.playbook(PLAYBOOK, extra_vars=dict(ev, sql_test_entry="restore", sql_test_hosts=A), check=True)

    after = lab.state()["sql_dump"]
    assert after[SQL_A] == before[SQL_A], "ump02's databases are not its own pre-upgrade state"
    assert after[SQL_B] == changed[SQL_B], "ump02's rollback changed ump04's databases"
    assert lab.counters().get("sql.restores", 0) == 5


def test_a_restore_refuses_a_backup_made_on_another_instance(lab, tmp_path):
    ev = {"ump_checkpoint_dir": str(tmp_path / "ck"), "sql_backup_attempt": "a1"}
    lab.playbook(PLAYBOOK, extra_vars=dict(ev, sql_test_hosts=B), check=True)
    theirs = next(f for f in _backups(lab) if f.startswith("C:\\acs\\dbbackup\\SysAdminTenant_"))
    res, _ = run(
        lab,
        "sql_backup",
        conn_args(lab, SQL_A, operation="restore", databases=["SysAdminTenant"], files={"SysAdminTenant": theirs}),
    )
    assert res["failed"] and "SQL01\\UMP04" in res["msg"] and "SQL01\\UMP02" in res["msg"], res["msg"]
    assert lab.counters().get("sql.restores", 0) == 0


def test_a_backup_refuses_ump_databases_it_cannot_attribute_to_its_host(lab, tmp_path):
    # a SysAdmin* database in ump02's instance that ump02's SysAdminTenant does not list as a customer
    lab.playbook(PLAYBOOK, extra_vars={"ump_checkpoint_dir": str(tmp_path / "b"), "sql_test_hosts": B}, check=True)
    theirs = next(f for f in _backups(lab) if "SysAdminTenant" not in f)
    rows(lab, SQL_A, "master", "RESTORE DATABASE SysAdminStranger FROM DISK = %s WITH RECOVERY", (theirs,))
    res, _ = run(lab, "sql_backup", conn_args(lab, SQL_A, operation="backup", backup_name="x"))
    assert res["failed"] and "SysAdminStranger" in res["msg"], res["msg"]
    assert lab.counters().get("sql.backups", 0) == 5  # ump04's only: nothing written for ump02
