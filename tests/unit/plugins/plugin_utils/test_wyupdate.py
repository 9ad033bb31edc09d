"""wyUpdate's check answer, step log, LogReport and result line: parsed on the controller."""

from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.plugin_utils import versions
from ansible_collections.ump365.upgrade.plugins.plugin_utils import wyupdate as wy

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


# wyUpdate's own lines (github wyday/wyupdate, Util/Logger.cs: DateTime.Now.ToString("M/d/yyyy HH:mm:ss:fff tt")
# + ": " + message), as an en-US and a de-DE host write them (de-DE: "." dates, empty AM/PM designator)
EN = "12/7/2026 14:03:27:512 PM: "
EN_AM = "1/15/2027 09:05:01:007 AM: "
DE = "12.7.2026 14:03:27:512 : "
OK = "Updated successfully."
ERR = "The update failed to install."


# ------------------------------------------------------------------ check (frmMain/frmMain.Updating.cs)
def test_check_output_update_available_version_on_line_1_then_the_changes():
    r = wy.parse_check_output("8.0.515\r\nUMP-365 8.0.515\r\n- SysAdminKit 8.0.515\r\n", rc=2)
    assert r["update_available"] is True and r["version"] == "8.0.515" and r["valid"]
    assert r["changes"] == "UMP-365 8.0.515\n- SysAdminKit 8.0.515"


def test_check_output_exit_0_writes_nothing_and_a_stale_file_is_ignored():
    r = wy.parse_check_output("8.0.400.64\r\nold changes\r\n", rc=0)
    assert r["update_available"] is False and r["version"] is None and r["valid"]


def test_check_output_error_title_and_details():
    r = wy.parse_check_output(
        "Unable to check for updates, the server file failed to load.\r\nThe remote server returned an error\r\n", rc=1
    )
    assert not r["valid"] and r["version"] is None
    assert r["error"].startswith("Unable to check") and r["details"] == "The remote server returned an error"


def test_check_output_old_key_value_format_is_not_a_version():
    r = wy.parse_check_output("update_available=true\r\nversion=8.0.515\r\n", rc=2)
    assert not r["valid"] and r["version"] is None and "not a version" in r["error"]


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


@pytest.mark.parametrize("stamp", [EN, EN_AM, DE])
def test_result_line_success_in_either_culture(stamp):
    r = wy.parse_result_log(stamp + OK + "\r\n")
    assert r["result"] == "success" and r["stamp"] == stamp[:-2].strip() and r["count"] == 1


@pytest.mark.parametrize("stamp", [EN, DE])
def test_result_line_error_and_details_after_the_stamp(stamp):
    r = wy.parse_result_log(stamp + ERR + " - files in use: C:\\acs\\x.log\r\n")
    assert r["result"] == "error" and r["error"] == ERR and r["details"] == "files in use: C:\\acs\\x.log"


def test_result_line_multi_line_details_continue_the_line():
    r = wy.parse_result_log(DE + ERR + " - first line\r\nsecond line\r\n")
    assert r["details"] == "first line\nsecond line"


def test_result_line_up_to_date_is_empty_error_and_details():
    assert wy.parse_result_log(EN + " - \r\n")["result"] == "no_update"


def test_result_line_takes_the_last_one_and_skips_earlier_runs():
    text = EN + ERR + " - files in use\r\n" + DE + OK + "\r\n"
    assert wy.parse_result_log(text)["result"] == "success"
    assert wy.parse_result_log(text, skip_results=1)["result"] == "success"
    assert wy.parse_result_log(text, skip_results=2)["result"] is None
    assert wy.parse_result_log(EN + OK + "\r\n" + EN + "x - another instance\r\n")["details"] == "another instance"


def test_result_line_without_a_stamp_is_not_a_result():
    # the lab's former format: no time stamp, so not wyUpdate's line
    r = wy.parse_result_log("Updated successfully.\r\nerror - x\r\n")
    assert r["result"] is None and r["count"] == 0


def test_every_exit_code_has_its_own_message():
    msgs = {rc: wy.exit_message(rc) for rc in range(5)}
    assert len(set(msgs.values())) == 5
    assert "undocumented" in wy.exit_message(9)
    assert wy.exit_message("4", {4: "busy"}) == "busy"
    assert wy.exit_message(None).startswith("wyUpdate did not report")


# ------------------------------------------------------------------ evaluation
def test_evaluate_success():
    r = wy.evaluate_run(0, full_log(), "", DE + OK + "\r\n", host="ump01")
    assert r["ok"] and r["changed"]
    assert r["first_failed"] is None
    assert r["msg"].startswith("ump01: wyUpdate finished (exit 0): 26 of 26 steps")


def test_evaluate_names_the_first_failed_step_with_its_excerpt_and_a_fix():
    r = wy.evaluate_run(
        1,
        full_log(fail_at="InstallRabbitmq", message="download failed: unable to connect to https://x"),
        "ERROR | InstallRabbitmq | download failed: unable to connect to https://x\r\n",
        EN + ERR + " - InstallRabbitmq failed: download failed\r\n",
        host="ump01",
    )
    assert not r["ok"]
    assert r["first_failed"]["name"] == "InstallRabbitmq"
    assert "ump01" in r["msg"] and "step InstallRabbitmq failed" in r["msg"]
    assert "unable to connect" in r["msg"]
    assert "Fix: open outbound HTTP 80" in r["msg"]
    assert "exit 1: wyUpdate ended with an error" in r["msg"]


