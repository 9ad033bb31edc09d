"""The prefix_lint filter: strings, lists, and clear errors for anything else."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ump365.upgrade.plugins.filter.prefix_lint import FilterModule

prefix_lint = FilterModule().filters()["prefix_lint"]


def test_string_and_list_inputs():
    assert prefix_lint("+4455896552 ; +44587996[01-20]") == []
    findings = prefix_lint(["+44", "+44#"], "ump")
    assert [(f["item"], f["code"]) for f in findings] == [(1, "notation")]


def test_numbers_are_read_as_digits():
    assert prefix_lint(4455896552) == []


def test_none_is_an_empty_prefix():
    assert [f["code"] for f in prefix_lint(None)] == ["empty"]


@pytest.mark.parametrize("value", [{"a": 1}, 1.5, [["+44"]]])
def test_other_types_are_a_filter_error(value):
    with pytest.raises(AnsibleFilterError, match="prefix_lint"):
        prefix_lint(value)


def test_bad_syntax_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="syntax must be one of"):
        prefix_lint("+44", "strict")
