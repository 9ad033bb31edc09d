"""The filters the Windows roles use: wiring, and bad input as a filter error naming the problem."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ump365.upgrade.plugins.filter import windows_roles as f


def test_every_filter_is_registered_and_documented():
    import pathlib

    names = f.FilterModule().filters()
    here = pathlib.Path(f.__file__).parent
    missing = [n for n in names if not (here / f"{n}.yml").exists()]
    assert not missing


def test_bad_input_raises_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="customer_batches: batch size must be at least 1"):
        f.customer_batches(["a"], 0)
    with pytest.raises(AnsibleFilterError, match="sc_failure_command"):
        f.sc_failure_command("bad & name")
    with pytest.raises(AnsibleFilterError, match="egress_targets"):
        f.egress_targets({"x": "not a url"})


def test_wyupdate_report_and_hint():
    r = f.wyupdate_report(
        {"rc": 4, "result_log": "12/7/2026 14:03:27:512 PM: x - another instance of wyUpdate is running\n", "host": "h"}
    )
    assert not r["ok"] and r["msg"].startswith("h: wyUpdate failed (exit 4")
    assert f.wyupdate_hint([{"pattern": "x+", "hint": "do y"}], "axxb") == "do y"
    assert f.wyupdate_hint([{"pattern": "x+", "hint": "do y"}], "abc") is None


def test_services_report_stop():
    after = [{"name": "a", "state": "stopped", "start_mode": "auto", "recovery": None}]
    r = f.services_report(after, "stop", host="h", all_services=[{"name": "a"}], kit_version="8.0.400.64")
    assert r["ok"] and r["table"][0]["after"] == "stopped" and r["whitelist"]["level"] == "warning"


def test_customer_report_in_check_mode_shape():
    r = f.customer_report("", "8.0.515", ["a"], batches_run=[])
    assert r["table"][0]["status"] == "not_run" and not r["ok"]
