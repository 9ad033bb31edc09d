"""preflight.yml against the lab: green (and changing nothing) on a clean lab in check mode; each check
failing on its own fault; waiting for the replication queue; the password customers files; the checkpoint."""

from __future__ import annotations

import csv
import json

from .checks_helpers import checks, recap, rows, run, sql, statuses

ALWAYS_WARN = {"password_authenticated_customers", "no_open_files", "free_disk_space"}


def test_preflight_clean_lab_in_check_mode_passes_and_changes_nothing(fresh_lab, tmp_path):
    before = {h: fresh_lab.host_state(h) for h in ("ump01", "ump02", "ump02-sql")}
    proc, report = run(fresh_lab, "playbooks/preflight.yml", tmp_path, "pf-clean", "--check")
    assert proc.returncode == 0, proc.stdout[-4000:]
    for host in ("ump01", "ump02"):
        assert statuses(report, host, "fail") == set(), checks(report, host)
        # the lab cannot list open files or disk space (openfiles.exe, win_disk_facts): warnings, not passes
        assert statuses(report, host, "warn") <= ALWAYS_WARN
        assert {
            "wyupdate_update_available",
            "host_egress",
            "replication_queue_empty",
            "sql_collation",
            "ssl_certificate",
            "auth_status_app_credentials",
            "azure_vm",
            "azure_os_disk",
        } <= statuses(report, host, "pass")
    assert "backend_dbbackup_folder" in statuses(report, "ump02", "pass")
    assert "backend_service_account" in statuses(report, "ump02", "pass")
    # honest change counts: reading (info modules) and the report files on the controller change no host
    assert {h: r["changed"] for h, r in recap(proc).items()} == {"ump01": 0, "ump02": 0}, recap(proc)
    # nothing changed on the hosts (the wyUpdate check writes its answer file only: C:\Windows\Temp)
    for h, st in before.items():
        after = fresh_lab.host_state(h)
        for key in ("services", "certificates", "firewall", "sql", "ump"):
            assert after.get(key) == st.get(key), (h, key)
    # the operator's list of password-authenticated customers, in check mode too
    pw = {r[0] for r in rows(fresh_lab, "ump01", "SELECT CustomerShortName FROM Customer WHERE AuthMethod='Password'")}
    with open(tmp_path / "reports" / "ump01_password_customers.csv") as f:
        assert {r["customer"] for r in csv.DictReader(f)} == pw
    data = json.loads((tmp_path / "reports" / "ump01_password_customers.json").read_text())
    assert {c["customer"] for c in data["customers"]} == pw and data["host"] == "ump01"
    assert report["hosts"]["ump01"]["versions"]["before"]["sysadminkit"] == "8.0.400.64"
    # no secret of the lab on the console, in the report or in the files
    written = proc.stdout + proc.stderr + "".join(p.read_text() for p in (tmp_path / "reports").iterdir())
    for secret in fresh_lab.secrets():
        assert secret not in written


def test_preflight_each_check_fails_on_its_own_fault(fresh_lab, tmp_path):
    lab = fresh_lab
    # ump01: the queue never drains; the certificate expires in 5 days; no egress (so wyUpdate cannot check
    # either); Authentication Status points elsewhere. ump02: the queue drains after two reads (waited);
    # the backend lost c:/acs/dbbackup; the server collation is wrong; SysAdminKit is already the latest.
    lab.fault("ump_api.replication_backlog", host="ump01", executing=1, queued=2, reads=1000, times=1)
    lab.fault("ump_api.replication_backlog", host="ump02", executing=1, queued=0, reads=2, times=1)
    cert = dict(lab.host_state("ump01")["certificates"][0])
    from datetime import datetime, timedelta, timezone

    cert["not_after"] = (datetime.now(timezone.utc) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lab.set_host_state("ump01", ["certificates"], [cert])
    lab.set_host_state("ump01", ["egress"], {"allow": [], "deny": ["*"]})
    sql(
        lab,
        "ump01",
        "UPDATE ApplicationSetting SET Value='https://wrong.example/authenticate/OAuth2Callback' "
        "WHERE Name='AuthStatus.RedirectUri'",
    )
    lab.set_host_state("ump02-sql", ["files", "c:\\acs\\dbbackup"], None)
    lab.set_host_state("ump02-sql", ["sql", "collation"], "Latin1_General_CI_AS")
    lab.set_host_state("ump02", ["ump", "components", "SysAdminKit"], "8.0.515")
    lab.fault("arm.403", action="Microsoft.Compute/virtualMachines/read")

    proc, report = run(
        lab,
        "playbooks/preflight.yml",
        tmp_path,
        "pf-faults",
        extra_vars={
            "preflight_queue_wait_timeout": 3,
            "preflight_queue_poll_interval": 0,
            "preflight_record_checkpoint": True,
        },
    )
    assert proc.returncode != 0
    azure = {"azure_vm"}  # the VM could not be read: the checks that need it are skipped, not passed
    assert statuses(report, "ump01", "fail") == azure | {
        "replication_queue_empty",
        "ssl_certificate",
        "host_egress",
        "wyupdate_update_available",
        "auth_status_app_credentials",
    }
    assert statuses(report, "ump02", "fail") == azure | {
        "backend_dbbackup_folder",
        "sql_collation",
        "wyupdate_update_available",
    }
    c1, c2 = checks(report, "ump01"), checks(report, "ump02")
    assert "Open Commands: 3, Executing: 1, Queued: 2" in c1["replication_queue_empty"]["observed"]
    assert (
        c2["replication_queue_empty"]["status"] == "pass"
        and "after waiting" in c2["replication_queue_empty"]["observed"]
    )
    assert "no update available" in c2["wyupdate_update_available"]["observed"]
    assert "virtualMachines/read" in c1["azure_vm"]["observed"]
    # each failed host stops with the list of its failed checks and their fixes
    out = proc.stdout
    assert "azure_os_disk" in statuses(report, "ump01", "skip")
    assert "ump02: 4 check(s) failed" in out and "create the folder c:/acs/dbbackup/" in out
    assert "ump01: 6 check(s) failed" in out
    # the pre-upgrade observations are in the checkpoint for post_verify
    ckpt = json.loads((tmp_path / "checkpoints" / "ump01__8.0.515.json").read_text())
    outputs = ckpt["phases"]["preflight"]["outputs"]
    assert ckpt["phases"]["preflight"]["status"] == "failed"
    assert outputs["versions_before"]["sysadminkit"] == "8.0.400.64"
    assert len(outputs["customers"]) == 4 and len(outputs["password_customers"]) == 2
