# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client of the UMP-365 SP Edition "tenantui" REST API (facts/ump_sbc_ovoc.md).

Authentication: an Entra ID client-credentials token for ``api://<app id>/.default`` from
``<authority>/<tenant>/oauth2/v2.0/token``, sent as ``Authorization: Bearer``.

Token cache (decision, docs/assumptions.md): every Ansible task is its own process, so an
in-process cache alone would fetch one token per task. Tokens are therefore also kept in a file on
the controller (default ``~/.ansible/ump365/ump_api_tokens.json``, directory 0700, file 0600),
keyed by a SHA-256 of authority, tenant, client id, scope and a hash of the client secret (so a new
secret never reuses an old token). The file holds only access tokens (valid about an hour, for
this one audience) and their expiry; never the client secret. A token is reused while it has more
than ``TOKEN_MIN_LIFETIME`` seconds left. ``token_cache=false`` turns the file off. A 401 answer to a
cached token drops it and fetches a new one once.

Portal data with no public API (per-customer and SysAdminKit versions, replication queue,
authentication status, invitations, SBC list, invitation settings) is read from configurable
endpoints (``PORTAL_PATHS``; the lab serves these paths) and normalised here, in one place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import tempfile
import threading
import time

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.http import (
    HttpClient,
    parse_problem,
    require_list,
    require_object,
    shape_error,
)

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_TOKEN_CACHE = "~/.ansible/ump365/ump_api_tokens.json"
TOKEN_CACHE_ENV = "UMP365_TOKEN_CACHE"  # overrides the default file (the test suite points it at its temp dir)
TOKEN_MIN_LIFETIME = 300

# Not public (facts: "These live in the portal and in the SysAdminTenant SQL database"): the lab's
# assumed endpoints; every one can be overridden with the portal_paths option.
PORTAL_PATHS = {
    "versions": "/api/v3/portal/versions",
    "replication_queue": "/api/v3/portal/replicationqueue",
    "authentication_status": "/api/v3/portal/authenticationstatus",
    "invitations": "/api/v3/portal/invitations",
    "sbcs": "/api/v3/portal/sbcs",
    "invitation_settings": "/api/v3/portal/invitationsettings",
    "licence": "/api/v2/license",
}
PORTAL_SECTIONS = tuple(sorted(PORTAL_PATHS))

# v2 site locations give sbcDeploymentState as an int; 3 = Deployed is inferred from the v3 string
# for the same site (facts); the other numbers follow the guide's appendix order and are assumptions.
DEPLOYMENT_STATES = {0: "Unknown", 1: "Ready", 2: "Failed", 3: "Deployed"}
TASK_DONE_STATES = ("CompletedSuccess", "Failed")

_MEMORY_TOKENS = {}
_MEMORY_LOCK = threading.Lock()


def deployment_state_name(value):
    """``3`` -> ``Deployed``; strings pass through; unknown numbers become ``Unknown(<n>)``."""
    if isinstance(value, bool) or value is None:
        return "Unknown"
    if isinstance(value, int):
        return DEPLOYMENT_STATES.get(value, "Unknown(%d)" % value)
    text = str(value)
    if text.isdigit():
        return deployment_state_name(int(text))
    return text


def normalise_scope(scope):
    """``api://<app>`` or ``api://<app>/.default`` -> ``api://<app>/.default``; validates the form."""
    if not scope or not isinstance(scope, str):
        raise errors.ValidationError(
            "the API scope is empty",
            system="ump_api",
            operation="configure",
            remedy="set ump_api_scope to api://<app id>/.default",
        )
    s = scope.strip()
    if not s.endswith("/.default"):
        s = s.rstrip("/") + "/.default"
    if " " in s or "://" not in s:
        raise errors.ValidationError(
            "scope %r is not of the form api://<app id>/.default" % scope,
            system="ump_api",
            operation="configure",
            remedy="set ump_api_scope to the Application ID URI of the UMP API app registration plus /.default",
        )
    return s


