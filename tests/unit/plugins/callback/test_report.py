"""The run report callback fed with synthetic events: JSON (schema), JUnit, HTML, secrets, progress."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from ansible.executor.task_result import censor_result
from ansible_collections.ump365.upgrade.plugins.callback import report as rp

REPO = Path(__file__).resolve().parents[4]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())
SECRET = "Lab!S3cr3t-value-for-tests"
T0 = 1_800_000_000.0

try:
    import jsonschema
except ImportError:  # the small hand-written check below stands in
    jsonschema = None


# ---------------------------------------------------------------------- fakes of Ansible's objects
class FakeDisplay:
    verbosity = 0

    def __init__(self):
        self.lines: list[str] = []
        self.warnings: list[str] = []

    def display(self, msg, **kwargs):
        self.lines.append(msg)

    def warning(self, msg, **kwargs):
        self.warnings.append(msg)

    def vvv(self, msg, **kwargs):
        pass


class FakeRole:
    def __init__(self, name):
        self._role_name = name

    def get_name(self):
        return self._role_name


class FakeTask:
    """Only the public Task API the callback may use: ``tags``, ``get_name()``, ``get_path()``."""

    def __init__(self, name, role=None, tags=()):
        self.name = name
        self.role = role.get_name() if isinstance(role, FakeRole) else role
        self.tags = list(tags)

    def get_name(self):
        return self.name

    def get_path(self):
        if not self.role:
            return "/srv/project/playbooks/upgrade.yml:12"
        ns, _sep, name = self.role.rpartition(".")
        base = "/c/ansible_collections/%s/roles" % ns.replace(".", "/") if ns else "/srv/project/roles"
        return "%s/%s/tasks/main.yml:7" % (base, name)


class FakeHost:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeResult:
    def __init__(self, host, task, result):
        self.host = FakeHost(host)
        self.task = task
        self.result = result


class FakeStats:
    def __init__(self, summaries):
        self.processed = dict.fromkeys(summaries, 1)
        self._s = summaries

    def summarize(self, host):
        base = dict.fromkeys(("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored"), 0)
        base.update(self._s[host])
        return base


class FakeVM:
    """VariableManager.get_vars() as the callback may call it: raw variables, magic ones included."""

    def __init__(self, host_vars, play_vars):
        self.host_vars = host_vars
        self.play_vars = play_vars

    def play_hosts_all(self):
        return list(self.host_vars)

    def get_vars(self, play=None, host=None, **kwargs):
        v = dict(self.play_vars, ansible_play_hosts_all=self.play_hosts_all())
        if host is not None:
            v.update(self.host_vars[host.get_name()])
        return v


class FakePlay:
    hosts = "all"
    check_mode = False
    _loader = None

    def __init__(self, vm):
        self.vm = vm

    def get_variable_manager(self):
        return self.vm


class Clock:
    def __init__(self):
        self.t = T0

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(rp.time, "time", c)
    return c


def make_callback(tmp_path, monkeypatch, **env):
    monkeypatch.setenv("UMP365_REPORT_DIR", str(tmp_path))
    cb = rp.CallbackModule(display=FakeDisplay())
    opts = dict(rp.DEFAULTS, dir=str(tmp_path), run_id="run1", heartbeat=0)
    opts.update(env)
    cb._opt = lambda name: opts[name]
    return cb


def run_task(cb, clock, host, task, status="ok", result=None, seconds=10.0, ignore_errors=False, args=None):
    cb.v2_runner_on_start(FakeHost(host), task)
    clock.t += seconds
    r = FakeResult(host, task, dict(result or {}))
    r.task_fields = {"args": dict(args or {})}  # TaskResult.task_fields: the args the worker resolved
    if status == "failed":
        cb.v2_runner_on_failed(r, ignore_errors=ignore_errors)
    elif status == "skipped":
        cb.v2_runner_on_skipped(r)
    elif status == "unreachable":
        cb.v2_runner_on_unreachable(r)
    else:
        cb.v2_runner_on_ok(r)


def validate(data):
    if jsonschema is not None:
        jsonschema.validate(data, SCHEMA)
        return
    # hand-written subset of docs/report.schema.json
    for key in SCHEMA["required"]:
        assert key in data, key
    for h in data["hosts"].values():
        assert h["final_state"] in SCHEMA["$defs"]["final_state"]["enum"]
        for c in h["checks"]:
            assert c["status"] in ("pass", "warn", "fail", "skip")


CHECKS = [
    {"name": "disk_space", "status": "pass", "observed": "61 GB", "expected": ">= 20 GB", "fix": None},
    {"name": "certificate", "status": "warn", "observed": "20 days", "expected": "> 30 days", "fix": "renew it"},
]


def fleet_run(cb, clock):
    """ump01 upgraded, ump02 rolled back, ump03 stopped in preflight, ump04 failed in wyupdate."""
    cb.v2_playbook_on_start(type("PB", (), {"_file_name": "/x/playbooks/upgrade.yml"})())
    cb.v2_playbook_on_play_start(FakePlay(FakeVM({h: {} for h in ("ump01", "ump02", "ump03", "ump04")}, {})))
    for host in ("ump01", "ump02", "ump03", "ump04"):
        checks = CHECKS
        if host == "ump03":
            checks = [
                *CHECKS,
                {
                    "name": "collation",
                    "status": "fail",
                    "observed": "Latin1_General_CI_AS",
                    "expected": "SQL_Latin1_General_CP1_CI_AS",
                    "fix": "change the collation",
                },
            ]
        run_task(
            cb,
            clock,
            host,
            FakeTask("checks", "ump365.upgrade.preflight"),
            result={"ump_checks": checks, "ump_versions": {"before": "8.0.400.64"}},
        )
        if host == "ump03":
            run_task(
                cb,
                clock,
                host,
                FakeTask("gate", "ump365.upgrade.preflight"),
                "failed",
                {"msg": "blocking check collation failed"},
            )
            continue
        run_task(cb, clock, host, FakeTask("snapshot", "snapshot"), result={"changed": True}, seconds=300)
        run_task(cb, clock, host, FakeTask("stop", "services", tags=["phase_services_stop"]), result={"changed": True})
        steps = [{"name": "StopServices", "status": "ok"}, {"name": "InstallDotNet", "status": "ok"}]
        if host == "ump02":
            steps[1]["status"] = "failed"
        run_task(
            cb,
            clock,
            host,
            FakeTask("wyupdate", "wyupdate_steps"),
            "failed" if host in ("ump02", "ump04") else "ok",
            {
                "changed": True,
                "ump_wyupdate_steps": steps,
                "msg": "step InstallDotNet failed (exit 1603)",
                "attempts": 2,
                "retries": [{"attempt": 1, "error": "429", "delay": 1.0}],
            },
            seconds=1200,
        )
        if host == "ump04":
            continue
        if host == "ump02":
            run_task(
                cb,
                clock,
                host,
                FakeTask("swap", "swap_os_disk"),
                result={
                    "changed": True,
                    "ump_rollback": {
                        "reason": "wyUpdate step InstallDotNet failed",
                        "snapshot": "snap-ump02",
                        "result": "restored",
                    },
                },
                seconds=400,
            )
            continue
        run_task(
            cb,
            clock,
            host,
            FakeTask("customers", "customer_upgrade"),
            result={"changed": True, "ump_customers": [{"name": "contoso01", "status": "UpToDate"}]},
        )
        run_task(
            cb, clock, host, FakeTask("start", "services", tags=["phase_services_start"]), result={"changed": True}
        )
        run_task(
            cb,
            clock,
            host,
            FakeTask("verify", "post_verify"),
            result={
                "ump_checks": [
                    {"name": "ovoc_device", "status": "pass", "observed": "Active", "expected": "Active", "fix": None}
                ],
                "ump_versions": {"after": "8.0.515"},
            },
        )
    clock.t += 1
    cb.v2_playbook_on_stats(
        FakeStats(
            {
                "ump01": {"ok": 8, "changed": 6},
                "ump02": {"ok": 4, "rescued": 1},
                "ump03": {"ok": 1, "failures": 1},
                "ump04": {"ok": 3, "failures": 1},
            }
        )
    )
    return json.loads(Path(cb.paths["json"]).read_text())


def test_fleet_report_is_valid_and_names_each_hosts_final_state(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    data = fleet_run(cb, clock)
    validate(data)
    assert sorted(os.listdir(tmp_path)) == ["run1.html", "run1.json", "run1.junit.xml"]
    states = {h: d["final_state"] for h, d in data["hosts"].items()}
    assert states == {"ump01": "upgraded", "ump02": "rolled_back", "ump03": "stopped_before_change", "ump04": "failed"}
    assert data["result"] == "failed"
    u1 = data["hosts"]["ump01"]
    assert [p["name"] for p in u1["phases"]] == [
        "preflight",
        "snapshot",
        "services_stop",
        "wyupdate",
        "customer_upgrade",
        "services_start",
        "post_verify",
    ]
    assert u1["versions"] == {"before": "8.0.400.64", "after": "8.0.515"}
    assert u1["phases"][1]["duration_s"] == 300
    assert u1["customers"] == [{"name": "contoso01", "status": "UpToDate"}]
    assert {c["name"]: c["phase"] for c in u1["checks"]}["ovoc_device"] == "post_verify"
    assert u1["retries"][0]["attempts"] == 2 and u1["retries"][0]["client_retries"][0]["error"] == "429"
    u2 = data["hosts"]["ump02"]
    assert u2["rollback"]["reason"] == "wyUpdate step InstallDotNet failed"
    assert u2["phases"][-1]["name"] == "rollback"
    assert u2["wyupdate_steps"][1] == {"name": "InstallDotNet", "status": "failed"}
    u3 = data["hosts"]["ump03"]
    assert "collation" in u3["final_state_reason"]
    assert u3["failures"][0]["msg"] == "blocking check collation failed"
    assert data["totals"]["states"] == {"upgraded": 1, "rolled_back": 1, "stopped_before_change": 1, "failed": 1}
    assert data["totals"]["checks"]["fail"] == 1
    assert any("run1.json" in line for line in cb._display.lines)


def test_a_broken_report_fails_the_schema():
    # pinned in requirements/constraints.txt: a missing jsonschema is a broken environment, not a skip
    assert jsonschema is not None, "jsonschema is not installed (requirements/constraints.txt pins it)"
    bad = {
        "schema_version": 1,
        "run_id": "x",
        "playbook": "",
        "check_mode": False,
        "started": "2026-01-01T00:00:00.000Z",
        "ended": "2026-01-01T00:00:00.000Z",
        "duration_s": 0,
        "result": "passed",
        "phase_order": [],
        "totals": {"hosts": 0, "states": {}, "checks": {}},
        "hosts": {},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_junit_has_one_suite_per_host_and_a_case_per_phase_and_check(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    data = fleet_run(cb, clock)
    root = ET.parse(cb.paths["junit.xml"]).getroot()
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert sorted(suites) == ["ump01", "ump02", "ump03", "ump04"]
    for host, suite in suites.items():
        h = data["hosts"][host]
        cases = suite.findall("testcase")
        assert len(cases) == len(h["phases"]) + len(h["checks"]) == int(suite.get("tests"))
    u3 = suites["ump03"]
    failed = [c for c in u3.findall("testcase") if c.find("failure") is not None]
    assert {(c.get("classname"), c.get("name")) for c in failed} == {
        ("ump03.preflight.checks", "collation"),
        ("ump03.phases", "preflight"),
    }
    assert u3.get("failures") == "2"
    warn = next(c for c in suites["ump01"].findall("testcase") if c.get("name") == "certificate")
    assert warn.find("system-out").text.startswith("WARN")
    assert int(root.get("failures")) == sum(int(s.get("failures")) for s in suites.values())


class HTMLCheck(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[str] = []
        self.bars: list[tuple[str, str]] = []
        self.external: list[str] = []
        self.tags: list[str] = []
        self._row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith("#"):
                self.external.append(a[key])
        if tag in ("script", "link", "img", "iframe"):
            self.external.append(tag)
        if a.get("data-host"):
            self._row = a["data-host"]
            self.rows.append(self._row)
        if a.get("data-phase"):
            self.bars.append((self._row, a["data-phase"]))


def test_html_is_self_contained_with_a_timeline_row_per_host(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    data = fleet_run(cb, clock)
    text = Path(cb.paths["html"]).read_text()
    p = HTMLCheck()
    p.feed(text)
    assert p.external == []
    assert p.rows == ["ump01", "ump02", "ump03", "ump04"]
    assert [b for h, b in p.bars if h == "ump02"] == [x["name"] for x in data["hosts"]["ump02"]["phases"]]
    assert "stopped_before_change" in text and "InstallDotNet" in text
    attention = text.split('id="attention"')[1].split("<h2")[0]
    assert "collation" in attention and "change the collation" in attention and "blocking check" in attention
    assert "disk_space" not in attention  # passed checks are not in "Needs attention"
    assert text.count("<h3>Checks</h3>") == 4 and text.count("<h3>Rollback</h3>") == 4


def test_html_opens_in_headless_chromium(tmp_path, monkeypatch, clock):
    chromium = "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip("no headless browser here: /usr/bin/chromium does not exist")
    cb = make_callback(tmp_path, monkeypatch)
    fleet_run(cb, clock)
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + cb.paths["html"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert 'data-host="ump02"' in out.stdout


def test_phase_is_the_tag_else_the_role_else_other():
    assert rp.task_phase(FakeTask("t", "ump365.upgrade.preflight")) == "preflight"
    # a role's tasks included by another role carry the includer's phase tag (roles/upgrade/tasks/phase.yml)
    assert rp.task_phase(FakeTask("t", "firewall", tags=["always", "phase_preflight"])) == "preflight"
    assert rp.task_phase(FakeTask("t", "services", tags=["phase_services_stop", "always"])) == "services_stop"
    assert rp.task_phase(FakeTask("t", "ump365.upgrade.wyupdate_steps")) == "wyupdate"
    assert rp.task_phase(FakeTask("t", "swap_os_disk")) == "rollback"
    assert rp.task_phase(FakeTask("t", None, tags=["phase_"])) == "other"


def test_same_check_again_replaces_the_earlier_result(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    task = FakeTask("checks", "preflight")
    run_task(cb, clock, "ump01", task, result={"ansible_facts": {"ump_checks": CHECKS[:1]}})
    later = [dict(CHECKS[0], status="fail"), CHECKS[1], {"name": "weird", "status": "meh"}]
    run_task(cb, clock, "ump01", task, result={"ansible_facts": {"ump_checks": later}})
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"ok": 2}}))
    data = json.loads(Path(cb.paths["json"]).read_text())
    validate(data)
    checks = {c["name"]: c for c in data["hosts"]["ump01"]["checks"]}
    assert checks["disk_space"]["status"] == "fail" and len(checks) == 3
    assert checks["weird"]["status"] == "fail" and "unknown status" in checks["weird"]["fix"]


def test_secret_named_variables_and_keys_never_reach_the_files(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    vm = FakeVM({"ump01": {"ump_fqdn": "ump01.lab"}}, {"warn_days": 60, "short_key": "abc"})
    cb.v2_playbook_on_start(type("PB", (), {"_file_name": "verify.yml"})())
    cb.v2_playbook_on_play_start(FakePlay(vm))
    # the values reach the callback only as arguments the tasks ran with (already resolved by the worker)
    run_task(cb, clock, "ump01", FakeTask("snap", "snapshot"), args={"secret": SECRET, "subscription_id": "sub-1"})
    run_task(cb, clock, "ump01", FakeTask("svc", "services"), args={"name": "x", "password": "Pw-" + SECRET})
    run_task(
        cb, clock, "ump01", FakeTask("api", "post_verify"), args={"auth": {"api": {"client_token": "Tok-" + SECRET}}}
    )
    run_task(
        cb,
        clock,
        "ump01",
        FakeTask("leaky", "post_verify"),
        "failed",
        {
            "msg": "login with %s failed; token Tok-%s; pw Pw-%s" % (SECRET, SECRET, SECRET),
            "ump_checks": [
                {
                    "name": "auth",
                    "status": "fail",
                    "observed": {"client_secret": "visible?", "token_count": 3},
                    "expected": "abc",
                    "fix": "rotate " + SECRET,
                }
            ],
            "ansible_facts": {"graph_password": "FactSecret-123456"},
        },
    )
    run_task(cb, clock, "ump01", FakeTask("later", "post_verify"), result={"msg": "again FactSecret-123456"})
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"failures": 1}}))
    for path in cb.paths.values():
        text = Path(path).read_text()
        assert SECRET not in text and "FactSecret-123456" not in text and "visible?" not in text, path
    data = json.loads(Path(cb.paths["json"]).read_text())
    h = data["hosts"]["ump01"]
    assert h["failures"][0]["msg"] == "login with ******** failed; token ********; pw ********"
    assert h["checks"][0]["observed"] == {"client_secret": "********", "token_count": 3}
    assert h["checks"][0]["expected"] == "abc"  # shorter than secret_min_length: not searched in text


def test_the_callback_never_templates_a_variable(tmp_path, monkeypatch, clock):
    """A secret-named inventory variable that no task resolved is neither templated nor learnt; the
    inventory's ump_report_dir is read as it is written."""
    cb = make_callback(tmp_path, monkeypatch)

    read = []

    class Watched(str):
        def __str__(self):  # a vaulted value decrypts on str(): the callback must never ask
            read.append(True)
            return "decrypted-secret-value"

    vm = FakeVM(
        {"ump01": {"ump_sql_password": Watched("{{ lookup('ansible.builtin.pipe', 'touch x') }}")}},
        {"ump_api_client_secret": Watched("vaulted")},
    )
    cb.v2_playbook_on_play_start(FakePlay(vm))
    run_task(cb, clock, "ump01", FakeTask("p", "preflight"), result={"msg": "ok"})
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"ok": 1}}))
    assert read == [] and cb.report.scrubber.values == set()


