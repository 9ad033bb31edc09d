# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP layer the UMP, SBC and OVOC clients share (on ``requests``).

- one ``requests.Session`` per client (keep-alive, connection reuse);
- TLS verification always on unless the caller turns it off explicitly; ``ca_bundle`` names the CA
  file to trust (a private CA, the lab CA);
- a timeout on every request (connect and read);
- retries through :func:`retry.call_with_retry`: 429 and 503 (honouring ``Retry-After``) for every
  method, other 5xx, timeouts and dropped connections only for idempotent methods;
- errors turned into the :mod:`errors` hierarchy, with RFC 7807 ``application/problem+json``
  (``title``, ``detail``, ``errorCode``, ``traceId``) and vendor bodies (``{"error": {...}}``,
  ``{"description": ...}``) read into the message;
- secrets (passwords, client secrets, tokens) registered with :meth:`HttpClient.add_secret` are
  masked in every message and detail; the ``Authorization`` header is never logged or returned;
- ``http://`` is refused: every client here sends a credential (Basic auth, a client secret, a bearer
  token). ``allow_insecure_http=True`` (inventory ``ump_allow_insecure_http``) lets it through for a
  throw-away test, and the client's ``insecure_http`` says so for the module's result and the report;
- strict reading: an answer the caller expects as JSON must say so in its ``Content-Type`` and parse
  (an HTML page with status 200 is an error, never an empty list); :func:`require_object` and
  :func:`require_list` check the fields and types a caller relies on, and every failure names the
  system and the endpoint (``GET /api/v3/customer``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import traceback

from ansible_collections.ump365.upgrade.plugins.module_utils import errors
from ansible_collections.ump365.upgrade.plugins.module_utils.retry import (
    RetryPolicy,
    call_with_retry,
    parse_retry_after,
)

try:
    import requests

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - the sanity import test runs without requests
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
MASK = "********"
USER_AGENT = "ump365.upgrade"


def require_requests(module):
    """Fail the module the Ansible way when ``requests`` is missing on the controller."""
    if not HAS_REQUESTS:
        from ansible.module_utils.basic import missing_required_lib

        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)


def verify_setting(validate_certs=True, ca_bundle=None):
    """What ``requests`` takes as ``verify``: the CA file, True (system CAs) or False."""
    if not validate_certs:
        return False
    return ca_bundle or True


def join_url(base, path):
    if path.startswith("http://") or path.startswith("https://"):
        return path
    return base.rstrip("/") + "/" + path.lstrip("/")


class HttpResponse:
    """What a client gets back: status, headers, the decoded body and the raw text."""

    def __init__(self, status, headers, body, text, url, endpoint=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = text
        self.url = url
        self.endpoint = endpoint  # "GET /api/v3/customer": what error messages name


SHAPE_REMEDY = (
    "check that the URL option points at the %s API itself (not a web page, a login page or a proxy) and that "
    "this version of it is supported; the answer was not trusted"
)

_TYPE_NAMES = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    dict: "an object",
    list: "a list",
}


def _type_name(t):
    if isinstance(t, tuple):
        return " or ".join(_TYPE_NAMES.get(x, x.__name__) for x in t)
    return _TYPE_NAMES.get(t, t.__name__)


def _got(value):
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    return type(value).__name__


def shape_error(system, operation, endpoint, what):
    """The error for an answer of the wrong shape: names the system and the endpoint."""
    return errors.RemoteError(
        "unexpected answer: %s" % what,
        system=system,
        operation=operation,
        resource=endpoint,
        remedy=SHAPE_REMEDY % system,
        details={"endpoint": endpoint, "malformed_reply": True},
    )


