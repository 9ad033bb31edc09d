# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that knows how to reach Azure Resource Manager: auth, the Compute client, errors,
retries and long-running operations. Modules build an :class:`AzureModule` and call its client.

Auth (docs/azure.md):

- a service principal when a client id, secret and tenant are known, from the module options or from
  the environment AWX's "Microsoft Azure Resource Manager" credential injects (AZURE_CLIENT_ID,
  AZURE_SECRET, AZURE_TENANT, AZURE_SUBSCRIPTION_ID) or azure-identity's own names
  (AZURE_CLIENT_SECRET, AZURE_TENANT_ID); with a custom ``authority`` (sovereign or private cloud,
  the lab) instance discovery is turned off, as MSAL would otherwise ask the public cloud;
- otherwise azure-identity's DefaultAzureCredential chain (environment, workload identity, managed
  identity, Azure CLI), or one of them chosen with ``auth_source``.

TLS verification is always on: ``ca_bundle`` adds a CA file, it never turns verification off.

Retries: azure-core's own status-code retries are turned off (``retry_status=0``) so that every 409
and 429 comes here, to :func:`retry.call_with_retry`, which honours Retry-After within a budget and
records each retry for the module's result. Connection errors keep azure-core's retries.
Long-running operations wait with a timeout; a retriable error while polling resumes the poller from
its continuation token instead of sending the write again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible_collections.ump365.upgrade.plugins.module_utils import errors, validation
from ansible_collections.ump365.upgrade.plugins.module_utils.retry import (
    RetryPolicy,
    call_with_retry,
    parse_retry_after,
)

try:
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )
    from azure.core.polling.base_polling import OperationFailed
    from azure.identity import (
        AzureCliCredential,
        ClientSecretCredential,
        CredentialUnavailableError,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )
    from azure.core.rest import HttpRequest
    from azure.mgmt.compute import ComputeManagementClient

    HAS_AZURE = True
    AZURE_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - exercised by the sanity import test
    HAS_AZURE = False
    AZURE_IMPORT_ERROR = e

    class AzureError(Exception):  # placeholder so the except clauses below still compile
        pass

    ClientAuthenticationError = HttpResponseError = ServiceRequestError = ServiceResponseError = AzureError
    CredentialUnavailableError = OperationFailed = AzureError

# The module options every Azure module shares (documented in plugins/doc_fragments/azure.py).
AZURE_AUTH_ARGSPEC = dict(
    subscription_id=dict(type="str", fallback=(env_fallback, ["AZURE_SUBSCRIPTION_ID"])),
    tenant=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT", "AZURE_TENANT_ID"])),
    client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
    secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_SECRET", "AZURE_CLIENT_SECRET"])),
    auth_source=dict(
        type="str",
        default="auto",
        choices=["auto", "service_principal", "managed_identity", "cli", "default_chain"],
    ),
    cloud_environment=dict(type="str", fallback=(env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])),
    authority=dict(type="str", fallback=(env_fallback, ["AZURE_AUTHORITY_HOST"])),
    base_url=dict(type="str"),
    credential_scope=dict(type="str"),
    ca_bundle=dict(type="path", fallback=(env_fallback, ["REQUESTS_CA_BUNDLE"])),
    retry_attempts=dict(type="int", default=6),
    retry_budget=dict(type="float", default=600.0),
    retry_base_delay=dict(type="float", default=2.0),
)

# 409 codes that no amount of waiting fixes (everything else in a 409 is a conflicting operation).
PERMANENT_CONFLICTS = frozenset(
    ["PropertyChangeNotAllowed", "InvalidResourceReference", "OperationNotAllowedOnDeallocatedVM"]
)
ARM_ERROR_REMEDIES = {
    "ResourceGroupNotFound": "check the resource group name and subscription (ump_azure_resource_group, "
    "ump_azure_subscription_id)",
    "SubscriptionNotFound": "check subscription_id (ump_azure_subscription_id) and that the identity can see it",
    "PropertyChangeNotAllowed": "the existing resource was created differently; use another name or delete it first",
    "InvalidApiVersionParameter": "upgrade or downgrade azure-mgmt-compute to a version this cloud supports",
}


