"""The UMP, SBC and OVOC clients against the lab: tokens and their cache, paging, tasks, faults, errors."""

from __future__ import annotations

import json

import pytest
from ansible_collections.ump365.upgrade.plugins.module_utils import errors, ump_api
from ansible_collections.ump365.upgrade.plugins.module_utils.ovoc_api import OvocClient, summarise
from ansible_collections.ump365.upgrade.plugins.module_utils.retry import RetryPolicy
from ansible_collections.ump365.upgrade.plugins.module_utils.sbc_api import SbcClient

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


def ump(lab, host="ump01", tmp_path=None, secret=None, scope=None, **kw):
    ep = lab.endpoints
    h = ep["hosts"][host]
    kw.setdefault("retry_policy", FAST)
    return ump_api.UmpApiClient(
        h["ump_api_url"],
        ep["entra"]["tenant_id"],
        ep["entra"]["ump_api_client_id"],
        secret or ep["secrets"]["ump_api_client_secret"],
        scope or f"api://{h['ump_api_app_id']}/.default",
        authority=ep["entra"]["authority"],
        ca_bundle=lab.ca_file,
        token_cache=tmp_path is not None,
        token_cache_path=str(tmp_path / "tokens.json") if tmp_path else None,
        **kw,
    )


def sbc(lab, name="sbc-ump01", password=None, **kw):
    ep = lab.endpoints
    kw.setdefault("retry_policy", FAST)
    return SbcClient(
        ep["sbcs"][name]["url"], "Admin", password or ep["secrets"]["sbc_password"], ca_bundle=lab.ca_file, **kw
    )


def ovoc(lab, **kw):
    ep = lab.endpoints
    kw.setdefault("retry_policy", FAST)
    return OvocClient(
        ep["ovoc"]["url"], ep["ovoc"]["username"], ep["secrets"]["ovoc_password"], ca_bundle=lab.ca_file, **kw
    )


@pytest.fixture(autouse=True)
def _new_process():
    """Each test starts like a new Ansible task: no token in memory."""
    ump_api.clear_memory_cache()
    yield
    ump_api.clear_memory_cache()


def tokens_issued(lab):
    return lab.counters().get("entra.tokens_issued", 0)


def test_one_token_serves_many_calls_and_the_file_cache_serves_the_next_process(fresh_lab, tmp_path):
    c = ump(fresh_lab, tmp_path=tmp_path)
    for _ in range(3):
        assert c.customers()
    c.portal("versions")
    assert tokens_issued(fresh_lab) == 1
    ump_api.clear_memory_cache()  # the next task's process
    ump(fresh_lab, tmp_path=tmp_path).customers()
    assert tokens_issued(fresh_lab) == 1
    cache = (tmp_path / "tokens.json").read_text()
    assert fresh_lab.endpoints["secrets"]["ump_api_client_secret"] not in cache
    ump_api.clear_memory_cache()
    ump(fresh_lab, tmp_path=None).customers()  # cache off: a token of its own
    assert tokens_issued(fresh_lab) == 2


def test_an_expired_token_is_replaced_once(fresh_lab, tmp_path):
    c = ump(fresh_lab, tmp_path=tmp_path)
    c.customers()
    aud = "api://" + fresh_lab.endpoints["hosts"]["ump01"]["ump_api_app_id"]
    fresh_lab.fault("entra.expired_token", audience=aud, times=1)
    assert c.customers()
    assert tokens_issued(fresh_lab) == 2


def test_a_token_that_keeps_failing_gives_a_clear_401_message(fresh_lab):
    aud = "api://" + fresh_lab.endpoints["hosts"]["ump01"]["ump_api_app_id"]
    fresh_lab.fault("entra.expired_token", audience=aud, times=2)
    with pytest.raises(errors.AuthenticationError) as e:
        ump(fresh_lab).customers()
    text = str(e.value)
    assert "ump_api list customers failed" in text and "HTTP 401" in text
    assert "ump_api_client_id" in text and "ump_api_scope" in text


def test_a_wrong_client_secret_names_the_credential_and_never_shows_it(fresh_lab):
    bad = "Wrong-Secret-123456"
    with pytest.raises(errors.AuthenticationError) as e:
        ump(fresh_lab, secret=bad).customers()
    text = str(e.value)
    assert "AADSTS7000215" in text and "ump_api_client_secret" in text
    assert bad not in text and bad not in json.dumps(e.value.as_dict())


def test_another_servers_scope_is_403_with_the_fix(fresh_lab):
    aud2 = "api://" + fresh_lab.endpoints["hosts"]["ump02"]["ump_api_app_id"]
    with pytest.raises(errors.AuthorizationError) as e:
        ump(fresh_lab, scope=aud2).customers()
    assert "InvalidAudience" in str(e.value) and aud2 in str(e.value)


