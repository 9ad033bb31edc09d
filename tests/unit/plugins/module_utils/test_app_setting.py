from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.module_utils import app_setting as aps
from ansible_collections.ump365.upgrade.plugins.module_utils.errors import ValidationError


def test_present_appends_missing_members_in_order_without_duplicates():
    new, added, removed = aps.edit_list(["169.254.0.1"], ["10.201.80.4", "169.254.0.1", "10.0.0.9"], "present")
    assert new == ["169.254.0.1", "10.201.80.4", "10.0.0.9"]
    assert added == ["10.201.80.4", "10.0.0.9"] and removed == []


def test_present_twice_is_no_change():
    first = aps.edit_list([], ["10.201.80.4"], "present")[0]
    again, added, removed = aps.edit_list(first, ["10.201.80.4"], "present")
    assert again == first and added == [] and removed == []


def test_absent_removes_only_the_members_and_keeps_order():
    new, added, removed = aps.edit_list(["a", "b", "c", "b"], ["b", "z"], "absent")
    assert new == ["a", "c"] and removed == ["b"] and added == []


def test_members_are_validated_and_normalised():
    assert aps.normalize_members([" 10.0.0.1", "10.0.0.1", "FE80::1"], "ip") == ["10.0.0.1", "fe80::1"]
    for bad in ["10.0.0.300", "10.0.0.1/24", "host.example", "", "1.2.3.4:80"]:
        with pytest.raises(ValidationError) as e:
            aps.normalize_members([bad], "ip")
        assert repr(bad) in str(e.value)
    assert aps.normalize_members(["any text"], "string") == ["any text"]


@pytest.mark.parametrize("value,expected", [(None, []), ("", []), ('["1.1.1.1"]', ["1.1.1.1"]), ("[]", [])])
def test_parse_list(value, expected):
    assert aps.parse_list("ApiAllowedIps", value) == expected


@pytest.mark.parametrize("value", ["5", "{}", "not json", '[1, 2]', '"x"', "Lab!secret-value"])
def test_parse_list_refuses_what_is_not_a_json_list_of_strings_without_echoing_it(value):
    with pytest.raises(ValidationError) as e:
        aps.parse_list("Setting", value)
    assert "Setting does not hold a JSON list" in str(e.value)
    assert "Lab!secret-value" not in str(e.value)


def test_dump_list_is_compact_like_ump_writes_it():
    assert aps.dump_list(["169.254.0.1", "10.201.80.4"]) == '["169.254.0.1","10.201.80.4"]'


@pytest.mark.parametrize("name", ["ApiAllowedIps", "CmdTaskRunnerSvc.MaxDegreeOfParallelism", "AuthStatus.ClientId"])
def test_valid_names(name):
    assert aps.validate_name(name) == name


@pytest.mark.parametrize("name", ["", "x'; DROP TABLE t; --", "a b", "1abc", "x" * 129, None])
def test_invalid_names(name):
    with pytest.raises(ValidationError):
        aps.validate_name(name)


def test_secret_names():
    assert aps.is_secret("AuthStatus.ClientSecret") and aps.is_secret("SmtpPassword")
    assert not aps.is_secret("ApiAllowedIps")
