# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Microsoft Graph client: an app-only token by client credentials, JSON GETs, errors and retries.

Flow (facts/azure.md, facts/ump_sbc_ovoc.md): POST ``<authority>/<tenant>/oauth2/v2.0/token`` with
``grant_type=client_credentials`` and ``scope=https://graph.microsoft.com/.default``; then
``GET <graph_url>/v1.0/...`` with ``Authorization: Bearer <token>``. TLS is always verified (a CA
bundle may be given). Uses ansible's ``open_url`` only, so it needs no third-party library.
Errors become the collection's :mod:`errors` hierarchy; 429 and 5xx are retried through
:mod:`retry` (honouring ``Retry-After``); a 401 on a cached token gets one fresh token.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import ssl
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.urls import open_url

from ansible_collections.ump365.upgrade.plugins.module_utils.errors import (
    AuthenticationError,
    AuthorizationError,
    ConfigurationError,
    NotFoundError,
    RemoteError,
    ThrottledError,
    UmpError,
    UnreachableError,
    ValidationError,
)
from ansible_collections.ump365.upgrade.plugins.module_utils.http import (
    check_ca_path,
    require_list,
    require_object,
    shape_error,
)
from ansible_collections.ump365.upgrade.plugins.module_utils.retry import (
    RetryPolicy,
    call_with_retry,
    parse_retry_after,
)

DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GUID_RX = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TENANT_RX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$")
PERMISSION_REMEDY = (
    "grant the automation's app registration the Microsoft Graph application permission Application.Read.All "
    "and grant admin consent (Entra admin center > App registrations > API permissions)"
)


def validate_guid(name, value):
    if not isinstance(value, str) or not GUID_RX.match(value):
        raise ValidationError("%s must be a GUID like 00000000-0000-0000-0000-000000000000, got %r" % (name, value))
    return value