# The named clouds of azure.azcollection's cloud_environment (azure_rm_common.py looks the name up among
# azure.cli.core.cloud's Cloud objects; their endpoints, azure-cli src/azure-cli-core/azure/cli/core/cloud.py:
# active_directory is the authority, resource_manager the ARM endpoint, and the token scope is the ARM
# endpoint + "/.default", as azure_rm_common builds credential_scopes from it).
CLOUDS = {
    "AzureCloud": {
        "authority": "https://login.microsoftonline.com",
        "resource_manager": "https://management.azure.com",
    },
    "AzureUSGovernment": {
        "authority": "https://login.microsoftonline.us",
        "resource_manager": "https://management.usgovcloudapi.net",
    },
    "AzureChinaCloud": {
        "authority": "https://login.chinacloudapi.cn",
        "resource_manager": "https://management.chinacloudapi.cn",
    },
}


def cloud_endpoints(params):
    """``{cloud, authority, base_url, credential_scope}`` for the options, as azure.azcollection resolves them.

    The named cloud (``cloud_environment``, else AZURE_CLOUD_ENVIRONMENT, else AzureCloud) gives the
    authority, the Resource Manager endpoint and the token scope; an explicit ``authority``,
    ``base_url`` or ``credential_scope`` wins over the cloud's (a private endpoint or proxy of that
    cloud, Azure Stack, the lab). Unlike azure_rm_common, an explicit ``base_url`` does not change the
    token scope: ARM's audience is the cloud's, not the address the requests go to (set
    ``credential_scope`` for a cloud of its own such as Azure Stack Hub).
    """
    name = (params.get("cloud_environment") or "AzureCloud").strip()
    match = [k for k in CLOUDS if k.lower() == name.lower()]
    if not match:
        raise errors.ValidationError(
            "cloud_environment %r is not one of %s" % (name, ", ".join(CLOUDS)),
            system="azure",
            operation="authenticate",
            remedy="set cloud_environment (AZURE_CLOUD_ENVIRONMENT) to a named cloud, or authority, base_url "
            "and credential_scope for another one",
        )
    cloud = CLOUDS[match[0]]
    return {
        "cloud": match[0],
        "authority": params.get("authority") or cloud["authority"],
        "base_url": params.get("base_url") or cloud["resource_manager"],
        "credential_scope": params.get("credential_scope") or cloud["resource_manager"] + "/.default",
        # MSAL knows the named clouds' authorities; only a custom one needs instance discovery off
        "custom_authority": bool(params.get("authority")),
    }


def arm_id_parts(resource_id):
    """``{subscription, resource_group, type, name}`` of an ARM id (case kept as given)."""
    parts = [p for p in (resource_id or "").split("/") if p]
    low = [p.lower() for p in parts]
    out = {}
    try:
        out["subscription"] = parts[low.index("subscriptions") + 1]
        out["resource_group"] = parts[low.index("resourcegroups") + 1]
        i = low.index("providers")
        out["type"] = parts[i + 1] + "/" + parts[i + 2]
        out["name"] = parts[i + 3]
    except (ValueError, IndexError):
        raise errors.ValidationError(
            "%r is not an ARM resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/<ns>/<type>/<name>)"
            % (resource_id,),
            system="azure",
            operation="parse resource id",
        )
    return out


def same_id(a, b):
    """ARM ids are case-insensitive."""
    return bool(a) and bool(b) and a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


def to_dict(model):
    """A Compute model (or None) as ARM's JSON shape (camelCase), the form results are built from."""
    if model is None:
        return None
    if isinstance(model, dict):
        return model
    return model.as_dict()