def test_secret_option_names_cover_every_no_log_option_of_the_collection():
    """report_secrets.SECRET_OPTIONS lists every option a module or action plugin declares no_log=True."""
    import ast

    from ansible_collections.ump365.upgrade.plugins.plugin_utils.report_secrets import SECRET_OPTIONS

    def no_log(call):
        return isinstance(call, ast.Call) and any(
            k.arg == "no_log" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords
        )

    found = set()
    for path in (REPO / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                found.update(kw.arg for kw in node.keywords if kw.arg and no_log(kw.value))
            if isinstance(node, ast.Dict):
                found.update(
                    k.value
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and no_log(v)
                )
    assert found, "no no_log option found: the scan is broken"
    assert found <= SECRET_OPTIONS, sorted(found - SECRET_OPTIONS)


def test_no_log_results_arrive_censored(tmp_path, monkeypatch, clock):
    """Ansible censors a no_log task's result before callbacks get it; the report keeps only that."""
    cb = make_callback(tmp_path, monkeypatch)
    raw = {"msg": "secret " + SECRET, "failed": True, "ump_checks": [{"name": "x", "status": "fail"}]}
    run_task(cb, clock, "ump01", FakeTask("hidden", "preflight"), "failed", censor_result(raw))
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"failures": 1}}))
    text = Path(cb.paths["json"]).read_text()
    assert SECRET not in text
    data = json.loads(text)
    assert "no_log" in data["hosts"]["ump01"]["failures"][0]["msg"]
    assert data["hosts"]["ump01"]["checks"] == []