def check_fields(obj, fields, system, operation, endpoint, where="the object"):
    """Each ``{name: type}`` of ``fields`` is present in ``obj`` with that type (a tuple of types allowed;
    ``(type, None)``: present, and null allowed)."""
    for name, want in (fields or {}).items():
        types = want if isinstance(want, tuple) else (want,)
        nullable = None in types
        types = tuple(t for t in types if t is not None)
        if name not in obj:
            raise shape_error(system, operation, endpoint, "%s without the field %r" % (where, name))
        if obj[name] is None:
            if nullable:
                continue
            raise shape_error(system, operation, endpoint, "%s whose field %r is null" % (where, name))
        value = obj[name]
        if isinstance(value, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(value, types) or (float in types and isinstance(value, int))
        if not ok:
            raise shape_error(
                system,
                operation,
                endpoint,
                "%s whose field %r is %s, not %s" % (where, name, _got(value), _type_name(types)),
            )
    return obj


def require_object(body, system, operation, endpoint, fields=None):
    """``body`` is a JSON object with ``fields`` (see :func:`check_fields`); returns it."""
    if not isinstance(body, dict):
        raise shape_error(system, operation, endpoint, "%s where an object was expected" % _got(body))
    return check_fields(body, fields, system, operation, endpoint)


def require_list(body, system, operation, endpoint, keys=(), item_fields=None, empty_ok=True):
    """The list in ``body`` (a list, or an object holding one under one of ``keys``); every item an
    object with ``item_fields``. Anything else is an error, never an empty list."""
    items = None
    if isinstance(body, list):
        items = body
    elif isinstance(body, dict):
        for k in keys:
            if isinstance(body.get(k), list):
                items = body[k]
                break
        if items is None:
            raise shape_error(
                system,
                operation,
                endpoint,
                "an object without a %s list (keys: %s)"
                % (" or ".join(repr(k) for k in keys) or "list", ", ".join(sorted(str(k) for k in body)) or "none"),
            )
    else:
        raise shape_error(system, operation, endpoint, "%s where a list was expected" % _got(body))
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise shape_error(
                system, operation, endpoint, "item %d of the list being %s, not an object" % (n, _got(item))
            )
        check_fields(item, item_fields, system, operation, endpoint, where="item %d of the list" % n)
    return items


def parse_problem(text, content_type):
    """``(title, detail, code, trace_id)`` from a problem+json or vendor JSON body; Nones when absent."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        snippet = (text or "").strip().splitlines()
        return None, (snippet[0][:200] if snippet and "html" not in (content_type or "") else None), None, None
    title = data.get("title")
    detail = data.get("detail")
    code = data.get("errorCode") or data.get("code")
    trace = data.get("traceId") or data.get("trace_id")
    err = data.get("error")
    if isinstance(err, dict):  # {"error": {"code": ..., "message": ...}} (Azure style, our lab)
        code = code or err.get("code")
        detail = detail or err.get("message")
    elif isinstance(err, str):  # OAuth: {"error": "invalid_client", "error_description": ...}
        code = code or err
        detail = detail or data.get("error_description")
    detail = detail or data.get("description") or data.get("message")
    return title, detail, code, trace


class HttpClient:
    """A base for one system's client. Subclasses set ``system`` and may override :meth:`error_for`.

    :param base_url: the API root, e.g. ``https://ump01.example.com/tenantui``
    :param timeout: seconds for connect and for each read
    :param retries: extra attempts after the first for retriable failures (0 = no retry)
    :param auth: a ``requests`` auth (for Basic auth) or None
    :param on_retry: callback(info dict) before each wait (the modules collect them for the result)
    """

    system = "http"

    def __init__(
        self,
        base_url,
        validate_certs=True,
        ca_bundle=None,
        timeout=30,
        retries=3,
        auth=None,
        headers=None,
        retry_policy=None,
        on_retry=None,
        session=None,
        allow_insecure_http=False,
    ):
        if not HAS_REQUESTS:
            raise errors.ConfigurationError(
                "the Python library requests is not installed on the controller",
                system=self.system,
                remedy="pip install requests",
            )
        if not base_url or not str(base_url).startswith(("https://", "http://")):
            raise errors.ValidationError(
                "base URL %r is not an http(s) URL" % (base_url,), system=self.system, operation="configure"
            )
        self.base_url = str(base_url).rstrip("/")
        # every client here carries a credential: cleartext only when the operator says so explicitly
        self.insecure_http = self.base_url.startswith("http://")
        if self.insecure_http and not allow_insecure_http:
            raise errors.ConfigurationError(
                "%s is plain http://: the %s credential would cross the network in cleartext"
                % (self.base_url, self.system),
                system=self.system,
                operation="configure",
                resource=self.base_url,
                remedy="use the https:// URL (with ca_bundle / ump_ca_bundle for a private CA); only for a throw-away "
                "test, set allow_insecure_http (inventory ump_allow_insecure_http: true), which the run report shows",
            )
        self.timeout = float(timeout)
        self.verify = verify_setting(validate_certs, ca_bundle)
        self.policy = retry_policy or RetryPolicy(max_attempts=int(retries) + 1, base_delay=1.0, max_delay=30.0)
        self.on_retry = on_retry
        self.retries_seen = []
        self._secrets = set()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        if headers:
            self.session.headers.update(headers)
        if auth is not None:
            self.session.auth = auth

    # ------------------------------------------------------------------ secrets
    def add_secret(self, value):
        if value and len(str(value)) >= 4:
            self._secrets.add(str(value))

    def redact(self, text):
        if text is None:
            return None
        text = str(text)
        for s in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(s, MASK)
        return text

    # ------------------------------------------------------------------ errors
    def error_for(self, resp, method, path, operation, resource):
        """The :class:`errors.UmpError` for a non-success answer. Subclasses add vendor meaning."""
        status = resp.status
        title, detail, code, trace = parse_problem(resp.text, resp.headers.get("Content-Type", ""))
        text = "HTTP %d" % status
        if title:
            text += " %s" % title
        if detail and detail != title:
            text += ": %s" % detail
        if code:
            text += " (errorCode %s)" % code
        if trace:
            text += " [traceId %s]" % trace
        details = {"status": status, "code": code, "trace_id": trace, "method": method, "path": path}
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        kw = dict(system=self.system, operation=operation, resource=resource, details=details)
        if status == 401:
            return errors.AuthenticationError(text, **kw)
        if status == 403:
            return errors.AuthorizationError(text, **kw)
        if status == 404:
            return errors.NotFoundError(text, **kw)
        if status == 409:
            return errors.ConflictError(text, retry_after=retry_after, **kw)
        if status == 429:
            return errors.ThrottledError(text, retry_after=retry_after, **kw)
        if status == 503:
            return errors.RemoteError(
                text,
                retriable=True,
                retry_after=retry_after,
                remedy="the service is unavailable (stopped, starting or overloaded); check it and run again",
                **kw,
            )
        if status >= 500:
            return errors.RemoteError(
                text,
                retriable=method in IDEMPOTENT_METHODS,
                retry_after=retry_after,
                remedy="the server failed; see its logs (traceId) and run again",
                **kw,
            )
        return errors.RemoteError(text, remedy="the request was refused; see the message", **kw)

    # ------------------------------------------------------------------ requests
    def _once(self, method, url, path, params, json_body, data, headers, expect, operation, resource, expect_json=True):
        try:
            r = self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                data=data,
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as e:
            raise errors.UnreachableError(
                "TLS verification failed: %s" % self.redact(e),
                system=self.system,
                operation=operation,
                resource=resource,
                retriable=False,
                remedy="give the CA that issued the server certificate as the CA bundle option "
                "(ca_bundle / ump_ca_bundle); do not turn validate_certs off",
                details={"method": method, "path": path},
            )
        except requests.exceptions.Timeout as e:
            raise errors.UnreachableError(
                "no answer within %g s (%s)" % (self.timeout, type(e).__name__),
                system=self.system,
                operation=operation,
                resource=resource,
                retriable=method in IDEMPOTENT_METHODS or isinstance(e, requests.exceptions.ConnectTimeout),
                remedy="check that the service is running and not overloaded, or raise the timeout option",
                details={"method": method, "path": path, "timeout": self.timeout},
            )
        except requests.exceptions.ConnectionError as e:
            raise errors.UnreachableError(
                "cannot connect to %s: %s" % (self.base_url, self.redact(_short(e))),
                system=self.system,
                operation=operation,
                resource=resource,
                retriable=method in IDEMPOTENT_METHODS,
                details={"method": method, "path": path},
            )
        except requests.exceptions.RequestException as e:
            raise errors.RemoteError(
                "request failed: %s" % self.redact(_short(e)),
                system=self.system,
                operation=operation,
                resource=resource,
                details={"method": method, "path": path},
            )
        text = r.text
        endpoint = "%s %s" % (method, path.split("?")[0])
        resp = HttpResponse(r.status_code, r.headers, None, text, r.url, endpoint=endpoint)
        if r.status_code in expect:
            ctype = r.headers.get("Content-Type", "") or ""
            if r.status_code == 204 or not expect_json:
                return resp
            if not text.strip():
                if r.status_code in (201, 202):  # accepted with no body: nothing to read
                    return resp
                raise shape_error(
                    self.system, operation, endpoint, "HTTP %d and an empty body, not JSON" % r.status_code
                )
            if "json" not in ctype.lower():
                kind = "an HTML page" if ("html" in ctype.lower() or text.lstrip()[:1] == "<") else "a body"
                raise shape_error(
                    self.system,
                    operation,
                    endpoint,
                    "HTTP %d and %s (Content-Type %s), not JSON" % (r.status_code, kind, ctype or "missing"),
                )
            try:
                resp.body = json.loads(text)
            except ValueError:
                raise shape_error(
                    self.system, operation, endpoint, "HTTP %d and a body that is not valid JSON" % r.status_code
                )
            return resp
        if 300 <= r.status_code < 400:
            raise errors.RemoteError(
                "HTTP %d redirect to %s (not followed)" % (r.status_code, r.headers.get("Location")),
                system=self.system,
                operation=operation,
                resource=resource,
                remedy="check the base URL (scheme, host and path)",
                details={"status": r.status_code, "path": path},
            )
        err = self.error_for(resp, method, path, operation, resource)
        err.message = self.redact(err.message)
        err.details = {k: (self.redact(v) if isinstance(v, str) else v) for k, v in err.details.items()}
        raise err

    def request(
        self,
        method,
        path,
        params=None,
        json_body=None,
        data=None,
        headers=None,
        expect=(200, 201, 202, 204),
        operation=None,
        resource=None,
        retry=True,
        expect_json=True,
    ):
        """One logical call with retries. Returns :class:`HttpResponse`; raises :class:`errors.UmpError`.

        With ``expect_json`` (the default) an expected answer other than 204 (or an empty 201/202) must be
        JSON by its Content-Type and parse; otherwise the error names the system and the endpoint.
        """
        method = method.upper()
        url = join_url(self.base_url, path)
        operation = operation or "%s %s" % (method, path.split("?")[0])
        resource = resource or url.split("?")[0]

        def once():
            return self._once(
                method, url, path, params, json_body, data, headers, tuple(expect), operation, resource, expect_json
            )

        if not retry:
            return once()

        def note(info):
            self.retries_seen.append(info)
            if self.on_retry is not None:
                self.on_retry(info)

        result, _attempts = call_with_retry(once, self.policy, on_retry=note)
        return result

    def get_json(self, path, params=None, operation=None, resource=None, expect=(200,)):
        return self.request("GET", path, params=params, operation=operation, resource=resource, expect=expect).body


def _short(exc):
    """A one-line reason from a requests/urllib3 exception (they nest the real cause deeply)."""
    text = str(exc)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip("()'\" ")[:300]


def rest_argument_spec():
    """Options of doc fragment ``ump365.upgrade.rest``."""
    return dict(
        ca_bundle=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        allow_insecure_http=dict(type="bool", default=False),
        timeout=dict(type="float", default=30),
        retries=dict(type="int", default=3),
    )


def rest_client_kwargs(params):
    """The HttpClient keyword arguments from a module's params (validated at the boundary)."""
    if params["timeout"] is not None and params["timeout"] <= 0:
        raise errors.ValidationError("timeout must be > 0, got %r" % params["timeout"], operation="configure")
    if params["retries"] is not None and params["retries"] < 0:
        raise errors.ValidationError("retries must be >= 0, got %r" % params["retries"], operation="configure")
    return dict(
        ca_bundle=check_ca_path(params["ca_bundle"], "ca_bundle"),
        validate_certs=params["validate_certs"],
        timeout=params["timeout"],
        retries=params["retries"],
        allow_insecure_http=bool(params.get("allow_insecure_http")),
    )


def check_ca_path(value, name, system=None):
    """A CA file option: None (the system CAs) or a file that exists. An empty value is an error naming the
    option: an empty path must never read as "no verification" (pywinrm and ``requests`` treat
    ``verify=""`` as off)."""
    import os

    if value is None:
        return None
    text = str(value)
    if not text.strip():
        raise errors.ValidationError(
            "%s is empty; an empty CA path would turn certificate verification off" % name,
            system=system,
            operation="configure",
            resource=name,
            remedy="give the PEM file of the CA that issued the server certificates (inventory ump_ca_bundle), "
            "or leave the option out to use the controller's system CAs",
        )
    if not os.path.isfile(os.path.expanduser(text)):
        raise errors.ValidationError(
            "%s %r is not a file" % (name, text),
            system=system,
            operation="configure",
            resource=name,
            remedy="give the path of an existing PEM CA file on the controller",
        )
    return text


def insecure_result(client):
    """What a module adds to its result when the client ran over plain http (the report shows it)."""
    if client is not None and getattr(client, "insecure_http", False):
        return {"insecure_http": True, "insecure_url": client.base_url}
    return {}
