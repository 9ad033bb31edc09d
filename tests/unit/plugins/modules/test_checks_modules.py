"""The checks' modules: bad options fail at the boundary naming the value; answers are normalised."""

from __future__ import annotations

import pytest
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.modules import (
    ovoc_alarm_info,
    ump_script_template_info,
    ump_token_invitation,
)

UMP = {
    "api_url": "https://ump.invalid/tenantui",
    "tenant_id": "t",
    "client_id": "c",
    "client_secret": "Secret-Value-1234",
    "scope": "api://app",
    "token_cache": False,
}
OVOC = {"ovoc_url": "https://ovoc.invalid", "ovoc_username": "u", "ovoc_password": "Ovoc-Secret-1234"}


def test_switch_path_needs_the_guid_placeholder(run_module):
    result, failed = run_module(ump_token_invitation, dict(UMP, customer="a", switch_path="/api/switch"))
    assert failed and "switch_path='/api/switch'" in result["msg"]
    assert "Secret-Value-1234" not in str(result)


def test_invitation_email_is_validated(run_module):
    result, failed = run_module(ump_token_invitation, dict(UMP, customer="a", invitation_email="nobody"))
    assert failed and "invitation_email='nobody'" in result["msg"]


def test_template_path_must_be_absolute(run_module):
    result, failed = run_module(ump_script_template_info, dict(UMP, path="api/x"))
    assert failed and "path='api/x'" in result["msg"]


def test_alarms_path_must_be_absolute(run_module):
    result, failed = run_module(ovoc_alarm_info, dict(OVOC, device_ip="10.0.0.1", alarms_path="alarms"))
    assert failed and "alarms_path='alarms'" in result["msg"]


def test_templates_are_normalised_from_any_wrapping():
    body = {"value": [{"Id": 1, "Name": "Teams", "Kind": "SBC", "Body": "x", "Version": "1"}, "junk"]}
    assert ump_script_template_info.normalise(body) == [
        {"id": 1, "name": "Teams", "kind": "SBC", "version": "1", "body": "x"}
    ]
    assert ump_script_template_info.normalise([{"name": "a", "script": "b"}])[0]["body"] == "b"
    with pytest.raises(errors.RemoteError, match="expected a list"):
        ump_script_template_info.normalise({"unexpected": 1})


def test_alarms_are_normalised():
    a = ovoc_alarm_info.normalise({"alarmId": 3, "severity": "Critical", "textualDescription": "down"}, "severity")
    assert a == {"id": 3, "severity": "Critical", "name": None, "description": "down", "source": None, "date": None}
