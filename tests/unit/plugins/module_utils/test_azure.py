"""module_utils/azure.py: error mapping, retries, LRO waiting/resuming and credential choice (no network)."""

from __future__ import annotations

import json

import pytest
from ansible_collections.ump365.upgrade.plugins.module_utils import azure as az
from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential, DefaultAzureCredential

PARAMS = dict(
    subscription_id="00000000-0000-0000-0000-000000000001",
    tenant="t",
    client_id="c",
    secret="s3cret",
    auth_source="auto",
    cloud_environment=None,
    authority=None,
    base_url=None,
    credential_scope=None,
    ca_bundle=None,
    retry_attempts=4,
    retry_budget=60.0,
    retry_base_delay=0.5,
)


class FakeResponse:
    def __init__(self, status, code=None, message="boom", headers=None):
        self.status_code = status
        self.reason = "reason"
        self.headers = headers or {}
        self.content_type = "application/json"
        self._body = json.dumps({"error": {"code": code, "message": message}}) if code else ""
        self.request = None

    def text(self, encoding=None):
        return self._body


def http_error(status, code=None, message="boom", headers=None):
    return HttpResponseError(response=FakeResponse(status, code, message, headers))


@pytest.mark.parametrize(
    ("status", "code", "cls", "retriable"),
    [
        (409, "OperationNotAllowed", errors.ConflictError, True),
        (409, "PropertyChangeNotAllowed", errors.ConflictError, False),
        (429, "TooManyRequests", errors.ThrottledError, True),
        (403, "AuthorizationFailed", errors.AuthorizationError, False),
        (404, "ResourceGroupNotFound", errors.NotFoundError, False),
        (400, "InvalidParameter", errors.ConfigurationError, False),
        (500, "InternalServerError", errors.RemoteError, True),
        (401, "InvalidAuthenticationToken", errors.AuthenticationError, False),
    ],
)
def test_arm_errors_map_to_the_error_hierarchy(status, code, cls, retriable):
    err = az.map_error(http_error(status, code, "the message"), "create snapshot", "rg/snap")
    assert err.__class__ is cls
    assert err.retriable is retriable
    assert err.details == {"status": status, "code": code}
    text = err.render()
    assert text.startswith("azure create snapshot failed for rg/snap: the message")
    assert "Fix:" in text


def test_retry_after_and_remedies_are_kept():
    err = az.map_error(http_error(429, "TooManyRequests", headers={"Retry-After": "7"}), "read VM", "vm")
    assert err.retry_after == 7.0
    err = az.map_error(http_error(404, "ResourceGroupNotFound"), "read VM", "vm")
    assert "resource group" in err.remedy
    err = az.map_error(ClientAuthenticationError("AADSTS7000215: Invalid client secret provided."), "x", "y")
    assert isinstance(err, errors.AuthenticationError) and "AADSTS7000215" in err.message


def compute(monkeypatch, **over):
    sleeps = []
    p = dict(PARAMS, **over)
    c = az.AzureCompute(p, credential=object(), sleep=sleeps.append)
    return c, sleeps


def test_call_retries_conflicts_and_reports_them(monkeypatch):
    c, sleeps = compute(monkeypatch)
    answers = [http_error(409, "OperationNotAllowed"), http_error(429, "TooManyRequests", headers={"Retry-After": "2"})]

    def fn():
        if answers:
            raise answers.pop(0)
        return "ok"

    assert c.call("create snapshot", "rg/s", fn) == "ok"
    assert [r["status"] for r in c.retries] == [409, 429]
    assert all(r["operation"] == "create snapshot" for r in c.retries)
    assert sleeps[1] == 2.0  # Retry-After wins over the backoff
    assert c.report()["retries"] == c.retries


def test_call_gives_up_after_the_attempts_with_a_clear_error(monkeypatch):
    c = compute(monkeypatch, retry_attempts=2)[0]

    def fn():
        raise http_error(409, "OperationNotAllowed", "Conflicting writes")

    with pytest.raises(errors.ConflictError) as e:
        c.call("swap OS disk", "VM rg/vm", fn)
    assert "(after 2 attempts)" in e.value.render()


def test_permanent_conflicts_are_not_retried(monkeypatch):
    c, sleeps = compute(monkeypatch)
    calls = []

    def fn():
        calls.append(1)
        raise http_error(409, "PropertyChangeNotAllowed")

    with pytest.raises(errors.ConflictError):
        c.call("swap OS disk", "VM rg/vm", fn)
    assert len(calls) == 1 and sleeps == []


class FakePoller:
    def __init__(self, outcome, done=True, token="tok"):
        self.outcome = outcome
        self._done = done
        self.token = token

    def continuation_token(self):
        return self.token

    def wait(self, timeout=None):
        if isinstance(self.outcome, Exception):
            raise self.outcome

    def status(self):
        return "Succeeded" if self._done else "InProgress"

    def done(self):
        return self._done

    def result(self):
        return self.outcome


def test_lro_resumes_polling_from_the_continuation_token(monkeypatch):
    c = compute(monkeypatch)[0]
    seen = []

    def begin(**kw):
        seen.append(kw)
        if not kw:
            return FakePoller(http_error(429, "TooManyRequests", headers={"Retry-After": "1"}))
        return FakePoller({"id": "x"})

    assert c.lro("create disk", "rg/d", begin, timeout=10) == {"id": "x"}
    assert seen == [{}, {"continuation_token": "tok"}]
    assert c.operations[0]["resumed_polling"] == 1 and c.operations[0]["status"] == "Succeeded"
    assert c.retries[0]["status"] == 429