def _items(body, *keys, **kw):
    """A list from a body that is a list or an object wrapping one (``value``, ``items`` or ``keys``);
    anything else (null included) is an error naming the endpoint, never an empty list."""
    return require_list(
        body,
        "ump_api",
        kw.get("operation") or "read",
        kw.get("endpoint") or "the UMP API",
        keys=keys + ("value", "items", "Items"),
        item_fields=kw.get("item_fields"),
    )


class TokenCache:
    """Access tokens by key, in memory and (optionally) in a 0600 file on the controller."""

    def __init__(self, path=None, min_lifetime=TOKEN_MIN_LIFETIME, clock=time.time):
        self.path = os.path.expanduser(path) if path else None
        self.min_lifetime = min_lifetime
        self.clock = clock

    def _read_file(self):
        if not self.path:
            return {}
        try:
            st = os.stat(self.path)
        except OSError:
            return {}
        if st.st_mode & 0o077 or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            # loosened permissions or another owner: do not trust (or reuse) what is in it
            return {}
        try:
            with open(self.path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key):
        now = self.clock()
        with _MEMORY_LOCK:
            entry = _MEMORY_TOKENS.get(key)
        if entry is None:
            entry = self._read_file().get(key)
        if (
            isinstance(entry, dict)
            and entry.get("expires_at", 0) - now > self.min_lifetime
            and entry.get("access_token")
        ):
            with _MEMORY_LOCK:
                _MEMORY_TOKENS[key] = entry
            return entry["access_token"]
        return None

    def put(self, key, token, expires_at):
        entry = {"access_token": token, "expires_at": expires_at}
        with _MEMORY_LOCK:
            _MEMORY_TOKENS[key] = entry
        if self.path:
            data = self._read_file()
            now = self.clock()
            data = {k: v for k, v in data.items() if isinstance(v, dict) and v.get("expires_at", 0) > now}
            data[key] = entry
            self._write_file(data)

    def drop(self, key):
        with _MEMORY_LOCK:
            _MEMORY_TOKENS.pop(key, None)
        if self.path:
            data = self._read_file()
            if key in data:
                del data[key]
                self._write_file(data)

    def _write_file(self, data):
        folder = os.path.dirname(self.path) or "."
        try:
            if not os.path.isdir(folder):
                os.makedirs(folder, 0o700, exist_ok=True)  # hosts of a batch race here
            fd, tmp = tempfile.mkstemp(prefix=".ump_api_tokens.", dir=folder)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w") as f:
                    json.dump(data, f)
                os.replace(tmp, self.path)
            except Exception:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            # a cache that cannot be written only costs an extra token request later
            pass


def cache_key(authority, tenant_id, client_id, scope, client_secret):
    secret_hash = hashlib.sha256((client_secret or "").encode("utf-8")).hexdigest()
    raw = "|".join([authority.rstrip("/").lower(), tenant_id.lower(), client_id.lower(), scope.lower(), secret_hash])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class EntraTokenClient(HttpClient):
    system = "entra"

    def error_for(self, resp, method, path, operation, resource):
        err = super(EntraTokenClient, self).error_for(resp, method, path, operation, resource)
        _title, detail, code, _trace = parse_problem(resp.text, resp.headers.get("Content-Type", ""))
        if code in ("invalid_client", "unauthorized_client") or resp.status == 401:
            return errors.AuthenticationError(
                "Entra ID refused the client credentials (%s: %s)" % (code, detail),
                system="ump_api",
                operation="get token",
                resource=resource,
                remedy="check ump_api_client_id and ump_api_client_secret (the UMP API app registration's "
                "client id and a secret that has not expired) and ump_api_tenant_id",
                details=err.details,
            )
        if code == "invalid_scope":
            return errors.ConfigurationError(
                "Entra ID refused the scope (%s)" % detail,
                system="ump_api",
                operation="get token",
                resource=resource,
                remedy="set ump_api_scope to api://<UMP API app id>/.default",
                details=err.details,
            )
        if resp.status >= 500:
            err.remedy = (
                "Entra ID's token endpoint %s is unavailable (%s): nothing was changed by this request; check "
                "https://status.azure.com or the network path to %s, then run again"
                % (resource, code or resp.status, self.base_url)
            )
            return err
        if resp.status == 400:
            return errors.ConfigurationError(
                "Entra ID refused the token request (%s: %s)" % (code, detail),
                system="ump_api",
                operation="get token",
                resource=resource,
                remedy="check ump_api_tenant_id, ump_api_authority and ump_api_client_id",
                details=err.details,
            )
        return err


