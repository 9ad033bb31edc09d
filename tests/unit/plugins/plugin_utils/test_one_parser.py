"""One version comparison, one time parser, one egress parser (#21 item 2).

Each test pins a behaviour on which the former copies disagreed; it goes through the caller whose
behaviour changed (checks, app_registration, azure_disk, wyupdate), so it fails on the old copy.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.ump365.upgrade.plugins.module_utils import app_registration as ar
from ansible_collections.ump365.upgrade.plugins.modules import azure_disk
from ansible_collections.ump365.upgrade.plugins.plugin_utils import checks as c
from ansible_collections.ump365.upgrade.plugins.plugin_utils import win_services as svc
from ansible_collections.ump365.upgrade.plugins.plugin_utils import wyupdate as wy
from tests.unit.plugins.plugin_utils.test_checks import good_preflight, run_preflight

UTC = timezone.utc


# ---------------------------------------------------------------- versions
def test_checks_version_matches_a_trailing_zero_build():
    # checks' copy compared tuples without padding: 8.0.450 did not match an expected 8.0.450.0
    assert c.version_matches("8.0.450", "8.0.450.0")
    assert not c.version_matches("8.0.450.12", "8.0.450.0")


def test_checks_empty_version_is_no_version():
    # checks' copy read "" as (0,): any 0.x version "matched" an empty expectation
    assert c.version_tuple("") == ()
    assert not c.version_matches("0.1", "")


def test_preflight_wants_the_target_or_a_build_of_it():
    obs = good_preflight()
    obs["wyupdate"] = {"rc": 2, "info": "8.0.515\r\nUMP-365 8.0.515 release\r\n"}
    assert run_preflight(obs, target_version="8.0.515.0")["wyupdate_update_available"]["status"] == "pass"


# ---------------------------------------------------------------- time
def test_checks_time_keeps_fractions_and_reads_garbage_as_none():
    assert c.parse_time("2026-01-01T00:00:00.5Z") == datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert c.parse_time("yesterday") is None


def test_certificate_with_an_unreadable_expiry_fails_instead_of_raising():
    obs = good_preflight()
    fqdn = "ump01.example.com"
    obs["certificates"] = [{"subject": "CN=" + fqdn, "dns_names": [fqdn], "not_after": "next year"}]
    assert run_preflight(obs)["ssl_certificate"]["status"] == "fail"


def test_preflight_rejects_a_now_that_is_no_time():
    import pytest

    with pytest.raises(ValueError, match="now="):
        run_preflight(good_preflight(), now="noon")


def test_app_registration_reads_a_negative_offset_with_fractions():
    # app_registration's copy split the fraction at "+" only: a "-05:00" offset after a fraction was dropped
    # (10:00 read as 10:00 UTC instead of 15:00 UTC)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    app = {"passwordCredentials": [{"keyId": "k", "endDateTime": "2028-05-23T10:00:00.1234567-05:00"}]}
    got = {x["name"]: x for x in ar.evaluate(app, now=now)}["app_registration_client_secret_expiry"]
    assert got["status"] == "pass", got
    assert "2028-05-23T15:00:00Z" in str(got["observed"]), got


def test_azure_disk_reads_a_date_alone():
    # azure_disk's copy wanted a time of day: created_before=2026-01-01 was no time at all
    assert azure_disk.parse_time("2026-01-01") == datetime(2026, 1, 1, tzinfo=UTC)
    assert azure_disk.parse_time("2026-01-01T10:00:00.1234567+01:00") == datetime(
        2026, 1, 1, 9, 0, 0, 123456, tzinfo=UTC
    )


def test_wyupdate_times_without_offset_stay_local():
    assert wy.parse_time("2026-01-01 10:00:00.1234567") == datetime(2026, 1, 1, 10, 0, 0, 123456)
    assert wy.seconds_between("2026-01-01T10:00:00Z", "2026-01-01T10:00:00") is None
    assert wy.seconds_between("2026-01-01T10:00:00+01:00", "2026-01-01T09:00:30Z") == 30.0


# ---------------------------------------------------------------- the 8.0.450 whitelist
def test_one_whitelist_list_and_version():
    assert list(c.WHITELIST_SERVICES) == list(svc.WHITELIST)
    assert c.WHITELIST_FROM_VERSION == svc.WHITELIST_FROM_VERSION


# ---------------------------------------------------------------- egress: one reading of a win_uri probe
def test_preflight_egress_reads_a_probe_as_the_firewall_does():
    from ansible_collections.ump365.upgrade.plugins.plugin_utils import egress

    results = [
        # win_uri fails a 301 unless status_code lists it; the path is open all the same (firewall: ok)
        {"item": {"key": "a", "value": "https://a/"}, "failed": True, "status_code": 301, "msg": "Status code 301"},
        {
            "item": {"key": "b", "value": "https://b/"},
            "failed": True,
            "status_code": 404,
            "status_description": "Not Found",
        },
        {"item": {"key": "c", "value": "https://c/"}, "skipped": True},
    ]
    rows = {r["name"]: r for r in c.egress_from_uri_results(results)}
    assert rows["a"]["ok"] is True and rows["a"]["error"] is None
    assert rows["b"]["ok"] is False and rows["b"]["error"] == "HTTP 404 Not Found"
    assert rows["c"]["ok"] is False and rows["c"]["error"] == "not probed (check mode or skipped)"
    # the firewall role's report of the same answers agrees
    eps = {"a": "https://a/", "b": "https://b/", "c": "https://c/"}
    targets = egress.probe_targets(eps, "url")
    fw = egress.probe_report(eps, targets, [dict(r, item={"url": r["item"]["value"]}) for r in results])
    assert {x["name"]: x["ok"] for x in fw["rows"]} == {n: rows[n]["ok"] for n in rows}
    assert {x["name"]: x["error"] for x in fw["rows"] if not x["ok"]} == {n: rows[n]["error"] for n in ("b", "c")}
