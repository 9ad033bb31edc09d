"""The five REST modules in a real playbook against the lab: results, token reuse, failures, no secret leaks."""

from __future__ import annotations

import json

PLAYBOOK = """
- name: REST modules against the lab
  hosts: ump01
  gather_facts: false
  module_defaults:
    group/ump365.upgrade.ump_api:
      api_url: "{{ ump_api_url }}"
      tenant_id: "{{ ump_api_tenant_id }}"
      client_id: "{{ ump_api_client_id }}"
      client_secret: "{{ ump_api_client_secret }}"
      scope: "{{ ump_api_scope }}"
      authority: "{{ ump_api_authority }}"
      ca_bundle: "{{ ump_ca_bundle }}"
      token_cache_path: "%(cache)s"
  tasks:
    - name: Customers with dial plans
      ump365.upgrade.ump_customer_info:
        dial_plans: true
      delegate_to: localhost
      register: customers
    - name: One customer by short name
      ump365.upgrade.ump_customer_info:
        customer: "{{ customers.customers[0].CustomerShortName | upper }}"
      delegate_to: localhost
      register: one
    - name: Portal
      ump365.upgrade.ump_portal_info:
      delegate_to: localhost
      register: portal
    - name: A task that completes
      ump365.upgrade.ump_task:
        task_id: "1002"
        poll_interval: 0
      delegate_to: localhost
      register: task_ok
    - name: A task that fails
      ump365.upgrade.ump_task:
        task_id: "1003"
        poll_interval: 0
      delegate_to: localhost
      register: task_failed
      ignore_errors: true
    - name: A wrong client secret
      ump365.upgrade.ump_customer_info:
        client_secret: "Not-The-Secret-0000"
        token_cache: false
      delegate_to: localhost
      register: bad_secret
      ignore_errors: true
    - name: SBC
      ump365.upgrade.sbc_info:
        sbc_url: "{{ ump_sbc_url }}"
        sbc_username: "{{ ump_sbc_username }}"
        sbc_password: "{{ ump_sbc_password }}"
        ca_bundle: "{{ ump_ca_bundle }}"
        gather: [status, alarms, dial_plan_rules, license]
      delegate_to: localhost
      register: sbc
    - name: OVOC
      ump365.upgrade.ovoc_device_info:
        ovoc_url: "{{ ump_ovoc_url }}"
        ovoc_username: "{{ ump_ovoc_username }}"
        ovoc_password: "{{ ump_ovoc_password }}"
        ca_bundle: "{{ ump_ca_bundle }}"
        device_ip: "{{ ump_ip }}"
      delegate_to: localhost
      register: ovoc
    - name: Save the results for the test
      ansible.builtin.copy:
        dest: "%(out)s"
        content: "{{ {'customers': customers, 'one': one, 'portal': portal, 'task_ok': task_ok,
                      'task_failed': task_failed, 'bad_secret': bad_secret, 'sbc': sbc, 'ovoc': ovoc} | to_json }}"
        mode: "0600"
      delegate_to: localhost
"""


def test_rest_modules_in_a_playbook(fresh_lab, tmp_path):
    pb = tmp_path / "rest.yml"
    out = tmp_path / "out.json"
    pb.write_text(PLAYBOOK % {"cache": tmp_path / "tokens.json", "out": out})
    proc = fresh_lab.playbook(str(pb), "-vvv")
    r = json.loads(out.read_text())

    # info modules never change anything
    for name in ("customers", "one", "portal", "task_ok", "sbc", "ovoc"):
        assert r[name]["changed"] is False, name
        assert not r[name].get("failed"), (name, r[name].get("msg"))

    # customers: the four of ump01, each site Deployed, the seeded prefixes pass the UMP rule
    assert r["customers"]["count"] == 4
    sites = [s for c in r["customers"]["customers"] for s in c["site_locations"]]
    assert {s["sbcDeploymentStateName"] for s in sites} == {"Deployed"}
    assert all(s["dial_plans"][0]["rules"] for s in sites)
    assert r["customers"]["prefix_findings"] == []
    assert r["one"]["count"] == 1 and "ApplicationClientId" in r["one"]["customers"][0]

    portal = r["portal"]["portal"]
    assert set(portal) == {
        "authentication_status",
        "invitation_settings",
        "invitations",
        "licence",
        "replication_queue",
        "sbcs",
        "versions",
    }
    assert portal["versions"]["sysadminkit_version"] == "8.0.400.64"

    assert r["task_ok"]["status"] == "CompletedSuccess"
    assert r["task_failed"]["failed"] is True
    assert "task 1003 finished Failed" in r["task_failed"]["msg"]
    assert r["task_failed"]["status"] == "Failed"

    assert r["bad_secret"]["failed"] is True
    assert "Entra ID refused the client credentials" in r["bad_secret"]["msg"]
    assert "Not-The-Secret-0000" not in json.dumps(r["bad_secret"])

    assert r["sbc"]["status"]["versionID"] and r["sbc"]["alarms"] == [] and r["sbc"]["prefix_findings"] == []
    assert len(r["sbc"]["dial_plan_rules"]) == 6
    assert (r["ovoc"]["exists"], r["ovoc"]["status"], r["ovoc"]["management_status"]) == (True, "Active", "Connected")

    # the UMP module tasks (each its own process) shared one token through the cache file
    assert fresh_lab.counters()["entra.tokens_issued"] == 1

    # no lab secret in anything Ansible printed, even at -vvv, nor the bearer token
    cache = (tmp_path / "tokens.json").read_text()
    text = proc.stdout + proc.stderr + out.read_text()
    for secret in fresh_lab.secrets():
        assert secret not in text + cache
    tokens = [e["access_token"] for e in json.loads(cache).values()]
    assert len(tokens) == 1 and tokens[0] not in text


