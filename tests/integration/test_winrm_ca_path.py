"""An empty WinRM CA path is an error naming the variable, before anything connects (issue 22 item 3).

pywinrm hands ``ansible_winrm_ca_trust_path: ""`` to requests as ``verify=""``, which turns certificate
verification off (docs/assumptions.md), so the playbooks check it on the controller first.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("playbook", ["playbooks/verify.yml", "playbooks/preflight.yml"])
def test_an_empty_winrm_ca_path_stops_the_play_before_it_connects(fresh_lab, playbook):
    proc = fresh_lab.playbook(playbook, "-l", "ump01", extra_vars={"ansible_winrm_ca_trust_path": ""})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "ump01: ansible_winrm_ca_trust_path is empty" in out and "verification off" in out, out[-3000:]
    assert not fresh_lab.counters().get("winrm.payloads"), "the host was contacted with verification off"


def test_a_set_winrm_ca_path_passes_the_check(fresh_lab, tmp_path):
    pb = tmp_path / "check.yml"
    pb.write_text(
        "- hosts: ump01\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: ump365.upgrade.preflight\n"
        "        tasks_from: transport.yml\n"
    )
    proc = fresh_lab.playbook(str(pb))
    assert proc.returncode == 0, proc.stdout[-3000:]
