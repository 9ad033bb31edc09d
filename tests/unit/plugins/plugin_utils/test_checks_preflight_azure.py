"""Preflight's cheap gates before any change (issue 19 item 3): become, VM running, encryption, data disks,
ARM rights and locks; and the RBAC wildcard logic behind the rights."""

from __future__ import annotations

import pytest

from ansible_collections.ump365.upgrade.plugins.module_utils.azure import missing_actions
from tests.unit.plugins.plugin_utils.test_checks import good_preflight, run_preflight


@pytest.mark.parametrize(
    "azure, name, status",
    [
        ({"vm": {"exists": True, "power_state": "deallocated"}}, "azure_vm", "fail"),
        ({"vm": {"exists": True, "power_state": "unknown"}}, "azure_vm", "fail"),
        ({"ade": True}, "azure_disk_encryption", "fail"),
        ({"data_disks": [{"lun": 0, "name": "ump01_DataDisk_0"}]}, "azure_data_disks", "fail"),
        ({"data_disks": [{"lun": 0, "name": "d0"}], "data_disks_policy": "allow"}, "azure_data_disks", "warn"),
        ({"missing_actions": ["Microsoft.Compute/snapshots/write"]}, "azure_snapshot_rights", "fail"),
        ({"missing_actions": None}, "azure_snapshot_rights", "skip"),
        (
            {"locks": [{"name": "ro", "level": "ReadOnly", "scope": "/subscriptions/x/resourceGroups/rg"}]},
            "azure_resource_locks",
            "fail",
        ),
        (
            {"locks": [{"name": "nd", "level": "CanNotDelete", "scope": "/subscriptions/x/resourceGroups/rg"}]},
            "azure_resource_locks",
            "warn",
        ),
    ],
)
def test_azure_gates(azure, name, status):
    obs = good_preflight()
    obs["azure"].update(azure)
    res = run_preflight(obs)
    assert res[name]["status"] == status, res[name]
    if status != "skip":
        assert res[name]["fix"]
    others = {n: r["status"] for n, r in res.items() if n != name and r["status"] != "pass"}
    assert others == {}


def test_a_disk_encryption_set_passes_and_says_it_is_kept():
    obs = good_preflight()
    obs["azure"]["os_disk"].update(
        encryption_type="EncryptionAtRestWithCustomerKey",
        disk_encryption_set_id="/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/des-1",
    )
    r = run_preflight(obs)["azure_disk_encryption"]
    assert r["status"] == "pass" and "des-1" in r["observed"] and "keeps" in r["observed"]


def test_a_vm_not_read_skips_the_rest_and_fails():
    obs = good_preflight()
    obs["azure"] = {"vm_name": "ump01", "vm": {"exists": False, "error": "403 AuthorizationFailed"}}
    res = run_preflight(obs)
    assert res["azure_vm"]["status"] == "fail" and "AuthorizationFailed" in res["azure_vm"]["observed"]
    assert res["azure_data_disks"]["status"] == "skip"


@pytest.mark.parametrize(
    "become, status, text",
    [
        ({"account": None, "error": "Failed to become user ump-svc: LogonUser failed"}, "fail", "ump_service_password"),
        ({"account": "UMP01\\ump-svc", "groups": ["BUILTIN\\Administrators"]}, "fail", "UmpAdmins"),
        ({"account": "UMP01\\labadmin", "groups": ["UMP01\\UmpAdmins"]}, "fail", "ump_service_account"),
    ],
)
def test_become_service_account(become, status, text):
    obs = good_preflight()
    obs["become"] = become
    r = run_preflight(obs)["become_service_account"]
    assert r["status"] == status and r["blocking"] and text in r["fix"]
    assert run_preflight(obs, service_account="")["become_service_account"]["status"] == "fail"


def test_rbac_wildcards_and_not_actions():
    req = ["Microsoft.Compute/snapshots/write", "Microsoft.Compute/virtualMachines/start/action"]
    assert missing_actions([{"actions": ["*"], "notActions": []}], req) == []
    assert missing_actions(
        [{"actions": ["Microsoft.Compute/*"], "notActions": ["microsoft.compute/snapshots/*"]}], req
    ) == ["Microsoft.Compute/snapshots/write"]
    # another role assignment may grant what one entry excludes
    assert (
        missing_actions(
            [
                {"actions": ["Microsoft.Compute/*"], "notActions": ["Microsoft.Compute/snapshots/write"]},
                {"actions": ["Microsoft.Compute/snapshots/*"], "notActions": []},
            ],
            req,
        )
        == []
    )
    assert missing_actions([{"actions": ["*/read"], "notActions": []}], req) == req
    assert missing_actions([], req) == req