class UmpApiClient(HttpClient):
    """The tenantui API of one UMP server."""

    system = "ump_api"

    def __init__(
        self,
        base_url,
        tenant_id,
        client_id,
        client_secret,
        scope,
        authority=DEFAULT_AUTHORITY,
        token_cache=True,
        token_cache_path=None,
        portal_paths=None,
        channel_id=None,
        **kw,
    ):
        headers = {"X-Ovoc-Channel-Id": channel_id} if channel_id else None
        super(UmpApiClient, self).__init__(base_url, headers=headers, **kw)
        for name, value in (("tenant_id", tenant_id), ("client_id", client_id), ("client_secret", client_secret)):
            if not value:
                raise errors.ValidationError(
                    "%s is empty" % name, system=self.system, operation="configure", remedy="set ump_api_%s" % name
                )
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._client_secret = client_secret
        self.add_secret(client_secret)
        self.scope = normalise_scope(scope)
        self.authority = (authority or DEFAULT_AUTHORITY).rstrip("/")
        self.cache = TokenCache(
            (token_cache_path or os.environ.get(TOKEN_CACHE_ENV) or DEFAULT_TOKEN_CACHE) if token_cache else None
        )
        self._key = cache_key(self.authority, tenant_id, client_id, self.scope, client_secret)
        self.portal_paths = dict(PORTAL_PATHS)
        for k, v in (portal_paths or {}).items():
            if k not in PORTAL_PATHS:
                raise errors.ValidationError(
                    "unknown portal path %r (known: %s)" % (k, ", ".join(PORTAL_SECTIONS)),
                    system=self.system,
                    operation="configure",
                )
            if v:
                self.portal_paths[k] = v
        self.token_requests = 0
        self._entra = EntraTokenClient(
            self.authority,
            validate_certs=self.verify is not False,
            ca_bundle=self.verify if isinstance(self.verify, str) else None,
            timeout=self.timeout,
            retry_policy=self.policy,
            on_retry=self.on_retry,
            allow_insecure_http=bool(kw.get("allow_insecure_http")),
        )
        self.insecure_http = self.insecure_http or self._entra.insecure_http
        self._entra.add_secret(client_secret)

    # ------------------------------------------------------------------ token
    def _token(self, fresh=False):
        if not fresh:
            token = self.cache.get(self._key)
            if token:
                return token
        resp = self._entra.request(
            "POST",
            "/%s/oauth2/v2.0/token" % quote(self.tenant_id, safe=""),
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "scope": self.scope,
            },
            expect=(200,),
            operation="get token",
            # the token endpoint itself: an Entra outage names it (issue 22)
            resource="POST %s/%s/oauth2/v2.0/token" % (self.authority, quote(self.tenant_id, safe="")),
        )
        body = require_object(resp.body, "entra", "get token", resp.endpoint, {"expires_in": (int, float, str, None)})
        token = body.get("access_token")
        if not token or not isinstance(token, str):
            raise errors.AuthenticationError(
                "Entra ID answered %s without an access token" % resp.endpoint,
                system=self.system,
                operation="get token",
                resource=resp.endpoint,
            )
        self.token_requests += 1
        self.add_secret(token)
        self.cache.put(self._key, token, time.time() + float(body.get("expires_in", 3599)))
        return token

    def call(self, method, path, operation=None, resource=None, expect=(200,), **kw):
        token = self._token()
        self.add_secret(token)
        try:
            return self.request(
                method,
                path,
                headers={"Authorization": "Bearer " + token},
                operation=operation,
                resource=resource,
                expect=expect,
                **kw,
            )
        except errors.AuthenticationError:
            # a cached token the API no longer accepts (revoked, clock skew): one fresh try
            self.cache.drop(self._key)
            token = self._token(fresh=True)
            return self.request(
                method,
                path,
                headers={"Authorization": "Bearer " + token},
                operation=operation,
                resource=resource,
                expect=expect,
                **kw,
            )

    def error_for(self, resp, method, path, operation, resource):
        err = super(UmpApiClient, self).error_for(resp, method, path, operation, resource)
        if resp.status == 401:
            err.remedy = (
                "the UMP API refused the token; check that ump_api_tenant_id, ump_api_client_id and "
                "ump_api_scope belong to this server's API app registration and that its clock is right"
            )
        elif resp.status == 403:
            err.remedy = (
                "the token is for another audience or lacks a role: set ump_api_scope to "
                "api://<this UMP server's API app id>/.default (%s was used)" % self.scope
            )
        elif resp.status == 503:
            err.remedy = (
                "the UMP web application is unavailable (IIS/w3svc stopped or the app pool is down); "
                "start the w3svc service on the UMP server and run again"
            )
        return err

    def get(self, path, operation=None, resource=None, params=None):
        return self.call("GET", path, operation=operation, resource=resource, params=params).body

    def get_object(self, path, operation, fields=None, resource=None, params=None):
        """GET a JSON object with ``fields`` ({name: type}); the wrong shape names the endpoint."""
        body = self.get(path, operation, resource=resource, params=params)
        return require_object(body, self.system, operation, "GET %s" % path.split("?")[0], fields)

    # ------------------------------------------------------------------ public API
    def customers(self, all_details=False):
        params = {"allDetails": "true"} if all_details else None
        path = "/api/v3/customer"
        return _items(
            self.get(path, "list customers", params=params),
            "customers",
            "Customers",
            operation="list customers",
            endpoint="GET %s" % path,
            item_fields={"UmpCustomerGuid": str},
        )

    def customer(self, guid):
        path = "/api/v3/customer/%s" % quote(str(guid), safe="")
        body = self.get_object(path, "read customer", resource="customer %s" % guid)
        site_list = body.get("SiteLocation")
        if site_list is not None:
            require_list(site_list, self.system, "read customer", "GET %s" % path, item_fields={"id": (int, str)})
        return body

    def site_location(self, site_id):
        path = "/api/v2/sitelocation/%s" % quote(str(site_id), safe="")
        body = self.get_object(path, "read site location", {"id": (int, str)}, resource="site location %s" % site_id)
        if body.get("dialPlans") is not None:
            require_list(
                body["dialPlans"], self.system, "read site location", "GET %s" % path, item_fields={"id": (int, str)}
            )
        if isinstance(body, dict) and "sbcDeploymentState" in body:
            body = dict(body)
            body["sbcDeploymentStateName"] = deployment_state_name(body.get("sbcDeploymentState"))
            if "m365DeploymentState" in body:
                body["m365DeploymentStateName"] = deployment_state_name(body.get("m365DeploymentState"))
        return body

    def dial_plan(self, customer_id, site_id, dial_plan_id):
        path = "/api/v2/customer/%s/sitelocation/%s/dialplan/%s" % (
            quote(str(customer_id), safe=""),
            quote(str(site_id), safe=""),
            quote(str(dial_plan_id), safe=""),
        )
        body = self.get_object(path, "read dial plan", resource="dial plan %s of site %s" % (dial_plan_id, site_id))
        if body.get("rules") is not None:
            require_list(body["rules"], self.system, "read dial plan", "GET %s" % path)
        return body

    def task(self, task_id):
        path = "/api/v2/task/%s" % quote(str(task_id), safe="")
        body = self.get_object(path, "read task", resource="task %s" % task_id)
        status = body.get("status", body.get("Status"))
        if not isinstance(status, str):
            raise shape_error(self.system, "read task", "GET %s" % path, "a task without a status string")
        return body

    def wait_task(self, task_id, timeout=600, interval=5, on_progress=None, sleep=time.sleep, clock=time.monotonic):
        """Poll the task until ``CompletedSuccess`` or ``Failed``; returns ``(task, history)``.

        ``history`` lists each status change with the seconds since the wait began. Raises
        :class:`errors.OperationFailedError` for ``Failed`` and :class:`errors.OperationTimeoutError`
        when ``timeout`` passes first.
        """
        start = clock()
        history = []
        while True:
            task = self.task(task_id)
            status = str(task.get("status") or task.get("Status") or "")
            elapsed = round(clock() - start, 3)
            if not history or history[-1]["status"] != status:
                history.append({"status": status, "elapsed": elapsed})
                if on_progress is not None:
                    on_progress(task)
            if status == "CompletedSuccess":
                return task, history
            if status == "Failed":
                err = errors.OperationFailedError(
                    "task %s finished Failed: %s"
                    % (task_id, task.get("message") or task.get("Message") or "no message"),
                    system=self.system,
                    operation="wait for task",
                    resource="task %s" % task_id,
                    remedy="read the task's message, fix its cause in the UMP portal (Queued Tasks) and run the "
                    "step again",
                    details={"task": task, "history": history},
                )
                raise err
            if elapsed >= timeout:
                raise errors.OperationTimeoutError(
                    "task %s still %r after %g s" % (task_id, status, timeout),
                    system=self.system,
                    operation="wait for task",
                    resource="task %s" % task_id,
                    details={"task": task, "history": history},
                )
            sleep(min(interval, max(0.0, timeout - elapsed)))

    def licence(self):
        return self.portal_raw("licence")

    # ------------------------------------------------------------------ portal data (not public)
    def portal_raw(self, section):
        path = self.portal_paths[section]
        return self.get(path, "read portal %s" % section.replace("_", " "), resource=path)

    def portal(self, section):
        """The normalised portal section (see :data:`PORTAL_PATHS`); the raw answer's shape is checked
        first (:data:`PORTAL_SHAPES`), so a wrong shape names the endpoint instead of reading as empty."""
        raw = self.portal_raw(section)
        operation = "read portal %s" % section.replace("_", " ")
        endpoint = "GET %s" % self.portal_paths[section].split("?")[0]
        kind, fields, lists = PORTAL_SHAPES[section]
        if kind == "list":
            require_list(raw, self.system, operation, endpoint, keys=lists)
        else:
            require_object(raw, self.system, operation, endpoint, fields)
            for key, item_fields in lists:
                if raw.get(key) is not None:
                    require_list(raw[key], self.system, operation, endpoint, item_fields=item_fields)
        return NORMALISERS[section](raw)


