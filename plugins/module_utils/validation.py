# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values checked at the module boundary, before any of them reaches a URL, a query, a file name or a host.

Ansible's argument spec checks types and choices; this checks what a value means: an URL is an http(s)
URL, an id is a GUID, a name is a name (no quotes, no ``;``, no ``$(...)``, no ``..``), a number is
finite and in range. Options with the same name mean the same thing in every module of the collection, so
one table (:data:`KIND_BY_OPTION`) serves all of them; a module passes ``overrides`` where its option
means something else. The message names the option and the value (never a ``no_log`` value) and says
what is expected, so the task fails before anything is sent anywhere.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

try:  # Python 3
    import ipaddress
except ImportError:  # pragma: no cover
    ipaddress = None

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2
    from urlparse import urlsplit

GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
HOST_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
DOMAIN = r"%s(\.%s)*" % (HOST_LABEL, HOST_LABEL)
HOSTNAME = DOMAIN + r"\.?"

# kind -> (compiled pattern, what the value should be)
PATTERNS = {
    "guid": (re.compile(r"^%s$" % GUID), "a GUID like 00000000-0000-0000-0000-000000000000"),
    "tenant": (
        re.compile(r"^(%s|%s\.[A-Za-z]{2,63}|organizations|common)$" % (GUID, DOMAIN)),
        "a tenant GUID or a verified domain name such as contoso.onmicrosoft.com",
    ),
    # a GUID or a domain name, without insisting on the GUID form
    "ident": (
        re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,253}$"),
        "an id: a GUID or a domain name (letters, digits, . _ -)",
    ),
    "scope": (
        re.compile(r"^(?=.{1,1024}$)(?!.*\.\.)[A-Za-z0-9:/._~-]+( [A-Za-z0-9:/._~-]+)*$"),
        "an OAuth scope such as api://<app id>/.default",
    ),
    "name": (re.compile(r"^[\w][\w .&@+-]{0,127}$", re.UNICODE), "a name of letters, digits, spaces and . _ - & @ +"),
    "task_id": (re.compile(r"^([0-9]{1,19}|%s)$" % GUID), "a task id (digits or a GUID)"),
    "email": (re.compile(r"^[A-Za-z0-9._%%+-]{1,64}@%s$" % HOSTNAME), "an e-mail address"),
    "api_path": (
        re.compile(r"^/(?!.*\.\.)[A-Za-z0-9/_.{}~-]*$"),
        "an API path starting with / (letters, digits, / _ . - ~ and {placeholders}, no ..)",
    ),
    "field": (
        re.compile(r"^(?=.{1,256}$)[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"),
        "a JSON key or dotted path",
    ),
    "step": (
        re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.()-]{0,127}$"),
        "a step name (letters, digits, _ . - ( ), as in the wyUpdate log)",
    ),
    "host": (re.compile(r"^(%s|\[[0-9A-Fa-f:.]+\])$" % HOSTNAME), "a DNS name or an IP address"),
    "user": (
        re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@\\-]{0,255}$"),
        "a user name (letters, digits, . _ - @, DOMAIN\\user)",
    ),
    "db": (
        re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$"),
        "a database name: letters, digits, '_', '-' or '.', starting with a letter or '_'",
    ),
    "collation": (re.compile(r"^[A-Za-z0-9_]{1,128}$"), "a collation name such as SQL_Latin1_General_CP1_CI_AS"),
    "win_path": (
        re.compile(r"^(?!.*\.\.)([A-Za-z]:\\|\\\\)[^'\"<>|?*;$`%\x00-\x1f]*$"),
        "an absolute Windows path (C:\\... or \\\\server\\share, no quotes, ; $ ` % or ..)",
    ),
    "file_name": (re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$"), "letters, digits, '_', '-' or '.' (no / or ..)"),
    "resource_group": (
        re.compile(r"^[\w().-]{0,89}[\w()-]$", re.UNICODE),
        "an Azure resource group name: up to 90 letters, digits, _ - . ( ), not ending in .",
    ),
    "azure_name": (
        re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$|^[A-Za-z0-9]$"),
        "an Azure disk/snapshot/VM name: 1-80 letters, digits, _ . -, starting with a letter or digit",
    ),
    "file_name_opt": (
        re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]{0,127})?$"),
        "empty, or letters, digits, '_', '-' or '.'",
    ),
    "setting": (re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,127}$"), "a setting name: letters, digits, '.', '_' or '-'"),
    "word": (re.compile(r"^[A-Za-z]{1,64}$"), "a single word such as Succeeded"),
    "jid": (re.compile(r"^[A-Za-z0-9_.]{1,64}$"), "an ansible_job_id such as j123456789.1234"),
    # Windows allows any character in a service name but / and \ (max 256); the callers quote them
    "service": (re.compile(r"^[^/\\\x00-\x1f]{1,256}$"), "a Windows service name (1-256 characters, no / or \\)"),
    "header": (re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,510}[\x21-\x7e])?$"), "printable ASCII for an HTTP header"),
    "filter": (re.compile(r"^[\x20-\x7e]{1,1024}$"), "printable ASCII"),
    "api_version": (re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$"), "an ARM api-version such as 2022-04-01"),
    "rbac_action": (
        re.compile(r"^[A-Za-z0-9.*]{1,128}(/[A-Za-z0-9.*]{1,128}){1,8}$"),
        "an RBAC action such as Microsoft.Compute/snapshots/write",
    ),
}
AZURE_ID = re.compile(
    r"^/subscriptions/%s/resourceGroups/[\w().-]{1,90}/providers/Microsoft\.Compute/(disks|snapshots)/"
    r"[A-Za-z0-9_.-]{1,80}$" % GUID,
    re.I,
)

