"""In-process module execution and its fallback in real ansible-playbook runs (issue 21 item 4).

The same delegated controller-module task runs in the worker process, and as a normal module process
when ``UMP365_INPROCESS_MODULES=0`` or when the delegated host's interpreter is not this Python; the
results are the same. No lab needed: the SQL server refuses the connection.
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.conftest import BIN, REPO, lab_env

PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "inprocess_probe.yml"
IN_PROCESS = "Running ump365.upgrade.sql_info in the worker process"
MODULE_PROCESS = "Running ump365.upgrade.sql_info as a module process"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def run(tmp_path):
    # a second name for this Python that is not this Python's path: a wrapper script
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text('#!/bin/sh\nexec %s "$@"\n' % sys.executable)
    wrapper.chmod(0o755)
    inv = tmp_path / "inventory.yml"
    inv.write_text(
        "all:\n  hosts:\n    probe_windows:\n      ansible_connection: winrm\n"
        "      ansible_host: 192.0.2.1\n      probe_password: Probe-pw-123456\n"
        "      probe_closed_port: %d\n"
        "    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n"
        % (_closed_port(), wrapper)
    )

    def go(*args, **env):
        proc = subprocess.run(
            [str(BIN / "ansible-playbook"), "-vvv", "-i", str(inv), str(PLAYBOOK), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env=lab_env(tmp_path / "no-lab", UMP365_REPORT_DIR=str(tmp_path / "reports"), **env),
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        line = next(x for x in proc.stdout.splitlines() if "PROBE-RESULT" in x and "msg=" in x)
        return proc.stdout, line.split('"msg": ', 1)[-1]

    return go


def test_in_process_and_module_process_give_the_same_result(run):
    out_in, result_in = run("--tags", "with_task_vars")
    assert IN_PROCESS in out_in and MODULE_PROCESS not in out_in
    out_off, result_off = run("--tags", "with_task_vars", UMP365_INPROCESS_MODULES="0")
    assert MODULE_PROCESS in out_off and IN_PROCESS not in out_off
    assert "UMP365_INPROCESS_MODULES=0" in out_off
    assert "failed=True" in result_in and result_in == result_off
    assert "Probe-pw-123456" not in out_in and "Probe-pw-123456" not in out_off


def test_the_delegated_hosts_own_interpreter_decides(run):
    """The task's host (a Windows host) sets no interpreter; localhost, the delegated host, has another
    one: the module runs as a module process with localhost's interpreter."""
    out, result = run("--tags", "bare")
    assert MODULE_PROCESS in out and "is not this Python" in out and IN_PROCESS not in out
    assert "failed=True" in result and "ca_bundle" in result