def _num(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _norm_versions(raw):
    raw = raw or {}
    return {
        "sysadminkit_version": raw.get("SysAdminKitVersion"),
        "multitenant_version": raw.get("MultiTenantVersion"),
        "available_users": _num(raw.get("AvailableUsers")),
        "available_customers": _num(raw.get("AvailableCustomers")),
        "customers": [
            {
                "guid": c.get("UmpCustomerGuid"),
                "name": c.get("CustomerShortName"),
                "state": c.get("State"),
                "version": c.get("Version"),
                "replication_time": c.get("ReplicationTime"),
            }
            for c in _items(raw, "Customers")
        ]
        if isinstance(raw, dict) and "Customers" in raw
        else [],
    }


def _norm_queue(raw):
    raw = raw or {}
    return {
        "open_commands": _num(raw.get("OpenCommands")),
        "executing": _num(raw.get("Executing")),
        "queued": _num(raw.get("Queued")),
        "commands": list(raw.get("Commands") or []),
    }


def _norm_auth(raw):
    raw = raw or {}
    return {
        "client_id": raw.get("ClientId"),
        "client_secret_configured": bool(raw.get("ClientSecretConfigured")),
        "redirect_uri": raw.get("RedirectUri"),
        "customers": [
            {
                "customer": c.get("CustomerId"),
                "m365_email": c.get("M365Email"),
                "method": c.get("AuthenticationMethod"),
                "last_verified": c.get("WhenLastVerified"),
                "last_status": c.get("LastVerificationStatus"),
            }
            for c in (raw.get("Customers") or [])
        ],
    }


def _norm_invitations(raw):
    return list(_items(raw, "Invitations"))


def _norm_sbcs(raw):
    return list(_items(raw, "Sbcs"))


def _norm_settings(raw):
    raw = raw or {}
    return {"portal_url": raw.get("CustomerAuthenticationPortalUrl")}


def _norm_licence(raw):
    raw = raw or {}
    licences = list(raw.get("Licenses") or [])
    return {
        "licences": licences,
        "missing": not any(str(lic.get("Status", "")).lower() == "valid" for lic in licences),
        "multitenant_version": raw.get("MultiTenantVersion"),
    }


# What each portal answer must look like before it is normalised: ("object", required fields, [(list
# field, item fields)]) or ("list", None, keys of a wrapping object). Absent optional lists stay absent.
_COUNT = (int, str)
PORTAL_SHAPES = {
    "versions": (
        "object",
        {"SysAdminKitVersion": (str, None), "MultiTenantVersion": (str, None), "Customers": list},
        [("Customers", {"UmpCustomerGuid": (str, None)})],
    ),
    "replication_queue": (
        "object",
        {"OpenCommands": _COUNT, "Executing": _COUNT, "Queued": _COUNT},
        [("Commands", None)],
    ),
    "authentication_status": ("object", {"Customers": list}, [("Customers", {})]),
    "invitations": ("list", None, ("Invitations",)),
    "sbcs": ("list", None, ("Sbcs",)),
    "invitation_settings": ("object", {"CustomerAuthenticationPortalUrl": (str, None)}, []),
    "licence": ("object", {"Licenses": list}, [("Licenses", {})]),
}

NORMALISERS = {
    "versions": _norm_versions,
    "replication_queue": _norm_queue,
    "authentication_status": _norm_auth,
    "invitations": _norm_invitations,
    "sbcs": _norm_sbcs,
    "invitation_settings": _norm_settings,
    "licence": _norm_licence,
}


def ump_api_argument_spec():
    """Options of doc fragments ``ump365.upgrade.ump_api`` and ``ump365.upgrade.rest``."""
    from ansible.module_utils.basic import env_fallback

    from ansible_collections.ump365.upgrade.plugins.module_utils.http import rest_argument_spec

    spec = dict(
        api_url=dict(type="str", required=True),
        tenant_id=dict(type="str", required=True),
        client_id=dict(type="str", required=True),
        client_secret=dict(type="str", required=True, no_log=True),
        scope=dict(type="str", required=True),
        authority=dict(type="str", default=DEFAULT_AUTHORITY),
        token_cache=dict(type="bool", default=True, no_log=False),
        token_cache_path=dict(
            type="path", default=DEFAULT_TOKEN_CACHE, no_log=False, fallback=(env_fallback, [TOKEN_CACHE_ENV])
        ),
        channel_id=dict(type="str"),
    )
    spec.update(rest_argument_spec())
    return spec


def client_from_params(params, **extra):
    from ansible_collections.ump365.upgrade.plugins.module_utils.http import rest_client_kwargs

    kw = rest_client_kwargs(params)
    kw.update(extra)
    return UmpApiClient(
        params["api_url"],
        params["tenant_id"],
        params["client_id"],
        params["client_secret"],
        params["scope"],
        authority=params["authority"],
        token_cache=params["token_cache"],
        token_cache_path=params["token_cache_path"],
        channel_id=params["channel_id"],
        **kw,
    )


def clear_memory_cache():
    """Forget the in-process tokens (tests simulate a new Ansible task process with it)."""
    with _MEMORY_LOCK:
        _MEMORY_TOKENS.clear()
