"""wyUpdate's check answer, step log, LogReport and result line: parsed on the controller."""

from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.module_utils import wyupdate as wy

T = "2026-11-23T10:{:02d}:{:02d}Z"


def line(i, step, status, msg=""):
    return f"{T.format(i // 60, i % 60)} | {step} | {status} | {msg}"


def full_log(fail_at=None, upto=None, message="boom"):
    out = []
    i = 0
    for step in wy.GUIDE_STEPS:
        out.append(line(i, step, "START", f"running {step}"))
        i += 3
        if step == fail_at:
            out.append(line(i, step, "FAILED", message))
            break
        if step == upto:
            break
        out.append(line(i, step, "OK", "done"))
        i += 1
    return "\r\n".join(out) + "\r\n"


# ------------------------------------------------------------------ check
def test_check_output_update_available():
    r = wy.parse_check_output("update_available=true\r\nversion=8.0.515\r\n", rc=2)
    assert r == {"update_available": True, "version": "8.0.515", "valid": True}


def test_check_output_up_to_date():
    r = wy.parse_check_output("update_available=false\nversion=8.0.400.64\n", rc=0)
    assert r["update_available"] is False and r["version"] == "8.0.400.64" and r["valid"]


def test_check_output_without_flag_uses_exit_code():
    assert wy.parse_check_output("version=8.0.515", rc=2)["update_available"] is True
    assert wy.parse_check_output("version=8.0.515", rc=0)["update_available"] is False


def test_check_output_unusable_is_not_valid():
    r = wy.parse_check_output("update_available=unknown\nerror=Unable to reach", rc=1)
    assert not r["valid"] and r["version"] is None


def test_check_output_custom_pattern():
    r = wy.parse_check_output("Latest: 8.0.600\n", rc=2, patterns={"check_version": r"^Latest:\s*(?P<value>\S+)$"})
    assert r["version"] == "8.0.600"


def test_pattern_without_named_group_is_rejected():
    with pytest.raises(wy.WyUpdateLogError, match="lacks the named group"):
        wy.parse_check_output("x", patterns={"check_version": r"^version=(\S+)$"})


def test_invalid_pattern_is_rejected_naming_it():
    with pytest.raises(wy.WyUpdateLogError, match="step_line"):
        wy.parse_step_log("x", patterns={"step_line": "(unclosed"})


# ------------------------------------------------------------------ step log
def test_successful_run_gives_one_ok_result_per_step_in_the_guides_order():
    steps = wy.step_results(wy.parse_step_log(full_log())["events"])
    assert [s["name"] for s in steps] == wy.GUIDE_STEPS
    assert {s["status"] for s in steps} == {"ok"}
    assert steps[0]["start"] == "2026-11-23T10:00:00Z" and steps[0]["end"] == "2026-11-23T10:00:03Z"
    assert steps[0]["seconds"] == 3.0


def test_failed_step_and_steps_after_it():
    steps = wy.step_results(wy.parse_step_log(full_log(fail_at="RunSqlScripts", message="timeout on SQL"))["events"])
    by = {s["name"]: s for s in steps}
    assert by["renameSysAdminKitFolder"]["status"] == "ok"
    assert by["RunSqlScripts"]["status"] == "failed"
    assert by["RunSqlScripts"]["error"] == "timeout on SQL"
    assert by["AddAuthPool"]["status"] == "not_run"


def test_truncated_log_leaves_the_last_step_running():
    text = full_log(upto="InstallDotNet")
    text += "2026-11-23T10:59:59Z | InstallDotNet | O"  # cut mid-line
    parsed = wy.parse_step_log(text)
    steps = {s["name"]: s for s in wy.step_results(parsed["events"])}
    assert steps["InstallDotNet"]["status"] == "running"
    assert steps["InstallDotNet"]["end"] is None
    assert steps["InstallRabbitmq"]["status"] == "not_run"
    assert parsed["garbled"] == ["2026-11-23T10:59:59Z | InstallDotNet | O"]


