"""The site profile's logic: masking, PE headers, step-log inference, the assumption table and the vars file."""

from __future__ import annotations

import base64
import pathlib
import re

import pytest
import yaml

from ansible_collections.ump365.upgrade.plugins.filter import site_profile as f
from ansible_collections.ump365.upgrade.plugins.plugin_utils import site_profile as sp
from umplab.seed import SITE_B, pe_image
from umplab.windows.ump import STEPS

REPO = pathlib.Path(__file__).resolve().parents[4]
ASSUMPTIONS = yaml.safe_load((REPO / "roles" / "discover" / "files" / "assumptions.yml").read_text())


def test_every_filter_is_registered_and_documented():
    here = pathlib.Path(f.__file__).parent
    assert not [n for n in f.FilterModule().filters() if not (here / f"{n}.yml").exists()]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Server=db;User ID=ump-svc;Password=S3cr3t!x;Encrypt=true", "S3cr3t!x"),
        ("pwd = 'hunter2hunter2'", "hunter2hunter2"),
        ("Authorization: Bearer abcdefghijklmnop.qrs", "abcdefghijklmnop.qrs"),
        ("token=eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl", "eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl"),
        ("https://admin:Pa55word@repo.example/wyupdate/", "Pa55word"),
        ('<add key="ClientSecret" value="zzTopSecret99"/>', None),
        ("AccountKey=QUJDREVGR0hJSktMTU5PUA==;EndpointSuffix=core", "QUJDREVGR0hJSktMTU5PUA=="),
    ],
)
def test_secret_looking_values_are_masked(text, secret):
    out = sp.mask_text(text)
    if secret:
        assert secret not in out
    assert "********" in out


def test_the_runs_own_secrets_are_masked_in_any_form():
    s = "Lab!only-known-here_42"
    text = "a %s b %s c %s" % (s, "Lab%21only-known-here_42", base64.b64encode(s.encode()).decode())
    out = sp.mask({"x": [text]}, [s])["x"][0]
    assert "only-known-here" not in out and base64.b64encode(s.encode()).decode() not in out


def test_pe_subsystem_reads_gui_and_console_and_refuses_what_is_not_a_pe_file():
    gui = base64.b64encode(pe_image("gui", "x")).decode()
    cui = base64.b64encode(pe_image("console", "x")).decode()
    assert sp.pe_subsystem(gui)["kind"] == "gui" and sp.pe_subsystem(gui)["subsystem"] == 2
    assert sp.pe_subsystem(cui)["kind"] == "console"
    assert sp.pe_subsystem(base64.b64encode(b"MZ wyUpdate").decode())["kind"] is None
    assert sp.pe_subsystem(base64.b64encode(b"not an exe at all" * 8).decode())["kind"] is None
    assert sp.pe_subsystem(None)["kind"] is None


def _site_lines(site):
    from datetime import datetime

    t = datetime(2026, 12, 7, 6, 40, 12)
    out = []
    for step in STEPS[:8]:
        for status, msg in (("START", "running " + step), ("OK", "done: 3 | 4 ; x")):
            out.append(
                site["step_line"].format(time=t.strftime(site["step_time"]), step=step, status=status, message=msg)
            )
    return out


@pytest.mark.parametrize(
    "site",
    [
        SITE_B,
        {"step_line": "{time} | {step} | {status} | {message}", "step_time": "%Y-%m-%dT%H:%M:%SZ"},
        {"step_line": "{time};{step};{status};{message}", "step_time": "%d/%m/%Y %H:%M"},
    ],
)
def test_the_step_log_pattern_is_built_from_the_logs_own_lines(site):
    lines = _site_lines(site)
    got = sp.infer_step_line(lines, STEPS, ["START", "OK", "FAILED", "SKIPPED"])
    assert got is not None
    rx = re.compile(got["pattern"], re.I)
    parsed = [rx.match(ln) for ln in lines]
    assert all(parsed)
    assert [m.group("step") for m in parsed[::2]] == STEPS[:8]
    assert {m.group("status") for m in parsed} == {"START", "OK"}


def test_no_step_pattern_is_invented_from_lines_without_steps():
    assert sp.infer_step_line(["2026-12-07 INFO service started", "hello"], STEPS, ["OK"]) is None
    assert sp.find_step_log([{"path": "a.log", "tail": ["nothing here"]}], STEPS) is None


def test_version_templates_keep_the_extension():
    assert sp.version_template(r"C:\acs\Logs\Schritte_8.0.300.12.txt") == r"C:\acs\Logs\Schritte_{version}.txt"
    assert (
        sp.version_template(r"C:\acs\wyupdate_logs\upgrade_8.0.515.log")
        == r"C:\acs\wyupdate_logs\upgrade_{version}.log"
    )