def test_retry_and_async_progress_lines_are_scrubbed(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    cb.report = None
    cb._ensure_report("upgrade.yml").scrubber.add(SECRET)
    task = FakeTask("wait for the snapshot", "snapshot")
    cb.v2_runner_on_start(FakeHost("ump01"), task)
    clock.t += 125
    cb.v2_runner_retry(
        FakeResult("ump01", task, {"attempts": 2, "retries": 31, "ump_progress": "snapshot 40%% %s" % SECRET})
    )
    cb.v2_runner_on_async_poll(FakeResult("ump01", task, {"ansible_job_id": "j1.2"}))
    lines = cb._display.lines
    assert lines[0] == (
        "[ump365 progress] ump01 | snapshot | wait for the snapshot: attempt 2/31, 2m05s elapsed"
        " | snapshot 40% ********"
    )
    assert "async job j1.2 still running, 2m05s elapsed" in lines[1]
    assert cb.heartbeat(60) == ["still running: snapshot | wait for the snapshot on ump01, 2m05s elapsed"]
    assert cb.heartbeat(600) == []
    cb._opt = lambda name: False if name == "progress" else rp.DEFAULTS[name]
    cb.v2_runner_on_async_poll(FakeResult("ump01", task, {"ansible_job_id": "j1.2"}))
    assert len(cb._display.lines) == 3


def test_check_mode_run_is_unchanged(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    play = FakePlay(FakeVM({"ump01": {}}, {}))
    play.check_mode = True
    cb.v2_playbook_on_play_start(play)
    run_task(cb, clock, "ump01", FakeTask("stop", "services", tags=["phase_services_stop"]), result={"changed": True})
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"ok": 1, "changed": 1}}))
    data = json.loads(Path(cb.paths["json"]).read_text())
    assert data["check_mode"] is True and data["hosts"]["ump01"]["final_state"] == "unchanged"


