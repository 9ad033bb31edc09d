"""A site whose vendor details are not our defaults (issue 18, "Done when"): the lab flavour site-b.

One 3-host site-b lab (``umplab up --flavour site-b``): another step-log location and line format, another
customers' folder and version file, the portal API under another prefix, a de-DE culture, and on ump02 a
Customer Upgrade that is a GUI program (PE subsystem 2) which never exits. Three playbook runs:

1. ``upgrade.yml`` with the default variables: every host stops in preflight, before any change, with a
   message that points to playbooks/discover.yml;
2. ``discover.yml --check`` (read-only): its site profile (site.yml) names the lab's own vendor details, and
   no secret of the lab reaches its outputs (the TenantSvc log it reads carries the SQL password);
3. ``upgrade.yml -e @site.yml``: ump01 upgrades unattended; ump02, made to run its GUI program unattended
   against the profile's advice, fails its customer-upgrade phase within the timeout, naming the cause, and is
   restored; ump03 runs in operator mode with the lab playing the operator's clicks and completes, its
   customers verified at the target in the lab's SQL.

Every assertion reads the lab's own state (host state, SQL, ARM resources, counters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import Lab
from tests.reliability.conftest import FAST_WAITS, OLD, TARGET, acs_files
from tests.reliability.test_secrets import find_leaks, lab_secrets

HOSTS = ["ump01", "ump02", "ump03"]
GUI_HOST = "ump02"
OPERATOR_HOST = "ump03"


@dataclass
class SiteRun:
    lab: Lab
    work: Path
    sites: dict[str, dict]
    before: dict[str, dict]
    sql_before: dict[str, list]
    default_run: object
    discover_run: object
    after_discover: dict[str, dict]
    snapshots_after_discover: int
    os_disks_at_discovery: dict[str, str]
    profile: dict
    upgrade_run: object
    counters: dict


def _customers(lab: Lab, host: str) -> list:
    """(short name, version) of every customer in the host's SysAdminTenant, from the lab's SQL dump."""
    st = lab.state()
    sql_host = st["hosts"][host].get("sql_host", host)
    rows = st["sql_dump"][sql_host]["SysAdminTenant"]["Customer"]
    return sorted((r["CustomerShortName"], r["Version"]) for r in rows)


def _os_disk_name(lab: Lab, host: str) -> str:
    """The name of the OS disk the lab's ARM has attached to the host's VM."""
    for r in lab.state()["azure"]["resources"].values():
        if r.get("type", "").lower().endswith("virtualmachines") and r.get("name", "").lower() == host:
            return r["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].rpartition("/")[2]
    raise AssertionError(f"no VM {host} in the lab's ARM state")


def _snapshots(lab: Lab) -> int:
    return sum(1 for r in lab.state()["azure"]["resources"].values() if r.get("type", "").lower().endswith("snapshots"))


@pytest.fixture(scope="module")
def site(own_lab, tmp_path_factory) -> SiteRun:
    lab = own_lab(len(HOSTS), flavour="site-b")
    work = tmp_path_factory.mktemp("site-b")
    reports = work / "reports"
    fast = dict(FAST_WAITS, ump_report_dir=str(reports), customer_upgrade_operator_poll=1)
    sites = {h: lab.host_state(h)["ump"]["site"] for h in HOSTS}
    before = {h: acs_files(lab.host_state(h)) for h in HOSTS}
    sql_before = {h: _customers(lab, h) for h in HOSTS}

    default_run = lab.playbook("playbooks/upgrade.yml", extra_vars=dict(fast, ump_upgrade_batches=["100%"]))

    discover_log = work / "discover.log"
    # a CanNotDelete lock on the operator host's resource group: discovery must report it (and only there)
    lab.fault("arm.lock", host=OPERATOR_HOST, level="CanNotDelete", lock_name="keep-ump")
    discover_run = lab.playbook(
        "playbooks/discover.yml",
        "--check",
        "-vvvv",
        extra_vars=fast,
        env={"ANSIBLE_LOG_PATH": str(discover_log)},
    )
    (work / "discover.stdout").write_text(discover_run.stdout + discover_run.stderr)
    lab.clear_faults("arm.lock")
    os_disks_at_discovery = {h: _os_disk_name(lab, h) for h in HOSTS}
    after_discover = {h: acs_files(lab.host_state(h)) for h in HOSTS}
    snapshots_after_discover = _snapshots(lab)
    site_file = reports / "site_profile" / "site.yml"
    profile = yaml.safe_load(site_file.read_text()) if site_file.exists() else {}

    # the operator's choice for this rehearsal: ump02's GUI program run unattended anyway (it must fail and be
    # restored), ump03 upgraded by the operator (the lab plays the clicks)
    override = work / "modes.json"
    modes = dict(profile.get("customer_upgrade_mode_by_host") or {})
    modes.update({GUI_HOST: "unattended", OPERATOR_HOST: "operator"})
    override.write_text(json.dumps({"customer_upgrade_mode_by_host": modes, "ump_upgrade_batches": ["100%"]}))
    lab.reset_counters()
    lab.fault("customer_upgrade.operator", host=OPERATOR_HOST, seconds=1)
    upgrade_run = lab.playbook("playbooks/upgrade.yml", "-e", f"@{site_file}", "-e", f"@{override}", extra_vars=fast)
    return SiteRun(
        lab=lab,
        work=work,
        sites=sites,
        before=before,
        sql_before=sql_before,
        default_run=default_run,
        discover_run=discover_run,
        after_discover=after_discover,
        snapshots_after_discover=snapshots_after_discover,
        os_disks_at_discovery=os_disks_at_discovery,
        profile=profile,
        upgrade_run=upgrade_run,
        counters=lab.counters(),
    )


def test_the_default_variables_stop_every_host_before_any_change_pointing_to_discover(site):
    out = site.default_run.stdout
    assert site.default_run.returncode != 0
    for h in HOSTS:
        assert f"{h}: the upgrade to {TARGET} failed in phase preflight" in out, out[-3000:]
    assert out.count("run playbooks/discover.yml") >= len(HOSTS)
    # nothing changed: no snapshot, C:\acs and SysAdminTenant as seeded
    assert site.snapshots_after_discover == 0
    for h in HOSTS:
        assert site.after_discover[h] == site.before[h], h


def test_discover_writes_a_profile_of_the_sites_own_vendor_details_and_changes_nothing(site):
    assert site.discover_run.returncode == 0, site.discover_run.stdout[-4000:]
    p = site.profile
    s = site.sites["ump01"]
    assert p["customer_upgrade_tenants_dir"] == s["tenants_dir"]
    assert p["preflight_tenants_dir"] == s["tenants_dir"]
    assert p["customer_upgrade_version_file"] == s["version_file"]
    assert p["wyupdate_steps_step_log"] == s["step_log"]
    for key in ("preflight_portal_paths", "post_verify_portal_paths", "token_migration_portal_paths"):
        assert p[key]["replication_queue"] == s["portal_prefix"] + "/replicationqueue", key
    # the GUI program is found from its PE header, the others are console programs
    modes = p["customer_upgrade_mode_by_host"]
    for h in HOSTS:
        expect = "operator" if site.sites[h]["customer_upgrade"] == "gui" else "unattended"
        assert modes[h] == expect, (h, modes)
    assert modes[GUI_HOST] == "operator"
    # the step log pattern inferred from the host's own lines parses the site's line format
    import re

    line = s["step_line"].format(time="07.12.2026 06:40:12", step="CheckSQLConn", status="OK", message="done")
    m = re.match(p["wyupdate_steps_patterns"]["step_line"], line, re.I)
    assert m and m.group("step") == "CheckSQLConn" and m.group("status") == "OK"
    # read-only, also in check mode: no snapshot, the same files under C:\acs
    assert site.snapshots_after_discover == 0
    for h in HOSTS:
        assert site.after_discover[h] == site.before[h], h
    # the SBC keeps each user's DID in its user information table, not in the dial plan (the lab's own INI)
    sbc = site.lab.state()["sbcs"]["sbc-ump01"]
    assert sbc["user_info"] and not any(r["Prefix"].startswith("+44587997") for r in sbc["dial_plan_rules"])
    assert p["post_verify_sbc_numbers_table"] == "SBCUserInfoTable"
    assert p["post_verify_sbc_numbers_column"] == "LocalUser"
    table = (site.work / "reports" / "site_profile" / "site_profile.md").read_text()
    assert "| differs |" in table and "| unknown |" in table
    # Azure and openfiles are read, not left unknown: the lab's own VM, disks, rights and locks
    rows = json.loads((site.work / "reports" / "site_profile" / "site_profile.json").read_text())["rows"]
    state = {h: {r["id"]: r for r in rows[h]} for h in HOSTS}
    for h in HOSTS:
        for rid in ("azure_data_disks", "azure_encryption", "azure_rights", "openfiles_global_flag"):
            assert state[h][rid]["state"] == "holds", (h, state[h][rid])
        assert state[h]["azure_os_disk"]["state"] == "recorded", (h, state[h]["azure_os_disk"])
        disk = site.os_disks_at_discovery[h].lower()
        assert state[h]["azure_os_disk"]["observed"].lower().endswith("/" + disk), (h, state[h]["azure_os_disk"])
    assert state[OPERATOR_HOST]["azure_locks"]["state"] == "differs"
    assert "keep-ump (CanNotDelete)" in state[OPERATOR_HOST]["azure_locks"]["observed"]
    assert state["ump01"]["azure_locks"]["observed"] == "none"


def test_no_secret_reaches_the_discovery_outputs_and_host_secrets_are_masked(site):
    reports = site.work / "reports"
    files = [site.work / "discover.stdout", site.work / "discover.log"]
    files += sorted((reports / "site_profile").glob("*"))
    files += sorted(reports.glob("discover-*"))
    leaks = find_leaks(lab_secrets(site.lab), [f for f in files if f.is_file()])
    assert not leaks, leaks
    facts = (reports / "site_profile" / "site_profile.json").read_text()
    # the TenantSvc log's connection string was read, and its password masked
    assert "Password=********" in facts


def test_the_profile_makes_the_upgrade_succeed_on_a_console_host(site):
    lab = site.lab
    out = site.upgrade_run.stdout
    st = lab.host_state("ump01")
    assert st["ump"]["components"]["SysAdminKit"] == TARGET, out[-4000:]
    assert all(v == TARGET for _, v in _customers(lab, "ump01"))
    # its users' DIDs were compared with the SBC's user information table (the profile's) and found there
    report = json.loads(sorted((site.work / "reports").glob("upgrade-*.json"))[-1].read_text())
    dids = {c["name"]: c for c in report["hosts"]["ump01"]["checks"]}["sbc_user_dids_present"]
    assert dids["status"] == "pass" and "[ SBCUserInfoTable ] LocalUser" in dids["expected"], dids
    # the customers' version files in the site's own layout
    s = site.sites["ump01"]
    for short, _ in _customers(lab, "ump01"):
        key = f"{s['tenants_dir']}\\{short}\\{s['version_file']}".lower()
        assert st["files"][key]["content"].strip() == TARGET


def test_a_gui_customer_upgrade_fails_within_the_timeout_naming_the_cause_and_is_restored(site):
    lab = site.lab
    out = site.upgrade_run.stdout
    assert site.counters.get("customer_upgrade.gui_waiting", 0) >= 1
    assert f"{GUI_HOST}: the upgrade to {TARGET} failed in phase customer_upgrade" in out
    msg = out[out.index(f"{GUI_HOST}: the upgrade to {TARGET} failed in phase customer_upgrade") :][:3000]
    assert "GUI" in msg or "operator" in msg, msg
    st = lab.host_state(GUI_HOST)
    assert st["ump"]["components"]["SysAdminKit"] == OLD
    assert _customers(lab, GUI_HOST) == site.sql_before[GUI_HOST]
    assert acs_files(st) == site.before[GUI_HOST]


def test_operator_mode_completes_with_the_customers_verified_in_sql(site):
    lab = site.lab
    out = site.upgrade_run.stdout
    assert f"OPERATOR ACTION on {OPERATOR_HOST}" in out
    assert site.counters.get("customer_upgrade.operator_clicks", 0) == 1
    assert lab.host_state(OPERATOR_HOST)["ump"]["components"]["SysAdminKit"] == TARGET
    customers = _customers(lab, OPERATOR_HOST)
    assert customers and all(v == TARGET for _, v in customers), customers
    # the program was never started on the operator's host: the runs are ump01's and ump02's
    assert site.counters.get("customer_upgrade.runs", 0) == 2
