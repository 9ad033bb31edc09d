"""The firewall role on the lab: outbound rules (idempotent) and probes of every download endpoint."""

from __future__ import annotations

from .windows_roles_helpers import needs_winrm, run_playbook


def test_rules_and_probes_then_an_idempotent_rerun(fresh_lab):
    lab = fresh_lab
    needs_winrm(lab)
    run = run_playbook(lab, "windows_role.yml", {"windows_role": "firewall"})
    assert run.rc == 0, run.stdout[-3000:]
    fw = run.facts()["ump_firewall"]
    assert fw["ok"] and len(fw["endpoints"]) == 10
    assert fw["rules_changed"] == ["UMP-365 upgrade - outbound HTTP and HTTPS"]
    rule = lab.host_state("ump01")["firewall"]["rules"]["UMP-365 upgrade - outbound HTTP and HTTPS"]
    assert (rule["direction"], rule["action"], rule["protocol"], rule["remoteport"]) == (
        "out",
        "allow",
        "tcp",
        "80,443",
    )

    rerun = run_playbook(lab, "windows_role.yml", {"windows_role": "firewall"})
    assert rerun.rc == 0
    assert rerun.facts()["ump_firewall"]["rules_changed"] == []


def test_a_blocked_endpoint_is_named(fresh_lab):
    lab = fresh_lab
    needs_winrm(lab)
    lab.set_host_state("ump01", ["egress", "deny"], ["https://community.chocolatey.org/api/v2/package/rabbitmq"])
    run = run_playbook(lab, "windows_role.yml", {"windows_role": "firewall"})
    assert run.rc != 0
    msg = run.failure()
    assert msg.startswith("ump01: 1 of 10 download endpoints are not reachable from the host: Rabbitmq (")
    assert "Unable to connect" in msg and "Configure Firewall" in msg
    rows = {r["name"]: r for r in run.facts()["ump_firewall"]["endpoints"]}
    assert not rows["Rabbitmq"]["reachable"] and rows["DotNet"]["reachable"]
