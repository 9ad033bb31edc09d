"""sbc_user_dids_present: each user's DID UMP holds for the SBC's sites is on the SBC (issue 19 item 1)."""

from __future__ import annotations

import copy

from ansible_collections.ump365.upgrade.plugins.plugin_utils import checks as c
from tests.unit.plugins.plugin_utils.test_checks import FQDN, TARGET, good_post

NAME = "sbc_user_dids_present"


def _post(obs, baseline=None):
    p = {"fqdn": FQDN, "expect_version": TARGET, "ovoc_ip": "10.201.80.4", "baseline": baseline or {}}
    p["policies"] = {}
    return {x["name"]: x for x in c.post_verify_checks(obs, p)}[NAME]


def _baseline(obs):
    return c.baseline_from_checks(c.post_verify_checks(obs, {"fqdn": FQDN, "expect_version": TARGET, "ovoc_ip": "x"}))


def _with_did(obs, did, user="u9@contoso.example"):
    obs = copy.deepcopy(obs)
    obs["user_dids"].append({"customer": "contoso", "user": user, "did": did})
    return obs


def test_a_did_inside_a_range_on_the_sbc_passes():
    res = _post(good_post())
    assert res["status"] == "pass" and "1 user DID(s) on sbc-ump01" in res["observed"]


def test_a_did_missing_on_the_sbc_fails_naming_the_did_and_the_site():
    res = _post(_with_did(good_post(), "+4458799677"))
    assert res["status"] == "fail" and res["blocking"]
    assert res["items"] == ["contoso/main: +4458799677"]
    assert "contoso/main: +4458799677 (u9@contoso.example)" in res["observed"]


def test_a_did_only_in_another_customers_dial_plan_is_missing():
    obs = _with_did(good_post(), "+3120555150")
    obs["sbc_numbers"]["entries"].append({"value": "+3120555[100-199]", "dial_plan": "other-dp", "index": 2})
    assert _post(obs)["items"] == ["contoso/main: +3120555150"]
    obs["sbc_numbers"]["entries"][-1]["dial_plan"] = "dp"
    assert _post(obs)["status"] == "pass"


def test_users_of_customers_without_a_site_on_this_sbc_are_not_compared():
    obs = good_post()
    obs["user_dids"].append({"customer": "fabrikam", "user": "x", "did": "+1999"})
    assert _post(obs)["status"] == "pass"


def test_missing_before_is_pre_existing_missing_after_only_is_a_regression():
    gone = _with_did(good_post(), "+4458799677")
    res = _post(gone, _baseline(gone))
    assert res["baseline"] == "pre-existing" and res["status"] == "warn" and not res["blocking"]
    res = _post(gone, _baseline(good_post()))
    assert res["baseline"] == "regression" and res["status"] == "fail"
    # one more DID missing than before: a regression naming the new one
    both = _with_did(gone, "+4458799688")
    res = _post(both, _baseline(gone))
    assert res["baseline"] == "regression" and res["new_items"] == ["contoso/main: +4458799688"]


def test_numbers_or_dids_that_cannot_be_read_never_pass():
    obs = good_post()
    obs["sbc_numbers"] = {"error": "the SBC's INI has no [ SBCUserInfoTable ] table (tables: DialPlanRule)"}
    res = _post(obs)
    assert res["status"] == "fail" and "no [ SBCUserInfoTable ] table" in res["observed"]
    obs = good_post()
    obs["user_dids"] = {"error": "Invalid object name 'dbo.UserAccount'"}
    res = _post(obs)
    assert res["status"] == "fail" and "UserAccount" in res["observed"]
    obs = good_post()
    obs["user_dids"] = None  # post_verify_user_dids_source: none
    assert _post(obs)["status"] == "skip"
    obs = good_post()
    obs["sbc_numbers"]["entries"] = [{"value": "*", "dial_plan": "dp"}]  # a notation the matcher cannot read
    assert _post(obs)["status"] == "fail"