def test_garbled_lines_are_kept_aside_and_do_not_break_parsing():
    text = "\x00\x01binary junk\r\n" + full_log() + "not a log line at all\r\n|||\r\n"
    parsed = wy.parse_step_log(text)
    assert len(parsed["garbled"]) == 3
    assert all(s["status"] == "ok" for s in wy.step_results(parsed["events"]))


def test_empty_or_missing_log():
    assert wy.parse_step_log("")["events"] == []
    assert wy.parse_step_log(None)["events"] == []
    assert all(s["status"] == "not_run" for s in wy.step_results([]))


def test_bytes_with_bom_and_crlf():
    text = ("\ufeff" + full_log()).encode("utf-8")
    assert len(wy.parse_step_log(text)["events"]) == 2 * len(wy.GUIDE_STEPS)


def test_appended_log_keeps_only_the_last_run():
    first = full_log(fail_at="CheckServices", message="SysAdmin services still running")
    second = full_log()
    parsed = wy.parse_step_log(first + second)
    assert parsed["runs"] == 2
    steps = {s["name"]: s for s in wy.step_results(parsed["events"])}
    assert steps["CheckServices"]["status"] == "ok"
    assert steps["CheckServices"]["error"] == ""


def test_rerun_that_fails_earlier_does_not_show_stale_later_steps():
    parsed = wy.parse_step_log(full_log(fail_at="InstallDotNet") + full_log(fail_at="CheckSQLConn"))
    steps = {s["name"]: s for s in wy.step_results(parsed["events"])}
    assert steps["CheckSQLConn"]["status"] == "failed"
    assert steps["InstallChocolatey"]["status"] == "not_run"


def test_lowercase_l_alias_of_the_tap_windows_step():
    text = line(0, "Installtap-windows-9.23.3-l601-Win10", "START") + "\n"
    text += line(5, "Installtap-windows-9.23.3-l601-Win10", "OK", "done") + "\n"
    steps = {s["name"]: s for s in wy.step_results(wy.parse_step_log(text)["events"])}
    assert steps["Installtap-windows-9.23.3-I601-Win10"]["status"] == "ok"


def test_unknown_step_and_status_are_reported_not_dropped():
    text = line(0, "NewVendorStep", "START") + "\n" + line(1, "NewVendorStep", "WARNED", "odd") + "\n"
    steps = wy.step_results(wy.parse_step_log(text)["events"])
    assert steps[-1]["name"] == "NewVendorStep"
    assert steps[-1]["status"] == "unknown"
    assert "odd" in steps[-1]["error"]


def test_fractional_seconds_and_offsets():
    text = (
        "2026-11-23T10:00:00.1234567+00:00 | ClearWyupdateLog | START | x\n"
        "2026-11-23T10:00:02.6234567+00:00 | ClearWyupdateLog | OK | y\n"
    )
    steps = wy.step_results(wy.parse_step_log(text)["events"])
    assert steps[0]["seconds"] == 2.5


def test_custom_status_words():
    text = line(0, "ClearWyupdateLog", "BEGIN") + "\n" + line(1, "ClearWyupdateLog", "DONE") + "\n"
    parsed = wy.parse_step_log(text, status_map={"BEGIN": "start", "DONE": "ok"})
    assert wy.step_results(parsed["events"])[0]["status"] == "ok"


# ------------------------------------------------------------------ LogReport and result line
def test_logreport_errors_join_the_failed_steps_excerpt():
    report = (
        "LogReport\r\nERROR | RunSqlScripts | 006.runsqlscript.exe: Invalid object name 'dbo.X'\r\nINFO | x | y\r\n"
    )
    errors = wy.parse_logreport(report)
    assert errors == [{"step": "RunSqlScripts", "message": "006.runsqlscript.exe: Invalid object name 'dbo.X'"}]
    steps = {
        s["name"]: s
        for s in wy.step_results(wy.parse_step_log(full_log(fail_at="RunSqlScripts"))["events"], logreport=errors)
    }
    assert steps["RunSqlScripts"]["error"] == "boom / 006.runsqlscript.exe: Invalid object name 'dbo.X'"


