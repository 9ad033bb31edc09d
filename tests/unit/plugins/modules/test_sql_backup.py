from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.modules import sql_backup as mod


@pytest.fixture
def no_connect(monkeypatch):
    def refuse(*a, **kw):
        raise AssertionError("bad input must fail before connecting")

    monkeypatch.setattr(mod.SqlClient, "connect", refuse)


def base(**kw):
    args = {"server": "sql.example", "username": "u", "password": "p", "databases": ["SysAdminTenant"]}
    args.update(kw)
    return args


def test_backup_file_names():
    assert mod.backup_file("C:\\acs\\dbbackup", "SysAdminTenant", "") == "C:\\acs\\dbbackup\\SysAdminTenant.bak"
    assert mod.backup_file("c:/acs/dbbackup/", "X", "pre-8.0.515") == "c:\\acs\\dbbackup\\X_pre-8.0.515.bak"


@pytest.mark.parametrize(
    "args,needle",
    [
        (base(databases=["SysAdminTenant]; DROP DATABASE x; --"]), "is not valid"),
        (base(databases=[]), "databases is empty"),
        (base(folder="C:\\acs\\db*backup"), "is not a Windows folder path"),
        (base(folder="relative\\dir"), "is not a Windows folder path"),
        (base(backup_name="x'; --"), "backup_name"),
        (base(operation="restore", files={"SysAdminTenant": "C:\\a\\b?.bak"}), "is not a Windows path"),
    ],
)
def test_bad_input_fails_before_connecting_and_names_the_value(run_module, no_connect, args, needle):
    res, failed = run_module(mod, args)
    assert failed and needle in res["msg"]


def test_the_machine_lock_serialises_hosts_on_one_sql_server_machine(tmp_path):
    """A second backup or restore on the same machine waits for the first, and gives up after its timeout;
    another machine (or, after release, the same one) goes ahead at once."""
    waits = []
    clock = iter(range(0, 100)).__next__
    with mod.MachineLock(str(tmp_path), "SQL01", 3600) as first:
        assert first.path.endswith("sql-machine-sql01.lock")
        blocked = mod.MachineLock(str(tmp_path), "sql01", 3, sleep=waits.append, clock=clock)
        with pytest.raises(mod.errors.OperationTimeoutError) as e:
            blocked.__enter__()
        assert "sql01" in str(e.value) and waits, str(e.value)
        with mod.MachineLock(str(tmp_path), "SQL02", 1):
            pass  # another machine: not blocked
    with mod.MachineLock(str(tmp_path), "SQL01", 1):
        pass  # released