def test_5xx_on_a_read_is_retried_and_recorded(fresh_lab):
    fresh_lab.fault("ump_api.5xx", host="ump01", status=500, times=1)
    c = ump(fresh_lab)
    assert c.customers()
    assert [r["status"] for r in c.retries_seen] == [500]


def test_5xx_that_persists_fails_with_trace_id_after_the_attempts(fresh_lab):
    fresh_lab.fault("ump_api.5xx", host="ump01", status=500)
    with pytest.raises(errors.RemoteError) as e:
        ump(fresh_lab).customers()
    assert "traceId 00-" in str(e.value) and "(after 3 attempts)" in str(e.value)


def test_503_with_retry_after_is_honoured(fresh_lab):
    fresh_lab.fault("ump_api.5xx", host="ump01", status=503, retry_after="0", times=2)
    c = ump(fresh_lab)
    assert c.customers()
    assert [r["delay"] for r in c.retries_seen] == [0.0, 0.0]


def test_a_slow_answer_times_out_with_a_clear_message(fresh_lab):
    fresh_lab.fault("ump_api.slow", host="ump01", seconds=1.5, times=1)
    c = ump(fresh_lab, timeout=0.3, retries=0, retry_policy=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.UnreachableError) as e:
        c.customers()
    assert "no answer within 0.3 s" in str(e.value)


def test_stopped_iis_is_503_with_the_service_to_start(fresh_lab):
    c = ump(fresh_lab, retry_policy=RetryPolicy(max_attempts=1))
    c.customers()
    fresh_lab.set_host_state("ump01", ["services", "w3svc", "state"], "stopped")
    with pytest.raises(errors.RemoteError) as e:
        c.customers()
    assert "HTTP 503" in str(e.value) and "w3svc" in str(e.value)


def test_the_wrong_ca_is_refused(lab):
    ep = lab.endpoints
    c = ump_api.UmpApiClient(
        ep["hosts"]["ump01"]["ump_api_url"],
        ep["entra"]["tenant_id"],
        ep["entra"]["ump_api_client_id"],
        ep["secrets"]["ump_api_client_secret"],
        "api://x",
        authority=ep["entra"]["authority"],
        ca_bundle=ep["wrong_ca_file"],
        token_cache=False,
    )
    with pytest.raises(errors.UnreachableError, match="TLS verification failed"):
        c.customers()


def test_task_waits_until_completed(fresh_lab):
    seen = []
    task, history = ump(fresh_lab).wait_task(1002, interval=0, on_progress=lambda t: seen.append(t["status"]))
    assert task["status"] == "CompletedSuccess"
    assert [h["status"] for h in history] == ["In Progress", "CompletedSuccess"] == seen


def test_a_failed_task_raises_with_its_message(fresh_lab):
    with pytest.raises(errors.OperationFailedError) as e:
        ump(fresh_lab).wait_task(1003, interval=0)
    assert "task 1003 finished Failed: SBC site deployment failed" in str(e.value)
    assert e.value.details["task"]["status"] == "Failed"


def test_task_fault_fails_a_task_that_would_succeed(fresh_lab):
    fresh_lab.fault("ump_api.task_fails", host="ump01", task_id=1002, message="replication error")
    with pytest.raises(errors.OperationFailedError, match="replication error"):
        ump(fresh_lab).wait_task(1002, interval=0)


def test_task_timeout(fresh_lab):
    with pytest.raises(errors.OperationTimeoutError, match="still 'In Progress'"):
        ump(fresh_lab).wait_task(1002, timeout=0, interval=0)


def test_dial_plan_rules_through_the_v2_api(lab):
    c = ump(lab)
    cust = c.customer(c.customers()[0]["UmpCustomerGuid"])
    site = c.site_location(cust["SiteLocation"][0]["id"])
    assert site["sbcDeploymentStateName"] == "Deployed"
    plan = c.dial_plan(cust["UmpCustomerGuid"], site["id"], site["dialPlans"][0]["id"])
    assert plan["rules"] and all(r["prefix"].startswith("+") for r in plan["rules"])


def test_portal_sections(lab):
    c = ump(lab)
    assert c.portal("replication_queue")["open_commands"] == 0
    auth = c.portal("authentication_status")
    assert auth["redirect_uri"] == "https://ump01.ump.lab.test/authenticate/OAuth2Callback"
    assert auth["client_secret_configured"] is True
    assert {x["method"] for x in auth["customers"]} == {"Password", "Token"}
    assert c.portal("invitation_settings")["portal_url"] == "https://ump01.ump.lab.test/authenticate"
    assert c.portal("licence")["missing"] is False
    assert c.portal("sbcs")[0]["Name"] == "sbc-ump01"
    assert len(c.portal("invitations")) == 2