KIND_BY_OPTION = {
    "api_url": "url",
    "sbc_url": "url",
    "ovoc_url": "url",
    "graph_url": "url",
    "authority": "url",
    "base_url": "url",
    "tenant_id": "ident",
    "tenant": "ident",
    "client_id": "ident",
    "subscription_id": "ident",
    "app_id": "guid",
    "scope": "scope",
    "credential_scope": "scope",
    "channel_id": "header",
    "customer": "name",
    "customers": "name",
    "task_id": "task_id",
    "invitation_email": "email",
    "switch_path": "api_path",
    "alarms_path": "api_path",
    "devices_path": "api_path",
    "alarms_filter": "filter",
    "alarms_key": "field",
    "devices_key": "field",
    "status_field": "field",
    "severity_field": "field",
    "management_status_path": "field",
    "step_order": "step",
    "device_ip": "ip",
    "server": "host",
    "fqdn": "host",
    "username": "user",
    "sbc_username": "user",
    "ovoc_username": "user",
    "database": "db",
    "tenant_database": "db",
    "customer_database_prefix": "db",
    "customer_table": "db",
    "customer_column": "db",
    "customer_name_column": "db",
    "customer_version_column": "db",
    "databases": "db",
    "expected_collation": "collation",
    "folder": "win_path",
    "progress_path": "win_path",
    "backup_name": "file_name_opt",
    "host": "file_name",
    "run_id": "file_name",
    "phase": "file_name",
    "resource_group": "resource_group",
    "vm_name": "azure_name",
    "disk_name": "azure_name",
    "snapshot": "azure_ref",
    "source_disk": "azure_ref",
    "provisioning_state": "word",
    "jid": "jid",
    "names": "service",
    "required_actions": "rbac_action",
    "permissions_api_version": "api_version",
    "locks_api_version": "api_version",
}

# numbers: (lowest, highest); anything else numeric is (0, MAX_NUMBER)
MAX_NUMBER = 10**7
NUMBER_RANGE = {
    "port": (1, 65535),
    "retries": (0, 100),
    "retry_attempts": (1, 100),
    "connection_retries": (0, 100),
    "alarm_page_size": (1, 1000),
    "progress_every": (1, 10**6),
    "warn_days": (0, 3650),
    "timeout": (0, MAX_NUMBER),
}


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _url_problem(value):
    if not isinstance(value, str) or not value:
        return "must be an http(s) URL such as https://host.example.com/path"
    if re.search(r"[\s\x00-\x1f\x7f'\"<>\\^`{|}]", value) or not all(ord(c) < 128 for c in value):
        return "must be an http(s) URL of printable ASCII (no spaces, quotes or control characters)"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        return "must be an http(s) URL such as https://host.example.com/path"
    if port == 0 or not (_ip(parts.hostname) or re.match(r"^%s$" % HOSTNAME, parts.hostname)):
        return "must name a valid host and port"
    if ".." in parts.path.split("/") or parts.username or parts.password:
        return "must not hold '..' or credentials"
    return None


def _ip(value):
    if ipaddress is None:  # pragma: no cover
        return re.match(r"^[0-9.]+$", value) is not None
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def kind_problem(kind, value):
    """None when ``value`` is a valid ``kind``, else what it should be."""
    if kind == "url":
        return _url_problem(value)
    if not isinstance(value, str):
        return "must be a string"
    if kind == "ip":
        return None if _ip(value) else "must be an IP address"
    if kind == "host" and _ip(value):
        return None
    if kind == "azure_ref":
        if AZURE_ID.match(value) or PATTERNS["azure_name"][0].match(value):
            return None
        return "must be an Azure disk/snapshot name or its ARM id (/subscriptions/.../providers/Microsoft.Compute/...)"
    pattern, what = PATTERNS[kind]
    return None if pattern.match(value) else "must be %s" % what


def _num(value):
    return "%d" % value if isinstance(value, float) and value.is_integer() else "%r" % (value,)


def number_problem(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "%s must be a number, got %s" % (name, _short(value))
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return "%s must be a finite number, got %r" % (name, value)
    low, high = NUMBER_RANGE.get(name, (0, MAX_NUMBER))
    if value < low:
        return "%s must be >= %s, got %s" % (name, low, _num(value))
    if value > high:
        return "%s must be <= %s, got %s" % (name, high, _num(value))
    return None


def problems(params, argument_spec, overrides=None):
    """A sentence per invalid option of ``params`` (checked against ``argument_spec``), naming option and value."""
    overrides = overrides or {}
    out = []
    for name, spec in argument_spec.items():
        value = params.get(name)
        if value is None:
            continue
        kind = overrides.get(name, KIND_BY_OPTION.get(name))
        typ = spec.get("type", "str")
        if kind == "any":
            continue
        if typ in ("int", "float"):
            problem = number_problem(name, value)
            if problem:
                out.append("option " + problem)
            continue
        if spec.get("no_log"):  # never echo a secret; only an empty one is known to be wrong
            if typ == "str" and not value:
                out.append("option %s must not be empty" % name)
            continue
        if not kind or typ not in ("str", "list"):
            continue
        for item in value if typ == "list" else [value]:
            problem = kind_problem(kind, item)
            if problem:
                if typ == "str":
                    out.append("option %s=%s is not valid: %s %s" % (name, _short(value), name, problem))
                else:
                    out.append("option %s item %s is not valid: %s items %s" % (name, _short(item), name, problem))
                break
    return out


def check_module(module, overrides=None):
    """Fail ``module`` (an AnsibleModule) before it does anything when a parameter is not valid."""
    found = problems(module.params, module.argument_spec, overrides)
    if found:
        module.fail_json(
            msg="invalid input: %s. Fix: give the option a value of the kind described" % "; ".join(found),
            invalid_options=found,
        )
