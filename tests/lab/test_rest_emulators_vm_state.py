"""The UMP API follows its VM: an in-process lab whose VM is stopped drops the connection."""

from __future__ import annotations

import pytest
import requests
from ansible_collections.ump365.upgrade.plugins.module_utils import errors, ump_api
from ansible_collections.ump365.upgrade.plugins.module_utils.retry import RetryPolicy
from umplab.emulators import entra
from umplab.emulators import ump_api as ump_api_emulator
from umplab.runtime import Lab
from umplab.seed import build_world
from umplab.tls import LabTLS


@pytest.fixture
def small_lab(tmp_path):
    world = build_world(tmp_path, hosts=1, customers_per_host=2)
    lab = Lab(tmp_path, world, LabTLS(tmp_path, [h["fqdn"] for h in world.hosts.values()]))
    try:
        lab.endpoints = {**entra.start(lab), **ump_api_emulator.start(lab)}
        yield lab
    finally:
        lab.stop()


def client(lab):
    w = lab.world
    h = w.hosts["ump01"]
    ump_api.clear_memory_cache()
    return ump_api.UmpApiClient(
        h["ump_api_url"],
        w.data["entra"]["tenant_id"],
        lab.endpoints["entra"]["ump_api_client_id"],
        w.data["secrets"]["ump_api_client_secret"],
        f"api://{h['ump_api_app_id']}",
        authority=lab.endpoints["entra"]["authority"],
        ca_bundle=str(lab.tls.ca_file),
        token_cache=False,
        retry_policy=RetryPolicy(max_attempts=1),
    )


def test_a_stopped_vm_drops_the_connection(small_lab):
    c = client(small_lab)
    assert len(c.customers()) == 2
    w = small_lab.world
    w.set_power_state(w.hosts["ump01"]["vm_id"], "deallocated")
    with pytest.raises(errors.UnreachableError, match="cannot connect"):
        c.customers()
    assert w.data["counters"]["ump_api.dropped"] >= 1
    w.set_power_state(w.hosts["ump01"]["vm_id"], "running")
    assert len(c.customers()) == 2


def test_a_stopped_sql_server_is_a_500_problem(small_lab):
    c = client(small_lab)
    w = small_lab.world
    with w.lock:
        w.host_state("ump01")["services"]["MSSQLSERVER"]["state"] = "stopped"
    with pytest.raises(errors.RemoteError) as e:
        c.customers()
    assert "DatabaseUnavailable" in str(e.value) and e.value.details["status"] == 500


def test_raw_request_to_a_stopped_vm_gets_no_answer(small_lab):
    w = small_lab.world
    w.set_power_state(w.hosts["ump01"]["vm_id"], "deallocated")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(w.hosts["ump01"]["ump_api_url"] + "/api/v3/customer", verify=str(small_lab.tls.ca_file), timeout=5)