def test_final_state_set_by_a_task_wins_and_failed_rollback_is_failed(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    run_task(cb, clock, "a", FakeTask("p", "preflight"), result={"ump_final_state": "stopped_before_change"})
    run_task(cb, clock, "b", FakeTask("swap", "swap_os_disk"), "failed", {"msg": "disk swap failed"})
    run_task(cb, clock, "c", FakeTask("u", None), "unreachable", {"msg": "WinRM timed out"})
    cb.v2_playbook_on_stats(FakeStats({"a": {"ok": 1}, "b": {"failures": 1}, "c": {"unreachable": 1}}))
    data = json.loads(Path(cb.paths["json"]).read_text())
    validate(data)
    assert data["hosts"]["a"]["final_state"] == "stopped_before_change"
    assert data["hosts"]["b"]["final_state"] == "failed"
    assert data["hosts"]["c"]["final_state"] == "stopped_before_change"
    junit = ET.parse(cb.paths["junit.xml"]).getroot()
    c = next(s for s in junit.findall("testsuite") if s.get("name") == "c")
    assert c.get("errors") == "1"


def test_unwritable_report_dir_warns_instead_of_failing_the_run(tmp_path, monkeypatch, clock):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cb = make_callback(tmp_path, monkeypatch, dir=str(blocker / "sub"))
    run_task(cb, clock, "a", FakeTask("p", "preflight"))
    cb.v2_playbook_on_stats(FakeStats({"a": {"ok": 1}}))
    assert cb.paths is None and "could not write" in cb._display.warnings[0]


def test_default_run_id_is_playbook_and_utc_time(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch, run_id=None)
    cb.v2_playbook_on_start(type("PB", (), {"_file_name": "/p/playbooks/verify.yml"})())
    assert cb.report.run_id == "verify-20270115T080000Z"


def test_inventory_report_dir_is_used_when_the_option_is_not_set(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path / "from-option", monkeypatch)
    vm = FakeVM({"ump01": {"ump_report_dir": str(tmp_path / "from-inventory")}}, {})
    cb.v2_playbook_on_play_start(FakePlay(vm))
    run_task(cb, clock, "ump01", FakeTask("p", "preflight"))
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"ok": 1}}))
    assert cb.paths["json"] == str(tmp_path / "from-inventory" / "run1.json")
    cb2 = make_callback(tmp_path / "from-option", monkeypatch)
    cb2.get_option_and_origin = lambda name: (str(tmp_path / "from-option"), "env: UMP365_REPORT_DIR")
    cb2.v2_playbook_on_play_start(FakePlay(vm))
    cb2.v2_playbook_on_stats(FakeStats({"ump01": {"ok": 1}}))
    assert cb2.paths["json"] == str(tmp_path / "from-option" / "run1.json")