STRICT_PLAYBOOK = """
- name: REST modules read strictly
  hosts: ump01
  gather_facts: false
  module_defaults:
    group/ump365.upgrade.ump_api:
      api_url: "{{ ump_api_url }}"
      tenant_id: "{{ ump_api_tenant_id }}"
      client_id: "{{ ump_api_client_id }}"
      client_secret: "{{ ump_api_client_secret }}"
      scope: "{{ ump_api_scope }}"
      authority: "{{ ump_api_authority }}"
      ca_bundle: "{{ ump_ca_bundle }}"
      token_cache: false
  tasks:
    - name: Customers (the lab answers an HTML page with 200)
      ump365.upgrade.ump_customer_info:
      delegate_to: localhost
      register: customers
      ignore_errors: true
    - name: Portal replication queue (the lab answers JSON of another shape)
      ump365.upgrade.ump_portal_info:
        sections: [replication_queue]
      delegate_to: localhost
      register: queue
      ignore_errors: true
    - name: OVOC alarms (the lab answers JSON of another shape)
      ump365.upgrade.ovoc_alarm_info:
        ovoc_url: "{{ ump_ovoc_url }}"
        ovoc_username: "{{ ump_ovoc_username }}"
        ovoc_password: "{{ ump_ovoc_password }}"
        ca_bundle: "{{ ump_ca_bundle }}"
        device_ip: "{{ ump_ip }}"
      delegate_to: localhost
      register: alarms
      ignore_errors: true
    - name: SBC over plain http
      ump365.upgrade.sbc_info:
        sbc_url: "{{ ump_sbc_url | replace('https://', 'http://') }}"
        sbc_username: "{{ ump_sbc_username }}"
        sbc_password: "{{ ump_sbc_password }}"
        gather: [status]
      delegate_to: localhost
      register: plain
      ignore_errors: true
    - name: Portal with an empty CA path
      ump365.upgrade.ump_portal_info:
        ca_bundle: ""
        sections: [versions]
      delegate_to: localhost
      register: empty_ca
      ignore_errors: true
    - name: Save the results for the test
      ansible.builtin.copy:
        dest: "%(out)s"
        content: "{{ {'customers': customers, 'queue': queue, 'alarms': alarms, 'plain': plain,
                      'empty_ca': empty_ca} | to_json }}"
        mode: "0600"
      delegate_to: localhost
"""


def test_rest_modules_fail_on_malformed_replies_cleartext_and_empty_ca(fresh_lab, tmp_path):
    lab = fresh_lab
    lab.fault("ump_api.malformed", host="ump01", path="/api/v3/customer", kind="html")
    lab.fault("ump_api.malformed", host="ump01", path="/api/v3/portal/replicationqueue", kind="shape")
    lab.fault("ovoc.malformed", host="ump01", path="/ovoc/v1/alarms/actives", kind="shape")
    pb = tmp_path / "strict.yml"
    out = tmp_path / "out.json"
    pb.write_text(STRICT_PLAYBOOK % {"out": out})
    proc = lab.playbook(str(pb))
    assert "Traceback" not in proc.stdout + proc.stderr
    r = json.loads(out.read_text())
    for name in r:
        assert r[name]["failed"] is True, (name, r[name])
        # a failure the module understood (fail_json with the error), not a crash
        assert "MODULE FAILURE" not in r[name]["msg"], (name, r[name]["msg"])
        assert r[name]["error"]["type"] in ("RemoteError", "ConfigurationError", "ValidationError"), name
    assert r["customers"]["msg"].startswith("ump_api list customers failed for GET /api/v3/customer: ")
    assert "HTML page" in r["customers"]["msg"] and "customers" not in {k for k in r["customers"] if k != "msg"}
    assert "GET /api/v3/portal/replicationqueue" in r["queue"]["msg"]
    assert r["alarms"]["msg"].startswith("ovoc read active alarms failed for GET /ovoc/v1/alarms/actives: ")
    assert "cleartext" in r["plain"]["msg"] and "allow_insecure_http" in r["plain"]["msg"]
    assert "ca_bundle is empty" in r["empty_ca"]["msg"]
    assert lab.counters().get("fault.ump_api.malformed", 0) >= 2
