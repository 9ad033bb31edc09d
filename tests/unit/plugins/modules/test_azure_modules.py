"""The Azure modules' argument checks, which fail before any request (no network)."""

from __future__ import annotations

from ansible_collections.ump365.upgrade.plugins.modules import azure_snapshot, azure_snapshot_info, azure_vm_os_disk

AUTH = dict(subscription_id="00000000-0000-0000-0000-000000000001", tenant="t", client_id="c", secret="s3cret-value")


def test_snapshot_name_is_validated_and_named_in_the_message(run_module):
    result, failed = run_module(azure_snapshot, dict(AUTH, resource_group="rg", name="-bad-", vm_name="vm"))
    assert failed
    assert "'-bad-'" in result["msg"] and "Fix:" in result["msg"]
    assert "s3cret-value" not in str(result)


def test_snapshot_needs_a_source(run_module):
    result, failed = run_module(azure_snapshot, dict(AUTH, resource_group="rg", name="ok"))
    assert failed and "vm_name" in result["msg"]


def test_info_needs_a_resource_group_for_names(run_module):
    result, failed = run_module(azure_snapshot_info, dict(AUTH, vm_name="vm"))
    assert failed and "resource_group" in result["msg"]


def test_os_disk_wait_timeout_is_validated(run_module):
    result, failed = run_module(
        azure_vm_os_disk, dict(AUTH, resource_group="rg", vm_name="vm", snapshot="s", wait_timeout=0)
    )
    assert failed and "wait_timeout must be >= 1, got 0" in result["msg"]


def test_os_disk_restore_ids_are_validated_and_named(run_module):
    for opt in ("restore_id", "reuse_restore_id"):
        result, failed = run_module(
            azure_vm_os_disk, dict(AUTH, resource_group="rg", vm_name="vm", snapshot="s", **{opt: "a1 r1;x"})
        )
        assert failed and f"{opt} must be 1-128 letters" in result["msg"] and "'a1 r1;x'" in result["msg"]


def test_subscription_comes_from_the_awx_environment(run_module, monkeypatch):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    args = dict(AUTH, resource_group="rg", name="ok", vm_name="vm", base_url="http://insecure.example")
    args.pop("subscription_id")
    result, failed = run_module(azure_snapshot, args)
    assert failed and "AZURE_SUBSCRIPTION_ID" in result["msg"]
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "00000000-0000-0000-0000-000000000009")
    result, failed = run_module(azure_snapshot, args)
    # now the subscription is known and the next check (https only) fails instead
    assert failed and "https" in result["msg"]