def test_sbc_alarms_are_paged_to_the_end(fresh_lab):
    fresh_lab.fault("sbc.raise_alarms", sbc="sbc-ump01", count=45, times=1)
    c = sbc(fresh_lab)
    c.status()  # the request that raises the alarms
    alarms, pages = c.active_alarms(limit=20)
    assert len(alarms) == 45 and pages == 3
    assert len({a["id"] for a in alarms}) == 45
    detailed, _ = c.active_alarms(limit=50, details=True)
    assert detailed[0]["severity"] == "major"


def test_sbc_without_alarms_is_an_empty_list(fresh_lab):
    assert sbc(fresh_lab).active_alarms() == ([], 1)


def test_sbc_dial_plan_rules_come_from_the_ini(lab):
    rules = sbc(lab).dial_plan_rules()
    world = lab.state()["sbcs"]["sbc-ump01"]["dial_plan_rules"]
    assert [(r["DialPlanName"], r["Name"], r["Prefix"]) for r in rules] == [
        (w["DialPlanName"], w["Name"], w["Prefix"]) for w in world
    ]


def test_sbc_ha_sync_is_retried(fresh_lab):
    fresh_lab.fault("sbc.ha_sync", sbc="sbc-ump01", times=1)
    c = sbc(fresh_lab)
    assert c.status()["operationalState"] == "UNLOCKED"
    assert c.retries_seen[0]["status"] == 409


def test_sbc_ha_sync_that_lasts_says_so(fresh_lab):
    fresh_lab.fault("sbc.ha_sync", sbc="sbc-ump01")
    with pytest.raises(errors.ConflictError, match="HA synchronisation"):
        sbc(fresh_lab).status()


def test_sbc_bad_password_and_low_privilege(fresh_lab):
    with pytest.raises(errors.AuthenticationError, match="ump_sbc_password") as e:
        sbc(fresh_lab, password="not-the-password").status()
    assert "not-the-password" not in str(e.value)
    fresh_lab.fault("sbc.forbidden", sbc="sbc-ump01", times=1)
    with pytest.raises(errors.AuthorizationError, match="Security Administrator"):
        sbc(fresh_lab).ini()


def test_ovoc_device_status(fresh_lab):
    ip = fresh_lab.endpoints["hosts"]["ump01"]["ip"]
    c = ovoc(fresh_lab)
    dev = summarise(c.devices_by_ip(ip)[0])
    assert (dev["status"], dev["management_status"]) == ("Active", "Connected")
    fresh_lab.fault("ovoc.disconnected", ip=ip, times=1)
    dev = summarise(c.devices_by_ip(ip)[0])
    assert (dev["status"], dev["management_status"]) == ("Error", "Disconnected")
    fresh_lab.fault("ovoc.device_missing", ip=ip, times=1)
    assert c.devices_by_ip(ip) == []
    with pytest.raises(errors.ValidationError, match="'not-an-ip'"):
        c.devices_by_ip("not-an-ip")


def test_ovoc_5xx_is_retried(fresh_lab):
    fresh_lab.fault("ovoc.5xx", times=1)
    c = ovoc(fresh_lab)
    assert c.devices_by_ip(fresh_lab.endpoints["hosts"]["ump02"]["ip"])
    assert c.retries_seen[0]["status"] == 500


def test_replication_backlog_shows_then_drains(fresh_lab):
    fresh_lab.fault("ump_api.replication_backlog", host="ump01", executing=1, queued=2, reads=2, times=1)
    c = ump(fresh_lab)
    q = c.portal("replication_queue")
    assert (q["open_commands"], q["executing"], q["queued"]) == (3, 1, 2)
    assert {x["State"] for x in q["commands"]} == {"Executing", "Queued"}
    assert c.portal("replication_queue")["open_commands"] == 3
    assert c.portal("replication_queue")["open_commands"] == 0
    # the commands are real rows of the host's SysAdminTenant
    rows = fresh_lab.state()["sql_dump"]["ump01"]["SysAdminTenant"]["ReplicationCommand"]
    assert [r["State"] for r in rows] == ["Completed"] * 3


# ---------------------------------------------------------------------- strict reading (issue 22 item 3)
def _bad_answer(call) -> str:
    """The error of a call that must fail on a malformed answer (a RemoteError, never a traceback)."""
    with pytest.raises(errors.RemoteError) as e:
        call()
    assert e.value.details.get("malformed_reply") is True
    return str(e.value)


def test_an_html_page_with_200_is_not_an_empty_customer_list(lab):
    lab.fault("ump_api.malformed", host="ump01", path="/api/v3/customer", kind="html")
    msg = _bad_answer(lambda: ump(lab).customers())
    assert msg.startswith("ump_api list customers failed for GET /api/v3/customer: ")
    assert "HTML page" in msg and "text/html" in msg and "Fix:" in msg
    assert ump(lab, host="ump02").customers()  # the fault is ump01's only