def test_lro_timeout_is_not_retried_and_says_where(monkeypatch):
    c = compute(monkeypatch)[0]
    with pytest.raises(errors.OperationTimeoutError) as e:
        c.lro("create snapshot", "rg/s", lambda **kw: FakePoller(None, done=False), timeout=1)
    assert "still InProgress after 1 s" in e.value.render()
    assert "rg/s" in e.value.render()


def test_credential_choice():
    cred = az.build_credential(dict(PARAMS, authority="https://login.example.test"))
    assert isinstance(cred, ClientSecretCredential)
    with pytest.raises(errors.ValidationError):
        az.build_credential(dict(PARAMS, authority="http://login.example.test"))
    with pytest.raises(errors.ConfigurationError) as e:
        az.build_credential(dict(PARAMS, tenant=None, auth_source="service_principal"))
    assert "tenant" in e.value.message
    assert isinstance(az.build_credential(dict(PARAMS, client_id=None, secret=None)), DefaultAzureCredential)


def test_client_refuses_plain_http_and_a_missing_subscription():
    with pytest.raises(errors.ValidationError) as e:
        az.AzureCompute(dict(PARAMS, base_url="http://127.0.0.1:1"), credential=object())
    assert "https" in e.value.message
    with pytest.raises(errors.ConfigurationError) as e:
        az.AzureCompute(dict(PARAMS, subscription_id=None), credential=object())
    assert "AZURE_SUBSCRIPTION_ID" in e.value.remedy


def test_arm_id_helpers():
    rid = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/disks/d1"
    assert az.arm_id_parts(rid) == {
        "subscription": "s",
        "resource_group": "RG",
        "type": "Microsoft.Compute/disks",
        "name": "d1",
    }
    assert az.same_id(rid, rid.lower() + "/")
    assert az.resource_id("s", "RG", "disks", "d1") == rid
    assert az.resource_id("s", "x", "disks", rid) == rid
    with pytest.raises(errors.ValidationError):
        az.arm_id_parts("/not/an/id")


# Endpoints of azure-cli's named clouds (src/azure-cli-core/azure/cli/core/cloud.py), which
# azure.azcollection's cloud_environment looks up (azure_rm_common.py, AzureRMAuth).
@pytest.mark.parametrize(
    "cloud, authority, arm",
    [
        (None, "https://login.microsoftonline.com", "https://management.azure.com"),
        ("AzureCloud", "https://login.microsoftonline.com", "https://management.azure.com"),
        ("AzureUSGovernment", "https://login.microsoftonline.us", "https://management.usgovcloudapi.net"),
        ("AzureChinaCloud", "https://login.chinacloudapi.cn", "https://management.chinacloudapi.cn"),
        ("azureusgovernment", "https://login.microsoftonline.us", "https://management.usgovcloudapi.net"),
    ],
)
def test_named_cloud_selects_authority_endpoint_and_scope(cloud, authority, arm):
    params = dict(PARAMS, cloud_environment=cloud)
    c = az.AzureCompute(params, credential=object())
    assert c.client._config.credential_scopes == [arm + "/.default"]
    assert c.client._config.base_url.rstrip("/") == arm
    cred = az.build_credential(params)
    assert cred._authority == authority
    # MSAL knows the named clouds' authorities: instance discovery stays at its default
    assert cred._instance_discovery is None


def test_explicit_endpoints_win_over_the_named_cloud():
    params = dict(
        PARAMS,
        cloud_environment="AzureUSGovernment",
        authority="https://127.0.0.1:8443",
        base_url="https://127.0.0.1:9443",
    )
    c = az.AzureCompute(params, credential=object())
    assert c.client._config.base_url == "https://127.0.0.1:9443"
    cred = az.build_credential(params)
    assert cred._authority == "https://127.0.0.1:8443" and cred._instance_discovery is False
    # ARM's audience stays the named cloud's: the explicit base_url is where requests go, not who they are for
    assert c.client._config.credential_scopes == ["https://management.usgovcloudapi.net/.default"]
    assert (
        az.cloud_endpoints(dict(params, credential_scope="https://adminmanagement.local/.default"))["credential_scope"]
        == "https://adminmanagement.local/.default"
    )


def test_unknown_cloud_is_refused_naming_it():
    with pytest.raises(errors.ValidationError, match="'AzureGermanCloud' is not one of"):
        az.cloud_endpoints(dict(PARAMS, cloud_environment="AzureGermanCloud"))


def test_env_var_is_the_fallback_of_the_option(monkeypatch):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    monkeypatch.setenv("AZURE_CLOUD_ENVIRONMENT", "AzureChinaCloud")
    v = ArgumentSpecValidator(az.AZURE_AUTH_ARGSPEC).validate({})
    assert v.validated_parameters["cloud_environment"] == "AzureChinaCloud"
    v = ArgumentSpecValidator(az.AZURE_AUTH_ARGSPEC).validate({"cloud_environment": "AzureCloud"})
    assert v.validated_parameters["cloud_environment"] == "AzureCloud"
