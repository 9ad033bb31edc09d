"""The dial-plan prefix linter: the upgrade guide's own examples, the SBC syntax, and arbitrary text."""

from __future__ import annotations

import pytest
from ansible_collections.ump365.upgrade.plugins.module_utils import prefix
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def codes(text, syntax="ump"):
    return [f["code"] for f in prefix.lint(text, syntax)]


@pytest.mark.parametrize(
    "text", ["+4455896552", "+44587996[01-20]", "+4455896552 ; +44587996[01-20]", "4420", "+1[0-9]"]
)
def test_the_guides_examples_pass_the_ump_rule(text):
    assert prefix.lint(text, "ump") == []
    assert prefix.lint(text, "sbc") == []


@pytest.mark.parametrize("notation", ["x", "n", "z", "#", "X", "N", "Z"])
def test_notation_fails_the_ump_rule_with_its_position(notation):
    text = "+4455896" + notation + "52"
    findings = prefix.lint(text, "ump")
    assert [f["code"] for f in findings] == ["notation"]
    assert findings[0]["position"] == 8
    assert findings[0]["entry"] == text
    assert "x, n, z and #" in findings[0]["why"]


def test_notation_is_fine_for_the_sbc_syntax():
    assert prefix.lint("+4455x", "sbc") == []
    assert prefix.lint("0z.", "sbc") == []
    assert prefix.lint("5n#", "sbc") == []
    assert prefix.lint("*", "sbc") == []
    assert prefix.lint("+44[100-199,250](x)", "sbc") == []


def test_unequal_digit_counts_in_a_range_fail_both_rules():
    for syntax in ("ump", "sbc"):
        findings = prefix.lint("+44587996[1-200]", syntax)
        assert [f["code"] for f in findings] == ["range_digit_count"]
        assert findings[0]["position"] == 10
        assert "'1' and '200'" in findings[0]["why"]


def test_entries_are_split_on_semicolons_with_positions_in_the_whole_string():
    findings = prefix.lint("+4455896552 ; +44x ;+1[1-200]", "ump")
    assert [(f["index"], f["code"], f["position"]) for f in findings] == [
        (1, "notation", 17),
        (2, "range_digit_count", 23),
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("+44;;+45", "empty_entry"),
        ("+", "no_digits"),
        ("44+5", "plus_position"),
        ("+44[01-20", "unclosed_bracket"),
        ("+44]", "stray_bracket"),
        ("+44[20-01]", "range_order"),
        ("+44[]", "empty_brackets"),
        ("+44[01,02]", "bracket_list"),
        ("+44[0a-20]", "bracket_character"),
        ("+44 55", "character"),
        ("*", "character"),
    ],
)
def test_ump_rule_findings(text, code):
    assert code in codes(text, "ump")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("44*", "star_position"),
        ("4#4", "hash_position"),
        (".4", "repeat_position"),
        ("4(5", "parenthesis_position"),
        ("45)", "stray_parenthesis"),
        ("+44[1,22]", "bracket_digit_count"),
        ("+44?", "character"),
    ],
)
def test_sbc_syntax_findings(text, code):
    assert code in codes(text, "sbc")


def test_both_labels_each_finding_with_its_rule():
    findings = prefix.lint("+44x", "both")
    assert [f["rule"] for f in findings] == ["ump"]
    findings = prefix.lint("+4*4", "both")
    assert sorted(f["rule"] for f in findings) == ["sbc", "ump"]


def test_lint_many_records_the_list_index():
    findings = prefix.lint_many(["+44", "+44x", None], "ump")
    assert [(f["item"], f["code"]) for f in findings] == [(1, "notation"), (2, "empty")]


def test_unknown_syntax_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="'bogus'"):
        prefix.lint("+44", "bogus")


FINDING_KEYS = {"entry", "index", "position", "column", "rule", "code", "why"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(), st.sampled_from(prefix.SYNTAXES))
def test_never_raises_on_arbitrary_text(text, syntax):
    findings = prefix.lint(text, syntax)
    for f in findings:
        assert set(f) == FINDING_KEYS
        assert 0 <= f["position"] <= max(len(text), 0)
        assert f["rule"] in ("ump", "sbc")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+[]-,;xnz#*.() ", max_size=40), st.sampled_from(prefix.SYNTAXES))
def test_never_raises_on_prefix_like_text(text, syntax):
    for f in prefix.lint(text, syntax):
        assert f["position"] <= len(text)
        # the position points into the entry it names
        if f["entry"]:
            assert text[f["position"] - f["column"] :].startswith(f["entry"])


@settings(max_examples=200, deadline=None)
@given(
    st.booleans(),
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.integers(min_value=1, max_value=4).flatmap(
        lambda w: st.tuples(st.integers(0, 10**w - 1), st.integers(0, 10**w - 1), st.just(w))
    ),
)
def test_well_formed_ump_prefixes_always_pass(plus, digits, bounds):
    low, high, width = bounds
    low, high = sorted((low, high))
    text = ("+" if plus else "") + digits + "[%0*d-%0*d]" % (width, low, width, high)
    assert prefix.lint(text, "ump") == []
    assert prefix.lint(text, "sbc") == []


@pytest.mark.parametrize(
    "entry,number,ok",
    [
        ("+44587996[01-20]", "+4458799601", True),
        ("+44587996[01-20]", "+4458799620", True),
        ("+44587996[01-20]", "+4458799600", False),
        ("+44587996[01-20]", "+445879960", False),
        ("+44587996[01-20]", "+445879960100", False),
        ("+4455896552", "+44 5589 6552", True),
        ("+4455896552", "4455896552", True),
        ("4455896552", "+4455896552", True),
        ("+3120555[100-199,250]", "+3120555250", True),
        ("+44x", "+445", True),
        ("+44n", "+441", False),
        ("+4455896552#", "+4455896552", True),
        ("*", "+4455896552", False),
        ("+44x.", "+4455896552", False),
        ("", "+44", False),
    ],
)
def test_covers_the_whole_number(entry, number, ok):
    assert prefix.covers(entry, number) is ok