class GraphClient:
    """Reads Microsoft Graph as an application (client credentials)."""

    system = "graph"

    def __init__(
        self,
        tenant,
        client_id,
        secret,
        graph_url=DEFAULT_GRAPH_URL,
        authority=DEFAULT_AUTHORITY,
        ca_bundle=None,
        validate_certs=True,
        timeout=30,
        policy=None,
        on_retry=None,
    ):
        if not tenant or not TENANT_RX.match(str(tenant)):
            raise ValidationError("tenant must be a tenant id (GUID) or a verified domain, got %r" % (tenant,))
        validate_guid("client_id", client_id)
        if not secret:
            raise ValidationError("secret (the client secret of client_id) is empty")
        for name, url in (("graph_url", graph_url), ("authority", authority)):
            if not re.match(r"^https://[^/\s]+", str(url or "")):
                raise ValidationError("%s must be an https:// URL, got %r" % (name, url))
        self.tenant = str(tenant)
        self.client_id = client_id
        self._secret = secret
        self.graph_url = graph_url.rstrip("/")
        self.authority = authority.rstrip("/")
        self.ca_bundle = check_ca_path(ca_bundle, "ca_bundle", self.system)
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.policy = policy or RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=20.0, budget=60.0)
        self.on_retry = on_retry
        self._token = None
        self.retries = []  # every failed attempt of every call, for the result's `retries`
        self.requests = 0

    # ------------------------------------------------------------------ transport
    def _open(self, url, operation, resource, method="GET", data=None, headers=None):
        """One HTTPS exchange; returns (status, parsed JSON). Raises UmpError subclasses."""
        self.requests += 1
        try:
            resp = open_url(
                url,
                data=data,
                headers=headers or {},
                method=method,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                ca_path=self.ca_bundle,
                follow_redirects="none",
                use_netrc=False,
            )
            status, body = resp.getcode(), resp.read()
            ctype = (resp.headers.get("Content-Type") or "") if getattr(resp, "headers", None) is not None else ""
        except HTTPError as e:
            status = e.code
            try:
                body = e.read()
            except Exception:
                body = b""
            raise self._http_error(status, body, e.headers, operation, resource)
        except URLError as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(reason):
                raise ConfigurationError(
                    "TLS verification of %s failed: %s" % (url.split("?")[0], reason),
                    system=self.system,
                    operation=operation,
                    resource=resource,
                    remedy="give ca_bundle (the CA that issued the endpoint's certificate); never turn validate_certs off in production",
                )
            raise UnreachableError(
                "cannot reach %s: %s" % (url.split("?")[0], reason),
                system=self.system,
                operation=operation,
                resource=resource,
            )
        except ssl.SSLError as e:
            raise ConfigurationError(
                "TLS error with %s: %s" % (url.split("?")[0], e),
                system=self.system,
                operation=operation,
                resource=resource,
                remedy="give ca_bundle (the CA that issued the endpoint's certificate)",
            )
        except (OSError, ValueError) as e:
            raise UnreachableError(
                "cannot reach %s: %s" % (url.split("?")[0], e),
                system=self.system,
                operation=operation,
                resource=resource,
            )
        endpoint = "%s %s" % (method, url.split("?")[0])
        if not body or "json" not in ctype.lower():
            raise shape_error(
                self.system,
                operation,
                endpoint,
                "HTTP %s and %s (Content-Type %s), not JSON"
                % (
                    status,
                    "an empty body" if not body else "an HTML page" if "html" in ctype.lower() else "a body",
                    ctype or "missing",
                ),
            )
        try:
            return status, json.loads(body)
        except ValueError:
            raise shape_error(self.system, operation, endpoint, "HTTP %s and a body that is not valid JSON" % status)

    def _http_error(self, status, body, headers, operation, resource):
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            data = {}
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):  # Graph: {"error": {"code", "message"}}
            code, message = err.get("code"), err.get("message")
        else:  # Entra token endpoint: {"error": "invalid_client", "error_description": "AADSTS..."}
            code, message = err, (data.get("error_description") if isinstance(data, dict) else None)
        message = "HTTP %s %s: %s" % (status, code or "", message or "no details")
        details = {"status": status, "code": code}
        retry_after = parse_retry_after(headers.get("Retry-After") if headers else None)
        kwargs = dict(system=self.system, operation=operation, resource=resource, details=details)
        if status == 429:
            return ThrottledError(message, retry_after=retry_after, **kwargs)
        if status >= 500:
            return RemoteError(
                message,
                retriable=True,
                retry_after=retry_after,
                remedy="Microsoft Graph or Entra ID is unavailable; run again later",
                **kwargs,
            )
        if status == 401 or code in ("invalid_client", "unauthorized_client"):
            return AuthenticationError(
                message,
                remedy="check client_id and secret of the automation principal and that the secret has not expired",
                **kwargs,
            )
        if status == 403:
            return AuthorizationError(message, remedy=PERMISSION_REMEDY, **kwargs)
        if status == 404:
            return NotFoundError(message, **kwargs)
        if status == 400 and code in ("invalid_request", "invalid_scope", "unsupported_grant_type"):
            return ConfigurationError(message, remedy="check tenant and authority", **kwargs)
        return RemoteError(message, **kwargs)

    # ------------------------------------------------------------------ token and GET
    def _fetch_token(self):
        url = "%s/%s/oauth2/v2.0/token" % (self.authority, quote(self.tenant, safe=""))
        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
                "scope": GRAPH_SCOPE,
            }
        )
        data = self._open(
            url,
            "get token",
            "tenant %s" % self.tenant,
            method="POST",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )[1]
        token = require_object(data, self.system, "get token", "POST %s" % url).get("access_token")
        if not token or not isinstance(token, str):
            raise AuthenticationError(
                "the token endpoint answered without an access_token", system=self.system, operation="get token"
            )
        self._token = token
        return token

    def _with_retry(self, fn):
        def record(info):
            self.retries.append(info)
            if self.on_retry is not None:
                self.on_retry(info)

        try:
            result = call_with_retry(fn, self.policy, on_retry=record)[0]
        except UmpError as err:
            err.attempts = list(self.retries)
            raise
        return result

    def get(self, path, operation, resource):
        """GET a Graph path (``/v1.0/...``, query included) and return the JSON body."""
        url = self.graph_url + path

        def attempt():
            token = self._token or self._with_retry(self._fetch_token)
            headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
            try:
                return self._open(url, operation, resource, headers=headers)[1]
            except AuthenticationError:
                # a cached token that expired: one new token, one more try
                self._token = None
                headers["Authorization"] = "Bearer " + self._with_retry(self._fetch_token)
                return self._open(url, operation, resource, headers=headers)[1]

        return self._with_retry(attempt)

    # ------------------------------------------------------------------ resources
    def application_by_app_id(self, app_id):
        """The application object whose appId (client id) is ``app_id``; NotFoundError if none."""
        validate_guid("app_id", app_id)
        resource = "application with appId %s" % app_id
        flt = quote("appId eq '%s'" % app_id, safe="")
        data = self.get("/v1.0/applications?$filter=%s" % flt, "read app registration", resource)
        apps = require_list(
            require_object(data, self.system, "read app registration", "GET /v1.0/applications"),
            self.system,
            "read app registration",
            "GET /v1.0/applications",
            keys=("value",),
        )
        if not apps:
            raise NotFoundError(
                "no app registration with application (client) id %s in tenant %s" % (app_id, self.tenant),
                system=self.system,
                operation="read app registration",
                resource=resource,
                remedy="check the client id in Multitenant Security > Auth Tokens (AuthStatus.ClientId) or create the "
                "app registration as the app-registration guide describes (steps 1-18)",
            )
        return apps[0]