def test_tenants_layout_and_version_file_come_from_what_the_host_shows():
    dirs = [r"C:\acs\Customers", r"C:\acs\Customers\a01", r"C:\acs\Customers\b01", r"C:\acs\tools"]
    lay = sp.tenants_layout(dirs, ["A01", "b01", "c01"])
    assert lay["dir"] == r"C:\acs\Customers" and lay["missing"] == ["c01"]
    import hashlib

    files = [
        {"filename": "x.log", "checksum": "00"},
        {"filename": "tenant.version", "checksum": hashlib.sha1(b"8.0.400.64\r\n").hexdigest()},
    ]
    assert sp.version_file(files, "8.0.400.64") == "tenant.version"
    assert sp.version_file(files, "8.0.515") is None
    assert sp.tenants_layout([r"C:\acs\tools"], ["a01"])["dir"] is None


def test_an_assumption_not_observed_is_unknown_never_holds():
    rows = sp.evaluate(ASSUMPTIONS, {"wyupdate": {"path": None}}, "h1")
    by_id = {r["id"]: r for r in rows}
    assert {r["state"] for r in rows} == {"unknown"}
    assert by_id["wyupdate_path"]["state"] == "unknown"
    assert sp.site_vars({"h1": rows})["vars"] == {}


def test_the_vars_file_sets_observed_values_and_per_host_modes():
    facts = {
        "tenants": {"dir": r"C:\acs\Customers", "version_file": "tenant.version"},
        "executables": {"customer_upgrade": {"kind": "gui"}},
        "portal": {"prefix": "/api/sp/v1/portal"},
        "step_log": {"pattern": "^(?P<time>x)", "path": r"C:\acs\s_{version}.txt"},
    }
    facts2 = dict(facts, executables={"customer_upgrade": {"kind": "console"}})
    rows = {"h1": sp.evaluate(ASSUMPTIONS, facts, "h1"), "h2": sp.evaluate(ASSUMPTIONS, facts2, "h2")}
    prof = sp.site_vars(rows, bases={"wyupdate_steps_patterns": {"result_ok": "x", "step_line": "old"}})
    v = prof["vars"]
    assert v["customer_upgrade_tenants_dir"] == r"C:\acs\Customers"
    assert v["customer_upgrade_mode_by_host.h1"] == "operator"
    assert v["customer_upgrade_mode_by_host.h2"] == "unattended"
    assert v["wyupdate_steps_patterns"] == {"result_ok": "x", "step_line": "^(?P<time>x)"}
    assert v["preflight_portal_paths"]["versions"] == "/api/sp/v1/portal/versions"
    text = sp.site_yaml(prof, ["h1", "h2"], "now")
    data = yaml.safe_load(text)
    assert data["customer_upgrade_mode_by_host"] == {"h1": "operator", "h2": "unattended"}
    assert "wyupdate_steps_exe" not in data  # not observed: the default stays
    assert any("not observed" in ln for ln in text.splitlines() if ln.startswith("#"))


def _info(**over):
    info = {
        "vm_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/ump01",
        "power_state": "running",
        "ade": False,
        "os_disk": {"id": "/subscriptions/s/.../disks/ump01_os", "disk_encryption_set_id": None},
        "data_disks": [],
        "missing_actions": [],
        "locks": [],
    }
    info.update(over)
    return info


def _azure_rows(info):
    facts = {"azure": sp.azure_facts(info)}
    rows = sp.evaluate([a for a in ASSUMPTIONS if a["id"].startswith("azure_")], facts, "ump01")
    return {r["id"]: r for r in rows}


def test_a_plain_vm_holds_every_azure_assumption():
    rows = _azure_rows(_info())
    for rid in ("azure_data_disks", "azure_encryption", "azure_locks", "azure_rights"):
        assert rows[rid]["state"] == "holds", rows[rid]
    assert rows["azure_os_disk"]["state"] == "recorded"


@pytest.mark.parametrize(
    ("over", "rid", "observed"),
    [
        ({"ade": True}, "azure_encryption", "ADE"),
        (
            {"os_disk": {"id": "d", "disk_encryption_set_id": "/subscriptions/s/.../diskEncryptionSets/des-ump"}},
            "azure_encryption",
            "disk encryption set des-ump",
        ),
        ({"data_disks": [{"name": "ump01_DataDisk_0"}]}, "azure_data_disks", 1),
        ({"locks": [{"name": "keep", "level": "ReadOnly"}]}, "azure_locks", "keep (ReadOnly)"),
        (
            {"missing_actions": ["Microsoft.Compute/snapshots/write"]},
            "azure_rights",
            "Microsoft.Compute/snapshots/write",
        ),
    ],
)
def test_what_differs_in_azure_is_reported_as_it_is(over, rid, observed):
    row = _azure_rows(_info(**over))[rid]
    assert row["state"] == "differs" and row["observed"] == observed, row


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("INFO: The system global flag 'maintain objects list' is currently enabled.\r\n", True),
        ("INFO: The system global flag 'maintain objects list' is currently disabled.\r\n", False),
        ("ERROR: Access denied.\r\n", None),
    ],
)
def test_the_openfiles_flag_is_read_from_openfiles_local(text, flag):
    assert sp.parse_openfiles_flag(text) is flag


