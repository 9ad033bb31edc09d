"""AWX's Azure credential sets AZURE_CLOUD_ENVIRONMENT (its "Azure cloud environment" field, "Environment
variable AZURE_CLOUD_ENVIRONMENT when using Azure GovCloud or Azure Stack", ansible/awx locale strings of
the azure_rm credential type); the Azure modules honour it as azure.azcollection does (issue 20 item 3).

The lab observes it through the token: its Entra ID issues a token for the scope asked, and its ARM
accepts only the public cloud's audience (the lab stands in for AzureCloud behind an explicit endpoint).
"""

from __future__ import annotations

import pytest

from tests.integration.test_azure_snapshot_rollback import awx_env, run_module

pytestmark = pytest.mark.lab


def test_cloud_environment_from_awx_credential_selects_the_token_scope(lab, monkeypatch):
    args = {"resource_group": "rg-ump01", "vm_name": "ump01"}
    issued_before = len(lab.state()["entra"]["tokens"])

    env = awx_env(lab)
    monkeypatch.setattr(
        "tests.integration.test_azure_snapshot_rollback.awx_env",
        lambda lab_: dict(env, AZURE_CLOUD_ENVIRONMENT="AzureUSGovernment"),
    )
    result, proc = run_module(lab, "azure_snapshot_info", args)
    assert result["failed"], proc.stdout
    audiences = [t["aud"] for t in lab.state()["entra"]["tokens"].values()]
    # the lab's Entra ID was asked for the US Government ARM audience, and the lab's ARM refused it
    assert "https://management.usgovcloudapi.net" in audiences
    assert "management.usgovcloudapi.net" in result["msg"]
    assert len(audiences) > issued_before

    monkeypatch.setattr(
        "tests.integration.test_azure_snapshot_rollback.awx_env",
        lambda lab_: dict(env, AZURE_CLOUD_ENVIRONMENT="AzureCloud"),
    )
    result, proc = run_module(lab, "azure_snapshot_info", args)
    assert not result["failed"], proc.stdout
    assert "https://management.azure.com" in [t["aud"] for t in lab.state()["entra"]["tokens"].values()]
