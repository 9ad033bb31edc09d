from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.module_utils.errors import ValidationError
from ansible_collections.ump365.upgrade.plugins.modules import ump_app_setting as mod


def params(**kw):
    p = {"name": "ApiAllowedIps", "value": None, "members": None, "member_type": "ip", "state": "present"}
    p.update(kw)
    return p


def test_plan_list_add_update_and_no_op():
    action, value, extra = mod.plan(params(members=["10.201.80.4"]), True, '["169.254.0.1"]')
    assert action == "update" and value == '["169.254.0.1","10.201.80.4"]' and extra["added"] == ["10.201.80.4"]
    action = mod.plan(params(members=["10.201.80.4"]), True, value)[0]
    assert action is None


def test_plan_list_on_missing_setting_inserts_only_when_adding():
    assert mod.plan(params(members=["10.0.0.1"]), False, None)[0] == "insert"
    assert mod.plan(params(members=["10.0.0.1"], state="absent"), False, None)[0] is None


def test_plan_value_set_delete_and_read():
    assert mod.plan(params(name="X", value="1"), True, "1")[0] is None
    assert mod.plan(params(name="X", value="2"), True, "1")[0] == "update"
    assert mod.plan(params(name="X", value="2"), False, None)[0] == "insert"
    assert mod.plan(params(name="X", state="absent"), True, "1")[0] == "delete"
    assert mod.plan(params(name="X"), True, "1") == (None, "1", {})


def test_plan_refuses_a_list_edit_of_a_non_list():
    with pytest.raises(ValidationError, match="does not hold a JSON list"):
        mod.plan(params(name="QuickReplicationCycleDelay", members=["1.2.3.4"]), True, "5")


def test_bad_member_fails_before_connecting(run_module, monkeypatch):
    def no_connect(*a, **kw):
        raise AssertionError("must not connect")

    monkeypatch.setattr(mod.SqlClient, "connect", no_connect)
    res, failed = run_module(
        mod,
        {"server": "sql.example", "username": "u", "password": "p", "name": "ApiAllowedIps", "members": ["1.2.3"]},
    )
    assert failed and "'1.2.3' is not a valid IPv4 or IPv6 address" in res["msg"]
