"""The app-registration guide as checks, and the Graph client's error mapping (no network)."""

from __future__ import annotations

import copy
import datetime

import pytest
from ansible_collections.ump365.upgrade.plugins.module_utils import app_registration as ar
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.graph import GraphClient

NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)
GUID = "5a6ad9c0-0d1c-4c36-8a39-7bda1c1bd1a8"
APP = {
    "appId": GUID,
    "signInAudience": "AzureADMultipleOrgs",
    "web": {
        "redirectUris": ["https://ump01.example.com/authenticate/OAuth2Callback"],
        "implicitGrantSettings": {"enableAccessTokenIssuance": True, "enableIdTokenIssuance": True},
    },
    "requiredResourceAccess": [
        {"resourceAppId": ar.GRAPH_APP_ID, "resourceAccess": [{"id": "x", "type": "Role"}]},
    ],
    "passwordCredentials": [
        {"displayName": "old", "endDateTime": "2026-12-01T00:00:00Z"},
        {"displayName": "new", "endDateTime": "2028-05-23T10:00:00.1234567Z"},
    ],
}


def statuses(app, **kw):
    return {c["name"]: c["status"] for c in ar.evaluate(app, now=NOW, **kw)}


def app_with(**changes):
    app = copy.deepcopy(APP)
    for path, value in changes.items():
        node = app
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return app


def test_the_guides_registration_passes_and_the_longest_secret_counts():
    checks = ar.evaluate(APP, fqdn="ump01.example.com", now=NOW)
    assert {c["status"] for c in checks} == {"pass"}
    expiry = checks[-1]
    assert "'new'" in expiry["observed"] and "in 546 days" in expiry["observed"] and expiry["fix"] is None


@pytest.mark.parametrize(
    ("audience", "status"),
    [
        ("AzureADMultipleOrgs", "pass"),
        ("AzureADandPersonalMicrosoftAccount", "warn"),
        ("AzureADMyOrg", "fail"),
        (None, "fail"),
    ],
)
def test_account_types(audience, status):
    assert statuses(app_with(signInAudience=audience))["app_registration_multitenant"] == status


@pytest.mark.parametrize(
    ("uris", "status"),
    [
        (["https://UMP01.example.com/authenticate/OAuth2Callback/"], "pass"),
        (["https://other/x", "https://ump01.example.com/authenticate/OAuth2Callback"], "pass"),
        (["https://ump01.example.com/authenticate/oauth2callback"], "fail"),
        (["http://ump01.example.com/authenticate/OAuth2Callback"], "fail"),
        (["https://ump01.example.com/authenticate"], "fail"),
        ([], "fail"),
    ],
)
def test_redirect_uri(uris, status):
    assert (
        statuses(app_with(web__redirectUris=uris), fqdn="ump01.example.com")["app_registration_redirect_uri"] == status
    )


def test_redirect_uri_is_skipped_without_fqdn():
    c = next(c for c in ar.evaluate(APP, now=NOW) if c["name"] == "app_registration_redirect_uri")
    assert c["status"] == "skip" and "fqdn" in c["fix"]


def test_implicit_grant_needs_both_token_kinds():
    app = app_with(web__implicitGrantSettings={"enableAccessTokenIssuance": True})
    c = next(c for c in ar.evaluate(app, now=NOW) if c["name"] == "app_registration_implicit_grant")
    assert c["status"] == "fail" and c["observed"] == "access tokens: on, ID tokens: off" and "step 8" in c["fix"]


def test_api_permissions_need_microsoft_graph_entries():
    app = app_with(requiredResourceAccess=[{"resourceAppId": "other", "resourceAccess": [{"id": "y"}]}])
    assert statuses(app)["app_registration_api_permissions"] == "fail"


@pytest.mark.parametrize(
    ("ends", "warn_days", "status"),
    [
        (["2027-03-01T00:00:00Z"], 60, "pass"),
        (["2027-01-10T00:00:00Z"], 60, "warn"),
        (["2027-01-10T00:00:00Z"], 30, "pass"),
        (["2026-11-01T00:00:00Z"], 60, "fail"),
        ([], 60, "fail"),
        (["not a date"], 60, "fail"),
    ],
)
def test_client_secret_expiry(ends, warn_days, status):
    app = app_with(passwordCredentials=[{"keyId": "k", "endDateTime": e} for e in ends])
    c = next(
        c
        for c in ar.evaluate(app, warn_days=warn_days, now=NOW)
        if c["name"] == "app_registration_client_secret_expiry"
    )
    assert c["status"] == status
    assert (c["fix"] is None) == (status == "pass")
    if status != "pass":
        assert "24 months" in c["fix"] and "Auth Tokens" in c["fix"]


def client():
    return GraphClient("contoso.onmicrosoft.com", GUID, "s3cret-value", graph_url="https://graph.example")


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "retriable", "retry_after"),
    [
        (
            429,
            b'{"error": {"code": "TooManyRequests", "message": "slow down"}}',
            {"Retry-After": "3"},
            errors.ThrottledError,
            True,
            3.0,
        ),
        (503, b'{"error": {"code": "serviceNotAvailable", "message": "x"}}', {}, errors.RemoteError, True, None),
        (
            401,
            b'{"error": {"code": "InvalidAuthenticationToken", "message": "x"}}',
            {},
            errors.AuthenticationError,
            False,
            None,
        ),
        (
            401,
            b'{"error": "invalid_client", "error_description": "AADSTS7000215"}',
            {},
            errors.AuthenticationError,
            False,
            None,
        ),
        (
            403,
            b'{"error": {"code": "Authorization_RequestDenied", "message": "x"}}',
            {},
            errors.AuthorizationError,
            False,
            None,
        ),
        (404, b"", {}, errors.NotFoundError, False, None),
        (
            400,
            b'{"error": "invalid_request", "error_description": "AADSTS90002"}',
            {},
            errors.ConfigurationError,
            False,
            None,
        ),
        (418, b"not json", {}, errors.RemoteError, False, None),
    ],
)
def test_http_errors_map_to_the_error_hierarchy(status, body, headers, cls, retriable, retry_after):
    err = client()._http_error(status, body, headers, "read app registration", "application x")
    assert err.__class__ is cls
    assert err.retriable is retriable and err.retry_after == retry_after
    assert err.details["status"] == status and "HTTP %d" % status in err.render()


def test_client_validates_its_input_and_keeps_the_secret_out_of_messages():
    with pytest.raises(errors.ValidationError, match="client_id must be a GUID"):
        GraphClient("t", "nope", "s")
    with pytest.raises(errors.ValidationError, match="tenant must be"):
        GraphClient("bad tenant/../x", GUID, "s")
    with pytest.raises(errors.ValidationError, match="graph_url must be an https"):
        GraphClient("t", GUID, "s", graph_url="http://graph")
    with pytest.raises(errors.ValidationError, match="app_id must be a GUID"):
        client().application_by_app_id("' or 1 eq 1")
    with pytest.raises(errors.ValidationError) as e:
        GraphClient("t", GUID, "")
    assert "s3cret" not in str(e.value)
