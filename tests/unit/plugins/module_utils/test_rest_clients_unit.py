"""Pure parts of the REST clients: INI tables, problem+json, token cache file, scope and state names."""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible_collections.ump365.upgrade.plugins.module_utils import errors, ump_api
from ansible_collections.ump365.upgrade.plugins.module_utils.http import HttpClient, parse_problem
from ansible_collections.ump365.upgrade.plugins.module_utils.ovoc_api import dig, summarise
from ansible_collections.ump365.upgrade.plugins.module_utils.sbc_api import ini_table

INI = """;** Ini File **
[SYSTEM Params]
SyslogServerIP = 10.1.1.1
[ DialPlan ]
FORMAT DialPlan_Index = DialPlan_Name, DialPlan_PrefixCaseSensitive;
DialPlan 0 = "PLAN1", 0;
[ \\DialPlan ]
[ DialPlanRule ]

FORMAT DialPlanRule_Index = DialPlanRule_DialPlanName, DialPlanRule_Name, DialPlanRule_Prefix, DialPlanRule_Tag;
DialPlanRule 0 = "PLAN1", "rule, with comma", "+4455896552", "TEAMS";
; a comment
DialPlanRule 1 = PLAN1, rule2, +44587996[01-20], $$;

[ \\DialPlanRule ]
[ IPGroup ]
FORMAT IPGroup_Index = IPGroup_Name;
IPGroup 0 = "Teams";
[ \\IPGroup ]
"""


def test_ini_table_reads_the_dial_plan_rules_only():
    rows = ini_table(INI, "DialPlanRule")
    assert rows == [
        {"Index": 0, "DialPlanName": "PLAN1", "Name": "rule, with comma", "Prefix": "+4455896552", "Tag": "TEAMS"},
        {"Index": 1, "DialPlanName": "PLAN1", "Name": "rule2", "Prefix": "+44587996[01-20]", "Tag": ""},
    ]
    assert ini_table(INI, "DialPlan") == [{"Index": 0, "Name": "PLAN1", "PrefixCaseSensitive": "0"}]
    assert ini_table(INI.replace("\n", "\r\n"), "DialPlanRule")[1]["Prefix"] == "+44587996[01-20]"
    assert ini_table("", "DialPlanRule") == []


def test_problem_json_fields_are_read():
    body = json.dumps(
        {"title": "Bad", "detail": "no such customer", "errorCode": "CustomerNotFound", "traceId": "00-ab"}
    )
    assert parse_problem(body, "application/problem+json") == ("Bad", "no such customer", "CustomerNotFound", "00-ab")
    assert parse_problem('{"error": {"code": "X", "message": "m"}}', "application/json") == (None, "m", "X", None)
    assert parse_problem('{"error": "invalid_client", "error_description": "AADSTS7000215"}', "") == (
        None,
        "AADSTS7000215",
        "invalid_client",
        None,
    )
    assert parse_problem('{"description": "HA sync"}', "application/json")[1] == "HA sync"
    assert parse_problem("<html>503</html>", "text/html") == (None, None, None, None)


def test_redact_masks_registered_secrets():
    c = HttpClient("https://example.invalid")
    c.add_secret("S3cr3t-value")
    assert c.redact("bad S3cr3t-value here") == "bad ******** here"


def test_base_url_must_be_http():
    with pytest.raises(errors.ValidationError, match="'ftp://x'"):
        HttpClient("ftp://x")


@pytest.mark.parametrize(
    ("value", "name"),
    [(3, "Deployed"), ("3", "Deployed"), (1, "Ready"), (9, "Unknown(9)"), ("Deployed", "Deployed"), (None, "Unknown")],
)
def test_deployment_state_names(value, name):
    assert ump_api.deployment_state_name(value) == name


def test_scope_gets_default_suffix_and_bad_scopes_are_named():
    assert ump_api.normalise_scope("api://abc") == "api://abc/.default"
    assert ump_api.normalise_scope("api://abc/.default") == "api://abc/.default"
    with pytest.raises(errors.ValidationError, match="'abc'"):
        ump_api.normalise_scope("abc")