def test_a_failed_loop_names_its_failed_items(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    result = {
        "msg": "One or more items failed",
        "results": [
            {"item": "contoso01", "failed": False},
            {"item": "fabrikam01", "failed": True, "msg": "customer upgrade timed out"},
            {"_ansible_item_label": "northwind01", "failed": True, "censored": "hidden (no_log)"},
        ],
    }
    run_task(cb, clock, "ump01", FakeTask("customers", "customer_upgrade"), "failed", result)
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"failures": 1}}))
    failure = json.loads(Path(cb.paths["json"]).read_text())["hosts"]["ump01"]["failures"][0]
    assert failure["msg"] == (
        "One or more items failed (fabrikam01: customer upgrade timed out; northwind01: hidden (no_log))"
    )


def test_an_accumulated_checks_fact_is_not_reported_again_in_a_later_phase(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    run_task(cb, clock, "ump01", FakeTask("pre", "preflight"), result={"ansible_facts": {"ump_checks": CHECKS}})
    later = [*CHECKS, {"name": "disk_space", "status": "warn", "observed": "15 GB", "expected": ">= 20 GB"}]
    run_task(cb, clock, "ump01", FakeTask("post", "post_verify"), result={"ansible_facts": {"ump_checks": later}})
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"ok": 2}}))
    checks = json.loads(Path(cb.paths["json"]).read_text())["hosts"]["ump01"]["checks"]
    assert [(c["phase"], c["name"], c["status"]) for c in checks] == [
        ("preflight", "disk_space", "pass"),
        ("preflight", "certificate", "warn"),
        ("post_verify", "disk_space", "warn"),
    ]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("ump_sql_password", True),
        ("ansible_become_pass", True),
        ("ump_api_client_secret", True),
        ("access_token", True),
        ("clientSecret", True),
        ("AZURE_SECRET", True),
        ("vault_service_account_password", True),
        ("key", True),
        ("password_customers", False),
        ("token_migration_customers", False),
        ("ClientSecretExpirationDate", False),
        ("keyId", False),
        ("secret_warn_days", False),
    ],
)
def test_secret_names_are_judged_by_their_last_word(name, secret):
    from ansible_collections.ump365.upgrade.plugins.callback.report import SecretScrubber

    assert SecretScrubber().key_is_secret(name) is secret


