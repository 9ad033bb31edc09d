"""The report callback in a real ansible-playbook run on localhost (no lab, no Windows hosts needed)."""

from __future__ import annotations

import json
import secrets
import subprocess
import xml.etree.ElementTree as ET

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from tests.conftest import BIN, REPO, lab_env

PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "report_probe.yml"

try:
    import jsonschema
except ImportError:
    jsonschema = None


@pytest.fixture
def probe(tmp_path):
    password = "Lab!pw-" + secrets.token_urlsafe(12)
    hidden = "Lab!hid-" + secrets.token_urlsafe(12)

    def run(*args, vault=False, extra_inventory=""):
        if vault:  # the secret-named variable as ansible-vault ciphertext, as production inventories keep it
            vault_file = tmp_path / "vault-pass"
            vault_file.write_text("probe-vault-password\n")
            cipher = VaultLib([("default", VaultSecret(b"probe-vault-password"))]).encrypt(password).decode()
            value = "!vault |\n" + "".join("        %s\n" % line for line in cipher.splitlines())
            args = (*args, "--vault-password-file", str(vault_file))
        else:
            value = json.dumps(password) + "\n"
        inv = tmp_path / "inventory.yml"
        inv.write_text(
            "all:\n  hosts:\n    probe1:\n"
            "      ansible_connection: local\n"
            "      ansible_python_interpreter: %s\n"
            "      report_probe_hidden: %s\n"
            "      report_probe_password: %s"
            % (json.dumps(str(BIN / "python")), json.dumps(hidden), value)
            + extra_inventory
        )
        env = lab_env(
            tmp_path / "no-lab",
            ANSIBLE_CALLBACKS_ENABLED="ump365.upgrade.report",
            UMP365_REPORT_DIR=str(tmp_path / "reports"),
            UMP365_REPORT_RUN_ID="probe",
        )
        proc = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(inv), str(PLAYBOOK), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env=env,
        )
        files = {ext: tmp_path / "reports" / f"probe.{ext}" for ext in ("json", "html", "junit.xml")}
        return proc, files

    return run, (password, hidden)


def assert_no_secret(secret_values, proc, files):
    for s in secret_values:
        assert s not in proc.stdout and s not in proc.stderr, "secret on the console"
        for path in files.values():
            assert s not in path.read_text(), f"secret in {path.name}"


def test_report_files_are_written_and_no_secret_reaches_console_or_files_at_vvvv(probe):
    run, secret_values = probe
    proc, files = run("-vvvv")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert_no_secret(secret_values, proc, files)
    data = json.loads(files["json"].read_text())
    if jsonschema is not None:
        jsonschema.validate(data, json.loads((REPO / "docs" / "report.schema.json").read_text()))
    host = data["hosts"]["probe1"]
    assert [p["name"] for p in host["phases"]] == ["preflight", "snapshot", "wyupdate", "post_verify"]
    assert [p["status"] for p in host["phases"]][-1] == "skipped"
    assert {c["name"]: c["status"] for c in host["checks"]} == {
        "free_disk_space": "pass",
        "ssl_certificate_expiry": "warn",
    }
    assert host["versions"] == {"before": "8.0.400.64", "after": "8.0.515"}
    assert host["failures"][0]["ignored"] is True and "no_log" in host["failures"][0]["msg"]
    assert host["retries"] == [{"phase": "wyupdate", "task": "Poll until done (progress lines)", "attempts": 3}]
    assert host["final_state"] == "upgraded"
    suites = ET.parse(files["junit.xml"]).getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["probe1"]
    assert "data-host=\"probe1\"" in files["html"].read_text()
    progress = [line for line in proc.stdout.splitlines() if line.startswith("[ump365 progress]") and "attempt" in line]
    assert len(progress) == 2 and "replication queue: Open 2" in progress[0]
    assert "ump365.upgrade.report: " in proc.stdout


@pytest.mark.parametrize("vault", [False, True], ids=["plain", "vaulted"])
def test_a_secret_named_variable_returned_by_a_task_is_scrubbed_from_the_report(probe, vault):
    run, (password, hidden) = probe
    proc, files = run("-e", "report_probe_leak=true", vault=vault)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert_no_secret((password, hidden), proc, files)
    host = json.loads(files["json"].read_text())["hosts"]["probe1"]
    careless = next(c for c in host["checks"] if c["name"] == "careless_check")
    assert careless["observed"] == "********" and careless["fix"] == "never echo ********"


def test_the_callback_never_templates_a_secret_named_variable(probe, tmp_path):
    """A secret-named inventory variable that is a lookup (here one with a visible side effect) and that no
    task uses is never rendered: not by the callback, not by anything else."""
    run, _secrets = probe
    marker = tmp_path / "lookup-ran"
    lookup = "{{ lookup('ansible.builtin.pipe', 'touch %s && echo pw-from-lookup') }}" % marker
    proc, files = run(extra_inventory="      report_probe_unused_password: %s\n" % json.dumps(lookup))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert files["json"].exists()
    assert not marker.exists(), "a callback templated a variable no task used"


def test_ansible_doc_renders_the_callback():
    proc = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "callback", "ump365.upgrade.report"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=lab_env(REPO / ".lab"),
    )
    assert proc.returncode == 0, proc.stderr
    for text in ("UMP365_REPORT_DIR", "secret_pattern", "section: ump365_report", "aggregate"):
        assert text in proc.stdout
