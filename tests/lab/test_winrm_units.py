"""Pure pieces of the Windows host emulation: command lines, sc.exe options, paths, egress, module options."""

from __future__ import annotations

import pytest

from umplab.windows import argspec, fs
from umplab.windows import services as scm
from umplab.windows.executables import _sc_opts, _split_statements, split_cmdline
from umplab.windows.modules.network import egress_allowed
from umplab.windows.wsman import _parse_duration


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        (
            'sc.exe failure SysAdmin.TenantSvc reset= 0 actions= ""',
            ["sc.exe", "failure", "SysAdmin.TenantSvc", "reset=", "0", "actions=", ""],
        ),
        (
            'C:\\acs\\wyupdate.exe /fromservice -logfile="C:\\a b\\r.log"',
            ["C:\\acs\\wyupdate.exe", "/fromservice", "-logfile=C:\\a b\\r.log"],
        ),
        ('"C:\\Program Files\\x.exe" a "b c"', ["C:\\Program Files\\x.exe", "a", "b c"]),
    ],
)
def test_split_cmdline_like_windows(line, argv):
    assert split_cmdline(line) == argv


def test_sc_failure_options_and_recovery_update():
    opts = _sc_opts(["reset=", "0", "actions=", ""])
    assert opts == {"reset": "0", "actions": ""}
    svc = scm.new_service("x", "C:\\x.exe")
    scm.set_failure(svc, 0, "")
    assert svc["recovery"]["actions"] == [] and svc["recovery"]["reset_period_sec"] == 0
    scm.set_failure(svc, 86400, "restart/30000/restart/30000//")
    assert svc["recovery"]["actions"] == ["restart", "restart"]
    assert svc["recovery"]["restart_delay_ms"] == 30000
    assert "FAILURE_ACTIONS              : RESTART -- Delay = 30000 milliseconds." in scm.qfailure("x", svc)


def test_paths_expand_and_normalise_like_windows():
    assert (
        fs.expand_env("%TEMP%\\ansible-tmp-1\\.", "ump-svc")
        == "C:\\Users\\ump-svc\\AppData\\Local\\Temp\\ansible-tmp-1"
    )
    assert fs.expand_env("~\\.ansible_async", "labadmin") == "C:\\Users\\labadmin\\.ansible_async"
    assert fs.expand_env("c:/acs/x/../y", "u") == "c:\\acs\\y"
    files: dict = {}
    fs.write_text(files, "C:\\acs\\new\\deep\\f.txt", "x")
    assert fs.is_dir(files, "c:/ACS/new") and fs.read_text(files, "C:\\ACS\\NEW\\DEEP\\F.TXT") == "x"
    assert fs.remove(files, "C:\\acs\\new") and list(files) == ["c:\\acs"]


def test_egress_policy_patterns_deny_wins():
    st = {"egress": {"allow": ["*"], "deny": ["*.chocolatey.org", "https://build.openvpn.net/*"]}}
    assert egress_allowed(st, "https://www.powershellgallery.com/api/v2/")
    assert not egress_allowed(st, "https://community.chocolatey.org/install.ps1")
    assert not egress_allowed(st, "https://build.openvpn.net/downloads/x.exe")
    assert not egress_allowed(
        {"egress": {"allow": ["https://ump-updates.audiocodes.example/"], "deny": []}}, "https://x.example/"
    )


def test_module_options_follow_the_real_documentation():
    params, inv = argspec.validate(
        "ansible.windows.win_service", {"name": "w3svc", "state": "stopped", "password": "s3cret"}
    )
    assert params["force_dependent_services"] is False  # default from the docs
    assert inv["password"] == argspec.NO_LOG_VALUE and "s3cret" not in str(inv)
    with pytest.raises(argspec.ArgError, match=r"Unsupported parameters for \(win_service\) module: bogus"):
        argspec.validate("ansible.windows.win_service", {"name": "x", "bogus": 1})
    with pytest.raises(argspec.ArgError, match="value of state must be one of"):
        argspec.validate("ansible.windows.win_service", {"name": "x", "state": "sleeping"})
    with pytest.raises(argspec.ArgError, match="missing required arguments: name"):
        argspec.validate("ansible.windows.win_service", {})
    # aliases: win_reg_stat key -> path
    params, _ = argspec.validate("ansible.windows.win_reg_stat", {"key": "HKLM:\\SOFTWARE"})
    assert params["path"] == "HKLM:\\SOFTWARE"


def test_wsman_durations_and_powershell_statements():
    assert _parse_duration("PT20S", 60) == 20
    assert _parse_duration("PT60.000S", 1) == 60
    assert _parse_duration("PT1M30S", 1) == 90
    assert _parse_duration(None, 7) == 7
    assert _split_statements("Stop-Service a; Write-Output 'x;y'\nexit 3") == [
        "Stop-Service a",
        "Write-Output 'x;y'",
        "exit 3",
    ]