def test_result_line_takes_the_last_one():
    text = "error - files in use: C:\\acs\\x.log\r\nUpdated successfully.\r\n"
    assert wy.parse_result_log(text)["result"] == "success"
    r = wy.parse_result_log("Updated successfully.\nerror - another instance of wyUpdate is running\n")
    assert r == {"result": "error", "details": "another instance of wyUpdate is running", "line": r["line"]}


def test_every_exit_code_has_its_own_message():
    msgs = {rc: wy.exit_message(rc) for rc in range(5)}
    assert len(set(msgs.values())) == 5
    assert "undocumented" in wy.exit_message(9)
    assert wy.exit_message("4", {4: "busy"}) == "busy"
    assert wy.exit_message(None).startswith("wyUpdate did not report")


# ------------------------------------------------------------------ evaluation
def test_evaluate_success():
    r = wy.evaluate_run(0, full_log(), "", "Updated successfully.\r\n", host="ump01")
    assert r["ok"] and r["changed"]
    assert r["first_failed"] is None
    assert r["msg"].startswith("ump01: wyUpdate finished (exit 0): 26 of 26 steps")


def test_evaluate_names_the_first_failed_step_with_its_excerpt_and_a_fix():
    r = wy.evaluate_run(
        1,
        full_log(fail_at="InstallRabbitmq", message="download failed: unable to connect to https://x"),
        "ERROR | InstallRabbitmq | download failed: unable to connect to https://x\r\n",
        "error - InstallRabbitmq failed: download failed\r\n",
        host="ump01",
    )
    assert not r["ok"]
    assert r["first_failed"]["name"] == "InstallRabbitmq"
    assert "ump01" in r["msg"] and "step InstallRabbitmq failed" in r["msg"]
    assert "unable to connect" in r["msg"]
    assert "Fix: open outbound HTTP 80" in r["msg"]
    assert "exit 1: wyUpdate ended with an error" in r["msg"]


def test_evaluate_locked_files_without_steps():
    r = wy.evaluate_run(1, "", None, "error - files in use: C:\\acs\\tenants\\a\\logs\\sync.log\r\n", host="h")
    assert not r["ok"]
    assert "files in use" in r["msg"] and "close every file" in r["msg"]


def test_evaluate_another_instance():
    r = wy.evaluate_run(4, "", None, "error - another instance of wyUpdate is running\r\n", host="h")
    assert (
        not r["ok"] and "another wyUpdate instance" in r["msg"] and "wait until the running wyUpdate ends" in r["msg"]
    )


def test_evaluate_truncated_run_with_exit_code_3():
    r = wy.evaluate_run(3, full_log(upto="InstallDotNet"), None, None, host="h")
    assert not r["ok"] and "step InstallDotNet started but did not end" in r["msg"]
    assert "cancelled" in r["msg"]


def test_evaluate_exit_0_but_error_result_line_fails():
    r = wy.evaluate_run(0, full_log(), None, "error - something odd\r\n", host="h")
    assert not r["ok"] and "something odd" in r["msg"]


def test_evaluate_garbled_count_is_reported():
    r = wy.evaluate_run(0, "junk\n" + full_log(), None, None)
    assert r["ok"] and r["garbled_count"] == 1


def test_versions():
    assert wy.version_cmp("8.0.400.64", "8.0.515") < 0
    assert wy.version_cmp("8.0.515", "8.0.515.0") == 0
    assert wy.version_cmp("8.0.515", "8.0.450") > 0
    assert wy.version_tuple("") == ()


def test_progress_names_the_running_step():
    p = wy.progress(wy.parse_step_log(full_log(upto="InstallDotNet"))["events"])
    assert p["current"] == "InstallDotNet" and p["done"] == 15 and p["total"] == 26
    p = wy.progress(wy.parse_step_log(full_log())["events"])
    assert p["current"] is None and p["done"] == 26