def test_every_assumption_names_a_known_comparison():
    # YAML reads a bare `compare: true` as a boolean: the comparison must be one of the strings evaluate knows
    assert {a.get("compare", "equals") for a in ASSUMPTIONS} <= {"equals", "in", "true", "info"}


def _raw_with_logs(logs: dict) -> dict:
    return {
        "log_tails": {"results": [{"item": p, "rc": 0, "stdout": "\n".join(lines)} for p, lines in logs.items()]},
        "acs_find": {"files": []},
        "sql": {"customers": [{"name": "contoso", "version": "8.0.515"}, {"name": "fabrikam", "version": "8.0.515"}]},
    }


def test_the_customer_upgrade_log_is_found_and_set_for_the_operator_mode():
    # a site that keeps the Customer Upgrade Manager's log elsewhere, with another line format
    cu = r"C:\acs\Logs\Kunden\KundenUpgrade.txt"
    raw = _raw_with_logs(
        {
            r"C:\acs\SysAdminKit\logs\SysAdmin.TenantSvc.log": ["2026-12-07 INFO contoso synchronised"],
            r"C:\acs\wyupdate_logs\upgrade_8.0.515.log": [f"2026-12-07T06:40:12Z | {STEPS[0]} | OK | done"],
            cu: [
                "[07.12.2026 06:41] contoso: Upgrading",
                "[07.12.2026 06:42] contoso: UpToDate 8.0.515",
                "[07.12.2026 06:43] fabrikam: UpToDate 8.0.515",
            ],
        }
    )
    facts = sp.host_facts(raw, steps=STEPS, statuses=["START", "OK"])
    assert facts["customer_upgrade_log"] == {"path": cu, "why": None}
    rows = sp.evaluate(ASSUMPTIONS, facts, "h1")
    row = {r["id"]: r for r in rows}["customer_upgrade_log"]
    assert row["state"] == "differs" and row["observed"] == cu
    assert sp.site_vars({"h1": rows})["vars"]["customer_upgrade_operator_log"] == cu


def test_no_customer_upgrade_log_is_guessed_when_no_log_names_a_customer_upgraded():
    raw = _raw_with_logs({r"C:\acs\SysAdminKit\logs\SysAdmin.TenantSvc.log": ["2026-12-07 INFO contoso synchronised"]})
    facts = sp.host_facts(raw, steps=STEPS, statuses=["START", "OK"])
    assert facts["customer_upgrade_log"]["path"] is None and "never upgraded" in facts["customer_upgrade_log"]["why"]
    rows = sp.evaluate(ASSUMPTIONS, facts, "h1")
    assert {r["id"]: r for r in rows}["customer_upgrade_log"]["state"] == "unknown"
    assert "customer_upgrade_operator_log" not in sp.site_vars({"h1": rows})["vars"]


def test_the_sbc_table_holding_the_users_dids_is_found_and_never_guessed():
    dids = {"user_dids": [{"did": "+4458799701"}, {"did": "+4458799702"}]}
    located = {
        "number_tables": [
            {"table": "SBCUserInfoTable", "column": "LocalUser", "matched": 2, "rows": 2},
            {"table": "DialPlanRule", "column": "Prefix", "matched": 1, "rows": 2},
        ]
    }
    f = sp.sbc_numbers_facts(dids, located)
    assert (f["table"], f["column"], f["matched"], f["dids"]) == ("SBCUserInfoTable", "LocalUser", 2, 2)
    rows = {r["id"]: r for r in sp.evaluate(ASSUMPTIONS, {"sbc_numbers": f}, "h1")}
    assert rows["sbc_numbers_table"]["state"] == "differs"
    assert rows["sbc_numbers_table"]["sets"] == {"post_verify_sbc_numbers_table": "value"}
    # the default wins a tie
    located["number_tables"][1]["matched"] = 2
    assert sp.sbc_numbers_facts(dids, located)["table"] == "DialPlanRule"
    # nothing read, no DID, no table: unknown with the reason, nothing guessed
    for d, loc, why in [
        ({"failed": True, "msg": "login failed"}, {}, "login failed"),
        ({"user_dids": []}, located, "no user has a DID"),
        (dids, {"number_tables": []}, "no INI table"),
    ]:
        f = sp.sbc_numbers_facts(d, loc)
        assert f["table"] is None and why in f["why"]
        rows = {r["id"]: r for r in sp.evaluate(ASSUMPTIONS, {"sbc_numbers": f}, "h1")}
        assert rows["sbc_numbers_table"]["state"] == "unknown"