def test_final_state_set_by_a_task_carries_the_outcome_reason(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    outcome = {"host": "a", "result": "rolled_back", "reason": "wyupdate: step RunSqlScripts failed (exit 5)"}
    run_task(cb, clock, "a", FakeTask("o", None), result={"ump_final_state": "rolled_back", "ump_outcome": outcome})
    run_task(cb, clock, "b", FakeTask("o", None), result={"ump_final_state": "upgraded", "ump_outcome": {"reason": ""}})
    cb.v2_playbook_on_stats(FakeStats({"a": {"ok": 1}, "b": {"ok": 1}}))
    data = json.loads(Path(cb.paths["json"]).read_text())
    validate(data)
    assert data["hosts"]["a"]["final_state_reason"] == "rolled back: wyupdate: step RunSqlScripts failed (exit 5)"
    assert data["hosts"]["b"]["final_state_reason"] == "every phase completed"


class BatchVM(FakeVM):
    """One serial batch runs; ``ansible_play_hosts_all`` still lists every host of the play."""

    def __init__(self, host_vars, batch):
        super().__init__(host_vars, {})
        self.batch = batch


def test_hosts_of_batches_that_never_started_are_listed_as_not_started(tmp_path, monkeypatch, clock):
    cb = make_callback(tmp_path, monkeypatch)
    vm = BatchVM({"ump01": {}, "ump02": {}, "ump03": {}}, batch=["ump01"])
    cb.v2_playbook_on_play_start(FakePlay(vm))
    run_task(cb, clock, "ump01", FakeTask("w", "wyupdate"), "failed", {"msg": "RunSqlScripts failed"})
    cb.v2_playbook_on_stats(FakeStats({"ump01": {"failures": 1}}))
    data = json.loads(Path(cb.paths["json"]).read_text())
    validate(data)
    assert data["totals"]["hosts"] == 3
    assert data["totals"]["states"] == {"failed": 1, "not_started": 2}
    assert data["hosts"]["ump02"]["final_state"] == "not_started"
    assert "earlier batch failed" in data["hosts"]["ump03"]["final_state_reason"]
    assert data["hosts"]["ump02"]["phases"] == [] and data["result"] == "failed"
    assert "not_started" in Path(cb.paths["html"]).read_text()


def test_a_collection_modules_args_count_as_secret_only_for_its_no_log_options():
    """``alarms_key`` of ovoc_alarm_info names a JSON key: matching the name pattern does not make it secret
    for the collection's own modules (their no_log options are known exactly); invocation is not read."""
    s = rp.SecretScrubber()
    args = {"ovoc_password": "Ovoc-pw-123456", "alarms_key": "alarms", "ovoc_username": "ovoc-api"}
    result = {"invocation": {"module_args": {"alarms_key": "alarms", "api_token_key": "tokens"}}, "alarms": []}
    s.learn_task({"args": args}, result, "ump365.upgrade.ovoc_alarm_info")
    assert s.values == {"Ovoc-pw-123456"}
    # another collection's module: the name pattern decides (win_service's password)
    s.learn_task(
        {"args": {"name": "svc", "password": "Svc-pw-654321", "api_key": "k-123456"}}, {}, "ansible.windows.win_service"
    )
    assert s.values == {"Ovoc-pw-123456", "Svc-pw-654321", "k-123456"}
