"""post_verify against preflight's baseline: pre-existing conditions are reported, regressions fail (issue 19)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ump365.upgrade.plugins.plugin_utils import checks as c
from tests.unit.plugins.plugin_utils.test_checks import FQDN, TARGET, good_post

POLICIES = {"sysadminkit_version": "block", "script_templates": "warn"}


def _post(obs, baseline=None, policies=None, **params):
    p = {"fqdn": FQDN, "expect_version": TARGET, "ovoc_ip": "10.201.80.4", "baseline": baseline or {}}
    p["policies"] = POLICIES if policies is None else policies
    p.update(params)
    return {x["name"]: x for x in c.post_verify_checks(obs, p)}


def _baseline(obs):
    # preflight computes the same checklist on the host before any change (versions then are the old ones)
    return c.baseline_from_checks(c.post_verify_checks(obs, {"fqdn": FQDN, "expect_version": TARGET, "ovoc_ip": "x"}))


def _disabled_and_unverified():
    obs = good_post()
    obs["customers"].append(copy.deepcopy(obs["customers"][0]))
    obs["customers"][1].update(CustomerShortName="fabrikam", Enabled=False)
    obs["auth_status"]["customers"].append({"customer": "fabrikam", "method": "Password", "last_status": "Failed"})
    return obs


def test_a_condition_already_there_before_is_pre_existing_and_not_blocking():
    before = _disabled_and_unverified()
    after = copy.deepcopy(before)
    res = _post(after, _baseline(before))
    for name in ("customers_enabled", "tenant_admin_auth_verified"):
        assert res[name]["status"] == "warn", res[name]
        assert res[name]["baseline"] == "pre-existing"
        assert res[name]["blocking"] is False
    assert res["customers_enabled"]["items"] == ["fabrikam"]
    assert c.blocking_failures(list(res.values())) == []
    assert {x["name"] for x in c.pre_existing(list(res.values()))} == {
        "customers_enabled",
        "tenant_admin_auth_verified",
    }


def test_a_check_that_passed_before_and_fails_after_is_a_regression():
    before = good_post()
    after = copy.deepcopy(before)
    after["versions"]["customers"][0]["state"] = "Ready"
    res = _post(after, _baseline(before))
    assert res["customers_deployed"]["status"] == "fail"
    assert res["customers_deployed"]["baseline"] == "regression"
    assert [x["name"] for x in c.blocking_failures(list(res.values()))] == ["customers_deployed"]


def test_a_new_item_in_a_check_that_already_failed_is_a_regression():
    before = _disabled_and_unverified()
    after = copy.deepcopy(before)
    after["customers"][0]["Enabled"] = False  # contoso now disabled too
    res = _post(after, _baseline(before))
    assert res["customers_enabled"]["status"] == "fail"
    assert res["customers_enabled"]["baseline"] == "regression"
    assert res["customers_enabled"]["new_items"] == ["contoso"]


def test_no_readable_baseline_blocks():
    before = _disabled_and_unverified()
    before["customers"] = {"error": "ump_api GET failed: 503"}
    res = _post(copy.deepcopy(_disabled_and_unverified()), _baseline(before))
    assert res["customers_enabled"]["status"] == "fail"
    assert res["customers_enabled"]["baseline"] == "no baseline"
    # and none at all (a standalone verify.yml without a checkpoint)
    res = _post(_disabled_and_unverified(), {})
    assert res["customers_enabled"]["status"] == "fail"


def test_policies_are_data():
    before = _disabled_and_unverified()
    after = copy.deepcopy(before)
    # block: a pre-existing failure blocks anyway
    res = _post(after, _baseline(before), {"customers_enabled": "block"})
    assert res["customers_enabled"]["status"] == "fail" and res["customers_enabled"]["policy"] == "block"
    # warn: a regression only warns
    after2 = good_post()
    after2["versions"]["customers"][0]["state"] = "Ready"
    res = _post(after2, _baseline(good_post()), {"customers_deployed": "warn"})
    assert res["customers_deployed"]["status"] == "warn" and res["customers_deployed"]["blocking"] is False
    # the version check blocks even when it failed before (preflight ran at the old version)
    old = good_post(version="8.0.400.64")
    res = _post(old, _baseline(old), {"sysadminkit_version": "block"})
    assert res["sysadminkit_version"]["status"] == "fail"
    with pytest.raises(ValueError, match="policy of check x"):
        c.apply_baseline([], {}, {"x": "ignore"})


def test_pre_existing_critical_alarm_and_a_new_one():
    before = good_post()
    before["ovoc_alarms"] = [{"severity": "Critical", "name": "Disk full", "source": "UMP01", "id": 1}]
    after = copy.deepcopy(before)
    after["ovoc_alarms"][0]["id"] = 7  # raised again: another id, the same alarm
    res = _post(after, _baseline(before))
    assert res["ovoc_alarms"]["baseline"] == "pre-existing" and res["ovoc_alarms"]["status"] == "warn"
    after["ovoc_alarms"].append({"severity": "Critical", "name": "UMP Management Disconnected", "source": "UMP01"})
    res = _post(after, _baseline(before))
    assert res["ovoc_alarms"]["baseline"] == "regression" and res["ovoc_alarms"]["status"] == "fail"


def test_sbc_checks():
    obs = good_post()
    res = _post(obs)
    assert res["sbc_connected"]["status"] == "pass" and res["sbc_dial_plan_present"]["status"] == "pass"
    obs["sbc"]["dial_plan_rules"] = []
    obs["sbcs"][0]["Status"] = "Disconnected"
    res = _post(obs)
    assert res["sbc_connected"]["status"] == "fail" and "Disconnected" in res["sbc_connected"]["observed"]
    assert res["sbc_dial_plan_present"]["items"] == ["contoso/dp: +44"]
    obs["sbc"] = {"error": "sbc GET /api/v1/status failed: connection refused"}
    res = _post(obs)
    assert res["sbc_connected"]["status"] == "fail" and "connection refused" in res["sbc_connected"]["observed"]
    del obs["sbc"]
    assert _post(obs)["sbc_connected"]["status"] == "skip"


def test_settle_pending_names_the_checks_that_wait():
    obs = good_post()
    obs["ovoc"]["management_status"] = "Disconnected"
    obs["licence"] = {"error": "503"}
    res = list(_post(obs).values())
    assert sorted(c.settle_pending(res, ["ovoc_ump_management_connected"])) == [
        "licence_present",
        "ovoc_ump_management_connected",
    ]


def test_api_allowed_ips_without_a_known_ovoc_address_warns_and_guesses_nothing():
    res = _post(good_post(), ovoc_ip="")
    r = res["api_allowed_ips_ovoc"]
    assert r["status"] == "warn" and r["blocking"] is False
    assert "ump_ovoc_ip" in r["fix"] and "169.254.0.1" not in r["expected"]


def test_token_migration_dry_run_and_grant_consent_warn_with_what_to_do():
    status = [
        {
            "customer": "a",
            "method": "Password",
            "state": "no_invitation",
            "invitation_id": None,
            "invitation_email": None,
        },
        {
            "customer": "b",
            "method": "Password",
            "state": "no_invitation",
            "invitation_id": None,
            "invitation_email": None,
        },
        {
            "customer": "c",
            "method": "Password",
            "state": "no_invitation",
            "invitation_id": None,
            "invitation_email": None,
        },
    ]
    res = {x["name"]: x for x in c.token_migration_checks(status, {"a": "dry_run", "b": "grant_consent"})}
    assert res["token_auth_a"]["status"] == "warn" and "dry run" in res["token_auth_a"]["observed"]
    assert "token_migration_confirm" in res["token_auth_a"]["fix"]
    assert res["token_auth_b"]["status"] == "warn" and "Grant Consent" in res["token_auth_b"]["fix"]
    # sent by this run and still without an invitation: a failure, as before
    assert res["token_auth_c"]["status"] == "fail"