def test_customers_of_the_wrong_shape_name_the_endpoint(lab):
    lab.fault("ump_api.malformed", host="ump01", path="/api/v3/customer", kind="shape")
    msg = _bad_answer(lambda: ump(lab).customers())
    assert "GET /api/v3/customer" in msg and "without a" in msg and "keys: data" in msg


def test_portal_sections_of_the_wrong_shape_never_read_as_empty(lab):
    for section, path in (("replication_queue", "replicationqueue"), ("versions", "versions"), ("sbcs", "sbcs")):
        lab.clear_faults()
        lab.fault("ump_api.malformed", host="ump01", path=f"/api/v3/portal/{path}", kind="shape")
        msg = _bad_answer(lambda section=section: ump(lab).portal(section))
        assert f"GET /api/v3/portal/{path}" in msg, msg
        lab.clear_faults()
        lab.fault("ump_api.malformed", host="ump01", path=f"/api/v3/portal/{path}", kind="html")
        assert "HTML page" in _bad_answer(lambda section=section: ump(lab).portal(section))


def test_a_token_endpoint_answering_html_names_entra(lab):
    lab.fault("entra.malformed", path="/oauth2/v2.0/token", kind="html")
    msg = _bad_answer(lambda: ump(lab).customers())
    assert msg.startswith("entra get token failed for POST /") and "HTML page" in msg


def test_sbc_alarms_as_an_html_page_are_not_no_alarms(lab):
    lab.fault("sbc.malformed", sbc="sbc-ump01", path="/api/v1/alarms/active", kind="html")
    msg = _bad_answer(lambda: sbc(lab).active_alarms())
    assert msg.startswith("sbc list active alarms failed for GET /api/v1/alarms/active: ")
    lab.clear_faults()
    lab.fault("sbc.malformed", sbc="sbc-ump01", path="/api/v1/status", kind="shape")
    assert "without the field 'operationalState'" in _bad_answer(lambda: sbc(lab).status())
    lab.clear_faults()
    lab.fault("sbc.malformed", sbc="sbc-ump01", path="/api/v1/files/ini", kind="html")
    assert "not the INI text" in _bad_answer(lambda: sbc(lab).dial_plan_rules())


def test_ovoc_devices_of_the_wrong_shape_are_not_no_device(lab):
    ip = lab.endpoints["hosts"]["ump01"]["ip"]
    lab.fault("ovoc.malformed", host="ump01", path="/ovoc/v1/topology/devices", kind="shape")
    msg = _bad_answer(lambda: ovoc(lab).devices_by_ip(ip))
    assert msg.startswith("ovoc find device failed for GET /ovoc/v1/topology/devices: ") and "keys: data" in msg
    assert ovoc(lab).devices_by_ip(lab.endpoints["hosts"]["ump02"]["ip"])  # ump02's device is unaffected


def test_plain_http_is_refused_for_every_client_that_carries_a_credential(lab):
    ep = lab.endpoints
    plain = {
        "ump_api": lambda **kw: ump(lab, **kw).__class__(
            "http://ump01.example.test/tenantui",
            ep["entra"]["tenant_id"],
            ep["entra"]["ump_api_client_id"],
            "s3cret-value",
            "api://x/.default",
            authority=ep["entra"]["authority"],
            token_cache=False,
            **kw,
        ),
        "sbc": lambda **kw: SbcClient("http://sbc01.example.test", "Admin", "s3cret-value", **kw),
        "ovoc": lambda **kw: OvocClient("http://ovoc.example.test", "ovoc-api", "s3cret-value", **kw),
        "entra": lambda **kw: ump_api.UmpApiClient(
            "https://ump01.example.test/tenantui",
            ep["entra"]["tenant_id"],
            ep["entra"]["ump_api_client_id"],
            "s3cret-value",
            "api://x/.default",
            authority="http://login.example.test",
            token_cache=False,
            **kw,
        ),
    }
    for system, make in plain.items():
        with pytest.raises(errors.ConfigurationError) as e:
            make()
        assert "cleartext" in str(e.value) and "allow_insecure_http" in str(e.value), system
        assert e.value.system == system, (system, e.value.system)
        client = make(allow_insecure_http=True)
        assert client.insecure_http is True, system


def test_an_empty_ca_bundle_is_an_error_never_no_verification():
    from ansible_collections.ump365.upgrade.plugins.module_utils.http import rest_client_kwargs

    params = {"ca_bundle": "", "validate_certs": True, "timeout": 5, "retries": 0, "allow_insecure_http": False}
    with pytest.raises(errors.ValidationError) as e:
        rest_client_kwargs(params)
    assert "ca_bundle is empty" in str(e.value)
    with pytest.raises(errors.ValidationError) as e:
        rest_client_kwargs(dict(params, ca_bundle="/nonexistent/ca.pem"))
    assert "is not a file" in str(e.value)
