"""The Microsoft Graph emulator speaks Graph: app-only tokens for graph.microsoft.com, OData filter, errors."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest


def call(lab, method, url, data=None, headers=None):
    ctx = ssl.create_default_context(cafile=lab.ca_file)
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), dict(e.headers)


def token(
    lab, scope="https://graph.microsoft.com/.default", client="automation_client_id", secret="azure_client_secret"
):
    ep = lab.endpoints
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": ep["entra"][client],
            "client_secret": ep["secrets"][secret],
            "scope": scope,
        }
    ).encode()
    status, body, _ = call(
        lab, "POST", f"{ep['entra']['authority']}/{ep['entra']['tenant_id']}/oauth2/v2.0/token", form
    )
    assert status == 200, body
    return body["access_token"]


def sync_app_id(lab, host):
    return lab.state()["sql_dump"][lab.state()["hosts"][host]["sql_host"]]["SysAdminTenant"]["ApplicationSetting"]


def app_id_of(lab, host):
    rows = sync_app_id(lab, host)
    return next(r["Value"] for r in rows if r["Name"] == "AuthStatus.ClientId")


@pytest.fixture
def graph(lab):
    lab.clear_faults()
    yield lab.endpoints["graph"]["url"]
    lab.clear_faults()


def test_filter_by_app_id_returns_the_sync_app_of_each_ump_server(lab, graph):
    t = token(lab)
    for host in ("ump01", "ump02"):
        app_id = app_id_of(lab, host)
        q = urllib.parse.quote(f"appId eq '{app_id}'")
        status, body, _ = call(
            lab, "GET", f"{graph}/v1.0/applications?$filter={q}", headers={"Authorization": f"Bearer {t}"}
        )
        assert status == 200
        assert body["@odata.context"].endswith("$metadata#applications")
        (app,) = body["value"]
        assert app["appId"] == app_id
        assert app["signInAudience"] == "AzureADMultipleOrgs"
        assert app["web"]["redirectUris"] == [f"https://{host}.ump.lab.test/authenticate/OAuth2Callback"]
        assert app["web"]["implicitGrantSettings"] == {"enableAccessTokenIssuance": True, "enableIdTokenIssuance": True}
        (cred,) = app["passwordCredentials"]
        assert cred["secretText"] is None and len(cred["hint"]) == 3
        assert cred["endDateTime"] > cred["startDateTime"]


def test_unknown_app_id_gives_an_empty_collection_and_bad_filters_400(lab, graph):
    auth = {"Authorization": f"Bearer {token(lab)}"}
    q = urllib.parse.quote("appId eq '00000000-0000-0000-0000-000000000000'")
    assert call(lab, "GET", f"{graph}/v1.0/applications?$filter={q}", headers=auth)[1]["value"] == []
    status, body, _ = call(lab, "GET", f"{graph}/v1.0/applications?$filter=startswith(displayName,'x')", headers=auth)
    assert status == 400 and body["error"]["code"] == "Request_UnsupportedQuery"
    status, body, _ = call(lab, "GET", f"{graph}/v1.0/applications?$select=appId,nope", headers=auth)
    assert status == 400


def test_select_and_alternate_key(lab, graph):
    auth = {"Authorization": f"Bearer {token(lab)}"}
    app_id = app_id_of(lab, "ump01")
    status, body, _ = call(
        lab, "GET", f"{graph}/v1.0/applications(appId='{app_id}')?$select=appId,signInAudience", headers=auth
    )
    assert status == 200 and set(body) == {"id", "appId", "signInAudience"}


def test_tokens_for_other_audiences_or_principals_are_refused(lab, graph):
    status, body, _ = call(lab, "GET", f"{graph}/v1.0/applications")
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"
    arm = token(lab, scope="https://management.azure.com/.default")
    status, body, _ = call(lab, "GET", f"{graph}/v1.0/applications", headers={"Authorization": f"Bearer {arm}"})
    assert status == 401 and "audience" in body["error"]["message"]
    other = token(lab, client="ump_api_client_id", secret="ump_api_client_secret")
    status, body, _ = call(lab, "GET", f"{graph}/v1.0/applications", headers={"Authorization": f"Bearer {other}"})
    assert status == 403 and body["error"]["code"] == "Authorization_RequestDenied"


def test_faults_change_only_the_named_host_and_down_sends_retry_after(lab, graph):
    auth = {"Authorization": f"Bearer {token(lab)}"}
    lab.fault("graph.single_tenant", host="ump02")
    lab.fault("graph.no_implicit_grant", host="ump02", which="id")
    apps = {a["displayName"]: a for a in call(lab, "GET", f"{graph}/v1.0/applications", headers=auth)[1]["value"]}
    assert apps["UMP-365 sync ump01"]["signInAudience"] == "AzureADMultipleOrgs"
    assert apps["UMP-365 sync ump02"]["signInAudience"] == "AzureADMyOrg"
    assert apps["UMP-365 sync ump02"]["web"]["implicitGrantSettings"] == {
        "enableAccessTokenIssuance": True,
        "enableIdTokenIssuance": False,
    }
    lab.fault("graph.down", times=1, retry_after=7)
    status, body, headers = call(lab, "GET", f"{graph}/v1.0/applications", headers=auth)
    assert status == 503 and headers["Retry-After"] == "7" and body["error"]["code"] == "serviceNotAvailable"
    assert call(lab, "GET", f"{graph}/v1.0/applications", headers=auth)[0] == 200


def test_registrations_survive_a_reset(fresh_lab):
    regs = fresh_lab.state()["entra"]["app_registrations"]
    assert {a["displayName"] for a in regs.values()} == {"UMP-365 sync ump01", "UMP-365 sync ump02"}
