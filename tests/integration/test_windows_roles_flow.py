"""stop -> wyUpdate -> customer upgrade -> start on the lab: 8.0.400.64 to 8.0.515, every service running."""

from __future__ import annotations

from .windows_roles_helpers import checkpoint, host_file, needs_winrm, run_playbook, services_state

TARGET = "8.0.515"


def test_full_upgrade_of_one_host_then_an_idempotent_rerun(fresh_lab):
    lab = fresh_lab
    needs_winrm(lab)
    before = lab.host_state("ump01")
    customers = before["ump"]["customers"]
    assert before["ump"]["components"]["SysAdminKit"] == "8.0.400.64"

    run = run_playbook(lab, "windows_upgrade_flow.yml")
    assert run.rc == 0, run.stdout[-3000:]
    facts = run.facts()

    # wyUpdate: one result per step, in the guide's order, all ok
    steps = facts["ump_wyupdate_steps"]
    assert (
        len(steps) == 26
        and steps[0]["name"] == "ClearWyupdateLog"
        and steps[-1]["name"] == ("Refresh_EMSCClientAgent_ignoreList")
    )
    assert {s["status"] for s in steps} == {"ok"}
    assert all(s["start"] and s["end"] for s in steps)
    assert facts["ump_wyupdate"]["status"] == "updated" and facts["ump_sysadminkit_version"] == TARGET

    # customers: every one upgraded, with its versions
    table = {r["name"]: r for r in facts["ump_customers"]}
    assert sorted(table) == sorted(customers)
    for r in table.values():
        assert (r["status"], r["version_before"], r["version_after"]) == ("upgraded", "8.0.400.64", TARGET)

    # the host: new kit, new customer versions, every SysAdmin* service and w3svc running again
    after = lab.host_state("ump01")
    assert after["ump"]["components"]["SysAdminKit"] == TARGET
    for c in customers:
        assert host_file(lab, f"C:\\acs\\tenants\\{c}\\version.txt").strip() == TARGET
    svcs = services_state(lab)
    ump_svcs = {n: s for n, s in svcs.items() if n.lower().startswith("sysadmin") or n.lower() == "w3svc"}
    assert "SysAdmin.QuickReplicationCycleWorker" in ump_svcs  # created by the upgrade
    assert set(ump_svcs.values()) == {"running"}, ump_svcs
    assert {r["after"] for r in facts["ump_services"]} == {"running"}
    assert facts["ump_services_result"]["whitelist"]["level"] == "ok"

    ck = checkpoint(lab)["phases"]
    assert {p: ck[p]["status"] for p in ("services_stop", "wyupdate", "customer_upgrade", "services_start")} == {
        "services_stop": "done",
        "wyupdate": "done",
        "customer_upgrade": "done",
        "services_start": "done",
    }
    assert sorted(ck["customer_upgrade"]["outputs"]["finished"]) == sorted(customers)

    # rerun: wyUpdate says up to date, every customer is skipped, nothing is installed again
    counters = lab.counters()
    rerun = run_playbook(lab, "windows_upgrade_flow.yml")
    assert rerun.rc == 0, rerun.stdout[-3000:]
    f2 = rerun.facts()
    assert f2["ump_wyupdate"]["status"] == "up_to_date" and f2["ump_wyupdate_steps"] == []
    assert {r["status"] for r in f2["ump_customers"]} == {"skipped"}
    c2 = lab.counters()
    assert c2.get("customer_upgrade.runs", 0) == counters.get("customer_upgrade.runs", 0)
    assert c2.get("wyupdate.steps_ok", 0) == counters.get("wyupdate.steps_ok", 0)
    assert not [n for n, _r in rerun.results() if "Start wyUpdate unattended" in n]


def test_check_mode_changes_nothing(fresh_lab):
    lab = fresh_lab
    needs_winrm(lab)
    before = services_state(lab)
    run = run_playbook(lab, "windows_upgrade_flow.yml", check_mode=True)
    assert run.rc == 0, run.stdout[-3000:]
    assert services_state(lab) == before
    st = lab.host_state("ump01")
    assert st["ump"]["components"]["SysAdminKit"] == "8.0.400.64"
    facts = run.facts()
    assert facts["ump_wyupdate"]["status"] == "would_update"
    assert "would upgrade" in facts["ump_customer_upgrade"]["msg"]
    assert checkpoint(lab) == {}
