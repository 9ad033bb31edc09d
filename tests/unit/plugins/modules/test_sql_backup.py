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
