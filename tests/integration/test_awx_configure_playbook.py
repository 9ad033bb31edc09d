"""playbooks/awx_configure.yml configures AWX from awx/ in one run (against an in-memory AWX API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .fake_awx import FakeAWX

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AWX = REPO / "awx"

SECRETS = {
    "UMP-365 servers": {
        "username": "CONTOSO\\ump-automation",
        "password": "winrm-S3cret-7431",
        "become_method": "runas",
        "become_username": "CONTOSO\\ump-svc",
        "become_password": "svc-S3cret-1177",
    },
    "UMP-365 SQL": {"username": "CONTOSO\\ump-svc", "password": "sql-S3cret-5521"},
    "UMP-365 REST API": {
        "tenant_id": "00000000-0000-0000-0000-0000000000aa",
        "client_id": "00000000-0000-0000-0000-0000000000cc",
        "client_secret": "api-S3cret-9081",
        "scope": "api://11111111-2222-3333-4444-555555555555/.default",
        "authority": "https://login.microsoftonline.com",
    },
    "UMP-365 SBCs": {"username": "ump-readonly", "password": "sbc-S3cret-3310"},
    "UMP-365 OVOC": {"username": "ump-automation", "password": "ovoc-S3cret-6402"},
    "UMP-365 Azure": {
        "subscription": "00000000-0000-0000-0000-000000000001",
        "tenant": "00000000-0000-0000-0000-0000000000aa",
        "client": "00000000-0000-0000-0000-0000000000bb",
        "secret": "azure-S3cret-2208",
    },
}
SECRET_VALUES = [v for inputs in SECRETS.values() for k, v in inputs.items() if "password" in k or "secret" in k]
AWX_PASSWORD = "awx-admin-S3cret-4242"


def load(kind: str) -> list[dict]:
    return [obj for p in sorted((AWX / kind).glob("*.yml")) for obj in yaml.safe_load(p.read_text())]


@pytest.fixture
def awx(tmp_path):
    fake = FakeAWX("admin", AWX_PASSWORD)
    url = fake.start()
    ca = tmp_path / "awx-ca.pem"
    fake.ca.cert_pem.write_to_path(str(ca))
    yield fake, url, ca
    fake.stop()


def run_configure(tmp_path: Path, url: str, ca: Path, inputs: dict, *args: str) -> subprocess.CompletedProcess:
    varsfile = tmp_path / "secrets.json"
    varsfile.write_text(
        json.dumps(
            {
                "awx_configure_credential_inputs": inputs,
                "awx_configure_controller_host": url,
                "awx_configure_controller_username": "admin",
                "awx_configure_controller_password": AWX_PASSWORD,
            }
        )
    )
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".ansible" / "collections"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_INVENTORY": "localhost,",
            "SSL_CERT_FILE": str(ca),
            "ANSIBLE_PIPELINING": "1",
            "PATH": str(BIN) + os.pathsep + env.get("PATH", ""),
        }
    )
    for name in ("CONTROLLER_HOST", "CONTROLLER_USERNAME", "CONTROLLER_PASSWORD", "CONTROLLER_OAUTH_TOKEN"):
        env.pop(name, None)
    cmd = [str(BIN / "ansible-playbook"), "playbooks/awx_configure.yml", "-e", f"@{varsfile}", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_one_run_configures_awx_and_a_second_changes_nothing(awx, tmp_path):
    fake, url, ca = awx
    proc = run_configure(tmp_path, url, ca, SECRETS, "-vvv")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]

    # every object of awx/ now exists, by name
    kinds = {
        "organizations": "organizations",
        "teams": "teams",
        "notification_templates": "notification_templates",
        "execution_environments": "execution_environments",
        "credentials": "credentials",
        "projects": "projects",
        "inventories": "inventories",
        "inventory_sources": "inventory_sources",
        "job_templates": "job_templates",
        "workflow_templates": "workflow_job_templates",
    }
    for kind, coll in kinds.items():
        assert {o["name"] for o in load(kind)} == {o["name"] for o in fake.store[coll].values()}, kind
    ctypes = {o["name"]: o for o in fake.store["credential_types"].values()}
    for ctype in load("credential_types"):
        # injectors arrive verbatim: AWX renders them, Ansible must not
        assert ctypes[ctype["name"]]["injectors"] == ctype["injectors"]
        assert ctypes[ctype["name"]]["inputs"] == ctype["inputs"]

    # credentials carry their secrets, and the secrets appear nowhere in the output (-vvv)
    by_name = {o["name"]: o for o in fake.store["credentials"].values()}
    for name, inputs in SECRETS.items():
        assert fake.secrets[by_name[name]["id"]] == inputs
    for secret in [*SECRET_VALUES, AWX_PASSWORD]:
        assert secret not in out

    # job templates: playbook, credentials attached, survey stored as written
    cred_names = {o["id"]: o["name"] for o in fake.store["credentials"].values()}
    for jt in load("job_templates"):
        (stored,) = fake.find("job_templates", name=jt["name"])
        assert stored["playbook"] == jt["playbook"]
        attached = {cred_names[i] for i in fake.assoc[("job_templates", stored["id"], "credentials")]}
        assert attached == set(jt["credentials"])
        assert fake.surveys.get(("job_templates", stored["id"]), {}) == jt.get("survey_spec", {})

    # the workflow graph as AWX stores it: preflight -> canary -> approval -> wave 1 -> wave 2 -> verify;
    # a failed canary, wave or verify runs the rollback of the failed servers
    (wf,) = fake.store["workflow_job_templates"].values()
    nodes = {n["identifier"]: n for n in fake.find("workflow_job_template_nodes", workflow_job_template=wf["id"])}
    ident = {n["id"]: i for i, n in nodes.items()}
    jt_of = {o["id"]: o for o in fake.store["job_templates"].values()}

    def edges(name, kind):
        return sorted(ident[i] for i in fake.assoc.get(("workflow_job_template_nodes", nodes[name]["id"], kind), []))

    assert edges("preflight", "success_nodes") == ["canary"]
    assert edges("canary", "success_nodes") == ["approve"]
    assert edges("approve", "success_nodes") == ["wave_1"]
    assert edges("wave_1", "success_nodes") == ["wave_2"]
    assert edges("wave_2", "success_nodes") == ["verify"]
    for name in ("canary", "wave_1", "wave_2", "verify"):
        assert edges(name, "failure_nodes") == ["rollback"], name
    assert [nodes[n]["limit"] for n in ("canary", "wave_1", "wave_2")] == ["ump_canary", "ump_wave_1", "ump_wave_2"]
    assert jt_of[nodes["canary"]["unified_job_template"]]["name"] == "UMP-365 upgrade"
    for name in ("preflight", "wave_1", "wave_2", "verify"):
        jt = jt_of[nodes[name]["unified_job_template"]]
        assert jt["job_slice_count"] > 1 and jt["allow_simultaneous"] is True, name
    assert nodes["rollback"]["extra_data"] == {"ump_rollback_only_failed": "true"}
    (approval,) = fake.store["workflow_approval_templates"].values()
    assert nodes["approve"]["unified_job_template"] == approval["id"] and approval["timeout"] == 14400

    # someone sees the approval: the approvers team holds the workflow's approval role, and the
    # workflow notifies on approval, success and failure
    teams = {o["id"]: o["name"] for o in fake.store["teams"].values()}
    approval_role = wf["summary_fields"]["object_roles"]["approval_role"]["id"]
    assert [teams[i] for i in fake.assoc[("roles", approval_role, "teams")]] == ["UMP-365 approvers"]
    nts = {o["id"]: o["name"] for o in fake.store["notification_templates"].values()}
    for kind, name in (
        ("approvals", "UMP-365 approvers"),
        ("success", "UMP-365 operators"),
        ("error", "UMP-365 operators"),
    ):
        assert [nts[i] for i in fake.assoc[("workflow_job_templates", wf["id"], f"notification_templates_{kind}")]] == [
            name
        ]

    # the WinRM logon is AWX's Machine credential with become runas
    (machine,) = fake.find("credential_types", name="Machine")
    assert by_name["UMP-365 servers"]["credential_type"] == machine["id"]
    assert by_name["UMP-365 servers"]["inputs"]["become_method"] == "runas"

    # idempotent: a second run changes nothing
    again = run_configure(tmp_path, url, ca, SECRETS)
    assert again.returncode == 0, again.stdout[-6000:]
    assert "changed=0" in again.stdout, again.stdout[-4000:]


def test_missing_credential_inputs_stop_before_anything_changes(awx, tmp_path):
    fake, url, ca = awx
    partial = {k: v for k, v in SECRETS.items() if k != "UMP-365 OVOC"}
    proc = run_configure(tmp_path, url, ca, partial)
    assert proc.returncode != 0
    assert "No inputs for the credentials UMP-365 OVOC" in proc.stdout
    assert not [r for r in fake.requests if r[0] != "GET"], "nothing may be written to AWX"
