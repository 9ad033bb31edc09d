"""The sql_backup role: back up before the upgrade (checkpointed, once), restore for the rollback."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.sql_helpers import BACKEND, rows

PLAYBOOK = "tests/integration/playbooks/sql_backup_role.yml"


def test_backup_once_then_restore_from_the_checkpoint(fresh_lab, tmp_path):
    ckdir = tmp_path / "ck"
    ev = {"ump_checkpoint_dir": str(ckdir)}
    proc = fresh_lab.playbook(PLAYBOOK, extra_vars=ev, check=True)
    assert "ump01" in proc.stdout  # a host with local SQL is skipped, not failed
    ck = json.loads(Path(ckdir / "ump02__8.0.515.json").read_text())
    phase = ck["phases"]["sql_backup"]
    assert phase["status"] == "done"
    files = phase["outputs"]["files"]
    # the host and the attempt (no attempt id given: a UTC time stamp) in every file name
    assert re.fullmatch(
        r"C:\\acs\\dbbackup\\SysAdminTenant_ump02_pre-8\.0\.515-\d{8}T\d{6}Z\.bak", files["SysAdminTenant"]
    )
    assert len(files) == 5 and all(size > 0 for size in phase["outputs"]["sizes"].values())
    assert not (ckdir / "ump01__8.0.515.json").exists()
    backups = fresh_lab.counters().get("sql.backups", 0)
    assert backups == 5
    # a rerun does not back up again
    fresh_lab.playbook(PLAYBOOK, extra_vars=ev, check=True)
    assert fresh_lab.counters().get("sql.backups", 0) == backups

    q = "SELECT Name, Value FROM dbo.ApplicationSetting ORDER BY Name"
    original = rows(fresh_lab, BACKEND, "SysAdminTenant", q)
    rows(fresh_lab, BACKEND, "SysAdminTenant", "DELETE FROM dbo.ApplicationSetting WHERE Name = %s", ("ApiAllowedIps",))
    assert rows(fresh_lab, BACKEND, "SysAdminTenant", q) != original
    proc = fresh_lab.playbook(
        PLAYBOOK, extra_vars=dict(ev, sql_test_entry="restore", sql_test_hosts="ump02"), check=True
    )
    assert rows(fresh_lab, BACKEND, "SysAdminTenant", q) == original
    assert fresh_lab.counters().get("sql.restores", 0) == 5
    ck = json.loads(Path(ckdir / "ump02__8.0.515.json").read_text())
    assert sorted(ck["phases"]["sql_restore"]["outputs"]["restored"]) == sorted(files)
    for secret in fresh_lab.secrets():
        assert secret not in proc.stdout
