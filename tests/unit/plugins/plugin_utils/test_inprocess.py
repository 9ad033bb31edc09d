"""plugin_utils/inprocess.py: a controller module's main() run in this process prints what a module process would."""

from __future__ import annotations

import json

from ansible_collections.ump365.upgrade.plugins.plugin_utils.inprocess import capture_main

MODULE = "ansible_collections.ump365.upgrade.plugins.modules.%s"


def test_exit_json_is_captured_with_rc_0(tmp_path):
    rc, out, err = capture_main(
        MODULE % "checkpoint",
        {"path": str(tmp_path), "host": "ump01", "run_id": "8.0.515", "phase": "snapshot", "status": "done"},
    )
    assert rc == 0, err
    res = json.loads(out)
    assert res["changed"] and "snapshot" in res["done_phases"]
    assert (tmp_path / "ump01__8.0.515.json").exists()


def test_check_mode_and_fail_json(tmp_path):
    rc, out, _err = capture_main(
        MODULE % "checkpoint",
        {"path": str(tmp_path), "host": "ump01", "run_id": "r", "phase": "snapshot", "_ansible_check_mode": True},
    )
    assert rc == 0 and json.loads(out)["changed"] and not list(tmp_path.iterdir())  # nothing written
    rc, out, _err = capture_main(MODULE % "checkpoint", {"host": "ump01"})
    res = json.loads(out)
    assert rc == 1 and res["failed"] and "path" in res["msg"]


def test_no_log_values_are_masked_in_what_is_printed():
    secret = "S3cr3t-never-shown"
    # no server: the module fails, and its invocation (printed with the result) masks the password
    rc, out, _err = capture_main(
        MODULE % "sql_info",
        {"server": "127.0.0.1", "port": 9, "username": "u", "password": secret, "timeout": 1, "retries": 1},
    )
    assert rc == 1 and json.loads(out)["failed"]
    assert secret not in out


def test_an_exception_is_a_module_failure_with_its_traceback():
    rc, out, err = capture_main("json", {})  # a module without main()
    assert rc == 1 and out == "" and "AttributeError" in err
