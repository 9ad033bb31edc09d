"""The lab's WinRM endpoints, driven by pywinrm itself (Session and Protocol), not by our code."""

from __future__ import annotations

from tests.lab import winrm_inproc

import base64

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError
from winrm.protocol import Protocol

inproc_lab = winrm_inproc.inproc_lab  # the in-process lab fixture


def _endpoint(lab, host: str = "ump01") -> str:
    return f"https://127.0.0.1:{lab.endpoints['hosts'][host]['winrm_port']}/wsman"


def _password(lab) -> str:
    return lab.endpoints["secrets"]["winrm_admin_password"]


def _session(lab, transport: str = "ntlm", host: str = "ump01", password: str | None = None) -> winrm.Session:
    return winrm.Session(
        _endpoint(lab, host),
        auth=("labadmin", password if password is not None else _password(lab)),
        transport=transport,
        server_cert_validation="validate",
        ca_trust_path=lab.ca_file,
    )


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_run_cmd_and_run_ps_over_https(lab, transport):
    s = _session(lab, transport)
    r = s.run_cmd("hostname")
    assert r.status_code == 0
    assert r.std_out.strip() == b"UMP01"
    r = s.run_cmd("whoami")
    assert r.std_out.strip() == b"ump01\\labadmin"
    r = s.run_ps("Get-Service w3svc")
    assert r.status_code == 0
    assert b"World Wide Web Publishing Service" in r.std_out
    assert b"Running" in r.std_out


def test_every_windows_host_answers_with_its_own_name(lab):
    for host in lab.endpoints["hosts"]:
        r = _session(lab, host=host).run_cmd("hostname")
        assert r.std_out.strip().decode() == host.upper()


def test_wrong_password_is_rejected_for_ntlm_and_basic(lab):
    for transport in ("ntlm", "basic"):
        with pytest.raises(InvalidCredentialsError):
            _session(lab, transport, password="not-the-password").run_cmd("hostname")


def test_untrusted_ca_is_refused(lab):
    s = winrm.Session(
        _endpoint(lab),
        auth=("labadmin", _password(lab)),
        transport="ntlm",
        server_cert_validation="validate",
        ca_trust_path=lab.endpoints["wrong_ca_file"],
    )
    with pytest.raises(requests.exceptions.SSLError):
        s.run_cmd("hostname")


def test_unknown_commands_are_not_recognized(lab):
    s = _session(lab)
    r = s.run_cmd("definitely-not-a-program")
    assert r.status_code == 1
    assert b"is not recognized as an internal or external command" in r.std_err
    r = s.run_ps("Get-Random")
    assert r.status_code == 1
    assert b"is not recognized as the name of a cmdlet" in r.std_err


def _protocol(lab, op_timeout: int = 20, read_timeout: int = 30) -> Protocol:
    return Protocol(
        _endpoint(lab),
        transport="ntlm",
        username="labadmin",
        password=_password(lab),
        server_cert_validation="validate",
        ca_trust_path=lab.ca_file,
        operation_timeout_sec=op_timeout,
        read_timeout_sec=read_timeout,
    )


def test_stdin_is_fed_to_the_command(lab):
    p = _protocol(lab)
    shell = p.open_shell()
    try:
        cmd = p.run_command(shell, "cmd")
        p.send_command_input(shell, cmd, b"hostname\r\n")
        p.send_command_input(shell, cmd, b"whoami\r\nexit\r\n", end=True)
        out, _err, rc = p.get_command_output(shell, cmd)
        p.cleanup_command(shell, cmd)
    finally:
        p.close_shell(shell)
    assert rc == 0
    assert b"UMP01" in out
    assert b"ump01\\labadmin" in out


def test_receive_that_outlasts_the_operation_timeout_faults_and_resumes(lab):
    p = _protocol(lab, op_timeout=1, read_timeout=5)
    shell = p.open_shell()
    try:
        script = base64.b64encode("Start-Sleep -Seconds 2; hostname".encode("utf-16-le")).decode()
        cmd = p.run_command(shell, "powershell", ["-EncodedCommand", script])
        with pytest.raises(WinRMOperationTimeoutError):
            p.get_command_output_raw(shell, cmd)
        # pywinrm's own loop retries the timeout until the command is done
        out, _err, rc = p.get_command_output(shell, cmd)
        p.cleanup_command(shell, cmd)
    finally:
        p.close_shell(shell)
    assert rc == 0
    assert out.strip() == b"UMP01"


def test_signal_terminate_stops_a_running_command(lab):
    p = _protocol(lab, op_timeout=1, read_timeout=5)
    shell = p.open_shell()
    try:
        script = base64.b64encode(b"Start-Sleep -Seconds 60".decode().encode("utf-16-le")).decode()
        cmd = p.run_command(shell, "powershell", ["-EncodedCommand", script])
        with pytest.raises(WinRMOperationTimeoutError):
            p.get_command_output_raw(shell, cmd)
        p.cleanup_command(shell, cmd)
        # the command is gone from the shell
        with pytest.raises(Exception, match=r"(?i)does not exist|incorrect"):
            p.get_command_output_raw(shell, cmd)
    finally:
        p.close_shell(shell)


def test_unreachable_host_drops_the_connection(fresh_lab):
    fresh_lab.fault("winhost.unreachable", host="ump01")
    with pytest.raises(requests.exceptions.ConnectionError):
        _session(fresh_lab).run_cmd("hostname")
    # the other host still answers
    assert _session(fresh_lab, host="ump02").run_cmd("hostname").status_code == 0
    fresh_lab.clear_faults()
    assert _session(fresh_lab).run_cmd("hostname").status_code == 0


def test_a_stopped_vm_does_not_answer(inproc_lab):
    lab, world = inproc_lab
    s = winrm.Session(
        f"https://127.0.0.1:{world.hosts['ump01']['winrm_port']}/wsman",
        auth=("labadmin", world.data["secrets"]["winrm_admin_password"]),
        transport="ntlm",
        server_cert_validation="validate",
        ca_trust_path=str(lab.tls.ca_file),
    )
    assert s.run_cmd("hostname").status_code == 0
    world.set_power_state(world.hosts["ump01"]["vm_id"], "deallocated")
    with pytest.raises(requests.exceptions.ConnectionError):
        s.run_cmd("hostname")
    world.set_power_state(world.hosts["ump01"]["vm_id"], "running")
    assert s.run_cmd("hostname").status_code == 0