def map_error(exc, operation, resource):
    """An azure-core / azure-identity exception as one of errors.py's classes."""
    if isinstance(exc, errors.UmpError):
        return exc
    kwargs = dict(system="azure", operation=operation, resource=resource)
    if isinstance(exc, CredentialUnavailableError):
        return errors.AuthenticationError(
            "no Azure credential is available (%s)" % _first_line(exc),
            remedy="set client_id, secret and tenant (or AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT), "
            "or run where a managed identity or 'az login' is available",
            **kwargs,
        )
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    message = getattr(err, "message", None) or _first_line(exc)
    headers = getattr(response, "headers", None) or {}
    retry_after = parse_retry_after(headers.get("Retry-After")) if headers else None
    details = {"status": status, "code": code}
    if isinstance(getattr(exc, "inner_exception", None), OperationFailed) or (
        isinstance(exc, HttpResponseError) and "failed or canceled" in str(exc) and status == 200
    ):
        return errors.OperationFailedError(
            "the operation ended Failed: %s" % message,
            remedy="see the error code above; delete the failed resource or fix its cause, then run again",
            details=details,
            **kwargs,
        )
    if isinstance(exc, ClientAuthenticationError) or status == 401:
        return errors.AuthenticationError(message, details=details, **kwargs)
    if status == 403:
        return errors.AuthorizationError(
            message,
            remedy="grant the identity the action named above (docs/azure.md has the least-privilege role)",
            details=details,
            **kwargs,
        )
    if status == 404:
        return errors.NotFoundError(message, remedy=ARM_ERROR_REMEDIES.get(code), details=details, **kwargs)
    if status == 409:
        return errors.ConflictError(
            message,
            retriable=code not in PERMANENT_CONFLICTS,
            retry_after=retry_after,
            remedy=ARM_ERROR_REMEDIES.get(code),
            details=details,
            **kwargs,
        )
    if status == 429:
        return errors.ThrottledError(message, retry_after=retry_after, details=details, **kwargs)
    if status == 400:
        return errors.ConfigurationError(message, remedy=ARM_ERROR_REMEDIES.get(code), details=details, **kwargs)
    if status is not None and status >= 500:
        return errors.RemoteError(
            message,
            retriable=True,
            retry_after=retry_after,
            remedy="Azure had an internal error; run again, and open a support case if it persists",
            details=details,
            **kwargs,
        )
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return errors.UnreachableError(_first_line(exc), details=details, **kwargs)
    if isinstance(exc, ClientAuthenticationError):
        return errors.AuthenticationError(message, details=details, **kwargs)
    return errors.RemoteError(message, details=details, **kwargs)


def _first_line(exc):
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def build_credential(params):
    """The azure-identity credential the options ask for (see the module docstring)."""
    source = params.get("auth_source") or "auto"
    client_id, secret, tenant = params.get("client_id"), params.get("secret"), params.get("tenant")
    transport = {}
    if params.get("ca_bundle"):
        transport["connection_verify"] = params["ca_bundle"]
    if source == "service_principal" or (source == "auto" and client_id and secret):
        missing = [n for n, v in (("client_id", client_id), ("secret", secret), ("tenant", tenant)) if not v]
        if missing:
            raise errors.ConfigurationError(
                "a service principal needs %s" % ", ".join(missing),
                system="azure",
                operation="authenticate",
                remedy="set the options or AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT (AWX's Azure credential does)",
            )
        kw = dict(transport)
        cloud = cloud_endpoints(params)
        authority = cloud["authority"]
        if not authority.lower().startswith("https://"):
            raise errors.ValidationError(
                "authority %r must be an https:// URL" % authority, system="azure", operation="authenticate"
            )
        kw["authority"] = authority
        if cloud["custom_authority"]:
            # a private cloud or proxy, the lab: MSAL must not ask the public cloud about it
            kw["disable_instance_discovery"] = True
        return ClientSecretCredential(tenant, client_id, secret, **kw)
    if source == "managed_identity":
        return ManagedIdentityCredential(client_id=client_id, **transport) if client_id else ManagedIdentityCredential()
    if source == "cli":
        return AzureCliCredential(tenant_id=tenant) if tenant else AzureCliCredential()
    kw = dict(transport)
    kw["authority"] = cloud_endpoints(params)["authority"]
    if client_id:
        kw["managed_identity_client_id"] = client_id
    return DefaultAzureCredential(**kw)