def test_token_cache_file_is_private_and_expires(tmp_path):
    now = [1000.0]
    path = tmp_path / "d" / "tokens.json"
    cache = ump_api.TokenCache(str(path), min_lifetime=300, clock=lambda: now[0])
    ump_api.clear_memory_cache()
    cache.put("k", "tok", 1000 + 3599)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    ump_api.clear_memory_cache()
    assert cache.get("k") == "tok"  # from the file
    now[0] = 1000 + 3599 - 299  # less than min_lifetime left
    ump_api.clear_memory_cache()
    assert cache.get("k") is None


def test_token_cache_ignores_a_file_others_can_read(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"k": {"access_token": "tok", "expires_at": 9e12}}))
    os.chmod(path, 0o644)
    ump_api.clear_memory_cache()
    assert ump_api.TokenCache(str(path)).get("k") is None


def test_cache_key_changes_with_the_secret_and_does_not_contain_it():
    a = ump_api.cache_key("https://login", "t", "c", "api://x/.default", "secret-one")
    b = ump_api.cache_key("https://login", "t", "c", "api://x/.default", "secret-two")
    assert a != b and "secret" not in a


def test_ovoc_summary_follows_configurable_paths():
    dev = {"id": 1, "ipAddress": "10.0.0.1", "state": {"s": "Active"}, "apps": {"mgmt": "Connected"}}
    s = summarise(dev, "state.s", "apps.mgmt")
    assert (s["status"], s["management_status"]) == ("Active", "Connected")
    assert dig(dev, "apps.nothing.here") is None


def test_sbc_numbers_from_a_configurable_ini_table():
    from ansible_collections.ump365.upgrade.plugins.module_utils import errors
    from ansible_collections.ump365.upgrade.plugins.module_utils.sbc_api import SbcClient

    client = SbcClient("https://sbc.example", "Admin", "pw")
    nums = client.numbers("DialPlanRule", "Prefix", ini_text=INI)
    assert [n["value"] for n in nums if n["index"] == 1] == ["+44587996[01-20]"]
    assert nums[-1]["dial_plan"] == "PLAN1"
    users = INI + (
        "[ SBCUserInfoTable ]\nFORMAT SBCUserInfoTable_Index = SBCUserInfoTable_LocalUser, SBCUserInfoTable_Username;\n"
        'SBCUserInfoTable 0 = "+4458799701", "u1";\n[ \\SBCUserInfoTable ]\n'
    )
    assert client.numbers("SBCUserInfoTable", "LocalUser", ini_text=users) == [
        {"table": "SBCUserInfoTable", "index": 0, "value": "+4458799701"}
    ]
    # a table or column the INI does not have is an error naming what it has, never an empty list
    with pytest.raises(errors.ValidationError, match=r"no \[ SBCUserInfoTable \] table \(tables: .*DialPlanRule"):
        client.numbers("SBCUserInfoTable", "LocalUser", ini_text=INI)
    with pytest.raises(errors.ValidationError, match=r"no column Number .*Prefix"):
        client.numbers("DialPlanRule", "Number", ini_text=INI)


def test_sbc_locate_numbers_counts_only():
    from ansible_collections.ump365.upgrade.plugins.module_utils.sbc_api import SbcClient

    users = INI + (
        "[ SBCUserInfoTable ]\nFORMAT SBCUserInfoTable_Index = SBCUserInfoTable_LocalUser, SBCUserInfoTable_Password;\n"
        'SBCUserInfoTable 0 = "+4458799701", "s3cret";\nSBCUserInfoTable 1 = "+4458799702", "s3cret";\n'
        "[ \\SBCUserInfoTable ]\n"
    )
    found = SbcClient("https://sbc.example", "Admin", "pw").locate_numbers(["+4458799701", "+4458799702"], users)
    assert found == [{"table": "SBCUserInfoTable", "column": "LocalUser", "matched": 2, "rows": 2}]
    assert "s3cret" not in str(found)
