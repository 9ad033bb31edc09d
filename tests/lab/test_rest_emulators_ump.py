"""The UMP tenantui emulator on the wire: bearer tokens, problem+json, IIS state, world-driven data."""

from __future__ import annotations

import requests


def token(lab, audience: str) -> str:
    ep = lab.endpoints
    r = requests.post(
        f"{ep['entra']['authority']}/{ep['entra']['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": ep["entra"]["ump_api_client_id"],
            "client_secret": ep["secrets"]["ump_api_client_secret"],
            "scope": f"{audience}/.default",
        },
        verify=lab.ca_file,
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["access_token"]


def api(lab, host: str = "ump01") -> tuple[str, str]:
    h = lab.endpoints["hosts"][host]
    return h["ump_api_url"], f"api://{h['ump_api_app_id']}"


def get(lab, url, tok=None, **kw):
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return requests.get(url, headers=headers, verify=lab.ca_file, timeout=10, **kw)


def test_no_token_is_401_problem_json(lab):
    url, _aud = api(lab)
    r = get(lab, f"{url}/api/v3/customer")
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 401 and body["errorCode"] and body["traceId"].startswith("00-")
    assert "WWW-Authenticate" in r.headers


def test_token_for_another_servers_api_is_403(lab):
    url, _aud = api(lab, "ump01")
    _url2, aud2 = api(lab, "ump02")
    r = get(lab, f"{url}/api/v3/customer", token(lab, aud2))
    assert r.status_code == 403
    assert r.json()["errorCode"] == "InvalidAudience"


def test_customers_come_from_the_hosts_sysadmintenant(lab):
    for host in ("ump01", "ump02"):  # ump02 keeps its databases on ump02-sql
        url, aud = api(lab, host)
        r = get(lab, f"{url}/api/v3/customer", token(lab, aud))
        assert r.status_code == 200
        customers = r.json()
        dump = lab.state()["sql_dump"][lab.endpoints["hosts"][host]["sql_host"]]["SysAdminTenant"]["Customer"]
        assert sorted(c["UmpCustomerGuid"] for c in customers) == sorted(c["UmpCustomerGuid"] for c in dump)
        assert {"UmpCustomerGuid", "CustomerShortName", "LicenseType", "MsTenantId", "ActiveUserCount"} <= set(
            customers[0]
        )


def test_site_location_state_is_a_string_in_v3_and_an_int_in_v2(lab):
    url, aud = api(lab)
    tok = token(lab, aud)
    guid = get(lab, f"{url}/api/v3/customer", tok).json()[0]["UmpCustomerGuid"]
    details = get(lab, f"{url}/api/v3/customer/{guid}", tok).json()
    site = details["SiteLocation"][0]
    assert site["sbcDeploymentState"] == "Deployed"
    v2 = get(lab, f"{url}/api/v2/sitelocation/{site['id']}", tok).json()
    assert v2["sbcDeploymentState"] == 3
    assert {"m365DeploymentState", "pendingTasks"} <= set(v2)


def test_unknown_customer_is_404_with_error_code(lab):
    url, aud = api(lab)
    r = get(lab, f"{url}/api/v3/customer/00000000-0000-0000-0000-000000000000", token(lab, aud))
    assert r.status_code == 404
    assert r.json()["errorCode"] == "CustomerNotFound"


def test_stopped_w3svc_answers_503_like_http_sys(fresh_lab):
    url, aud = api(fresh_lab)
    tok = token(fresh_lab, aud)
    fresh_lab.set_host_state("ump01", ["services", "w3svc", "state"], "stopped")
    r = get(fresh_lab, f"{url}/api/v3/customer", tok)
    assert r.status_code == 503
    assert r.headers["Server"] == "Microsoft-HTTPAPI/2.0"
    fresh_lab.set_host_state("ump01", ["services", "w3svc", "state"], "running")
    assert get(fresh_lab, f"{url}/api/v3/customer", tok).status_code == 200


def test_5xx_fault_is_problem_json_for_its_host_only(fresh_lab):
    fresh_lab.fault("ump_api.5xx", host="ump01", status=500, times=1)
    url, aud = api(fresh_lab, "ump01")
    url2, aud2 = api(fresh_lab, "ump02")
    assert get(fresh_lab, f"{url2}/api/v3/customer", token(fresh_lab, aud2)).status_code == 200
    r = get(fresh_lab, f"{url}/api/v3/customer", token(fresh_lab, aud))
    assert r.status_code == 500 and r.json()["errorCode"] == "InternalError"
    assert get(fresh_lab, f"{url}/api/v3/customer", token(fresh_lab, aud)).status_code == 200


def test_portal_versions_follow_the_sql_settings(lab):
    url, aud = api(lab)
    body = get(lab, f"{url}/api/v3/portal/versions", token(lab, aud)).json()
    assert body["SysAdminKitVersion"] == "8.0.400.64"
    assert all(c["Version"] == "8.0.400.64" for c in body["Customers"])