class AzureCompute:
    """A ComputeManagementClient plus retries, LRO waiting and a record of what happened."""

    def __init__(self, params, credential=None, sleep=time.sleep):
        if not params.get("subscription_id"):
            raise errors.ConfigurationError(
                "subscription_id is not set",
                system="azure",
                operation="connect",
                remedy="set subscription_id or AZURE_SUBSCRIPTION_ID (ump_azure_subscription_id)",
            )
        cloud = cloud_endpoints(params)
        base_url = cloud["base_url"]
        if not base_url.lower().startswith("https://"):
            raise errors.ValidationError(
                "base_url %r must be an https:// URL (azure-core never sends a bearer token over http)" % base_url,
                system="azure",
                operation="connect",
            )
        self.params = params
        self.retries = []
        self.operations = []
        self.requests = 0
        self._sleep = sleep
        self.policy = RetryPolicy(
            max_attempts=params.get("retry_attempts") or 6,
            base_delay=params.get("retry_base_delay") if params.get("retry_base_delay") is not None else 2.0,
            max_delay=60.0,
            budget=params.get("retry_budget") if params.get("retry_budget") is not None else 600.0,
        )
        self.cloud = cloud
        kw = dict(retry_status=0, raw_response_hook=self._on_response)
        kw["base_url"] = base_url.rstrip("/")
        kw["credential_scopes"] = [cloud["credential_scope"]]
        if params.get("ca_bundle"):
            kw["connection_verify"] = params["ca_bundle"]
        try:
            cred = credential if credential is not None else build_credential(params)
            self.client = ComputeManagementClient(cred, params["subscription_id"], **kw)
        except errors.UmpError:
            raise
        except (AzureError, ValueError) as e:
            raise map_error(e, "connect", base_url or "Azure Resource Manager")

    def _on_response(self, pipeline_response):
        self.requests += 1

    # ------------------------------------------------------------------ calls
    def call(self, operation, resource, fn):
        """``fn()`` with errors mapped and retriable ones retried within the budget."""

        def attempt():
            try:
                return fn()
            except errors.UmpError:
                raise
            except AzureError as e:
                raise map_error(e, operation, resource)

        def on_retry(info):
            info = dict(info, operation=operation, resource=resource)
            self.retries.append(info)

        result, _attempts = call_with_retry(attempt, self.policy, on_retry=on_retry, sleep=self._sleep)
        return result

    def get_or_none(self, operation, resource, fn):
        """Like :meth:`call`, but a 404 (not the resource group's) is None."""
        try:
            return self.call(operation, resource, fn)
        except errors.NotFoundError as e:
            if e.details.get("code") in ("ResourceGroupNotFound", "SubscriptionNotFound"):
                raise
            return None

    def lro(self, operation, resource, begin, timeout):
        """Start a long-running operation with ``begin(**kw)`` and wait until it ends or ``timeout`` s pass.

        A retriable failure of the first request sends it again; one while polling resumes the
        poller from its continuation token (the write is not repeated).
        """
        started = time.monotonic()
        state = {"token": None, "status": "NotStarted", "resumed": 0}
        record = {"operation": operation, "resource": resource}

        def attempt():
            if state["token"] is None:
                poller = begin()
                try:
                    state["token"] = poller.continuation_token()
                except Exception:  # a poller that cannot be resumed is simply restarted
                    state["token"] = None
            else:
                state["resumed"] += 1
                poller = begin(continuation_token=state["token"])
            remaining = max(0.0, float(timeout) - (time.monotonic() - started))
            poller.wait(remaining)
            state["status"] = poller.status()
            if not poller.done():
                raise errors.OperationTimeoutError(
                    "still %s after %d s (the operation goes on in Azure)" % (state["status"], int(timeout)),
                    system="azure",
                    operation=operation,
                    resource=resource,
                    remedy="check the resource in Azure, then run again (the module picks it up) or raise wait_timeout",
                )
            return poller.result()

        try:
            return self.call(operation, resource, attempt)
        finally:
            record.update(
                status=state["status"],
                seconds=round(time.monotonic() - started, 3),
                resumed_polling=state["resumed"],
            )
            self.operations.append(record)

    def arm_get_all(self, operation, resource, path, api_version):
        """GET an ARM list (``{"value": [...], "nextLink"}``) outside Microsoft.Compute through the same
        authenticated pipeline, retries and error mapping, following ``nextLink``; the items."""

        def fetch(url, params):
            def one():
                response = self.client.send_request(HttpRequest("GET", url, params=params))
                if response.status_code >= 400:
                    raise HttpResponseError(response=response)
                return response.json()

            return self.call(operation, resource, one)

        items, url, params, pages = [], path, {"api-version": api_version}, 0
        while url and pages < 100:
            pages += 1
            body = fetch(url, params)
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise errors.RemoteError(
                    "unexpected reply: no 'value' list",
                    system="azure",
                    operation=operation,
                    resource=resource,
                    remedy="check base_url points at Azure Resource Manager",
                )
            items += body["value"]
            url, params = body.get("nextLink"), None
        return items

    def report(self):
        """What a module adds to its result: retries, operations and the number of ARM requests."""
        return dict(retries=list(self.retries), operations=list(self.operations), arm_requests=self.requests)


