"""More modules: files, copy (put_file), fetch (fetch_file), win_uri egress, certificates, firewall, gather_facts."""

from __future__ import annotations


from tests.integration.winhost_helpers import assert_contains_documented, assert_keys_documented, run_tasks


def test_file_modules_transfer_and_network_modules(fresh_lab, tmp_path):
    fresh_lab.set_host_state(
        "ump01", ["egress"], {"allow": ["*"], "deny": ["https://build.openvpn.net/*", "*.chocolatey.org"]}
    )
    fetched = tmp_path / "fetched.txt"
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 2000)  # 512000 bytes: more than one put_file chunk of 250000
    tasks = [
        {"name": "mkdir", "ansible.windows.win_file": {"path": "C:\\acs\\temp\\t1\\sub", "state": "directory"}},
        {"name": "mkdir again", "ansible.windows.win_file": {"path": "C:\\acs\\temp\\t1\\sub", "state": "directory"}},
        {"name": "touch", "ansible.windows.win_file": {"path": "C:\\acs\\temp\\t1\\a.log", "state": "touch"}},
        {
            "name": "copy content",
            "ansible.windows.win_copy": {"content": "hello\n", "dest": "C:\\acs\\temp\\t1\\hello.txt"},
        },
        {
            "name": "copy content again",
            "ansible.windows.win_copy": {"content": "hello\n", "dest": "C:\\acs\\temp\\t1\\hello.txt"},
        },
        {"name": "copy big", "ansible.windows.win_copy": {"src": str(big), "dest": "C:\\acs\\temp\\t1\\big.bin"}},
        {"name": "stat big", "ansible.windows.win_stat": {"path": "C:\\acs\\temp\\t1\\big.bin"}},
        {
            "name": "remote copy",
            "ansible.windows.win_copy": {
                "src": "C:\\acs\\temp\\t1\\hello.txt",
                "dest": "C:\\acs\\temp\\t1\\hello2.txt",
                "remote_src": True,
            },
        },
        {
            "name": "find",
            "ansible.windows.win_find": {"paths": "C:\\acs\\temp\\t1", "patterns": ["*.txt"], "recurse": True},
        },
        {"name": "find dirs", "ansible.windows.win_find": {"paths": "C:\\acs\\temp\\t1", "file_type": "directory"}},
        {
            "name": "fetch",
            "ansible.builtin.fetch": {"src": "C:\\acs\\temp\\t1\\hello.txt", "dest": str(fetched), "flat": True},
        },
        {
            "name": "not a file",
            "ansible.windows.win_file": {"path": "C:\\acs\\temp\\t1\\sub", "state": "file"},
            "ignore_errors": True,
        },
        {"name": "remove", "ansible.windows.win_file": {"path": "C:\\acs\\temp\\t1", "state": "absent"}},
        {"name": "remove again", "ansible.windows.win_file": {"path": "C:\\acs\\temp\\t1", "state": "absent"}},
        {"name": "uri ok", "ansible.windows.win_uri": {"url": "https://ump-updates.audiocodes.example/wyupdate/"}},
        {
            "name": "uri denied",
            "ansible.windows.win_uri": {"url": "https://build.openvpn.net/downloads/releases/x.exe"},
            "ignore_errors": True,
        },
        {
            "name": "uri denied host",
            "ansible.windows.win_uri": {"url": "https://community.chocolatey.org/install.ps1"},
            "ignore_errors": True,
        },
        {"name": "certs", "ansible.windows.win_certificate_info": {}},
        {
            "name": "fw",
            "community.windows.win_firewall_rule": {
                "name": "ump-https-out",
                "direction": "out",
                "action": "allow",
                "remoteport": "443",
                "protocol": "tcp",
                "state": "present",
            },
        },
        {
            "name": "fw again",
            "community.windows.win_firewall_rule": {
                "name": "ump-https-out",
                "direction": "out",
                "action": "allow",
                "remoteport": "443",
                "protocol": "tcp",
                "state": "present",
            },
        },
        {"name": "fw remove", "community.windows.win_firewall_rule": {"name": "ump-https-out", "state": "absent"}},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["mkdir"]["changed"] is True and r["mkdir again"]["changed"] is False
    assert r["touch"]["changed"] is True
    assert r["copy content"]["changed"] is True and r["copy content again"]["changed"] is False
    assert_keys_documented("ansible.windows.win_copy", r["copy content"])
    assert r["copy big"]["changed"] is True and r["copy big"]["size"] == 512000
    assert r["stat big"]["stat"]["size"] == 512000
    assert r["stat big"]["stat"]["checksum"] == r["copy big"]["checksum"]
    assert r["remote copy"]["changed"] is True
    names = sorted(f["filename"] for f in r["find"]["files"])
    assert names == ["hello.txt", "hello2.txt"]
    assert_keys_documented("ansible.windows.win_find", r["find"])
    assert_contains_documented("ansible.windows.win_find", "files", r["find"]["files"])
    assert [f["filename"] for f in r["find dirs"]["files"]] == ["sub"]
    assert fetched.read_text() == "hello\n"
    assert r["not a file"]["failed"] is True and "is not a file" in r["not a file"]["msg"]
    assert r["remove"]["changed"] is True and r["remove again"]["changed"] is False
    assert r["uri ok"]["status_code"] == 200
    assert_keys_documented("ansible.windows.win_uri", r["uri ok"])
    assert r["uri denied"]["failed"] is True and "Unable to connect to the remote server" in r["uri denied"]["msg"]
    assert r["uri denied host"]["failed"] is True
    certs = r["certs"]["certificates"]
    assert r["certs"]["exists"] is True and certs[0]["subject"] == "CN=ump01.ump.lab.test"
    assert certs[0]["valid_to"] > certs[0]["valid_from"]
    assert_keys_documented("ansible.windows.win_certificate_info", r["certs"])
    # win_certificate_info.ps1 returns the DER as "raw" though RETURN documents "cert_data"
    assert_contains_documented(
        "ansible.windows.win_certificate_info",
        "certificates",
        [{k: v for k, v in c.items() if k != "raw"} for c in certs],
    )
    assert r["fw"]["changed"] is True and r["fw again"]["changed"] is False and r["fw remove"]["changed"] is True
    files = fresh_lab.host_state("ump01")["files"]
    assert not any(k.startswith("c:\\acs\\temp\\t1") for k in files)
    # Ansible removed its remote temp dirs (the Remove-Item script)
    assert not any("ansible-tmp-" in k for k in files)


def test_gather_facts_in_a_play(fresh_lab, tmp_path):
    (tmp_path / "facts.yml").write_text(
        "- hosts: ump_servers\n  gather_facts: true\n  tasks:\n"
        "    - name: show\n      ansible.builtin.debug:\n        msg: \"{{ ansible_hostname }} {{ ansible_os_family }}\"\n"
    )
    proc = fresh_lab.playbook(str(tmp_path / "facts.yml"))
    assert '"msg": "UMP01 Windows"' in proc.stdout
    assert '"msg": "UMP02 Windows"' in proc.stdout


def test_registry_and_features(fresh_lab, tmp_path):
    tasks = [
        {
            "name": "dotnet",
            "ansible.windows.win_reg_stat": {
                "path": "HKLM:\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full",
                "name": "Release",
            },
        },
        {
            "name": "svc key",
            "ansible.windows.win_reg_stat": {"path": "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\SysAdmin.TenantSvc"},
        },
        {"name": "missing", "ansible.windows.win_reg_stat": {"path": "HKLM:\\SOFTWARE\\Nope"}},
        {"name": "iis", "ansible.windows.win_feature": {"name": "Web-Server", "state": "present"}},
        {"name": "telnet", "ansible.windows.win_feature": {"name": "Telnet-Client", "state": "present"}},
        {"name": "telnet again", "ansible.windows.win_feature": {"name": "Telnet-Client", "state": "present"}},
    ]
    r = {k: v["ump01"] for k, v in run_tasks(fresh_lab, tmp_path, tasks).items()}
    assert r["dotnet"]["exists"] is True and r["dotnet"]["value"] == 528449 and r["dotnet"]["type"] == "REG_DWORD"
    assert_keys_documented("ansible.windows.win_reg_stat", r["dotnet"], must_have={"value", "type", "raw_value"})
    assert r["svc key"]["properties"]["Start"]["value"] == 2
    assert r["missing"] == {**r["missing"], "exists": False}
    assert r["iis"]["changed"] is False and r["iis"]["exitcode"] == "NoChangeNeeded"
    assert r["telnet"]["changed"] is True and r["telnet"]["feature_result"][0]["success"] is True
    assert_keys_documented("ansible.windows.win_feature", r["telnet"])
    assert_contains_documented("ansible.windows.win_feature", "feature_result", r["telnet"]["feature_result"])
    assert r["telnet again"]["changed"] is False