def test_evaluate_locked_files_without_steps():
    r = wy.evaluate_run(1, "", None, EN + ERR + " - files in use: C:\\acs\\tenants\\a\\logs\\sync.log\r\n", host="h")
    assert not r["ok"]
    assert "files in use" in r["msg"] and "close every file" in r["msg"]


def test_evaluate_another_instance():
    r = wy.evaluate_run(4, "", None, DE + ERR + " - another instance of wyUpdate is running\r\n", host="h")
    assert (
        not r["ok"] and "another wyUpdate instance" in r["msg"] and "wait until the running wyUpdate ends" in r["msg"]
    )


def test_evaluate_truncated_run_with_exit_code_3():
    r = wy.evaluate_run(3, full_log(upto="InstallDotNet"), None, None, host="h")
    assert not r["ok"] and "step InstallDotNet started but did not end" in r["msg"]
    assert "cancelled" in r["msg"]


def test_evaluate_exit_0_but_error_result_line_fails():
    r = wy.evaluate_run(0, full_log(), None, EN + ERR + " - something odd\r\n", host="h")
    assert not r["ok"] and "something odd" in r["msg"]


def test_evaluate_garbled_count_is_reported():
    r = wy.evaluate_run(0, "junk\n" + full_log(), None, EN + OK)
    assert r["ok"] and r["garbled_count"] == 1


# ------------------------------------------------------------------ no silent pass (#18 item 3)
def test_evaluate_exit_0_without_a_result_line_fails():
    r = wy.evaluate_run(0, full_log(), None, "", host="h")
    assert not r["ok"] and "no result line of this run" in r["msg"]
    # an earlier run's success does not count for this one
    r = wy.evaluate_run(0, full_log(), None, EN + OK + "\r\n", host="h", skip_results=1)
    assert not r["ok"] and "1 earlier line(s) skipped" in r["msg"]


def test_evaluate_missing_result_line_accepted_is_a_warning():
    r = wy.evaluate_run(0, full_log(), None, "", host="h", accept_missing_result=True)
    assert r["ok"] and r["accepted"] == ["missing_result_line"] and "WARNING" in r["msg"]


def test_evaluate_no_step_seen_fails_where_a_step_log_is_configured():
    r = wy.evaluate_run(0, "", None, DE + OK + "\r\n", host="h", step_log_path="C:\\acs\\x.log")
    assert not r["ok"] and "none of the 26 steps was seen in C:\\acs\\x.log" in r["msg"]
    r = wy.evaluate_run(0, "", None, DE + OK + "\r\n", host="h", accept_no_steps=True)
    assert r["ok"] and r["accepted"] == ["no_steps_seen"]
    r = wy.evaluate_run(0, "", None, DE + OK + "\r\n", host="h", step_log_configured=False)
    assert r["ok"] and not r["warnings"]


def test_evaluate_nothing_to_install_needs_no_steps():
    r = wy.evaluate_run(0, "", None, EN + " - \r\n", host="h")
    assert r["ok"] and "already up to date" in r["msg"]


def test_versions():
    assert versions.version_cmp("8.0.400.64", "8.0.515") < 0
    assert versions.version_cmp("8.0.515", "8.0.515.0") == 0
    assert versions.version_cmp("8.0.515", "8.0.450") > 0
    assert versions.version_tuple("") == ()


def test_progress_names_the_running_step():
    p = wy.progress(wy.parse_step_log(full_log(upto="InstallDotNet"))["events"])
    assert p["current"] == "InstallDotNet" and p["done"] == 15 and p["total"] == 26
    p = wy.progress(wy.parse_step_log(full_log())["events"])
    assert p["current"] is None and p["done"] == 26


# ------------------------------------------------------------------ the lab's lines, read by the parser
@pytest.mark.parametrize("culture", ["en-US", "de-DE"])
@pytest.mark.parametrize("hour", [0, 9, 12, 23])
def test_the_labs_result_lines_parse_in_every_culture(culture, hour):
    from datetime import datetime, timezone

    ump = pytest.importorskip("umplab.windows.ump")
    seed = pytest.importorskip("umplab.seed")
    state = {
        "os": {"culture": seed.CULTURES[culture], "utc_offset_minutes": 0},
        "ump": {"wyupdate": {"log_time_format": seed.WYUPDATE_LOG_TIME_FORMAT}},
    }
    now = datetime(2026, 1, 5, hour, 7, 9, 45000, tzinfo=timezone.utc)
    ok = ump.wy_log_line(state, OK, now)
    err = ump.wy_log_line(state, ump.WY_UPDATE_ERROR + " - files in use: C:\\acs\\a: b.log", now)
    assert ok.startswith("1%s5%s2026 %02d:07:09:045" % ((seed.CULTURES[culture]["date_separator"],) * 2 + (hour,)))
    assert wy.parse_result_log(ok)["result"] == "success"
    r = wy.parse_result_log(ok + err)
    assert (r["result"], r["error"], r["details"]) == ("error", ump.WY_UPDATE_ERROR, "files in use: C:\\acs\\a: b.log")