class AzureModule:
    """An AnsibleModule with the shared Azure options and an :class:`AzureCompute` (composition)."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(AZURE_AUTH_ARGSPEC)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        # "name" is the snapshot's name in every Azure module of the collection
        validation.check_module(self.module, {"name": "azure_name"})
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self._azure = None
        if not HAS_AZURE:
            self.module.fail_json(
                msg=missing_required_lib("azure-mgmt-compute and azure-identity"), exception=str(AZURE_IMPORT_ERROR)
            )

    @property
    def azure(self):
        if self._azure is None:
            try:
                self._azure = AzureCompute(self.params)
            except errors.UmpError as e:
                self.fail(e)
        return self._azure

    def report(self):
        return self._azure.report() if self._azure is not None else dict(retries=[], operations=[], arm_requests=0)

    def exit(self, **result):
        result.update(self.report())
        self.module.exit_json(**result)

    def fail(self, error, **extra):
        extra.update(self.report())
        extra.setdefault("retries", [])
        errors.fail_module(self.module, error, **extra)


def power_of(instance_view):
    for s in (to_dict(instance_view) or {}).get("statuses") or []:
        code = s.get("code") or ""
        if code.startswith("PowerState/"):
            return code.split("/", 1)[1]
    return "unknown"


def ade_enabled(vm, disk):
    """Azure Disk Encryption: the VM's ADE extension, osDisk.encryptionSettings, or the disk's collection."""
    for ext in vm.get("resources") or []:
        props = ext.get("properties") or {}
        if (props.get("publisher") or "").lower() == "microsoft.azure.security" and (
            props.get("type") or ""
        ).lower().startswith("azurediskencryption"):
            return True
    if ((vm["properties"]["storageProfile"]["osDisk"].get("encryptionSettings") or {}).get("enabled")) is True:
        return True
    return bool(((disk or {}).get("properties", {}).get("encryptionSettingsCollection") or {}).get("enabled"))


def _action_matches(pattern, action):
    """RBAC wildcards: ``*`` matches any run of characters, case-insensitive (Azure RBAC, "Actions")."""
    rx = "^" + re.escape(pattern.lower()).replace("\\*", ".*") + "$"
    return re.match(rx, action.lower()) is not None


def missing_actions(permissions, required):
    """The ``required`` actions that no permission entry grants (an entry grants an action that one of its
    ``actions`` matches and none of its ``notActions`` does)."""
    out = []
    for action in required or []:
        granted = False
        for perm in permissions or []:
            if any(_action_matches(a, action) for a in perm.get("actions") or []) and not any(
                _action_matches(n, action) for n in perm.get("notActions") or []
            ):
                granted = True
                break
        if not granted:
            out.append(action)
    return out


def snapshot_facts(snap):
    """The snapshot fields modules return (snake_case), from ARM's JSON shape."""
    snap = to_dict(snap) or {}
    props = snap.get("properties") or {}
    cd = props.get("creationData") or {}
    return dict(
        id=snap.get("id"),
        name=snap.get("name"),
        location=snap.get("location"),
        resource_group=arm_id_parts(snap["id"])["resource_group"] if snap.get("id") else None,
        source_disk_id=cd.get("sourceResourceId"),
        time_created=props.get("timeCreated"),
        provisioning_state=props.get("provisioningState"),
        disk_size_gb=props.get("diskSizeGB"),
        incremental=bool(props.get("incremental", False)),
        sku=(snap.get("sku") or {}).get("name"),
        tags=dict(snap.get("tags") or {}),
        os_type=props.get("osType"),
        hyper_v_generation=props.get("hyperVGeneration"),
        security_type=(props.get("securityProfile") or {}).get("securityType"),
    )


def resource_id(subscription_id, resource_group, rtype, name):
    """``name`` if it already is an ARM id, else the id of ``Microsoft.Compute/<rtype>/<name>``."""
    if name.startswith("/"):
        arm_id_parts(name)
        return name
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/%s/%s" % (
        subscription_id,
        resource_group,
        rtype,
        name,
    )
