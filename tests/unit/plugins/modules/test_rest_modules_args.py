"""Argument validation of the REST modules: bad values fail at the boundary, naming the value."""

from __future__ import annotations

import pytest
from ansible_collections.ump365.upgrade.plugins.modules import (
    ovoc_device_info,
    sbc_info,
    ump_customer_info,
    ump_portal_info,
    ump_task,
)

UMP = {
    "api_url": "https://ump.invalid/tenantui",
    "tenant_id": "t",
    "client_id": "c",
    "client_secret": "Secret-Value-1234",
    "scope": "api://app",
    "token_cache": False,
}
SBC = {"sbc_url": "https://sbc.invalid", "sbc_username": "Admin", "sbc_password": "Sbc-Secret-1234"}
OVOC = {"ovoc_url": "https://ovoc.invalid", "ovoc_username": "u", "ovoc_password": "Ovoc-Secret-1234"}


def test_portal_paths_with_an_unknown_section_name_it(run_module):
    result, failed = run_module(ump_portal_info, dict(UMP, portal_paths={"tenants": "/x"}))
    assert failed and "portal_paths.tenants" in result["msg"]


def test_portal_paths_must_be_absolute(run_module):
    result, failed = run_module(ump_portal_info, dict(UMP, portal_paths={"versions": "api/v3/x"}))
    assert failed and "'api/v3/x'" in result["msg"]


def test_negative_poll_interval(run_module):
    result, failed = run_module(ump_task, dict(UMP, task_id="1", poll_interval=-1))
    assert failed and "poll_interval must be >= 0, got -1" in result["msg"]


def test_alarm_page_size_zero(run_module):
    result, failed = run_module(sbc_info, dict(SBC, alarm_page_size=0))
    assert failed and "alarm_page_size must be >= 1, got 0" in result["msg"]


def test_non_https_url_is_named(run_module):
    result, failed = run_module(ump_customer_info, dict(UMP, api_url="ump01.example.com"))
    assert failed and "'ump01.example.com'" in result["msg"]
    assert "Secret-Value-1234" not in str(result)


def test_bad_scope_is_named(run_module):
    result, failed = run_module(ump_customer_info, dict(UMP, scope="not a scope"))
    assert failed and "'not a scope'" in result["msg"]


def test_negative_timeout(run_module):
    result, failed = run_module(ovoc_device_info, dict(OVOC, device_ip="10.0.0.1", timeout=0))
    assert failed and "timeout must be > 0" in result["msg"]


@pytest.mark.parametrize("module", [ump_customer_info, ump_portal_info])
def test_unreachable_server_fails_cleanly_without_the_secret(run_module, module):
    args = dict(UMP, api_url="https://127.0.0.1:9/tenantui", authority="https://127.0.0.1:9", retries=0, timeout=2)
    result, failed = run_module(module, args)
    assert failed and "cannot connect" in result["msg"]
    assert result["error"]["type"] == "UnreachableError"
    assert "Secret-Value-1234" not in str(result)
