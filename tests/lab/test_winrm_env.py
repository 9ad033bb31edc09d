"""Lab corrections (issue 18 item 6): a WS-Man shell's environment variables, Write-Host line ends."""

from __future__ import annotations

import base64

import winrm

from tests.lab import winrm_inproc

inproc_lab = winrm_inproc.inproc_lab


def _protocol(lab, world) -> winrm.protocol.Protocol:
    return winrm.Session(
        f"https://127.0.0.1:{world.hosts['ump01']['winrm_port']}/wsman",
        auth=("labadmin", world.data["secrets"]["winrm_admin_password"]),
        transport="ntlm",
        server_cert_validation="validate",
        ca_trust_path=str(lab.tls.ca_file),
    ).protocol


def _run(p, shell, cmd, args):
    cid = p.run_command(shell, cmd, args)
    try:
        return p.get_command_output(shell, cid)
    finally:
        p.cleanup_command(shell, cid)


def _encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


def test_commands_in_a_shell_opened_with_environment_variables_see_them(inproc_lab):
    lab, world = inproc_lab
    p = _protocol(lab, world)
    shell = p.open_shell(env_vars={"UMP_LAB_VAR": "value with spaces"})
    try:
        # cmd.exe expands %VAR% from the process environment (the shell's variables are in it)
        assert _run(p, shell, "cmd", ["/c", "echo %UMP_LAB_VAR%"]) == (b"value with spaces\r\n", b"", 0)
        # an undefined name stays as written in cmd.exe
        assert _run(p, shell, "cmd", ["/c", "echo %UMP_LAB_NOT_SET%"])[0] == b"%UMP_LAB_NOT_SET%\r\n"
        # PowerShell reads $env:VAR; single quotes do not expand
        script = "Write-Output $env:UMP_LAB_VAR\nWrite-Output '$env:UMP_LAB_VAR'\nWrite-Output \"x=$env:UMP_LAB_VAR\""
        out, err, rc = _run(p, shell, "powershell", ["-NoProfile", "-EncodedCommand", _encoded(script)])
        assert (out, err, rc) == (b"value with spaces\r\n$env:UMP_LAB_VAR\r\nx=value with spaces\r\n", b"", 0)
    finally:
        p.close_shell(shell)


def test_write_host_lines_end_with_crlf_and_a_multi_line_script_keeps_its_variables(inproc_lab):
    lab, world = inproc_lab
    p = _protocol(lab, world)
    shell = p.open_shell(env_vars={"UMP_LAB_VAR": "v"})
    try:
        script = "$name = \"n-$env:UMP_LAB_VAR\"\nWrite-Host a\nWrite-Host $name\n$name"
        out, err, rc = _run(p, shell, "powershell", ["-NoProfile", "-EncodedCommand", _encoded(script)])
        assert (out, err, rc) == (b"a\r\nn-v\r\nn-v\r\n", b"", 0)
    finally:
        p.close_shell(shell)
